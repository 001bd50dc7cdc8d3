"""Core layers without variables: Activation, Identity, Dropout."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops, random
from . import _activations as activations
from ._layer import Layer, require_rng
from ._spec import InputSpec


def float_spec(layer: Layer, spec: InputSpec) -> InputSpec:
    """``spec`` with a floating dtype replaced by the layer's compute dtype, as
    ``Layer.cast_input`` does to the values (Keras's autocast)."""
    return spec.with_dtype(layer.compute_dtype) if ops.is_floating(spec.dtype) else spec


def check_single(layer: Layer, input_spec) -> InputSpec:
    """Raise a clear error unless ``input_spec`` is one InputSpec."""
    if not isinstance(input_spec, InputSpec):
        raise layer.error(f"expected one input (an InputSpec), got {input_spec!r}.")
    return input_spec


@dataclass(frozen=True)
class Activation(Layer):
    """Applies an activation function elementwise: ``y = activation(x)``.

    ``activation`` is a Keras name (``"relu"``, ``"softmax"``, ...), ``None``
    (linear) or a callable.

    >>> from purekeras import nn, ops
    >>> layer = nn.Activation("relu")
    >>> x = ops.asarray([[-1.0, 2.0]], backend="jax")
    >>> layer.apply({}, {}, x)[0].tolist()
    [[0.0, 2.0]]
    """

    uses_rng: ClassVar[bool] = False

    activation: Any = None

    def __post_init__(self):
        try:
            activations.get(self.activation)
        except (ValueError, TypeError) as exc:
            raise self.error(str(exc)) from None

    def apply(self, params, state, x, *, training=False, rng=None):
        return activations.get(self.activation)(self.cast_input(x)), state

    def output_spec(self, input_spec):
        return float_spec(self, check_single(self, input_spec))


@dataclass(frozen=True)
class Identity(Layer):
    """Returns its input unchanged (any structure of arrays); a placeholder layer.

    >>> from purekeras import nn, ops
    >>> x = ops.ones((1, 2), backend="jax")
    >>> nn.Identity().apply({}, {}, x)[0].tolist()
    [[1.0, 1.0]]
    """

    uses_rng: ClassVar[bool] = False

    def apply(self, params, state, x, *, training=False, rng=None):
        return x, state

    def output_spec(self, input_spec):
        return input_spec


@dataclass(frozen=True)
class Dropout(Layer):
    """Randomly zeroes inputs with probability ``rate`` during training and
    scales the kept ones by ``1 / (1 - rate)``, so the expected sum is unchanged.

    In inference (``training=False``) it is the identity. In training it needs
    ``rng=key``: the same key gives the same mask, every time. ``noise_shape``
    is the shape of the mask, broadcast against the input (``None`` entries take
    the input's size), e.g. ``(None, 1, features)`` drops whole features for
    every timestep. ``seed`` is accepted for Keras compatibility and ignored:
    randomness comes only from the ``rng`` passed to ``apply``.

    >>> from purekeras import nn, ops, random
    >>> layer = nn.Dropout(0.5)
    >>> x = ops.ones((2, 4), backend="jax")
    >>> layer.apply({}, {}, x)[0].tolist()  # inference: the identity
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    >>> y, _ = layer.apply({}, {}, x, training=True, rng=random.key(0, backend="jax"))
    >>> sorted(set(y.reshape(-1).tolist()) - {0.0, 2.0})
    []
    """

    rate: float
    noise_shape: Any = None
    seed: int | None = None  # ignored: pass rng= to apply()

    def __post_init__(self):
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) \
                or not 0 <= self.rate <= 1:
            raise self.error(f"rate must be a float in [0, 1], got rate={self.rate!r}.")
        if self.noise_shape is not None:
            if isinstance(self.noise_shape, str):
                raise self.error(f"noise_shape must be a tuple of ints or None, got {self.noise_shape!r}.")
            shape = tuple(self.noise_shape)
            for d in shape:
                if d is not None and (not isinstance(d, int) or d <= 0):
                    raise self.error(
                        f"noise_shape entries must be positive ints or None, got {shape}.")
            object.__setattr__(self, "noise_shape", shape)

    def _mask_shape(self, input_shape) -> tuple:
        if self.noise_shape is None:
            return tuple(input_shape)
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, input_shape))

    def apply(self, params, state, x, *, training=False, rng=None):
        x = self.cast_input(x)
        if not training or self.rate == 0:
            return x, state
        require_rng(self, rng)
        if self.rate == 1:
            return ops.zeros_like(x), state
        keep = random.bernoulli(rng, 1.0 - self.rate, self._mask_shape(ops.shape(x)))
        return ops.where(keep, ops.divide(x, 1.0 - self.rate), ops.zeros_like(x)), state

    def output_spec(self, input_spec):
        spec = check_single(self, input_spec)
        if self.noise_shape is not None:
            ok = len(self.noise_shape) == spec.rank and all(
                d is None or d == 1 or s is None or d == s
                for d, s in zip(self.noise_shape, spec.shape))
            if not ok:
                raise self.error(
                    f"noise_shape {self.noise_shape} does not broadcast against the input "
                    f"shape {spec.shape}: it needs the input's rank, with each entry None, "
                    "1 or the input's size."
                )
        return float_spec(self, spec)



def check_data_format(layer: Layer, data_format) -> None:
    """Raise a clear error unless ``data_format`` is ``None`` or ``"channels_last"``."""
    if data_format in (None, "channels_last"):
        return
    if data_format == "channels_first":
        raise layer.error(
            "data_format='channels_first' is not supported: purekeras layers are "
            "channels_last only. Transpose the input to (batch, ..., channels) and use "
            "data_format='channels_last' (or leave it None)."
        )
    raise layer.error(
        f"data_format must be 'channels_last' or None, got {data_format!r}."
    )
