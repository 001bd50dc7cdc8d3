"""Confusion-matrix counts at thresholds, Keras's algorithm, vectorised.

For every threshold ``t``: a prediction is positive when ``y_pred > t``;
``true_positives[t]`` is the weighted count of positive labels predicted positive,
and so on. Two paths, chosen exactly as Keras chooses them (so results agree to
the last bit):

- evenly spaced thresholds (AUC's default, or a list such as ``[0, 0.5, 1]``):
  each prediction falls in bucket ``ceil(p * (T - 1)) - 1``; weighted bucket
  sums (one scatter-add) and a reversed cumulative sum give every threshold's
  counts in ``O(N + T)``;
- otherwise: compare every prediction with every threshold, ``O(N * T)``.

>>> from purekeras import ops
>>> from purekeras.train.metrics._confusion import confusion_counts
>>> counts = confusion_counts(ops.asarray([0, 1, 1, 0], backend="jax"),
...                           ops.asarray([0.2, 0.7, 0.4, 0.9], backend="jax"), (0.5,))
>>> {k: v.tolist() for k, v in sorted(counts.items())}
{'false_negatives': [1.0], 'false_positives': [1.0], 'true_negatives': [1.0], 'true_positives': [1.0]}
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ... import ops
from ..losses._shapes import EPSILON, as_array_like, check_batch, squeeze_or_expand_to_same_rank

NEG_INF = -1e10  # Keras's threshold when only top_k decides
KEYS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def parse_thresholds(owner: str, thresholds, default: float) -> tuple[float, ...]:
    """``thresholds`` (None, a float or a sequence, each in [0, 1]) as a tuple."""
    if thresholds is None:
        return (float(default),)
    values = tuple(float(t) for t in (thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]))
    bad = [t for t in values if not 0.0 <= t <= 1.0]
    if bad or not values:
        raise ValueError(
            f"{owner}: thresholds must be floats in [0, 1], got {thresholds!r}. For a model that "
            "outputs logits use thresholds=0.0 (a logit above 0 is a probability above 0.5)."
        )
    return values


def is_evenly_distributed(thresholds: Sequence[float]) -> bool:
    """Keras's test: at least 3 thresholds equal to ``linspace(0, 1, n)`` within 1e-7."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(np.asarray(thresholds), even, atol=EPSILON))


