"""BatchNormalization and LayerNormalization, with Keras 3's numerics.

Statistics are computed in float32 when the compute dtype is float16/bfloat16,
and the result is cast back to the compute dtype.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops, random
from . import _initializers as initializers
from ._layer import Layer
from ._spec import InputSpec


def _stats_dtype(dtype: str) -> str:
    """Keras's ``result_type(dtype, "float32")``: float64 stays, everything else float32."""
    return "float64" if dtype == "float64" else "float32"


def _normalize(x, mean, variance, gamma, beta, epsilon):
    """``(x - mean) / sqrt(variance + epsilon) * gamma + beta``, in Keras's operation
    order: ``x * inv + (beta - mean * inv)`` with ``inv = gamma / sqrt(variance + epsilon)``."""
    inv = ops.rsqrt(ops.add(variance, epsilon))
    if gamma is not None:
        inv = ops.multiply(inv, gamma)
    shift = ops.negative(ops.multiply(mean, inv))
    if beta is not None:
        shift = ops.add(shift, beta)
    return ops.add(ops.multiply(x, inv), shift)


def _check_axes(layer: Layer, input_spec, axes) -> tuple[int, ...]:
    """``axes`` as sorted non-negative ints; each must exist and have a known size."""
    if not isinstance(input_spec, InputSpec):
        raise layer.error(f"expected one input (an InputSpec), got {input_spec!r}.")
    rank = input_spec.rank
    out = []
    for axis in axes:
        if not -rank <= axis < rank:
            raise layer.error(f"axis {axis} is out of bounds for input shape {input_spec.shape} (rank {rank}).")
        axis %= rank
        if input_spec.shape[axis] is None:
            raise layer.error(
                f"axis {axis} of the input must have a known size, got shape {input_spec.shape}."
            )
        out.append(axis)
    if len(set(out)) != len(out):
        raise layer.error(f"axis {tuple(axes)} names the same input axis twice.")
    return tuple(sorted(out))


def _broadcastable(v, rank: int, axes: tuple[int, ...], shape):
    """``v`` (shaped like the normalised axes) reshaped to broadcast against the input."""
    if axes == (rank - 1,):
        return v
    target = [1] * rank
    for a in axes:
        target[a] = shape[a]
    return ops.reshape(v, target)


@dataclass(frozen=True)
class BatchNormalization(Layer):
    """Normalise with batch statistics in training and moving statistics in inference.

    Params ``gamma``, ``beta``; state ``moving_mean``, ``moving_variance``, all of
    shape ``(input_shape[axis],)``. In training, with ``mean``/``var`` the batch's
    (biased) statistics over every axis but ``axis``::

        moving_mean     = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    and the new state is returned. ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``.

    >>> from purekeras import nn, random, ops
    >>> layer = nn.BatchNormalization()
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> sorted(params), sorted(state)
    (['beta', 'gamma'], ['moving_mean', 'moving_variance'])
    >>> x = ops.asarray([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]], backend="jax")
    >>> y, state = layer.apply(params, state, x, training=True)
    >>> [round(float(v), 2) for v in state["moving_mean"]]
    [0.01, 0.02, 0.03]
    """

    uses_rng: ClassVar[bool] = False

    axis: int = -1
    momentum: float = 0.99
    epsilon: float = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Any = "zeros"
    gamma_initializer: Any = "ones"
    moving_mean_initializer: Any = "zeros"
    moving_variance_initializer: Any = "ones"
    beta_regularizer: Any = None
    gamma_regularizer: Any = None

    def __post_init__(self):
        if not isinstance(self.axis, int):
            raise self.error(f"axis must be an int, got {self.axis!r}.")

    def init(self, key, input_spec):
        (axis,) = _check_axes(self, input_spec, (self.axis,))
        shape = (input_spec.shape[axis],)
        keys = random.split(key, 4)
        dtype = self.variable_dtype
        params = {}
        if self.scale:
            params["gamma"] = initializers.get(self.gamma_initializer)(keys[0], shape, dtype)
        if self.center:
            params["beta"] = initializers.get(self.beta_initializer)(keys[1], shape, dtype)
        state = {
            "moving_mean": initializers.get(self.moving_mean_initializer)(keys[2], shape, dtype),
            "moving_variance": initializers.get(self.moving_variance_initializer)(keys[3], shape, dtype),
        }
        return params, state

    def apply(self, params, state, x, *, training=False, rng=None):
        x = ops.cast(x, self.compute_dtype)  # Keras autocasts the input first
        rank = ops.ndim(x)
        axes = (self.axis % rank,)
        dtype = _stats_dtype(ops.dtype(x))
        x = ops.cast(x, dtype)
        moving_mean = ops.cast(state["moving_mean"], dtype)
        moving_variance = ops.cast(state["moving_variance"], dtype)
        if training:
            mean, variance = ops.moments(x, [a for a in range(rank) if a not in axes])
            keep = 1.0 - self.momentum
            # Moving statistics are not trained: no gradient (nor PyTorch autograd history,
            # which would chain every step's graph to the next) flows into the state.
            batch_mean, batch_var = ops.stop_gradient(mean), ops.stop_gradient(variance)
            new_mean = ops.add(ops.multiply(moving_mean, self.momentum), ops.multiply(batch_mean, keep))
            new_var = ops.add(ops.multiply(moving_variance, self.momentum), ops.multiply(batch_var, keep))
            var_dtype = ops.dtype(state["moving_mean"])
            state = {"moving_mean": ops.cast(new_mean, var_dtype),
                     "moving_variance": ops.cast(new_var, var_dtype)}
        else:
            mean, variance = moving_mean, moving_variance
        shape = ops.shape(x)

        def view(v):
            return None if v is None else _broadcastable(ops.cast(v, dtype), rank, axes, shape)

        y = _normalize(x, view(mean), view(variance), view(params.get("gamma")),
                       view(params.get("beta")), self.epsilon)
        return ops.cast(y, self.compute_dtype), state

    def output_spec(self, input_spec):
        _check_axes(self, input_spec, (self.axis,))
        return input_spec.with_dtype(self.compute_dtype)


