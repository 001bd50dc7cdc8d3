"""Control flow and function transformations for the openvino backend.

Shapes are static while tracing, so loops are unrolled: ``scan``,
``fori_loop`` and ``vmap`` call the function once per step (or per mapped
slice) and stack the results; the graph grows with the length, which suits the
short loops of inference. ``cond`` picks a branch when the predicate is a
constant, and otherwise computes both branches and selects (pure functions make
that exact). Gradients are for training, which OpenVINO does not do: asking
for one raises an error that says where to train.

>>> from purekeras import ops
>>> xs = ops.asarray([1.0, 2.0, 3.0], backend="openvino")
>>> total, running = ops.scan(lambda c, x: (ops.add(c, x), ops.add(c, x)), ops.zeros((), backend="openvino"), xs)
>>> float(total), running.tolist()
(6.0, [1.0, 3.0, 6.0])
"""
from __future__ import annotations

from typing import Any, Callable

import optree

from .._host import numpy_leaves_to
from .._registry import BackendError
from . import _indexing, _math, _shape
from ._function import OVFunction, no_training
from ._tensor import OVTensor, asarray


def _tensor_leaves(tree):
    return numpy_leaves_to(tree, asarray)


def cond(pred, true_fn: Callable, false_fn: Callable, *operands):
    pred = asarray(pred) if not isinstance(pred, OVTensor) else pred
    if pred.is_constant:
        return true_fn(*operands) if bool(pred.numpy()) else false_fn(*operands)
    yes, no = true_fn(*operands), false_fn(*operands)
    if optree.tree_structure(yes) != optree.tree_structure(no):
        raise ValueError(f"cond: both branches must return the same structure, got "
                         f"{optree.tree_structure(yes)} and {optree.tree_structure(no)}.")
    return optree.tree_map(lambda a, b: _math.where(pred, a, b), yes, no)


def _length(xs, length):
    leaves = optree.tree_leaves(xs, none_is_leaf=False)
    if leaves:
        return asarray(leaves[0]).shape[0] if not isinstance(leaves[0], OVTensor) else leaves[0].shape[0]
    if length is None:
        raise ValueError("scan: pass xs or length.")
    return int(length)


def scan(fn: Callable, init, xs, length):
    n = _length(xs, length)
    if n == 0:
        raise BackendError("openvino backend: scan over zero steps has no outputs to stack.")
    carry, ys = init, []
    for i in range(n):
        x = None if xs is None else optree.tree_map(lambda a, i=i: _indexing.getitem(asarray(a), i), xs,
                                                    none_is_leaf=False)
        carry, y = fn(carry, x)
        ys.append(y)
    stacked = optree.tree_map(lambda *parts: _shape.stack([asarray(p) for p in parts], 0), *ys,
                              none_is_leaf=False) if ys[0] is not None else None
    return carry, stacked


def fori_loop(lower, upper, body: Callable, init):
    lower, upper = int(asarray(lower).numpy()) if isinstance(lower, OVTensor) else int(lower), \
        int(asarray(upper).numpy()) if isinstance(upper, OVTensor) else int(upper)
    carry = init
    for i in range(lower, upper):
        carry = body(i, carry)
    return carry


def vmap(fn: Callable, in_axes: Any, out_axes: Any) -> Callable:
    def mapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        sizes = {asarray(leaf).shape[axis] for arg, axis in zip(args, axes) if axis is not None
                 for leaf in optree.tree_leaves(arg, none_is_leaf=False)}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped axes must have one size, got {sorted(sizes)}.")
        (n,) = sizes
        outs = []
        for i in range(n):
            sliced = [arg if axis is None else optree.tree_map(
                lambda a, i=i, axis=axis: _shape.squeeze(_shape.take_range(asarray(a), i, i + 1, axis), (axis,)),
                arg, none_is_leaf=False) for arg, axis in zip(args, axes)]
            outs.append(fn(*sliced))
        out_axis = out_axes if isinstance(out_axes, int) else 0
        return optree.tree_map(lambda *parts: _shape.stack([asarray(p) for p in parts], out_axis), *outs,
                               none_is_leaf=False)

    return mapped


def value_and_grad(fn: Callable, argnums: Any, has_aux: bool) -> Callable:
    raise no_training("value_and_grad (training)")


def jit(fn: Callable, donate_argnums, static_argnums, compile: bool | None = None) -> Callable:
    """``compile`` None / True: an ``OVFunction`` (traced and compiled per signature);
    False: eager (NumPy leaves become constants, every op evaluates at once)."""
    if compile is False:
        def eager(*args, **kwargs):
            return fn(*_tensor_leaves(args), **kwargs)

        return eager
    return OVFunction(fn, static_argnums=static_argnums)
