"""Gradient clipping as Keras applies it, before the update.

>>> from purekeras import ops
>>> g = {"w": ops.asarray([3.0, 4.0], backend="jax")}
>>> [float(v) for v in clip_gradients(g, None, None, 1.0)["w"]]
[0.6000000238418579, 0.800000011920929]
"""
from __future__ import annotations

import optree

from .. import ops


def _clip_by_norm(g, max_norm):
    norm = ops.sqrt(ops.sum(ops.square(g)))
    scale = ops.minimum(1.0, ops.divide(max_norm, ops.maximum(norm, 1e-12)))
    return ops.multiply(g, ops.cast(scale, ops.dtype(g)))


def global_norm(tree):
    leaves = optree.tree_leaves(tree)
    return ops.sqrt(sum(ops.sum(ops.square(ops.cast(g, "float32"))) for g in leaves))


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Apply Keras's ``clipnorm`` (per variable), ``global_clipnorm`` and ``clipvalue``."""
    if clipnorm is not None:
        grads = optree.tree_map(lambda g: _clip_by_norm(g, clipnorm), grads)
    if global_clipnorm is not None:
        norm = global_norm(grads)
        scale = ops.divide(global_clipnorm, ops.maximum(norm, global_clipnorm))
        grads = optree.tree_map(lambda g: ops.multiply(g, ops.cast(scale, ops.dtype(g))), grads)
    if clipvalue is not None:
        grads = optree.tree_map(lambda g: ops.clip(g, -clipvalue, clipvalue), grads)
    return grads
