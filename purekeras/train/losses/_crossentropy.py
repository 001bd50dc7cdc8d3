"""Cross-entropy losses."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ._base import Loss


@dataclass(frozen=True)
class SparseCategoricalCrossentropy(Loss):
    """``-log softmax(y_pred)[y_true]`` for integer labels ``y_true``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss(ops.asarray([0], backend="jax"), ops.asarray([[0.0, 0.0]], backend="jax"))), 4)
    0.6931
    """

    from_logits: bool = False
    ignore_class: int | None = None
    axis: int = -1

    def per_example(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        if ops.ndim(labels) == ops.ndim(y_pred):
            labels = ops.squeeze(labels, -1)
        if self.from_logits:
            log_probs = ops.log_softmax(y_pred, axis=self.axis)
        else:
            probs = ops.divide(y_pred, ops.sum(y_pred, axis=self.axis, keepdims=True))
            log_probs = ops.log(ops.clip(probs, 1e-7, 1.0 - 1e-7))
        safe = labels if self.ignore_class is None else ops.where(ops.equal(labels, self.ignore_class), 0, labels)
        picked = ops.squeeze(ops.take_along_axis(log_probs, ops.expand_dims(safe, -1), axis=-1), -1)
        values = ops.negative(picked)
        if self.ignore_class is not None:
            values = ops.where(ops.equal(labels, self.ignore_class), ops.zeros_like(values), values)
        return values
