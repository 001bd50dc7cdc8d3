"""Embedding: a lookup table from integer ids to dense vectors."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops
from . import _initializers as initializers
from ._core_layers import check_single
from ._layer import Layer


@dataclass(frozen=True)
class Embedding(Layer):
    """Maps integer ids in ``[0, input_dim)`` to rows of ``embeddings``
    (``(input_dim, output_dim)``): an input of shape ``(batch, ...)`` gives
    ``(batch, ..., output_dim)``. Non-integer ids are cast to int32.

    ``embeddings_initializer="uniform"`` is Keras's ``RandomUniform(-0.05, 0.05)``.
    ``mask_zero`` is accepted for Keras compatibility, but purekeras does not
    propagate masks: downstream layers see every position, padding included.

    >>> from purekeras import nn, ops, random
    >>> layer = nn.Embedding(10, 4)
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 3), "int32"))
    >>> params["embeddings"].shape
    (10, 4)
    >>> ids = ops.asarray([[1, 2, 3]], "int32", backend="jax")
    >>> layer.apply(params, state, ids)[0].shape
    (1, 3, 4)
    """

    uses_rng: ClassVar[bool] = False

    input_dim: int
    output_dim: int
    embeddings_initializer: Any = "uniform"
    embeddings_regularizer: Any = None
    mask_zero: bool = False  # accepted; masks are not propagated

    def __post_init__(self):
        for field in ("input_dim", "output_dim"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise self.error(f"{field} must be a positive int, got {field}={value!r}.")

    def init(self, key, input_spec):
        self.output_spec(input_spec)
        embeddings = initializers.get(self.embeddings_initializer)(
            key, (self.input_dim, self.output_dim), self.variable_dtype)
        return {"embeddings": embeddings}, {}

    def apply(self, params, state, x, *, training=False, rng=None):
        if ops.dtype(x) not in ("int32", "int64"):
            x = ops.cast(x, "int32")
        return ops.take(self.cast_param(params["embeddings"]), x, axis=0), state

    def output_spec(self, input_spec):
        spec = check_single(self, input_spec)
        if spec.rank < 1:
            raise self.error(f"expected ids with a batch axis, got shape {spec.shape}.")
        if spec.dtype == "bool" or spec.dtype.startswith("complex"):
            raise self.error(
                f"expected integer ids, got dtype {spec.dtype}. Cast the ids to int32.")
        return spec.with_shape((*spec.shape, self.output_dim)).with_dtype(self.compute_dtype)
