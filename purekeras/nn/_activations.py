"""Activations by Keras name: ``get("relu")`` returns ``ops.relu``.

>>> from purekeras.nn import activations
>>> activations.get("swish").__name__
'silu'
"""
from __future__ import annotations

from typing import Callable

from .. import ops

_BY_NAME: dict[str, Callable] = {
    "relu": ops.relu, "relu6": ops.relu6, "gelu": ops.gelu, "silu": ops.silu,
    "swish": ops.silu, "tanh": ops.tanh, "sigmoid": ops.sigmoid, "softmax": ops.softmax,
    "log_softmax": ops.log_softmax, "elu": ops.elu, "selu": ops.selu,
    "leaky_relu": ops.leaky_relu, "softplus": ops.softplus, "softsign": ops.softsign,
    "mish": ops.mish, "hard_sigmoid": ops.hard_sigmoid, "hard_silu": ops.hard_silu,
    "hard_swish": ops.hard_silu, "exponential": ops.exponential, "linear": ops.linear,
}


def get(identifier) -> Callable:
    """The activation function for a Keras name, ``None`` (linear), or a callable."""
    if identifier is None:
        return ops.linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown activation {identifier!r}; known: {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be a name or a callable, got {identifier!r}.")


def name_of(fn: Callable) -> str:
    """The Keras name of an activation function (for configs and summaries)."""
    for name, candidate in _BY_NAME.items():
        if candidate is fn:
            return name
    return getattr(fn, "__name__", repr(fn))
