"""Cross-entropy losses: binary, categorical (one-hot labels), sparse categorical
(integer labels). Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` as in Keras;
``from_logits=True`` uses the stable log-sigmoid / log-softmax forms instead.
"""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ._base import Loss
from ._shapes import EPSILON, align, as_array_like, check_batch


@dataclass(frozen=True)
class BinaryCrossentropy(Loss):
    """``-(y * log(p) + (1 - y) * log(1 - p))`` averaged over ``axis``.

    ``label_smoothing`` squeezes the labels towards 0.5:
    ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.BinaryCrossentropy(from_logits=True)
    >>> y_true = ops.asarray([[0.0, 1.0], [0.0, 0.0]], backend="jax")
    >>> y_pred = ops.asarray([[-18.6, 0.51], [2.94, -12.8]], backend="jax")
    >>> round(float(loss(y_true, y_pred)), 3)
    0.865
    """

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1

    def call(self, y_true, y_pred):
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        if self.label_smoothing:
            y_true = ops.add(ops.multiply(y_true, 1.0 - self.label_smoothing), 0.5 * self.label_smoothing)
        if self.from_logits:
            # -log(sigmoid(x)) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x).
            values = ops.add(ops.multiply(y_true, ops.softplus(ops.negative(y_pred))),
                             ops.multiply(ops.subtract(1.0, y_true), ops.softplus(y_pred)))
        else:
            p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
            values = ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                                          ops.multiply(ops.subtract(1.0, y_true), ops.log(ops.subtract(1.0, p)))))
        return ops.mean(values, axis=self.axis)


@dataclass(frozen=True)
class CategoricalCrossentropy(Loss):
    """``-sum(y_true * log(softmax or normalised y_pred), axis)`` for one-hot labels.

    ``label_smoothing`` mixes the labels with the uniform distribution:
    ``y * (1 - label_smoothing) + label_smoothing / num_classes``.

    >>> from purekeras import ops, train
    >>> loss = train.losses.CategoricalCrossentropy()
    >>> y_true = ops.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], backend="jax")
    >>> y_pred = ops.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], backend="jax")
    >>> round(float(loss(y_true, y_pred)), 3)
    1.177
    """

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1

    def call(self, y_true, y_pred):
        if ops.ndim(y_pred) < 2:
            raise ValueError(
                f"{type(self).__name__}: y_pred must have shape (batch_size, ..., num_classes), "
                f"got shape {ops.shape(y_pred)}. For one score per example use BinaryCrossentropy."
            )
        y_true, y_pred = align(type(self).__name__, y_true, y_pred, ops.dtype(y_pred))
        if self.label_smoothing:
            num_classes = ops.shape(y_true)[self.axis]
            y_true = ops.add(ops.multiply(y_true, 1.0 - self.label_smoothing), self.label_smoothing / num_classes)
        return ops.negative(ops.sum(ops.multiply(y_true, _log_probs(y_pred, self.from_logits, self.axis)), axis=self.axis))


@dataclass(frozen=True)
class SparseCategoricalCrossentropy(Loss):
    """``-log(p[y_true])`` for integer labels ``y_true``; ``p`` is ``softmax(y_pred)``
    (``from_logits=True``) or ``y_pred`` normalised along ``axis``.

    Labels out of ``[0, num_classes)`` give 0. ``ignore_class`` drops the examples
    with that label from both the sum and the count, as Keras does.

    >>> from purekeras import ops, train
    >>> loss = train.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss(ops.asarray([0], backend="jax"), ops.asarray([[0.0, 0.0]], backend="jax"))), 4)
    0.6931
    >>> loss = train.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    >>> y_pred = ops.asarray([[0.5, 0.5], [0.9, 0.1]], backend="jax")
    >>> round(float(loss(ops.asarray([0, -1], backend="jax"), y_pred)), 4)
    0.6931
    """

    from_logits: bool = False
    ignore_class: int | None = None
    axis: int = -1

    def _labels(self, y_true, y_pred):
        name = type(self).__name__
        if ops.ndim(y_pred) < 1:
            raise ValueError(f"{name}: y_pred must have shape (batch_size, ..., num_classes), got a scalar.")
        check_batch(name, y_true, y_pred)
        labels = as_array_like(y_true, y_pred)
        if ops.ndim(labels) == ops.ndim(y_pred) and ops.shape(labels)[self.axis] == 1:
            labels = ops.squeeze(labels, self.axis)
        class_axis = self.axis % ops.ndim(y_pred)
        expected = tuple(d for i, d in enumerate(ops.shape(y_pred)) if i != class_axis)
        if ops.shape(labels) != expected:
            raise ValueError(
                f"{name}: y_true has shape {ops.shape(y_true)} but y_pred has shape {ops.shape(y_pred)}; "
                f"integer labels must have shape {expected} (y_pred without its class axis {self.axis}). "
                "For one-hot labels use CategoricalCrossentropy."
            )
        return ops.cast(labels, "int32")

    def call(self, y_true, y_pred):
        labels = self._labels(y_true, y_pred)
        log_probs = ops.moveaxis(_log_probs(y_pred, self.from_logits, self.axis), self.axis, -1)
        valid = None if self.ignore_class is None else ops.not_equal(labels, self.ignore_class)
        if valid is not None:
            labels = ops.where(valid, labels, ops.zeros_like(labels))
        one_hot = ops.one_hot(labels, ops.shape(log_probs)[-1], dtype=ops.dtype(log_probs))
        values = ops.negative(ops.sum(ops.multiply(one_hot, log_probs), axis=-1))
        if valid is not None:
            values = ops.where(valid, values, ops.zeros_like(values))
        return values

    def per_example_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        return ops.not_equal(self._labels(y_true, y_pred), self.ignore_class)


def _log_probs(y_pred, from_logits: bool, axis: int):
    if from_logits:
        return ops.log_softmax(y_pred, axis=axis)
    probs = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    return ops.log(ops.clip(probs, EPSILON, 1.0 - EPSILON))
