"""Accuracy metrics."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ._base import MeanMetricWrapper


@dataclass(frozen=True)
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals the integer label ``y_true``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.SparseCategoricalAccuracy()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([1, 0], backend="jax"),
    ...              ops.asarray([[0.1, 0.9], [0.2, 0.8]], backend="jax"))
    >>> float(m.result(s))
    0.5
    """

    def values(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        if ops.ndim(labels) == ops.ndim(y_pred):
            labels = ops.squeeze(labels, -1)
        return ops.equal(ops.argmax(y_pred, axis=-1), labels)
