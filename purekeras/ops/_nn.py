"""Neural-network ops: activations, softmax family, one_hot, conv, pooling, moments.

Written once on top of the backend primitives. Layouts are channels-last and
kernels use Keras's layout ``(*window, in_channels // groups, out_channels)``.

>>> import numpy as np
>>> from purekeras import ops
>>> x = ops.asarray(np.array([[1.0, 2.0, 3.0]]), backend="jax")
>>> [round(float(v), 3) for v in ops.softmax(x)[0]]
[0.09, 0.245, 0.665]
"""
from __future__ import annotations

import math
from typing import Sequence

from . import _core as core
from ._dispatch import dispatch

# ----------------------------------------------------------------------------
# Activations


def relu(x):
    """``max(x, 0)``."""
    return dispatch(x).unary("relu", x)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return core.clip(x, 0.0, 6.0)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return dispatch(x).unary("sigmoid", x)


def tanh(x):
    return core.tanh(x)


def softplus(x):
    """``log(1 + exp(x))``, computed stably."""
    return dispatch(x).unary("softplus", x)


def softsign(x):
    """``x / (1 + |x|)``."""
    return core.divide(x, core.add(core.abs(x), 1.0))


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return core.multiply(x, sigmoid(x))


swish = silu


def gelu(x, approximate: bool = False):
    """Gaussian error linear unit: ``x * Phi(x)``; ``approximate`` uses the tanh form."""
    if approximate:
        inner = core.multiply(math.sqrt(2.0 / math.pi), core.add(x, core.multiply(0.044715, core.power(x, 3.0))))
        return core.multiply(core.multiply(0.5, x), core.add(1.0, core.tanh(inner)))
    return core.multiply(core.multiply(0.5, x), core.add(1.0, core.erf(core.multiply(x, 1.0 / math.sqrt(2.0)))))


def elu(x, alpha: float = 1.0):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return core.where(core.greater(x, 0.0), x, core.multiply(alpha, core.expm1(core.minimum(x, 0.0))))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return core.multiply(_SELU_SCALE, elu(x, _SELU_ALPHA))


def leaky_relu(x, negative_slope: float = 0.2):
    """``x`` if ``x >= 0`` else ``negative_slope * x`` (Keras 3's default slope 0.2)."""
    return core.where(core.greater_equal(x, 0.0), x, core.multiply(negative_slope, x))


def mish(x):
    """``x * tanh(softplus(x))``."""
    return core.multiply(x, core.tanh(softplus(x)))


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: ``relu6(x + 3) / 6``."""
    return core.divide(relu6(core.add(x, 3.0)), 6.0)


def hard_silu(x):
    """``x * hard_sigmoid(x)``."""
    return core.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def exponential(x):
    return core.exp(x)


def linear(x):
    """The identity."""
    return x


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max for stability."""
    shifted = core.subtract(x, core.stop_gradient(core.max(x, axis=axis, keepdims=True)))
    e = core.exp(shifted)
    return core.divide(e, core.sum(e, axis=axis, keepdims=True))


def log_softmax(x, axis: int = -1):
    """``x - logsumexp(x)`` along ``axis``."""
    shifted = core.subtract(x, core.stop_gradient(core.max(x, axis=axis, keepdims=True)))
    return core.subtract(shifted, core.log(core.sum(core.exp(shifted), axis=axis, keepdims=True)))


# ----------------------------------------------------------------------------
# Encoding


def one_hot(indices, num_classes: int, dtype: str = "float32", axis: int = -1):
    """One-hot encode integer ``indices`` into a new ``axis`` of size ``num_classes``.

    Out-of-range indices (including negatives) give all-zero rows, as in Keras.
    """
    b = dispatch(indices)
    classes = b.arange(0, num_classes, 1, "int32")
    expanded = core.expand_dims(core.cast(indices, "int32"), -1)
    out = core.cast(core.equal(expanded, classes), dtype)
    if axis != -1:
        out = core.moveaxis(out, -1, axis)
    return out


# ----------------------------------------------------------------------------
# Convolution and pooling


def _tuple(value, n: int, what: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {value}.")
    return value


def conv(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, groups: int = 1):
    """N-d convolution, channels-last, Keras kernel layout.

    ``x``: ``(batch, *spatial, in_channels)``; ``kernel``: ``(*window, in/groups, out)``;
    ``padding``: ``"valid"`` or ``"same"``.
    """
    n = core.ndim(x) - 2
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return dispatch(x, kernel).conv(
        x, kernel, _tuple(strides, n, "strides"), padding,
        _tuple(dilation_rate, n, "dilation_rate"), groups,
    )


def _pool(op, x, pool_size, strides, padding):
    n = core.ndim(x) - 2
    window = _tuple(pool_size, n, "pool_size")
    strides = window if strides is None else _tuple(strides, n, "strides")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return dispatch(x).pool(op, x, window, strides, padding)


def max_pool(x, pool_size, strides=None, padding: str = "valid"):
    """Max over windows of ``x`` (channels-last); ``strides`` default to ``pool_size``."""
    return _pool("max", x, pool_size, strides, padding)


def average_pool(x, pool_size, strides=None, padding: str = "valid"):
    """Mean over windows; with ``"same"`` padding the pad cells are not counted (as Keras)."""
    return _pool("avg", x, pool_size, strides, padding)


# ----------------------------------------------------------------------------
# Normalisation


def moments(x, axes: Sequence[int], keepdims: bool = False):
    """Mean and (biased) variance of ``x`` over ``axes``; float16 inputs are
    reduced in float32 for accuracy and returned in their own dtype."""
    axes = tuple(axes)
    in_dtype = core.dtype(x)
    upcast = in_dtype in ("float16", "bfloat16")
    xf = core.cast(x, "float32") if upcast else x
    mean = core.mean(xf, axis=axes, keepdims=True)
    variance = core.mean(core.square(core.subtract(xf, mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean = core.squeeze(mean, axes)
        variance = core.squeeze(variance, axes)
    if upcast:
        mean, variance = core.cast(mean, in_dtype), core.cast(variance, in_dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset=None, scale=None, epsilon: float = 1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``."""
    inv = core.rsqrt(core.add(variance, epsilon))
    if scale is not None:
        inv = core.multiply(inv, scale)
    out = core.multiply(core.subtract(x, mean), inv)
    if offset is not None:
        out = core.add(out, offset)
    return out


def l2_normalize(x, axis: int = -1, epsilon: float = 1e-12):
    """``x / sqrt(max(sum(x**2, axis), epsilon))``; float16/bfloat16 inputs are
    reduced in float32 (``epsilon`` underflows to 0 in float16) and returned in
    their own dtype.

    >>> import numpy as np
    >>> from purekeras import ops
    >>> ops.l2_normalize(ops.asarray(np.array([3.0, 4.0]), backend="jax")).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    in_dtype = core.dtype(x)
    upcast = in_dtype in ("float16", "bfloat16")
    xf = core.cast(x, "float32") if upcast else x
    sq = core.sum(core.square(xf), axis=axis, keepdims=True)
    out = core.multiply(xf, core.rsqrt(core.maximum(sq, epsilon)))
    return core.cast(out, in_dtype) if upcast else out
