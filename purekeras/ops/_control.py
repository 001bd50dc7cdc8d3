"""Control flow and function transformations, dispatched per backend.

These take functions, so the backend comes from the array operands, or from
``backend=`` where no array is passed.

>>> import numpy as np
>>> from purekeras import ops
>>> f = ops.value_and_grad(lambda w: ops.sum(ops.square(w)), backend="jax")
>>> value, grad = f(ops.asarray(np.array([1.0, 2.0]), backend="jax"))
>>> float(value), np.asarray(grad).tolist()
(5.0, [2.0, 4.0])
"""
from __future__ import annotations

from typing import Any, Callable

import optree

from ._dispatch import dispatch


def _first_leaf(tree):
    leaves = optree.tree_leaves(tree, none_is_leaf=False)
    return leaves[0] if leaves else None


def cond(pred, true_fn: Callable, false_fn: Callable, *operands):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``, traceable."""
    return dispatch(pred, _first_leaf(operands)).cond(pred, true_fn, false_fn, *operands)


def scan(fn: Callable, init, xs=None, length: int | None = None, *, backend: str | None = None):
    """``lax.scan`` semantics: ``fn(carry, x) -> (carry, y)`` over the leading axis of ``xs``."""
    b = dispatch(_first_leaf(init), _first_leaf(xs), backend=backend)
    return b.scan(fn, init, xs, length)


def fori_loop(lower: int, upper: int, body: Callable, init, *, backend: str | None = None):
    """``body(i, carry) -> carry`` for ``i`` in ``range(lower, upper)``."""
    return dispatch(_first_leaf(init), backend=backend).fori_loop(lower, upper, body, init)


def value_and_grad(fn: Callable, argnums: Any = 0, has_aux: bool = False, *, backend: str | None = None):
    """A function returning ``(fn(...), d fn / d args[argnums])`` on ``backend``."""
    return dispatch(backend=backend).value_and_grad(fn, argnums, has_aux)


def grad(fn: Callable, argnums: Any = 0, has_aux: bool = False, *, backend: str | None = None):
    """A function returning the gradient of scalar ``fn`` (and its aux if ``has_aux``)."""
    vg = value_and_grad(fn, argnums, has_aux, backend=backend)

    def grad_fn(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_fn


def vmap(fn: Callable, in_axes: Any = 0, out_axes: Any = 0, *, backend: str | None = None):
    """Vectorise ``fn`` over the given axes of its arguments."""
    return dispatch(backend=backend).vmap(fn, in_axes, out_axes)
