"""The loss contract: a frozen spec; ``loss(y_true, y_pred, sample_weight=None)`` is a scalar.

``per_example(y_true, y_pred)`` gives one value per example (Keras's ``call``,
reduced over the last axis); ``reduce`` applies the reduction and sample weights.
Reductions follow Keras 3: ``"sum_over_batch_size"`` (default: weighted sum / number
of values), ``"sum"``, ``"mean_with_sample_weight"`` (weighted sum / sum of
weights), ``"none"``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


@dataclass(frozen=True, kw_only=True)
class Loss:
    reduction: str | None = "sum_over_batch_size"
    name: str | None = None

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {self.reduction!r}.")

    def per_example(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.reduce(self.per_example(y_true, y_pred), sample_weight)

    def reduce(self, values, sample_weight=None, mask=None):
        """Reduce per-example ``values``; ``mask`` (0 for padding rows) is excluded from
        both the sum and the count, so a padded batch gives the unpadded result."""
        values = ops.cast(values, "float32") if ops.dtype(values) in ("float16", "bfloat16") else values
        mask = None if mask is None else ops.broadcast_to(
            _broadcast_weight(ops.cast(mask, ops.dtype(values)), values), ops.shape(values))
        weight = None
        if sample_weight is not None:
            weight = _broadcast_weight(ops.cast(sample_weight, ops.dtype(values)), values)
        if mask is not None:
            weight = mask if weight is None else ops.multiply(weight, mask)
        weighted = values if weight is None else ops.multiply(values, weight)
        if self.reduction in ("none", None):
            return weighted
        total = ops.sum(weighted)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and weight is not None:
            return ops.divide_no_nan(total, ops.sum(weight))
        if mask is None:
            return ops.divide(total, ops.size(values))
        return ops.divide_no_nan(total, ops.sum(mask))


def _broadcast_weight(weight, values):
    """Sample weights of shape ``(batch,)`` against values of shape ``(batch, ...)``."""
    while ops.ndim(weight) < ops.ndim(values):
        weight = ops.expand_dims(weight, -1)
    while ops.ndim(weight) > ops.ndim(values) and ops.shape(weight)[-1] == 1:
        weight = ops.squeeze(weight, -1)
    return weight