def confusion_counts(y_true, y_pred, thresholds: Sequence[float], *, keys: Sequence[str] = KEYS,
                     top_k: int | None = None, class_id: int | None = None, sample_weight=None,
                     multi_label: bool = False, label_weights=None, evenly: bool | None = None,
                     dtype: str = "float32", owner: str = "metric") -> dict:
    """Weighted confusion counts per threshold: ``{key: array of shape (T,) or (T, labels)}``.

    ``y_true`` is cast to bool; ``y_pred`` holds scores in [0, 1]; ``sample_weight``
    has one weight per example (or broadcasts to ``y_pred``); ``top_k`` keeps only
    each row's k largest scores; ``class_id`` keeps one column; ``multi_label``
    keeps the label axis instead of flattening; ``label_weights`` (flattened case)
    weights each label column.
    """
    check_batch(owner, y_true, y_pred)
    y_pred = ops.cast(y_pred, dtype)
    y_true = as_array_like(y_true, y_pred, dtype)
    original = (ops.shape(y_true), ops.shape(y_pred))
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if ops.shape(y_true) != ops.shape(y_pred):
        raise ValueError(
            f"{owner}: y_true has shape {original[0]} but y_pred has shape {original[1]}; they must "
            "have the same shape (one score per label)."
        )
    weight = None
    if sample_weight is not None:
        weight = ops.expand_dims(as_array_like(sample_weight, y_pred, dtype), -1)
        _, weight = squeeze_or_expand_to_same_rank(y_true, weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if ops.ndim(y_pred) < 2:
            raise ValueError(
                f"{owner}: class_id needs y_pred of shape (batch_size, num_classes), got {original[1]}."
            )
        y_true = ops.expand_dims(ops.getitem(y_true, (Ellipsis, class_id)), -1)
        y_pred = ops.expand_dims(ops.getitem(y_pred, (Ellipsis, class_id)), -1)
    if weight is not None:
        try:
            np.broadcast_shapes(ops.shape(weight), ops.shape(y_pred))
        except ValueError:
            raise ValueError(
                f"{owner}: sample_weight of shape {np.shape(sample_weight)} does not broadcast to "
                f"y_pred of shape {ops.shape(y_pred)}; pass one weight per example."
            ) from None
        weight = ops.broadcast_to(weight, ops.shape(y_pred))
    if label_weights is not None and not multi_label:
        lw = ops.broadcast_to(as_array_like(np.asarray(label_weights, dtype), y_pred), ops.shape(y_pred))
        weight = lw if weight is None else ops.multiply(weight, lw)
    if multi_label and ops.ndim(y_pred) != 2:
        raise ValueError(
            f"{owner}: multi_label=True needs y_pred of shape (batch_size, num_labels), got {original[1]}."
        )
    if evenly is None:
        evenly = is_evenly_distributed(thresholds)
    if evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        counts = _bucketed(y_true, y_pred, weight, len(thresholds), with_epsilon, multi_label)
    else:
        counts = _compared(y_true, y_pred, weight, thresholds, multi_label)
    return {k: counts[k] for k in keys}


def _filter_top_k(y_pred, k: int):
    """Scores outside each row's top ``k`` become ``NEG_INF``."""
    _, indices = ops.top_k(y_pred, k)
    in_top = ops.sum(ops.one_hot(indices, ops.shape(y_pred)[-1], dtype=ops.dtype(y_pred)), axis=-2)
    return ops.add(ops.multiply(y_pred, in_top), ops.multiply(NEG_INF, ops.subtract(1.0, in_top)))


def _labels_and_weights(y_true, weight, multi_label):
    labels = ops.cast(ops.cast(y_true, "bool"), ops.dtype(y_true))
    weight = ops.ones_like(labels) if weight is None else weight
    if not multi_label:
        labels, weight = ops.flatten(labels), ops.flatten(weight)
    return ops.multiply(labels, weight), ops.multiply(ops.subtract(1.0, labels), weight)


def _bucketed(y_true, y_pred, weight, num_thresholds, with_epsilon, multi_label):
    true_w, false_w = _labels_and_weights(y_true, weight, multi_label)
    y_pred = ops.clip(y_pred, 0.0, 1.0)
    if not multi_label:
        y_pred = ops.flatten(y_pred)
    bucket = ops.subtract(ops.ceil(ops.multiply(y_pred, float(num_thresholds - 1))), 1.0)
    if with_epsilon:
        bucket = ops.relu(bucket)
    bucket = ops.cast(bucket, "int32")
    # Bucket -1 (a prediction of exactly 0 without the -epsilon threshold) is below
    # every threshold: it is dropped, as jax.ops.segment_sum drops out-of-range ids.
    keep = ops.greater_equal(bucket, 0)
    bucket = ops.maximum(bucket, 0)
    backend = ops.backend_name(y_pred)
    if multi_label:
        num_labels = ops.shape(y_pred)[-1]
        label_index = ops.broadcast_to(ops.arange(num_labels, dtype="int32", backend=backend), ops.shape(bucket))
        index, zeros = (bucket, label_index), ops.zeros((num_thresholds, num_labels), ops.dtype(true_w), backend=backend)
    else:
        index, zeros = bucket, ops.zeros((num_thresholds,), ops.dtype(true_w), backend=backend)

    def above(label_weight):  # weighted count of predictions above each threshold
        kept = ops.where(keep, label_weight, ops.zeros_like(label_weight))
        return ops.flip(ops.cumsum(ops.flip(ops.scatter_add(zeros, index, kept), 0), axis=0), 0)

    tp, fp = above(true_w), above(false_w)
    return {"true_positives": tp, "false_positives": fp,
            "true_negatives": ops.subtract(ops.sum(false_w, axis=0), fp),
            "false_negatives": ops.subtract(ops.sum(true_w, axis=0), tp)}


def _compared(y_true, y_pred, weight, thresholds, multi_label):
    true_w, false_w = _labels_and_weights(y_true, weight, multi_label)
    if not multi_label:
        y_pred = ops.flatten(y_pred)
    shape = (len(thresholds),) + (1,) * ops.ndim(y_pred)
    t = ops.reshape(ops.asarray(np.asarray(thresholds, ops.dtype(y_pred)), backend=ops.backend_name(y_pred)), shape)
    positive = ops.greater(ops.expand_dims(y_pred, 0), t)
    zero = ops.zeros_like(true_w)

    def count(predicted, label_weight):
        return ops.sum(ops.where(predicted, label_weight, zero), axis=1)

    negative = ops.logical_not(positive)
    return {"true_positives": count(positive, true_w), "false_positives": count(positive, false_w),
            "true_negatives": count(negative, false_w), "false_negatives": count(negative, true_w)}
