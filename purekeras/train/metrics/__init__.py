"""Metrics: specs with explicit state (``init`` / ``update`` / ``result`` / ``merge``).

>>> from purekeras import train
>>> train.metrics.get("accuracy", loss_name="sparse_categorical_crossentropy").display_name
'sparse_categorical_accuracy'
"""
from ._accuracy import SparseCategoricalAccuracy
from ._base import Mean, MeanMetricWrapper, Metric, accumulate_mean

__all__ = ["Mean", "MeanMetricWrapper", "Metric", "SparseCategoricalAccuracy", "accumulate_mean", "get"]

_ALIASES = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}


def get(identifier, *, loss_name: str | None = None) -> Metric:
    """A metric from a Keras name or a spec. ``"accuracy"``/``"acc"`` resolve by the
    loss, as Keras's ``compile`` does (sparse labels -> SparseCategoricalAccuracy)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            key = _accuracy_for_loss(loss_name)
        if key not in _ALIASES:
            raise ValueError(f"Unknown metric {identifier!r}; known: {sorted(_ALIASES)}.")
        return _ALIASES[key]()
    raise TypeError(f"A metric must be a name or a Metric spec, got {identifier!r}.")


def _accuracy_for_loss(loss_name: str | None) -> str:
    loss_name = (loss_name or "").lower()
    if "sparse_categorical" in loss_name:
        return "sparse_categorical_accuracy"
    if "binary" in loss_name:
        return "binary_accuracy"
    if "categorical" in loss_name:
        return "categorical_accuracy"
    return "accuracy"
