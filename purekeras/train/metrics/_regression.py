"""Regression metrics: weighted means of the regression losses' per-example values."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from .. import losses
from ..losses._shapes import align, as_array_like
from ._base import Mean, MeanMetricWrapper, accumulate_mean


@dataclass(frozen=True)
class MeanSquaredError(MeanMetricWrapper):
    """The mean of ``mean(square(y_true - y_pred), axis=-1)`` over examples.

    >>> from purekeras import ops, train
    >>> m = train.metrics.MeanSquaredError()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[0.0, 1.0], [0.0, 0.0]], backend="jax"),
    ...              ops.asarray([[1.0, 1.0], [0.0, 0.0]], backend="jax"))
    >>> float(m.result(s))
    0.25
    """

    direction = "down"

    def values(self, y_true, y_pred):
        return losses.MeanSquaredError(dtype=self.dtype).per_example(y_true, y_pred)


@dataclass(frozen=True)
class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of ``mean(abs(y_true - y_pred), axis=-1)`` over examples.

    >>> from purekeras import ops, train
    >>> m = train.metrics.MeanAbsoluteError()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[0.0, 1.0], [0.0, 0.0]], backend="jax"),
    ...              ops.asarray([[1.0, 1.0], [0.0, 0.0]], backend="jax"))
    >>> float(m.result(s))
    0.25
    """

    direction = "down"

    def values(self, y_true, y_pred):
        return losses.MeanAbsoluteError(dtype=self.dtype).per_example(y_true, y_pred)


@dataclass(frozen=True)
class RootMeanSquaredError(Mean):
    """``sqrt`` of the weighted mean squared error over all values seen.

    >>> from purekeras import ops, train
    >>> m = train.metrics.RootMeanSquaredError()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[0.0, 1.0], [0.0, 0.0]], backend="jax"),
    ...              ops.asarray([[1.0, 1.0], [0.0, 0.0]], backend="jax"))
    >>> float(m.result(s))
    0.5
    """

    direction = "down"

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = as_array_like(y_pred, state["total"])
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, self.dtype)
        error_sq = ops.square(ops.subtract(y_pred, y_true))
        return accumulate_mean(state, error_sq, sample_weight, self.dtype, type(self).__name__)

    def result(self, state):
        return ops.sqrt(ops.divide_no_nan(state["total"], state["count"]))
