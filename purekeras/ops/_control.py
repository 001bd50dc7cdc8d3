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
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``; ``pred`` may be
    traced (inside jit), and both branches must return the same structure.

    >>> from purekeras import ops
    >>> x = ops.asarray([1.0, -2.0], backend="jax")
    >>> ops.cond(ops.asarray(False, backend="jax"), ops.negative, ops.abs, x).tolist()
    [1.0, 2.0]
    """
    return dispatch(pred, _first_leaf(operands)).cond(pred, true_fn, false_fn, *operands)


def scan(fn: Callable, init, xs=None, length: int | None = None, *, backend: str | None = None):
    """Loop ``fn(carry, x) -> (carry, y)`` over the leading axis of ``xs`` (or
    ``length`` times with ``xs=None``); returns the last carry and the stacked ``y``.

    >>> from purekeras import ops
    >>> xs = ops.asarray([1.0, 2.0, 3.0], backend="jax")
    >>> total, running = ops.scan(lambda c, x: (ops.add(c, x), ops.add(c, x)), ops.zeros((), backend="jax"), xs)
    >>> float(total), running.tolist()
    (6.0, [1.0, 3.0, 6.0])
    """
    b = dispatch(_first_leaf(init), _first_leaf(xs), backend=backend)
    return b.scan(fn, init, xs, length)


def fori_loop(lower: int, upper: int, body: Callable, init, *, backend: str | None = None):
    """``carry = body(i, carry)`` for ``i`` in ``range(lower, upper)``; returns ``carry``.

    >>> from purekeras import ops
    >>> float(ops.fori_loop(0, 4, lambda i, c: ops.add(c, 1.0), ops.zeros((), backend="jax")))
    4.0
    """
    return dispatch(_first_leaf(init), backend=backend).fori_loop(lower, upper, body, init)


def value_and_grad(fn: Callable, argnums: Any = 0, has_aux: bool = False, *, backend: str | None = None):
    """A function returning ``(fn(...), d fn / d args[argnums])`` on ``backend``;
    with ``has_aux``, ``fn`` returns ``(value, aux)`` and so does the value part.

    >>> from purekeras import ops
    >>> f = ops.value_and_grad(lambda w: ops.sum(ops.square(w)), backend="jax")
    >>> value, grad = f(ops.asarray([1.0, 2.0], backend="jax"))
    >>> float(value), grad.tolist()
    (5.0, [2.0, 4.0])
    """
    return dispatch(backend=backend).value_and_grad(fn, argnums, has_aux)


def grad(fn: Callable, argnums: Any = 0, has_aux: bool = False, *, backend: str | None = None):
    """A function returning the gradient of scalar ``fn`` (and its aux if ``has_aux``).

    >>> from purekeras import ops
    >>> ops.grad(lambda w: ops.sum(ops.multiply(w, w)), backend="jax")(ops.asarray([3.0], backend="jax")).tolist()
    [6.0]
    """
    vg = value_and_grad(fn, argnums, has_aux, backend=backend)

    def grad_fn(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_fn


def vmap(fn: Callable, in_axes: Any = 0, out_axes: Any = 0, *, backend: str | None = None):
    """Vectorise ``fn`` over the given axes of its arguments (``None``: not mapped).

    >>> from purekeras import ops
    >>> x = ops.ones((4, 3), backend="jax")
    >>> ops.shape(ops.vmap(lambda row, w: ops.matmul(row, w), in_axes=(0, None), backend="jax")(x, ops.ones((3, 2), backend="jax")))
    (4, 2)
    """
    return dispatch(backend=backend).vmap(fn, in_axes, out_axes)
