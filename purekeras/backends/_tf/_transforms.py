"""Control flow and function transformations on TensorFlow, with JAX's signatures.

- ``cond``: a Python branch on a concrete predicate (eager), ``tf.cond`` in a graph.
- ``scan`` / ``fori_loop``: Python loops when eager; ``tf.while_loop`` (with
  ``TensorArray`` outputs) in a graph, which XLA compiles to one loop.
- ``value_and_grad``: a ``tf.GradientTape`` watching the differentiated leaves,
  in JAX's ``(value, grads)`` / ``((value, aux), grads)`` form.
- ``vmap``: ``tf.vectorized_map`` (pfor: vectorised, no loop) over the mapped
  arguments, the others closed over; ``in_axes`` / ``out_axes`` as in JAX.

Pytrees go through ``optree`` (as everywhere in purekeras), so TensorFlow only
ever sees flat lists of tensors.

>>> import tensorflow as tf
>>> from purekeras.backends._tf import _transforms
>>> f = _transforms.value_and_grad(lambda w: tf.reduce_sum(w * w), 0, False)
>>> value, grad = f(tf.constant([1.0, 2.0]))
>>> float(value), grad.numpy().tolist()
(5.0, [2.0, 4.0])
"""
from __future__ import annotations

import functools

import numpy as np
import optree
import tensorflow as tf

from ._convert import asarray, tensor, tensor_leaves


def _flatten(tree):
    return optree.tree_flatten(tree, none_is_leaf=False)


def _unflatten(treedef, leaves):
    return optree.tree_unflatten(treedef, list(leaves))


def _concrete(pred) -> bool | None:
    """The Python value of ``pred`` when it has one (eager tensors, Python values)."""
    if isinstance(pred, (bool, int, np.bool_, np.integer, np.ndarray)):
        return bool(pred)
    if isinstance(pred, tf.Tensor) and tf.executing_eagerly():
        return bool(pred)
    return None


def cond(pred, true_fn, false_fn, *operands):
    flag = _concrete(pred)
    if flag is not None:
        return true_fn(*operands) if flag else false_fn(*operands)
    pred = tensor(pred)
    if pred.dtype != tf.bool:
        pred = tf.not_equal(pred, 0)
    treedefs = []

    def branch(fn):
        def run():
            leaves, treedef = _flatten(fn(*operands))
            treedefs.append(treedef)
            return [tensor(v) for v in leaves]

        return run

    leaves = tf.cond(pred, branch(true_fn), branch(false_fn))
    if treedefs[0] != treedefs[1]:
        raise TypeError(f"cond: the branches return different structures: {treedefs[0]} and {treedefs[1]}.")
    if leaves is None:  # branches without outputs
        leaves = []
    return _unflatten(treedefs[0], leaves if isinstance(leaves, (list, tuple)) else [leaves])


def _length(xs, length):
    leaves = optree.tree_leaves(xs, none_is_leaf=False)
    n = int(leaves[0].shape[0]) if leaves else length
    if n is None:
        raise ValueError("scan needs xs with a leading axis, or length= when xs is None.")
    if length is not None and n != length:
        raise ValueError(f"scan: length={length} but xs has a leading axis of size {n}.")
    return n


def _stack(outputs: list):
    return optree.tree_map(lambda *ys: tf.stack([tensor(y) for y in ys]), *outputs, none_is_leaf=False)


def scan(fn, init, xs, length):
    xs = None if xs is None else optree.tree_map(tensor, xs, none_is_leaf=False)
    n = _length(xs, length)
    if tf.executing_eagerly() or n == 0:
        return _eager_scan(fn, init, xs, n)
    carry_leaves, carry_def = _flatten(init)
    carry_leaves = [tensor(v) for v in carry_leaves]
    x_leaves, x_def = _flatten(xs)

    def x_at(i):
        return None if xs is None else _unflatten(x_def, [v[i] for v in x_leaves])

    # The first step runs outside the loop: it fixes the outputs' structure and dtypes.
    carry, y = fn(_unflatten(carry_def, carry_leaves), x_at(0))
    new_carry, new_def = _flatten(carry)
    if new_def != carry_def:
        raise TypeError(f"scan: fn must return a carry of the structure of init: {carry_def}, got {new_def}.")
    y_leaves, y_def = _flatten(y)
    y_leaves = [tensor(v) for v in y_leaves]
    arrays = [tf.TensorArray(v.dtype, size=n, element_shape=v.shape).write(0, v) for v in y_leaves]

    def body(i, carry_leaves, arrays):
        carry, y = fn(_unflatten(carry_def, carry_leaves), x_at(i))
        new = [tf.cast(tensor(v), old.dtype) for v, old in zip(_flatten(carry)[0], carry_leaves)]
        ys = _flatten(y)[0]
        return i + 1, new, [a.write(i, tensor(v)) for a, v in zip(arrays, ys)]

    start = [tf.cast(tensor(v), old.dtype) for v, old in zip(new_carry, carry_leaves)]
    _, final, arrays = tf.while_loop(lambda i, c, a: i < n, body, (tf.constant(1), start, arrays),
                                     maximum_iterations=n - 1)
    return _unflatten(carry_def, final), _unflatten(y_def, [a.stack() for a in arrays])


