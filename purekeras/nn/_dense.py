"""Dense: ``activation(x @ kernel + bias)`` on the last axis."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops, random
from . import _activations as activations
from . import _initializers as initializers
from ._layer import Layer


@dataclass(frozen=True)
class Dense(Layer):
    """Densely connected layer: ``y = activation(x @ kernel + bias)``.

    ``kernel``: ``(input_dim, units)``; ``bias``: ``(units,)``. Works on inputs of
    any rank >= 2, contracting the last axis.

    >>> from purekeras import nn, random, ops
    >>> layer = nn.Dense(4, activation="relu")
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> sorted(params), params["kernel"].shape
    (['bias', 'kernel'], (3, 4))
    >>> layer.apply(params, state, ops.ones((2, 3), backend="jax"))[0].shape
    (2, 4)
    """

    uses_rng: ClassVar[bool] = False

    units: int
    activation: Any = None
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None

    def __post_init__(self):
        if not isinstance(self.units, int) or self.units <= 0:
            raise ValueError(f"Dense units must be a positive int, got {self.units!r}.")

    def init(self, key, input_spec):
        self.output_spec(input_spec)
        input_dim = input_spec.shape[-1]
        keys = random.split(key)
        kernel_key, bias_key = keys[0], keys[1]
        params = {
            "kernel": initializers.get(self.kernel_initializer)(
                kernel_key, (input_dim, self.units), self.variable_dtype),
        }
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)(
                bias_key, (self.units,), self.variable_dtype)
        return params, {}

    def apply(self, params, state, x, *, training=False, rng=None):
        y = ops.matmul(self.cast_input(x), self.cast_param(params["kernel"]))
        if self.use_bias:
            y = ops.add(y, self.cast_param(params["bias"]))
        return activations.get(self.activation)(y), state

    def output_spec(self, input_spec):
        self.check_rank(input_spec, range(2, 9))
        if input_spec.shape[-1] is None:
            raise self.error(
                f"the last axis of the input must be known, got shape {input_spec.shape}."
            )
        return input_spec.with_shape((*input_spec.shape[:-1], self.units)).with_dtype(self.compute_dtype)
