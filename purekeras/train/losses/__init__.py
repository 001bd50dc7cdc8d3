"""Losses: pure callables ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

>>> from purekeras import train
>>> train.losses.get("sparse_categorical_crossentropy").from_logits
False
"""
from ._base import Loss
from ._crossentropy import SparseCategoricalCrossentropy

__all__ = ["Loss", "SparseCategoricalCrossentropy", "get"]

_ALIASES = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier) -> Loss:
    """A loss from a Keras name (``"mse"``, ``"sparse_categorical_crossentropy"``) or a callable."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _ALIASES:
            raise ValueError(f"Unknown loss {identifier!r}; known: {sorted(_ALIASES)}.")
        return _ALIASES[key]()
    if callable(identifier):
        return identifier
    raise TypeError(f"A loss must be a name or a callable, got {identifier!r}.")
