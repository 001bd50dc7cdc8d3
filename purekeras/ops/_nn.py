"""Neural-network ops: activations, softmax family, one_hot, conv, pooling, moments.

Written once on top of the backend primitives. Layouts are channels-last and
kernels use Keras's layout ``(*window, in_channels // groups, out_channels)``.

>>> from purekeras import ops
>>> x = ops.asarray([[1.0, 2.0, 3.0]], backend="jax")
>>> [round(float(v), 3) for v in ops.softmax(x)[0]]
[0.09, 0.245, 0.665]
"""
from __future__ import annotations

import math
from typing import Sequence

from . import _core, _math
from ._dispatch import dispatch

_LOW_PRECISION = ("float16", "bfloat16")

# ----------------------------------------------------------------------------
# Activations (examples at x = [-1, 0, 2])


def relu(x):
    """``max(x, 0)``.

    >>> from purekeras import ops
    >>> ops.relu(ops.asarray([-1.0, 0.0, 2.0], backend="jax")).tolist()
    [0.0, 0.0, 2.0]
    """
    return dispatch(x).unary("relu", x)


def relu6(x):
    """``min(max(x, 0), 6)``.

    >>> from purekeras import ops
    >>> ops.relu6(ops.asarray([-1.0, 7.0], backend="jax")).tolist()
    [0.0, 6.0]
    """
    return _math.clip(x, 0.0, 6.0)


def sigmoid(x):
    """``1 / (1 + exp(-x))``; integer inputs give float32.

    >>> from purekeras import ops
    >>> ops.sigmoid(ops.asarray([0.0], backend="jax")).tolist()
    [0.5]
    """
    return dispatch(x).unary("sigmoid", x)


def softplus(x):
    """``log(1 + exp(x))``, computed stably.

    >>> from purekeras import ops
    >>> ops.softplus(ops.asarray([0.0, 100.0], backend="jax")).tolist()
    [0.6931471824645996, 100.0]
    """
    return dispatch(x).unary("softplus", x)


def softsign(x):
    """``x / (1 + |x|)``.

    >>> from purekeras import ops
    >>> ops.softsign(ops.asarray([-1.0, 0.0, 3.0], backend="jax")).tolist()
    [-0.5, 0.0, 0.75]
    """
    return _math.divide(x, _math.add(_math.abs(x), 1.0))


def silu(x):
    """``x * sigmoid(x)`` (also called swish).

    >>> from purekeras import ops
    >>> ops.silu(ops.asarray([0.0], backend="jax")).tolist()
    [0.0]
    """
    return _math.multiply(x, sigmoid(x))


swish = silu


def gelu(x, approximate: bool = False):
    """Gaussian error linear unit ``x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))``;
    ``approximate=True`` uses ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.

    >>> from purekeras import ops
    >>> [round(v, 4) for v in ops.gelu(ops.asarray([-1.0, 0.0, 2.0], backend="jax")).tolist()]
    [-0.1587, 0.0, 1.9545]
    """
    if approximate:
        cube = _math.multiply(0.044715, _math.power(x, 3.0))
        inner = _math.multiply(math.sqrt(2.0 / math.pi), _math.add(x, cube))
        return _math.multiply(_math.multiply(0.5, x), _math.add(1.0, _math.tanh(inner)))
    phi = _math.add(1.0, _math.erf(_math.multiply(x, 1.0 / math.sqrt(2.0))))
    return _math.multiply(_math.multiply(0.5, x), phi)


