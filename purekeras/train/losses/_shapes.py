"""Shape rules shared by losses and metrics: Keras's rank alignment and clear errors.

>>> from purekeras import ops
>>> from purekeras.train.losses._shapes import squeeze_or_expand_to_same_rank
>>> a, b = squeeze_or_expand_to_same_rank(ops.zeros((4,), backend="jax"), ops.zeros((4, 1), backend="jax"))
>>> ops.shape(a), ops.shape(b)
((4, 1), (4, 1))
"""
from __future__ import annotations

import numpy as np

from ... import ops

EPSILON = 1e-7  # Keras's backend.epsilon()


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's rule: when ranks differ by one and the longer one ends in a size-1
    axis, squeeze that axis (or, for a rank-1 partner, expand the partner)."""
    r1, r2 = ops.ndim(x1), ops.ndim(x2)
    if r1 == r2 + 1 and ops.shape(x1)[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and ops.shape(x2)[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def as_array_like(x, like, dtype: str | None = None):
    """``x`` as an array of ``like``'s backend (NumPy and Python values convert)."""
    return ops.asarray(x, dtype, backend=ops.backend_name(like, x))


def check_batch(owner: str, y_true, y_pred) -> None:
    """Raise a clear error when ``y_true`` and ``y_pred`` disagree on the batch axis."""
    st, sp = ops.shape(y_true), ops.shape(y_pred)
    if not sp:
        raise ValueError(
            f"{owner}: y_pred must have a batch axis, got a scalar (shape ()). "
            "Pass predictions of shape (batch_size, ...)."
        )
    if st and st[0] != sp[0]:
        raise ValueError(
            f"{owner}: y_true has shape {st} but y_pred has shape {sp}; their batch sizes "
            f"({st[0]} vs {sp[0]}) must match. Pass labels and predictions for the same examples."
        )


def check_same_shape(owner: str, y_true, y_pred, original=None) -> None:
    """Raise a clear error unless ``y_true`` and ``y_pred`` have the same shape."""
    if ops.shape(y_true) != ops.shape(y_pred):
        st, sp = original if original is not None else (ops.shape(y_true), ops.shape(y_pred))
        raise ValueError(
            f"{owner}: y_true has shape {st} but y_pred has shape {sp}; they must have the "
            "same shape (a trailing axis of size 1 may be added or dropped). "
            "Check that the labels match the model's output."
        )


def align(owner: str, y_true, y_pred, dtype: str):
    """Labels and predictions as ``dtype`` arrays of one shape with a feature axis.

    Keras's rank alignment first; rank-1 inputs then get a feature axis of size 1,
    so every example keeps its own value (Keras would average a rank-1 batch to a
    single number before the sample weights apply, which also breaks padding).
    """
    original = (ops.shape(y_true), ops.shape(y_pred))
    check_batch(owner, y_true, y_pred)
    y_pred = ops.cast(as_array_like(y_pred, y_pred), dtype)
    y_true = as_array_like(y_true, y_pred, dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if ops.ndim(y_pred) == 1 and ops.ndim(y_true) == 1:
        y_true, y_pred = ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1)
    check_same_shape(owner, y_true, y_pred, original)
    return y_true, y_pred


def broadcast_weight(weight, values):
    """Per-example weights (``(batch,)`` or ``(batch, 1)``) against ``values`` of shape
    ``(batch, ...)``: trailing size-1 axes dropped, then size-1 axes appended."""
    while ops.ndim(weight) > ops.ndim(values) and ops.shape(weight)[-1] == 1:
        weight = ops.squeeze(weight, -1)
    while ops.ndim(weight) < ops.ndim(values):
        weight = ops.expand_dims(weight, -1)
    return weight


def check_weight_shape(owner: str, what: str, weight, values) -> None:
    """Raise a clear error unless ``weight`` broadcasts to exactly ``values``'s shape."""
    try:
        shape = np.broadcast_shapes(ops.shape(weight), ops.shape(values))
    except ValueError:
        shape = None
    if shape != ops.shape(values):
        raise ValueError(
            f"{owner}: {what} of shape {ops.shape(weight)} does not broadcast to the per-example "
            f"values of shape {ops.shape(values)}; pass one {what} value per example, "
            "shape (batch_size,)."
        )
