"""The loss contract: a frozen spec; ``loss(y_true, y_pred, sample_weight=None)`` is a scalar.

``per_example(y_true, y_pred)`` gives one value per example (Keras's ``call``,
reduced over the feature axis); ``per_example_mask`` marks values that must not
count (``SparseCategoricalCrossentropy(ignore_class=...)``); ``reduce`` applies
the reduction, sample weights and masks. Reductions follow Keras 3:
``"sum_over_batch_size"`` / ``"mean"`` (weighted sum / number of values),
``"sum"``, ``"mean_with_sample_weight"`` (weighted sum / sum of weights),
``"none"`` / ``None`` (the weighted values).

A custom loss subclasses ``Loss`` and defines ``call``:

>>> from dataclasses import dataclass
>>> from purekeras import ops, train
>>> @dataclass(frozen=True)
... class Cubed(train.losses.Loss):
...     def call(self, y_true, y_pred):
...         return ops.mean(ops.power(ops.abs(ops.subtract(y_pred, y_true)), 3.0), axis=-1)
>>> float(Cubed()(ops.zeros((2, 1), backend="jax"), ops.full((2, 1), 2.0, backend="jax")))
8.0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ... import ops
from ._shapes import as_array_like, broadcast_weight, check_weight_shape

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


@dataclass(frozen=True, kw_only=True)
class Loss:
    """Base of every loss spec: Keras's ``reduction``, ``name`` and ``dtype`` (the
    compute dtype; ``None`` means float32, so bfloat16 predictions are scored in
    float32 as Keras does)."""

    reduction: str | None = "sum_over_batch_size"
    name: str | None = None
    dtype: str | None = None

    keras_name: ClassVar[str | None] = None  # Keras's default name where not the snake-cased class

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {self.reduction!r}."
            )

    @property
    def display_name(self) -> str:
        from ...nn._naming import snake_case

        return self.name or self.keras_name or snake_case(type(self).__name__)

    @property
    def compute_dtype(self) -> str:
        return self.dtype or "float32"

    # -- what subclasses define ------------------------------------------------
    def call(self, y_true, y_pred):
        """Per-example values (Keras's ``Loss.call``); ``y_pred`` arrives in the compute dtype."""
        raise NotImplementedError(
            f"{type(self).__name__} must define call(y_true, y_pred) returning one value per example."
        )

    def per_example_mask(self, y_true, y_pred):
        """``None``, or a boolean array shaped like ``per_example``'s result that is False
        where a value must not count (neither in the sum nor in the count)."""
        return None

    # -- the contract ------------------------------------------------------------
    def per_example(self, y_true, y_pred):
        """One value per example (more axes for sequence outputs), before reduction."""
        y_pred = ops.cast(as_array_like(y_pred, y_pred), self.compute_dtype)
        return self.call(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """The reduced loss. ``mask`` (0 for padding rows) removes rows entirely."""
        values = self.per_example(y_true, y_pred)
        own = self.per_example_mask(y_true, y_pred)
        if own is not None:
            own = ops.cast(own, ops.dtype(values))
            if mask is not None:
                own = ops.multiply(own, broadcast_weight(ops.cast(as_array_like(mask, values), ops.dtype(values)), own))
            mask = own
        return self.reduce(values, sample_weight, mask)

    def reduce(self, values, sample_weight=None, mask=None):
        """Reduce per-example ``values``; ``mask`` (0 for padding rows) is excluded from
        both the sum and the count, so a padded batch gives the unpadded result.

        >>> from purekeras import ops, train
        >>> loss = train.losses.MeanSquaredError()
        >>> values = ops.asarray([1.0, 3.0, 100.0], backend="jax")
        >>> float(loss.reduce(values, mask=ops.asarray([1, 1, 0], backend="jax")))
        2.0
        """
        values = ops.cast(values, "float32") if ops.dtype(values) in ("float16", "bfloat16") else values
        dtype = ops.dtype(values)
        if mask is not None:
            mask = ops.cast(as_array_like(mask, values), dtype)
            mask = broadcast_weight(mask, values)
            check_weight_shape(type(self).__name__, "mask", mask, values)
            mask = ops.broadcast_to(mask, ops.shape(values))
        weight = None
        if sample_weight is not None:
            weight = broadcast_weight(ops.cast(as_array_like(sample_weight, values), dtype), values)
            check_weight_shape(type(self).__name__, "sample_weight", weight, values)
            weight = ops.broadcast_to(weight, ops.shape(values))
        if mask is not None:
            weight = mask if weight is None else ops.multiply(weight, mask)
        weighted = values if weight is None else ops.multiply(values, weight)
        if mask is not None:  # padding rows may hold anything, even NaN: select, don't multiply
            weighted = ops.where(ops.greater(mask, 0), weighted, ops.zeros_like(weighted))
        if self.reduction in ("none", None) or ops.ndim(values) == 0:
            return weighted
        total = ops.sum(weighted)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and weight is not None:
            return ops.divide_no_nan(total, ops.sum(weight))
        if mask is None:
            size = ops.size(values)  # static
            return ops.divide(total, float(size)) if size else ops.zeros_like(total)
        return ops.divide_no_nan(total, ops.sum(mask))