def elu(x, alpha: float = 1.0):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    >>> from purekeras import ops
    >>> ops.elu(ops.asarray([0.0, 2.0], backend="jax")).tolist()
    [0.0, 2.0]
    """
    negative_part = _math.multiply(alpha, _math.expm1(_math.minimum(x, 0.0)))
    return _math.where(_math.greater(x, 0.0), x, negative_part)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """``scale * elu(x, alpha)`` with the self-normalising constants
    (alpha ~ 1.6733, scale ~ 1.0507).

    >>> from purekeras import ops
    >>> ops.selu(ops.asarray([0.0], backend="jax")).tolist()
    [0.0]
    """
    return _math.multiply(_SELU_SCALE, elu(x, _SELU_ALPHA))


def leaky_relu(x, negative_slope: float = 0.2):
    """``x`` if ``x >= 0`` else ``negative_slope * x`` (Keras 3's default slope 0.2).

    >>> from purekeras import ops
    >>> ops.leaky_relu(ops.asarray([-1.0, 2.0], backend="jax")).tolist()
    [-0.20000000298023224, 2.0]
    """
    return _math.where(_math.greater_equal(x, 0.0), x, _math.multiply(negative_slope, x))


def mish(x):
    """``x * tanh(softplus(x))``.

    >>> from purekeras import ops
    >>> ops.mish(ops.asarray([0.0], backend="jax")).tolist()
    [0.0]
    """
    return _math.multiply(x, _math.tanh(softplus(x)))


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: ``relu6(x + 3) / 6``.

    >>> from purekeras import ops
    >>> ops.hard_sigmoid(ops.asarray([-4.0, 0.0, 4.0], backend="jax")).tolist()
    [0.0, 0.5, 1.0]
    """
    return _math.divide(relu6(_math.add(x, 3.0)), 6.0)


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard_swish).

    >>> from purekeras import ops
    >>> ops.hard_silu(ops.asarray([-4.0, 0.0, 4.0], backend="jax")).tolist()
    [-0.0, 0.0, 4.0]
    """
    return _math.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def exponential(x):
    """``exp(x)``, as an activation.

    >>> from purekeras import ops
    >>> ops.exponential(ops.asarray([0.0], backend="jax")).tolist()
    [1.0]
    """
    return _math.exp(x)


def linear(x):
    """The identity, as an activation.

    >>> from purekeras import ops
    >>> ops.linear(ops.asarray([-1.0], backend="jax")).tolist()
    [-1.0]
    """
    return x


def softmax(x, axis: int | Sequence[int] = -1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple of ints), computed
    stably by each framework's fused kernel. Integer inputs give float32.

    >>> from purekeras import ops
    >>> ops.softmax(ops.asarray([0.0, 0.0], backend="jax")).tolist()
    [0.5, 0.5]
    >>> ops.softmax(ops.zeros((1, 2, 2), backend="jax"), axis=(1, 2)).tolist()
    [[[0.25, 0.25], [0.25, 0.25]]]
    """
    return _over_axes("softmax", x, axis)


def log_softmax(x, axis: int | Sequence[int] = -1):
    """``x - logsumexp(x)`` along ``axis`` (an int or a tuple of ints), computed stably.

    >>> from purekeras import ops
    >>> ops.log_softmax(ops.asarray([1000.0, 1000.0], backend="jax")).tolist()
    [-0.6931471824645996, -0.6931471824645996]
    """
    return _over_axes("log_softmax", x, axis)


def _over_axes(name: str, x, axis):
    """The backend's one-axis primitive ``name``; several axes are moved last and
    merged into one, then restored."""
    b = dispatch(x)
    x = b.asarray(x)
    if not _core.is_floating(b.dtype_name(x)):
        x = b.cast(x, "float32")
    primitive = getattr(b, name)
    rank = len(b.shape(x))
    given = tuple(int(a) for a in axis) if isinstance(axis, (tuple, list)) else (int(axis),)
    n = max(rank, 1)  # a 0-d input takes axis 0 / -1, as one of shape (1,)
    if not given or not all(-n <= a < n for a in given) or len({a % n for a in given}) != len(given):
        raise ValueError(f"{name}: axis={axis!r} is not a distinct, non-empty set of axes of an input "
                         f"of shape {b.shape(x)}; pass axes in [-{n}, {n}).")
    if rank == 0:  # one element: softmax 1, log_softmax 0
        return b.reshape(primitive(b.reshape(x, (1,)), 0), ())
    axes = sorted(a % rank for a in given)
    if len(axes) == 1:
        return primitive(x, axes[0])
    kept = [a for a in range(rank) if a not in axes]
    moved = b.transpose(x, kept + axes)
    moved_shape = b.shape(moved)
    merged = b.reshape(moved, (*moved_shape[:len(kept)], -1))
    out = b.reshape(primitive(merged, -1), moved_shape)
    return b.transpose(out, [(kept + axes).index(a) for a in range(rank)])


# ----------------------------------------------------------------------------
# Encoding


def one_hot(indices, num_classes: int, dtype: str = "float32", axis: int = -1):
    """One-hot encode integer ``indices`` into a new ``axis`` of size ``num_classes``.
    Out-of-range indices (negative ones included) give all-zero rows, as in Keras.

    >>> from purekeras import ops
    >>> ops.one_hot(ops.asarray([2, -1], backend="jax"), 3, "int32").tolist()
    [[0, 0, 1], [0, 0, 0]]
    """
    b = dispatch(indices)
    classes = b.arange(0, num_classes, 1, "int32")
    expanded = _core.expand_dims(_core.cast(indices, "int32"), -1)
    out = _core.cast(_math.equal(expanded, classes), dtype)
    if axis != -1:
        out = _core.moveaxis(out, -1, axis)
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


def _padding(padding: str) -> str:
    lowered = padding.lower()
    if lowered not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return lowered


