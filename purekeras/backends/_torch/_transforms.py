"""Control flow and function transformations on PyTorch, with JAX's signatures.

- ``cond``: a Python branch on a concrete predicate, ``torch.cond`` while
  ``torch.compile`` traces, and a select of both branches for a predicate
  batched by ``torch.func.vmap`` (what JAX does for a vmapped ``lax.cond``).
- ``scan`` / ``fori_loop``: Python loops (eager PyTorch has no loop primitive
  to lower to); ``scan`` stacks the per-step outputs.
- ``value_and_grad``: JAX's ``(value, grads)`` / ``((value, aux), grads)``; aux
  may hold non-tensors. Outside any ``torch.func`` transform and ``torch.compile``
  it runs one ``torch.autograd.grad`` (what a hand-written step does; functorch's
  per-op wrapping costs ~0.5 ms a step on a small MLP); inside them,
  ``torch.func.grad_and_value``, so it composes with ``vmap``/``jacrev``/``grad``.
- ``vmap``: ``torch.func.vmap``.
- ``jit``: a traced ATen graph by default (``_trace``), ``torch.compile`` with
  ``compile=True``, op by op with ``compile=False``; NumPy leaves of the
  arguments become tensors.

>>> import torch
>>> from purekeras.backends._torch import _transforms
>>> f = _transforms.value_and_grad(lambda w: (w * w).sum(), 0, False)
>>> value, grad = f(torch.tensor([1.0, 2.0]))
>>> float(value), grad.tolist()
(5.0, [2.0, 4.0])
"""
from __future__ import annotations

import functools

import numpy as np
import optree
import torch
import torch.utils._pytree as pytree

from ._convert import asarray, tensor_leaves


def _leaves(tree):
    return optree.tree_leaves(tree, none_is_leaf=False)


def _select(pred, on_true, on_false):
    return optree.tree_map(lambda a, b: torch.where(pred, a, b), on_true, on_false)


def cond(pred, true_fn, false_fn, *operands):
    if torch.compiler.is_compiling():
        pred = pred if isinstance(pred, torch.Tensor) else torch.tensor(bool(pred))
        return torch.cond(pred, true_fn, false_fn, tuple(operands))
    try:
        flag = bool(pred)
    except RuntimeError:  # a predicate batched by vmap: both branches, then select
        return _select(asarray(pred).to(torch.bool), true_fn(*operands), false_fn(*operands))
    return true_fn(*operands) if flag else false_fn(*operands)


def _stack(outputs: list):
    return optree.tree_map(lambda *ys: torch.stack([asarray(y) for y in ys]), *outputs,
                           none_is_leaf=False)


def _empty_outputs(fn, carry, xs):
    """The stacked outputs of a zero-length scan: traced from one step on zeros."""
    x = None if xs is None else optree.tree_map(lambda a: torch.zeros(a.shape[1:], dtype=a.dtype), xs)
    _, y = fn(carry, x)
    return optree.tree_map(lambda v: torch.zeros((0, *asarray(v).shape), dtype=asarray(v).dtype), y)


def scan(fn, init, xs, length):
    xs = None if xs is None else tensor_leaves(xs)
    leaves = _leaves(xs)
    n = int(leaves[0].shape[0]) if leaves else length
    if n is None:
        raise ValueError("scan needs xs with a leading axis, or length= when xs is None.")
    if length is not None and n != length:
        raise ValueError(f"scan: length={length} but xs has a leading axis of size {n}.")
    carry, ys = init, []
    for i in range(n):
        carry, y = fn(carry, None if xs is None else optree.tree_map(lambda a: a[i], xs))
        ys.append(y)
    if n == 0:
        return carry, _empty_outputs(fn, init, xs)
    return carry, _stack(ys)


def fori_loop(lower, upper, body, init):
    carry = init
    for i in range(int(lower), int(upper)):
        carry = body(torch.tensor(i, dtype=torch.int32), carry)
    return carry


def stop_gradient(x):
    return optree.tree_map(lambda v: v.detach() if isinstance(v, torch.Tensor) else v, x)


def _float_tensors(tree):
    """Differentiated arguments: NumPy arrays and Python floats become tensors."""
    return optree.tree_map(
        lambda v: asarray(v) if isinstance(v, (np.ndarray, np.generic, float)) else v, tree)


