"""Accuracy metrics: exact, binary (thresholded), categorical (one-hot), sparse
(integer labels) and top-k. Each is the weighted mean of per-example matches."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ..losses._shapes import as_array_like, check_batch, check_same_shape, squeeze_or_expand_to_same_rank
from ._base import MeanMetricWrapper


def _aligned(owner, y_true, y_pred):
    check_batch(owner, y_true, y_pred)
    original = (ops.shape(y_true), ops.shape(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    check_same_shape(owner, y_true, y_pred, original)
    return y_true, y_pred


@dataclass(frozen=True)
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Accuracy()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[1], [2], [3], [4]], backend="jax"),
    ...              ops.asarray([[0], [2], [3], [4]], backend="jax"))
    >>> float(m.result(s))
    0.75
    """

    direction = "up"

    def values(self, y_true, y_pred):
        y_true, y_pred = _aligned(type(self).__name__, ops.cast(y_true, ops.dtype(y_pred)), y_pred)
        return ops.equal(y_true, y_pred)


@dataclass(frozen=True)
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` equals the binary label ``y_true``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.BinaryAccuracy()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[1.0], [1.0], [0.0], [0.0]], backend="jax"),
    ...              ops.asarray([[0.98], [1.0], [0.0], [0.6]], backend="jax"))
    >>> float(m.result(s))
    0.75
    """

    direction = "up"

    threshold: float = 0.5

    def values(self, y_true, y_pred):
        y_true, y_pred = _aligned(type(self).__name__, y_true, y_pred)
        return ops.equal(y_true, ops.cast(ops.greater(y_pred, self.threshold), ops.dtype(y_true)))


@dataclass(frozen=True)
class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot labels).

    >>> from purekeras import ops, train
    >>> m = train.metrics.CategoricalAccuracy()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[0, 0, 1], [0, 1, 0]], backend="jax"),
    ...              ops.asarray([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], backend="jax"))
    >>> float(m.result(s))
    0.5
    """

    direction = "up"

    def values(self, y_true, y_pred):
        check_batch(type(self).__name__, y_true, y_pred)
        check_same_shape(type(self).__name__, y_true, y_pred)
        return ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1))


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

    direction = "up"

    def values(self, y_true, y_pred):
        labels = _sparse_labels(type(self).__name__, y_true, y_pred)
        return ops.equal(ops.argmax(y_pred, axis=-1), labels)


@dataclass(frozen=True)
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_true)`` (one-hot labels) is among the ``k`` largest
    predictions; ties count in the label's favour, as Keras's ``in_top_k``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.TopKCategoricalAccuracy(k=1)
    >>> s = m.update(m.init(backend="jax"), ops.asarray([[0, 0, 1], [0, 1, 0]], backend="jax"),
    ...              ops.asarray([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], backend="jax"))
    >>> float(m.result(s))
    0.5
    """

    direction = "up"

    k: int = 5

    def values(self, y_true, y_pred):
        check_batch(type(self).__name__, y_true, y_pred)
        check_same_shape(type(self).__name__, y_true, y_pred)
        return _in_top_k(ops.argmax(y_true, axis=-1), y_pred, self.k)


@dataclass(frozen=True)
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label ``y_true`` is among the ``k`` largest predictions.

    >>> from purekeras import ops, train
    >>> m = train.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> s = m.update(m.init(backend="jax"), ops.asarray([2, 1], backend="jax"),
    ...              ops.asarray([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], backend="jax"))
    >>> float(m.result(s))
    0.5
    """

    direction = "up"

    k: int = 5

    def values(self, y_true, y_pred):
        return _in_top_k(_sparse_labels(type(self).__name__, y_true, y_pred), y_pred, self.k)


def _sparse_labels(owner, y_true, y_pred):
    check_batch(owner, y_true, y_pred)
    labels = as_array_like(y_true, y_pred)
    if ops.ndim(labels) == ops.ndim(y_pred) and ops.shape(labels)[-1] == 1:
        labels = ops.squeeze(labels, -1)
    if ops.shape(labels) != ops.shape(y_pred)[:-1]:
        raise ValueError(
            f"{owner}: y_true has shape {ops.shape(y_true)} but y_pred has shape {ops.shape(y_pred)}; "
            f"integer labels must have shape {ops.shape(y_pred)[:-1]}. For one-hot labels use the "
            "non-sparse metric."
        )
    return ops.cast(labels, "int32")


def _in_top_k(labels, y_pred, k: int):
    """Whether each label's prediction ranks within the top ``k`` of its row."""
    labels = ops.cast(labels, "int32")
    at_label = ops.take_along_axis(y_pred, ops.expand_dims(labels, -1), axis=-1)
    at_label = ops.where(ops.isnan(at_label), ops.full_like(at_label, float("-inf")), at_label)
    rank = ops.add(1, ops.sum(ops.cast(ops.greater(y_pred, at_label), "int32"), axis=-1))
    return ops.less_equal(rank, k)
