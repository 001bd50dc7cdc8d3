"""Losses: frozen specs, pure callables ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

Names, arguments and numerics follow Keras 3 (``keras.losses``).

>>> from purekeras import ops, train
>>> train.losses.get("sparse_categorical_crossentropy").from_logits
False
>>> loss = train.losses.get("mse")
>>> float(loss(ops.asarray([[1.0], [2.0]], backend="jax"), ops.asarray([[1.0], [4.0]], backend="jax")))
2.0
"""
from __future__ import annotations

from ._base import REDUCTIONS, Loss
from ._crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from ._probabilistic import CategoricalHinge, CosineSimilarity, Hinge, KLDivergence, Poisson, SquaredHinge
from ._regression import (
    Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError,
)

__all__ = [
    "Loss", "REDUCTIONS", "get",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "CosineSimilarity", "Hinge", "SquaredHinge", "CategoricalHinge",
]

_CLASSES = (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge,
)


def _aliases() -> dict:
    from ...nn._naming import snake_case

    table = {}
    for cls in _CLASSES:
        table[cls.__name__] = cls
        table[snake_case(cls.__name__)] = cls
        if cls.keras_name:
            table[cls.keras_name] = cls
    # Keras's function names and short names (keras.losses.ALL_OBJECTS_DICT).
    table.update({
        "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError, "bce": BinaryCrossentropy, "kld": KLDivergence,
        "huber": Huber, "kl_divergence": KLDivergence, "kullback_leibler_divergence": KLDivergence,
        "logcosh": LogCosh,
    })
    return table


_ALIASES = _aliases()


def get(identifier) -> Loss:
    """A loss from a Keras name or class name (``"mse"``, ``"MSE"``, ``"huber"``,
    ``"binary_crossentropy"``, ``"CategoricalCrossentropy"``, ...), or ``identifier``
    itself when it is a ``Loss`` or another callable ``(y_true, y_pred, sample_weight)``.

    A loss got by name has its default arguments (probabilities, not logits), as in Keras.

    >>> from purekeras import train
    >>> type(train.losses.get("bce")).__name__
    'BinaryCrossentropy'
    """
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown loss {identifier!r}. Known names: {sorted(k for k in _ALIASES if k.islower())}; "
                "or pass a Loss spec such as train.losses.MeanSquaredError()."
            )
        return cls()
    if callable(identifier):
        return identifier
    raise TypeError(f"A loss must be a name or a callable, got {identifier!r} of type {type(identifier).__name__}.")