def _eager_scan(fn, init, xs, n):
    x_leaves, x_def = _flatten(xs)
    carry, ys = init, []
    for i in range(n):
        carry, y = fn(carry, None if xs is None else _unflatten(x_def, [v[i] for v in x_leaves]))
        ys.append(y)
    if n:
        return carry, _stack(ys)
    # A zero-length scan: the outputs' shapes from one step on zeros.
    x = None if xs is None else _unflatten(x_def, [tf.zeros(v.shape[1:], v.dtype) for v in x_leaves])
    _, y = fn(init, x)
    return init, optree.tree_map(lambda v: tf.zeros((0, *tensor(v).shape), tensor(v).dtype), y)


def fori_loop(lower, upper, body, init):
    lower, upper = int(lower), int(upper)
    if tf.executing_eagerly() or upper <= lower:
        carry = init
        for i in range(lower, upper):
            carry = body(tf.constant(i, tf.int32), carry)
        return carry
    leaves, treedef = _flatten(init)
    leaves = [tensor(v) for v in leaves]

    def step(i, leaves):
        out = _flatten(body(i, _unflatten(treedef, leaves)))[0]
        return i + 1, [tf.cast(tensor(v), old.dtype) for v, old in zip(out, leaves)]

    _, final = tf.while_loop(lambda i, c: i < upper, step, (tf.constant(lower, tf.int32), leaves),
                             maximum_iterations=upper - lower)
    return _unflatten(treedef, final)


def stop_gradient(x):
    return optree.tree_map(lambda v: tf.stop_gradient(v) if isinstance(v, tf.Tensor) else v, x,
                           none_is_leaf=False)


def _watchable(value):
    """A differentiated leaf as a fresh tensor of its own (so that two leaves holding
    the same tensor get separate gradients, as in JAX)."""
    if isinstance(value, (np.ndarray, np.generic, float)):
        value = asarray(value)
    return tf.identity(value) if isinstance(value, (tf.Tensor, tf.Variable)) else value


def _dense(grad, like):
    if grad is None:
        return tf.zeros_like(like)
    if isinstance(grad, tf.IndexedSlices):  # gathers (embeddings) give sparse gradients
        return tf.convert_to_tensor(grad)
    return grad


def value_and_grad(fn, argnums, has_aux):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        args = list(args)
        flat = {}
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for i in nums:
                leaves, treedef = _flatten(args[i])
                leaves = [_watchable(v) for v in leaves]
                for v in leaves:
                    if isinstance(v, tf.Tensor) and (v.dtype.is_floating or v.dtype.is_complex):
                        tape.watch(v)
                flat[i] = (leaves, treedef)
                args[i] = _unflatten(treedef, leaves)
            out = fn(*args, **kwargs)
        value, aux = out if has_aux else (out, None)
        sources = [v for i in nums for v in flat[i][0]]
        grads = tape.gradient(value, sources, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        grads = iter([_dense(g, s) for g, s in zip(grads, sources)])
        per_arg = [_unflatten(flat[i][1], [next(grads) for _ in flat[i][0]]) for i in nums]
        result = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        return ((value, aux) if has_aux else value), result

    return run


def _axes_per_leaf(axes, args):
    """One axis (or None) per leaf of ``args``, from JAX-style ``in_axes``."""
    if not isinstance(axes, (tuple, list)):
        axes = (axes,) * len(args)
    if len(axes) != len(args):
        raise ValueError(f"vmap: in_axes has {len(axes)} entries for {len(args)} arguments.")
    out = []
    for axis, arg in zip(axes, args):
        leaves = optree.tree_leaves(arg, none_is_leaf=False)
        if axis is None or isinstance(axis, int):
            out.extend([axis] * len(leaves))
        else:  # a pytree prefix of the argument
            out.extend(optree.tree_leaves(optree.tree_broadcast_prefix(axis, arg, none_is_leaf=True),
                                          none_is_leaf=True))
    return out


def _move(x, source: int, destination: int):
    rank = x.shape.rank
    source, destination = source % rank, destination % rank
    if source == destination:
        return x
    order = [a for a in range(rank) if a != source]
    order.insert(destination, source)
    return tf.transpose(x, order)


def vmap(fn, in_axes, out_axes):
    @functools.wraps(fn)
    def run(*args):
        leaves, treedef = _flatten(tensor_leaves(args))
        axes = _axes_per_leaf(in_axes, args)
        mapped = [k for k, a in enumerate(axes) if a is not None]
        if not mapped:
            raise ValueError("vmap needs at least one mapped argument (in_axes all None).")
        elems = [_move(tensor(leaves[k]), axes[k], 0) for k in mapped]
        out_defs = []

        def body(elems):
            current = list(leaves)
            for k, e in zip(mapped, elems):
                current[k] = e
            out_leaves, out_def = _flatten(fn(*_unflatten(treedef, current)))
            out_defs.append(out_def)
            return [tensor(v) for v in out_leaves]

        outs = tf.vectorized_map(body, elems)
        out_def = out_defs[-1]
        if isinstance(out_axes, int):
            destinations = [out_axes] * len(outs)
        else:
            destinations = optree.tree_leaves(
                optree.tree_broadcast_prefix(out_axes, _unflatten(out_def, outs), none_is_leaf=True),
                none_is_leaf=True)
        return _unflatten(out_def, [_move(o, 0, d) for o, d in zip(outs, destinations)])

    return run