def value_and_grad(fn, argnums, has_aux):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    rebuild = []  # per call: how to put the aux back together

    def split_aux(*args, **kwargs):
        # torch.func returns only tensors as aux: the other leaves go around it.
        # (torch's own pytree: torch.compile traces it; optree's treedefs it cannot.)
        value, aux = fn(*args, **kwargs)
        leaves, treedef = pytree.tree_flatten(aux)
        is_tensor = [isinstance(v, torch.Tensor) for v in leaves]
        rebuild.append((treedef, is_tensor, [None if t else v for v, t in zip(leaves, is_tensor)]))
        return value, [v for v, t in zip(leaves, is_tensor) if t]

    @functools.wraps(fn)
    def run(*args, **kwargs):
        args = tuple(_float_tensors(a) if i in nums else a for i, a in enumerate(args))
        if _plain_autograd_applies([args[i] for i in nums]):
            return _autograd_value_and_grad(fn, nums, argnums, has_aux, args, kwargs)
        # Built here, on the transforms' path only (a cache would be opaque to torch.compile).
        transformed = torch.func.grad_and_value(split_aux if has_aux else fn, argnums=argnums,
                                                has_aux=has_aux)
        grads, value = transformed(*args, **kwargs)
        if not has_aux:
            return value, grads
        value, tensors = value
        treedef, is_tensor, static = rebuild.pop()
        it = iter(tensors)
        leaves = [next(it) if t else s for t, s in zip(is_tensor, static)]
        return (value, pytree.tree_unflatten(leaves, treedef)), grads

    return run


def _plain_autograd_applies(differentiated) -> bool:
    """True outside every functorch transform and compiler trace, for arguments
    that are plain tensors with no autograd history of their own."""
    if torch.compiler.is_compiling() or torch._C._functorch.peek_interpreter_stack() is not None:
        return False
    return all(isinstance(v, torch.Tensor) and not v.requires_grad for v in _leaves(differentiated))


def _detached(tree):
    return optree.tree_map(lambda v: v.detach() if isinstance(v, torch.Tensor) else v, tree,
                           none_is_leaf=False)


def _autograd_value_and_grad(fn, nums, argnums, has_aux, args, kwargs):
    leaves, treedefs = [], []
    args = list(args)
    with torch.enable_grad():
        for i in nums:
            flat, treedef = optree.tree_flatten(args[i], none_is_leaf=False)
            flat = [v.detach().requires_grad_(True) for v in flat]
            args[i] = optree.tree_unflatten(treedef, flat)
            leaves.append(flat)
            treedefs.append(treedef)
        out = fn(*args, **kwargs)
        value = out[0] if has_aux else out
        wanted = [v for flat in leaves for v in flat]
        grads = torch.autograd.grad(value, wanted, allow_unused=True) if wanted else ()
    grads = [torch.zeros_like(v) if g is None else g for v, g in zip(wanted, grads)]
    it = iter(grads)
    per_arg = [optree.tree_unflatten(t, [next(it) for _ in flat]) for t, flat in zip(treedefs, leaves)]
    grads = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
    if has_aux:
        return (value.detach(), _detached(out[1])), grads
    return value.detach(), grads


def vmap(fn, in_axes, out_axes):
    in_dims = tuple(in_axes) if isinstance(in_axes, list) else in_axes
    mapped = torch.func.vmap(fn, in_dims=in_dims, out_dims=out_axes)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        return mapped(*tensor_leaves(args), **kwargs)

    return run


def jit(fn, donate_argnums, static_argnums, compile=None):
    """``compile=None`` (the default): traced once per input signature into an ATen
    graph and replayed (``_trace``); ``True``: ``torch.compile(fullgraph=True,
    dynamic=False)`` (Inductor: seconds to compile, see benchmarks/RESULTS.md);
    ``False``: op by op, for debugging. The facade passes NumPy batches straight
    into jitted steps, so NumPy leaves of the (non-static) arguments become
    tensors. Donation: the traced replay updates donated tensors in place where
    the graph would copy them for an in-place kernel (``_trace``); elsewhere a
    no-op."""
    if compile is None:
        from ._trace import traced

        return traced(fn, static_argnums, donate_argnums)
    static = frozenset(static_argnums)
    if compile:
        fn = torch.compile(fn, fullgraph=True, dynamic=False)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        args = tuple(a if i in static else tensor_leaves(a) for i, a in enumerate(args))
        return fn(*args, **kwargs)

    return run
