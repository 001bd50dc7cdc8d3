"""Gradient clipping as Keras 3 applies it, before weight decay and the update.

Keras allows one of ``clipnorm`` (each gradient's own L2 norm), ``global_clipnorm``
(the norm of all gradients together) and ``clipvalue`` (elementwise); a value of
``None`` or ``0`` turns a kind of clipping off.

>>> from purekeras import ops
>>> g = {"w": ops.asarray([3.0, 4.0], backend="jax")}
>>> [round(float(v), 4) for v in clip_gradients(g, global_clipnorm=1.0)["w"]]
[0.6, 0.8]
"""
from __future__ import annotations

from typing import Any

import optree

from .. import ops


def _clip_by_norm(g, clipnorm: float):
    # g * clipnorm / max(||g||, clipnorm); the two-sided `where` keeps a zero
    # gradient's norm (and its derivative) finite.
    l2sum = ops.sum(ops.square(g), keepdims=True)
    positive = ops.greater(l2sum, 0)
    l2norm = ops.where(positive, ops.sqrt(ops.where(positive, l2sum, ops.ones_like(l2sum))), l2sum)
    return ops.divide(ops.multiply(g, clipnorm), ops.maximum(l2norm, clipnorm))


def global_norm(tree: Any):
    """The L2 norm of all leaves of ``tree`` together, as a float32 scalar.

    >>> from purekeras import ops
    >>> float(global_norm([ops.asarray([3.0], backend="jax"), ops.asarray([4.0], backend="jax")]))
    5.0
    """
    leaves = optree.tree_leaves(tree, none_is_leaf=False)
    if not leaves:
        raise ValueError("global_norm: the tree has no arrays.")
    squares = [ops.sum(ops.square(ops.cast(g, "float32"))) for g in leaves]
    return ops.sqrt(ops.sum(ops.stack(squares)))


def _clip_by_global_norm(grads, clip_norm: float):
    norm = global_norm(grads)
    # clip_norm * min(1 / norm, 1 / clip_norm); `+ (norm - norm)` turns the scale
    # into NaN when the norm is inf or NaN, as Keras does.
    scale = ops.add(ops.multiply(ops.minimum(ops.divide(1.0, norm), 1.0 / clip_norm), clip_norm),
                    ops.subtract(norm, norm))
    return optree.tree_map(lambda g: ops.multiply(g, ops.cast(scale, ops.dtype(g))), grads,
                           none_is_leaf=False)


def clip_gradients(grads: Any, clipnorm: float | None = None, clipvalue: float | None = None,
                   global_clipnorm: float | None = None) -> Any:
    """``grads`` clipped by Keras's ``clipnorm``, ``global_clipnorm`` or ``clipvalue``.

    With several set (which the optimizers refuse), the first in that order wins,
    as in Keras.

    >>> from purekeras import ops
    >>> g = {"w": ops.asarray([3.0, -4.0], backend="jax")}
    >>> [float(v) for v in clip_gradients(g, clipvalue=1.0)["w"]]
    [1.0, -1.0]
    >>> [round(float(v), 4) for v in clip_gradients(g, clipnorm=2.5)["w"]]
    [1.5, -2.0]
    """
    if clipnorm:
        return optree.tree_map(lambda g: _clip_by_norm(g, clipnorm), grads, none_is_leaf=False)
    if global_clipnorm:
        return _clip_by_global_norm(grads, global_clipnorm)
    if clipvalue:
        return optree.tree_map(lambda g: ops.clip(g, -clipvalue, clipvalue), grads,
                               none_is_leaf=False)
    return grads
