"""Regression losses: squared, absolute, Huber, percentage, logarithmic, log-cosh.

Each averages an elementwise error over the last axis, giving one value per
example. Labels and predictions are aligned by Keras's rule (a trailing axis of
size 1 is added or dropped); rank-1 inputs hold one value per example.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ... import ops
from ._base import Loss
from ._shapes import EPSILON, align


@dataclass(frozen=True)
class MeanSquaredError(Loss):
    """``mean(square(y_true - y_pred), axis=-1)``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.MeanSquaredError()
    >>> y_true = ops.asarray([[1.0], [0.0], [1.0]], backend="jax")
    >>> y_pred = ops.asarray([[0.9], [0.1], [0.8]], backend="jax")
    >>> round(float(loss(y_true, y_pred)), 4)
    0.02
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


@dataclass(frozen=True)
class MeanAbsoluteError(Loss):
    """``mean(abs(y_true - y_pred), axis=-1)``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.MeanAbsoluteError(reduction="sum")
    >>> float(loss(ops.asarray([[1.0, 2.0]], backend="jax"), ops.asarray([[2.0, 4.0]], backend="jax")))
    1.5
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        return ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


@dataclass(frozen=True)
class Huber(Loss):
    """Quadratic for small errors, linear for large ones, averaged over the last axis:
    ``0.5 * e**2`` where ``|e| <= delta``, else ``delta * |e| - 0.5 * delta**2``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.Huber(delta=1.0)
    >>> y_true = ops.asarray([[0.0, 1.0], [0.0, 0.0]], backend="jax")
    >>> y_pred = ops.asarray([[0.6, 0.4], [0.4, 0.6]], backend="jax")
    >>> round(float(loss(y_true, y_pred)), 3)
    0.155
    """

    delta: float = 1.0

    keras_name = "huber_loss"

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        error = ops.subtract(y_pred, y_true)
        abs_error = ops.abs(error)
        quadratic = ops.multiply(0.5, ops.square(error))
        linear = ops.subtract(ops.multiply(self.delta, abs_error), 0.5 * self.delta**2)
        return ops.mean(ops.where(ops.less_equal(abs_error, self.delta), quadratic, linear), axis=-1)


@dataclass(frozen=True)
class MeanAbsolutePercentageError(Loss):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.MeanAbsolutePercentageError()
    >>> float(loss(ops.asarray([[2.0, 4.0]], backend="jax"), ops.asarray([[1.0, 5.0]], backend="jax")))
    37.5
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        scale = ops.maximum(ops.abs(y_true), EPSILON)
        return ops.multiply(100.0, ops.mean(ops.abs(ops.divide(ops.subtract(y_true, y_pred), scale)), axis=-1))


@dataclass(frozen=True)
class MeanSquaredLogarithmicError(Loss):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``.

    >>> import math
    >>> from purekeras import ops, train
    >>> loss = train.losses.MeanSquaredLogarithmicError()
    >>> v = float(loss(ops.asarray([[0.0]], backend="jax"), ops.asarray([[math.e - 1]], backend="jax")))
    >>> round(v, 5)
    1.0
    """

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        first = ops.log(ops.add(ops.maximum(y_pred, EPSILON), 1.0))
        second = ops.log(ops.add(ops.maximum(y_true, EPSILON), 1.0))
        return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


@dataclass(frozen=True)
class LogCosh(Loss):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably as
    ``x + softplus(-2x) - log(2)``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.LogCosh()
    >>> round(float(loss(ops.asarray([[0.0]], backend="jax"), ops.asarray([[1.0]], backend="jax"))), 4)
    0.4338
    """

    keras_name = "log_cosh"

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        x = ops.subtract(y_pred, y_true)
        return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2.0))), math.log(2.0)), axis=-1)
