"""Conv1D and Conv2D: channels-last convolutions with Keras's kernel layout.

``kernel``: ``(*kernel_size, in_channels // groups, filters)``; ``bias``: ``(filters,)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops, random
from . import _activations as activations
from . import _initializers as initializers
from ._layer import Layer


def _as_tuple(layer: Layer, value, n: int, what: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise layer.error(f"{what} must be an int or a tuple of {n} ints, got {value!r}.") from None
    if len(value) != n:
        raise layer.error(f"{what} must be an int or a tuple of {n} ints, got {value}.")
    return value


@dataclass(frozen=True)
class _Conv(Layer):
    """Shared implementation of ``Conv1D`` / ``Conv2D``; ``rank`` is the number of
    spatial axes. ``y = activation(conv(x, kernel) + bias)``."""

    uses_rng: ClassVar[bool] = False

    rank: ClassVar[int] = 0
    paddings: ClassVar[tuple[str, ...]] = ("valid", "same")

    filters: int
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    groups: int = 1
    activation: Any = None
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None

    def __post_init__(self):
        set_ = object.__setattr__
        n = self.rank
        if not isinstance(self.filters, int) or self.filters <= 0:
            raise self.error(f"filters must be a positive int, got {self.filters!r}.")
        if not isinstance(self.groups, int) or self.groups <= 0:
            raise self.error(f"groups must be a positive int, got {self.groups!r}.")
        if self.filters % self.groups:
            raise self.error(
                f"filters ({self.filters}) must be divisible by groups ({self.groups}); "
                "change one of them."
            )
        if self.data_format not in (None, "channels_last"):
            raise self.error(
                f"only data_format='channels_last' is supported, got {self.data_format!r}. "
                "Transpose the input to (batch, *spatial, channels)."
            )
        set_(self, "data_format", "channels_last")
        set_(self, "kernel_size", _as_tuple(self, self.kernel_size, n, "kernel_size"))
        set_(self, "strides", _as_tuple(self, self.strides, n, "strides"))
        set_(self, "dilation_rate", _as_tuple(self, self.dilation_rate, n, "dilation_rate"))
        padding = str(self.padding).lower()
        if padding not in self.paddings:
            raise self.error(f"padding must be one of {self.paddings}, got {self.padding!r}.")
        set_(self, "padding", padding)
        for what in ("kernel_size", "strides", "dilation_rate"):
            if min(getattr(self, what)) <= 0:
                raise self.error(f"{what} must be positive, got {getattr(self, what)}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise self.error(
                f"strides > 1 cannot be combined with dilation_rate > 1 (got strides="
                f"{self.strides}, dilation_rate={self.dilation_rate}); set one of them to 1."
            )

    def init(self, key, input_spec):
        self.output_spec(input_spec)
        kernel_shape = (*self.kernel_size, input_spec.shape[-1] // self.groups, self.filters)
        keys = random.split(key)
        kernel_key, bias_key = keys[0], keys[1]
        params = {"kernel": initializers.get(self.kernel_initializer)(
            kernel_key, kernel_shape, self.variable_dtype)}
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)(
                bias_key, (self.filters,), self.variable_dtype)
        return params, {}

    def apply(self, params, state, x, *, training=False, rng=None):
        x = self.cast_input(x)
        padding = self.padding
        if padding == "causal":  # left-pad the time axis so output[t] sees only input[:t+1]
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            x = ops.pad(x, ((0, 0), (left, 0), (0, 0)))
            padding = "valid"
        y = ops.conv(x, self.cast_param(params["kernel"]), self.strides, padding,
                     self.dilation_rate, self.groups)
        if self.use_bias:
            y = ops.add(y, self.cast_param(params["bias"]))
        return activations.get(self.activation)(y), state

    def output_spec(self, input_spec):
        self.check_rank(input_spec, self.rank + 2)
        shape = input_spec.shape
        channels = shape[-1]
        if channels is None:
            raise self.error(
                f"the channel axis (last) of the input must be known, got shape {shape}. "
                "Give nn.Input / InputSpec a concrete channel count."
            )
        if channels % self.groups:
            raise self.error(
                f"input channels ({channels}, from input shape {shape}) must be divisible "
                f"by groups ({self.groups}); change groups or the number of channels."
            )
        spatial = []
        for size, k, s, d in zip(shape[1:-1], self.kernel_size, self.strides, self.dilation_rate):
            if size is None:
                spatial.append(None)
            elif self.padding == "valid":
                out = (size - d * (k - 1) - 1) // s + 1
                if out <= 0:
                    raise self.error(
                        f"input shape {shape} is too small for kernel_size={self.kernel_size}, "
                        f"dilation_rate={self.dilation_rate} with padding='valid' (output "
                        "size would be <= 0). Use padding='same' or a larger input."
                    )
                spatial.append(out)
            else:  # "same" and "causal"
                spatial.append((size - 1) // s + 1)
        return input_spec.with_shape((shape[0], *spatial, self.filters)).with_dtype(self.compute_dtype)


@dataclass(frozen=True)
class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding`` may also be
    ``"causal"`` (left padding, so ``output[t]`` depends only on ``input[:t+1]``).

    >>> from purekeras import nn, random, ops
    >>> layer = nn.Conv1D(4, 3, padding="causal")
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 10, 2)))
    >>> params["kernel"].shape
    (3, 2, 4)
    >>> layer.apply(params, state, ops.ones((1, 10, 2), backend="jax"))[0].shape
    (1, 10, 4)
    """

    rank: ClassVar[int] = 1
    paddings: ClassVar[tuple[str, ...]] = ("valid", "same", "causal")


@dataclass(frozen=True)
class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)``.

    >>> from purekeras import nn, random, ops
    >>> layer = nn.Conv2D(8, 3, strides=2, padding="same", groups=2)
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 9, 9, 4)))
    >>> params["kernel"].shape
    (3, 3, 2, 8)
    >>> layer.apply(params, state, ops.ones((1, 9, 9, 4), backend="jax"))[0].shape
    (1, 5, 5, 8)
    """

    rank: ClassVar[int] = 2