def conv(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, groups: int = 1):
    """N-d convolution (cross-correlation, as Keras), channels-last.

    ``x``: ``(batch, *spatial, in_channels)``; ``kernel``: ``(*window, in/groups, out)``;
    ``padding``: ``"valid"`` or ``"same"`` (TensorFlow's: the extra pad goes after).

    >>> from purekeras import ops
    >>> x = ops.ones((1, 5, 5, 2), backend="jax")
    >>> ops.shape(ops.conv(x, ops.ones((3, 3, 2, 4), backend="jax"), strides=2, padding="same"))
    (1, 3, 3, 4)
    """
    n = _core.ndim(x) - 2
    return dispatch(x, kernel).conv(
        x, kernel, _tuple(strides, n, "strides"), _padding(padding),
        _tuple(dilation_rate, n, "dilation_rate"), groups,
    )


def _pool(op, x, pool_size, strides, padding):
    n = _core.ndim(x) - 2
    window = _tuple(pool_size, n, "pool_size")
    strides = window if strides is None else _tuple(strides, n, "strides")
    return dispatch(x).pool(op, x, window, strides, _padding(padding))


def max_pool(x, pool_size, strides=None, padding: str = "valid"):
    """Max over windows of ``x`` (channels-last); ``strides`` default to ``pool_size``.

    >>> from purekeras import ops
    >>> x = ops.reshape(ops.arange(4.0, backend="jax"), (1, 4, 1))
    >>> ops.max_pool(x, 2)[0, :, 0].tolist()
    [1.0, 3.0]
    """
    return _pool("max", x, pool_size, strides, padding)


def average_pool(x, pool_size, strides=None, padding: str = "valid"):
    """Mean over windows; with ``"same"`` padding the pad cells are not counted (as Keras).

    >>> from purekeras import ops
    >>> x = ops.reshape(ops.arange(3.0, backend="jax"), (1, 3, 1))
    >>> ops.average_pool(x, 2, padding="same")[0, :, 0].tolist()
    [0.5, 2.0]
    """
    return _pool("avg", x, pool_size, strides, padding)


# ----------------------------------------------------------------------------
# Normalisation


def moments(x, axes: Sequence[int], keepdims: bool = False):
    """Mean and (biased) variance of ``x`` over ``axes``; float16/bfloat16 inputs
    are reduced in float32 for accuracy and returned in their own dtype.

    >>> from purekeras import ops
    >>> mean, variance = ops.moments(ops.asarray([[1.0, 3.0]], backend="jax"), (1,))
    >>> mean.tolist(), variance.tolist()
    ([2.0], [1.0])
    """
    axes = tuple(axes)
    in_dtype = _core.dtype(x)
    upcast = in_dtype in _LOW_PRECISION
    xf = _core.cast(x, "float32") if upcast else x
    mean = _math.mean(xf, axis=axes, keepdims=True)
    variance = _math.mean(_math.square(_math.subtract(xf, mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean = _core.squeeze(mean, axes)
        variance = _core.squeeze(variance, axes)
    if upcast:
        mean, variance = _core.cast(mean, in_dtype), _core.cast(variance, in_dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset=None, scale=None, epsilon: float = 1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``.

    >>> from purekeras import ops
    >>> x = ops.asarray([1.0, 3.0], backend="jax")
    >>> ops.batch_normalization(x, 2.0, 1.0, epsilon=0.0).tolist()
    [-1.0, 1.0]
    """
    inv = _math.rsqrt(_math.add(variance, epsilon))
    if scale is not None:
        inv = _math.multiply(inv, scale)
    out = _math.multiply(_math.subtract(x, mean), inv)
    if offset is not None:
        out = _math.add(out, offset)
    return out


def l2_normalize(x, axis: int = -1, epsilon: float = 1e-12):
    """``x / sqrt(max(sum(x**2, axis), epsilon))``; float16/bfloat16 inputs are
    reduced in float32 (``epsilon`` underflows to 0 in float16) and returned in
    their own dtype.

    >>> from purekeras import ops
    >>> ops.l2_normalize(ops.asarray([3.0, 4.0], backend="jax")).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    in_dtype = _core.dtype(x)
    upcast = in_dtype in _LOW_PRECISION
    xf = _core.cast(x, "float32") if upcast else x
    sq = _math.sum(_math.square(xf), axis=axis, keepdims=True)
    out = _math.multiply(xf, _math.rsqrt(_math.maximum(sq, epsilon)))
    return _core.cast(out, in_dtype) if upcast else out


__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "gelu", "elu",
    "selu", "leaky_relu", "mish", "hard_sigmoid", "hard_silu", "hard_swish", "exponential",
    "linear", "softmax", "log_softmax", "one_hot", "conv", "max_pool", "average_pool",
    "moments", "batch_normalization", "l2_normalize",
]