@dataclass(frozen=True)
class LayerNormalization(Layer):
    """Normalise each example over ``axis`` (an int or a tuple of ints).

    ``gamma`` and ``beta`` have the sizes of the normalised axes.
    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with ``mean``/``var``
    over ``axis``.

    >>> from purekeras import nn, random, ops
    >>> layer = nn.LayerNormalization(epsilon=0.0)
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 2)))
    >>> y, _ = layer.apply(params, state, ops.asarray([[1.0, 3.0]], backend="jax"))
    >>> y.tolist()
    [[-1.0, 1.0]]
    """

    uses_rng: ClassVar[bool] = False

    axis: Any = -1
    epsilon: float = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Any = "zeros"
    gamma_initializer: Any = "ones"
    beta_regularizer: Any = None
    gamma_regularizer: Any = None

    def __post_init__(self):
        axis = self.axis
        if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis) and axis:
            object.__setattr__(self, "axis", tuple(axis))
        elif not isinstance(axis, int):
            raise self.error(f"axis must be an int or a non-empty tuple of ints, got {axis!r}.")

    @property
    def _axes(self) -> tuple[int, ...]:
        return (self.axis,) if isinstance(self.axis, int) else self.axis

    def init(self, key, input_spec):
        axes = _check_axes(self, input_spec, self._axes)
        shape = tuple(input_spec.shape[a] for a in axes)
        keys = random.split(key)
        gamma_key, beta_key = keys[0], keys[1]
        params = {}
        if self.scale:
            params["gamma"] = initializers.get(self.gamma_initializer)(gamma_key, shape, self.variable_dtype)
        if self.center:
            params["beta"] = initializers.get(self.beta_initializer)(beta_key, shape, self.variable_dtype)
        return params, {}

    def apply(self, params, state, x, *, training=False, rng=None):
        # Like Keras (autocast=False): the input is not cast down before the statistics.
        rank = ops.ndim(x)
        axes = tuple(sorted(a % rank for a in self._axes))
        dtype = _stats_dtype(ops.dtype(x))
        x = ops.cast(x, dtype)
        mean, variance = ops.moments(x, axes, keepdims=True)
        shape = ops.shape(x)

        def view(name):
            v = params.get(name)
            return None if v is None else _broadcastable(ops.cast(v, dtype), rank, axes, shape)

        y = _normalize(x, mean, variance, view("gamma"), view("beta"), self.epsilon)
        return ops.cast(y, self.compute_dtype), state

    def output_spec(self, input_spec):
        _check_axes(self, input_spec, self._axes)
        return input_spec.with_dtype(self.compute_dtype)
