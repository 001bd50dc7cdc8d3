"""Metrics: specs with explicit state (``init`` / ``update`` / ``result`` / ``merge``).

Names, arguments and numerics follow Keras 3 (``keras.metrics``).

>>> from purekeras import train
>>> m = train.metrics.get("accuracy", loss_name="sparse_categorical_crossentropy")
>>> type(m).__name__, m.display_name
('SparseCategoricalAccuracy', 'accuracy')
"""
from __future__ import annotations

from typing import Sequence

from ._accuracy import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
)
from ._auc import AUC
from ._base import Mean, MeanMetricWrapper, Metric, Sum, accumulate_mean
from ._confusion_metrics import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from ._regression import MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError

__all__ = [
    "Metric", "MeanMetricWrapper", "Mean", "Sum", "accumulate_mean", "get",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError",
    "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "AUC",
]

_CLASSES = (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, Precision, Recall, TruePositives, FalsePositives, TrueNegatives,
    FalseNegatives, AUC,
)


def _aliases() -> dict:
    from ...nn._naming import snake_case

    table = {}
    for cls in _CLASSES:
        table[cls.__name__] = cls
        table[snake_case(cls.__name__)] = cls
    table.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError, "rmse": RootMeanSquaredError})
    return table


_ALIASES = _aliases()


def get(identifier, *, loss_name: str | None = None, y_true_shape: Sequence[int] | None = None,
        y_pred_shape: Sequence[int] | None = None) -> Metric:
    """A metric from a Keras name (``"mse"``, ``"auc"``, ``"precision"``,
    ``"top_k_categorical_accuracy"``, ``"AUC"``, ...) or a ``Metric`` spec (returned as is).

    As in Keras's ``compile``, a metric got by name is named by that string, so logs
    read ``{"loss": ..., "mse": ...}``. ``"accuracy"`` / ``"acc"`` pick the accuracy
    that fits the data: from the shapes when given (Keras's rule: one output column
    -> BinaryAccuracy; integer labels -> SparseCategoricalAccuracy; else
    CategoricalAccuracy), else from ``loss_name``.

    >>> from purekeras import train
    >>> m = train.metrics.get("acc", y_true_shape=(None, 1), y_pred_shape=(None, 1))
    >>> type(m).__name__, m.display_name
    ('BinaryAccuracy', 'acc')
    >>> train.metrics.get("mse").display_name
    'mse'
    """
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"A metric must be a name or a Metric spec, got {identifier!r} of type {type(identifier).__name__}."
        )
    if identifier.lower() in ("accuracy", "acc"):
        cls = _accuracy_class(loss_name, y_true_shape, y_pred_shape)
    else:
        cls = _ALIASES.get(identifier) or _ALIASES.get(identifier.lower())
    if cls is None:
        raise ValueError(
            f"Unknown metric {identifier!r}. Known names: "
            f"{sorted(['accuracy', 'acc', *(k for k in _ALIASES if k.islower())])}; "
            "or pass a Metric spec such as train.metrics.AUC(curve='PR')."
        )
    return cls(name=identifier)


def _accuracy_class(loss_name, y_true_shape, y_pred_shape) -> type:
    if y_true_shape is not None and y_pred_shape is not None:
        y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
        if y_pred_shape[-1] == 1:
            return BinaryAccuracy
        if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
            return SparseCategoricalAccuracy
        return CategoricalAccuracy
    from ...nn._naming import snake_case

    loss_name = snake_case(loss_name or "").lower()
    if "sparse_categorical" in loss_name:
        return SparseCategoricalAccuracy
    if "binary" in loss_name or loss_name in ("bce", "hinge", "squared_hinge"):
        return BinaryAccuracy
    if "categorical" in loss_name:
        return CategoricalAccuracy
    return Accuracy
