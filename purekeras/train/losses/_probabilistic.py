"""Distribution and margin losses: KL divergence, Poisson, cosine similarity, hinges."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ._base import Loss
from ._shapes import EPSILON, align


@dataclass(frozen=True)
class KLDivergence(Loss):
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[1e-7, 1]``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.KLDivergence()
    >>> y = ops.asarray([[0.5, 0.5]], backend="jax")
    >>> float(loss(y, y))
    0.0
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        y_true = ops.clip(y_true, EPSILON, 1.0)
        y_pred = ops.clip(y_pred, EPSILON, 1.0)
        return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


@dataclass(frozen=True)
class Poisson(Loss):
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.Poisson()
    >>> float(loss(ops.asarray([[0.0]], backend="jax"), ops.asarray([[2.0]], backend="jax")))
    2.0
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.add(y_pred, EPSILON)))), axis=-1)


@dataclass(frozen=True)
class CosineSimilarity(Loss):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for parallel
    vectors, 0 for orthogonal ones.

    >>> from purekeras import ops, train
    >>> loss = train.losses.CosineSimilarity()
    >>> float(loss(ops.asarray([[1.0, 0.0]], backend="jax"), ops.asarray([[2.0, 0.0]], backend="jax")))
    -1.0
    """

    axis: int = -1

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.negative(ops.sum(ops.multiply(_normalize(y_true, self.axis), _normalize(y_pred, self.axis)),
                                    axis=self.axis))


@dataclass(frozen=True)
class Hinge(Loss):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {0, 1} are mapped
    to {-1, 1} first (as Keras does when every label is 0 or 1).

    >>> from purekeras import ops, train
    >>> loss = train.losses.Hinge()
    >>> float(loss(ops.asarray([[1.0], [0.0]], backend="jax"), ops.asarray([[0.5], [0.5]], backend="jax")))
    1.0
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.mean(_margin(_hinge_labels(y_true), y_pred), axis=-1)


@dataclass(frozen=True)
class SquaredHinge(Loss):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``, labels as in ``Hinge``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.SquaredHinge()
    >>> float(loss(ops.asarray([[1.0], [0.0]], backend="jax"), ops.asarray([[0.5], [0.5]], backend="jax")))
    1.25
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.mean(ops.square(_margin(_hinge_labels(y_true), y_pred)), axis=-1)


@dataclass(frozen=True)
class CategoricalHinge(Loss):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` for one-hot labels.

    >>> from purekeras import ops, train
    >>> loss = train.losses.CategoricalHinge()
    >>> y_true = ops.asarray([[0.0, 1.0]], backend="jax")
    >>> round(float(loss(y_true, ops.asarray([[0.2, 0.6]], backend="jax"))), 4)
    0.6
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
        neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
        return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


def _margin(y_true, y_pred):
    return ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)


def _hinge_labels(y_true):
    """{0, 1} labels to {-1, 1} when every label is 0 or 1 (decided on the data, traced)."""
    binary = ops.all(ops.logical_or(ops.equal(y_true, 0.0), ops.equal(y_true, 1.0)))
    return ops.where(binary, ops.subtract(ops.multiply(2.0, y_true), 1.0), y_true)


def _normalize(x, axis: int):
    inv_norm = ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return ops.multiply(x, ops.minimum(inv_norm, 1.0 / EPSILON))
