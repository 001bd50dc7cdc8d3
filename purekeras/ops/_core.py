"""NumPy-style ops, written once, dispatched on the type of their arrays.

>>> import numpy as np
>>> from purekeras import ops
>>> x = ops.asarray(np.array([1.0, 2.0, 3.0]), backend="jax")
>>> float(ops.sum(ops.square(x)))
14.0
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._dispatch import dispatch

__all__ = [
    "backend_name",
    "asarray",
    "convert_to_numpy",
    "shape",
    "ndim",
    "size",
    "dtype",
    "cast",
    "is_floating",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "full_like",
    "arange",
    "eye",
    "abs",
    "negative",
    "sign",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "square",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "arcsin",
    "arccos",
    "arctan",
    "arctanh",
    "erf",
    "erfinv",
    "floor",
    "ceil",
    "round",
    "reciprocal",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
    "add",
    "subtract",
    "multiply",
    "divide",
    "floor_divide",
    "mod",
    "power",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "arctan2",
    "logaddexp",
    "nextafter",
    "where",
    "stop_gradient",
    "clip",
    "divide_no_nan",
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "any",
    "all",
    "var",
    "std",
    "logsumexp",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
    "top_k",
    "norm",
    "reshape",
    "transpose",
    "swapaxes",
    "broadcast_to",
    "expand_dims",
    "squeeze",
    "flatten",
    "concatenate",
    "stack",
    "split",
    "getitem",
    "take",
    "take_along_axis",
    "scatter_add",
    "pad",
    "tile",
    "repeat",
    "flip",
    "tril",
    "triu",
    "moveaxis",
    "matmul",
    "dot",
    "einsum",
    "qr",
    "outer",
]

# ----------------------------------------------------------------------------
# Conversion and metadata


def asarray(x: Any, dtype: str | None = None, *, backend: str | None = None):
    """``x`` as an array of ``backend`` (default: the backend of ``x``, else the default)."""
    return dispatch(x, backend=backend).asarray(x, dtype)


def backend_name(*xs) -> str:
    """The name of the backend owning the first framework array in ``xs``."""
    return dispatch(*xs).name


def convert_to_numpy(x):
    """A NumPy array with the values of ``x`` (NumPy inputs and Python values too)."""
    if isinstance(x, (np.ndarray, np.generic, int, float, bool, complex, list, tuple)):
        return np.asarray(x)
    return dispatch(x).to_numpy(x)


def shape(x) -> tuple[int, ...]:
    """The static shape of ``x`` as a tuple of ints (``()`` for a scalar)."""
    if hasattr(x, "shape"):
        return tuple(int(d) for d in x.shape)
    return np.shape(x)


def ndim(x) -> int:
    return len(shape(x))


def size(x) -> int:
    return math.prod(shape(x))


def dtype(x) -> str:
    """The dtype of ``x`` as a NumPy-style name, e.g. ``"float32"``; NumPy inputs
    keep their own dtype (``"float64"`` stays ``"float64"``)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name
    return dispatch(x).dtype_name(x)


def cast(x, dtype: str):
    """``x`` converted to ``dtype``; no-op when it already has it."""
    b = dispatch(x)
    if b.is_array(x) and b.dtype_name(x) == dtype:
        return x
    return b.cast(x, dtype)


def is_floating(dtype_name: str) -> bool:
    return dtype_name.startswith(("float", "bfloat"))


# ----------------------------------------------------------------------------
# Creation


def zeros(shape: Sequence[int], dtype: str = "float32", *, backend: str | None = None):
    return dispatch(backend=backend).zeros(tuple(shape), dtype)


def ones(shape: Sequence[int], dtype: str = "float32", *, backend: str | None = None):
    return dispatch(backend=backend).ones(tuple(shape), dtype)


def full(shape: Sequence[int], value, dtype: str = "float32", *, backend: str | None = None):
    return dispatch(value, backend=backend).full(tuple(shape), value, dtype)


def zeros_like(x, dtype: str | None = None):
    return dispatch(x).zeros(shape(x), dtype or dispatch(x).dtype_name(x))


def ones_like(x, dtype: str | None = None):
    return dispatch(x).ones(shape(x), dtype or dispatch(x).dtype_name(x))


def full_like(x, value, dtype: str | None = None):
    return dispatch(x).full(shape(x), value, dtype or dispatch(x).dtype_name(x))


def arange(start, stop=None, step=1, dtype: str | None = None, *, backend: str | None = None):
    if stop is None:
        start, stop = 0, start
    return dispatch(backend=backend).arange(start, stop, step, dtype)


def eye(n: int, m: int | None = None, dtype: str = "float32", *, backend: str | None = None):
    return dispatch(backend=backend).eye(n, m, dtype)


# ----------------------------------------------------------------------------
# Elementwise


def _unary(op: str):
    def fn(x):
        return dispatch(x).unary(op, x)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"Elementwise ``{op}``, as ``numpy.{op}``."
    return fn


def _binary(op: str):
    def fn(x, y):
        return dispatch(x, y).binary(op, x, y)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"Elementwise ``{op}`` with NumPy broadcasting, as ``numpy.{op}``."
    return fn


abs = _unary("abs")
negative = _unary("negative")
sign = _unary("sign")
exp = _unary("exp")
expm1 = _unary("expm1")
log = _unary("log")
log1p = _unary("log1p")
sqrt = _unary("sqrt")
rsqrt = _unary("rsqrt")
square = _unary("square")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
tanh = _unary("tanh")
sinh = _unary("sinh")
cosh = _unary("cosh")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
arctanh = _unary("arctanh")
erf = _unary("erf")
erfinv = _unary("erfinv")
floor = _unary("floor")
ceil = _unary("ceil")
round = _unary("round")
reciprocal = _unary("reciprocal")
logical_not = _unary("logical_not")
isnan = _unary("isnan")
isinf = _unary("isinf")
isfinite = _unary("isfinite")

add = _binary("add")
subtract = _binary("subtract")
multiply = _binary("multiply")
divide = _binary("divide")
floor_divide = _binary("floor_divide")
mod = _binary("mod")
power = _binary("power")
maximum = _binary("maximum")
minimum = _binary("minimum")
equal = _binary("equal")
not_equal = _binary("not_equal")
less = _binary("less")
less_equal = _binary("less_equal")
greater = _binary("greater")
greater_equal = _binary("greater_equal")
logical_and = _binary("logical_and")
logical_or = _binary("logical_or")
logical_xor = _binary("logical_xor")
arctan2 = _binary("arctan2")
logaddexp = _binary("logaddexp")
nextafter = _binary("nextafter")


def where(condition, x, y):
    """Elementwise select: ``x`` where ``condition`` holds, else ``y``."""
    return dispatch(condition, x, y).where(condition, x, y)


def stop_gradient(x):
    """``x``, with no gradient flowing back through it."""
    return dispatch(x).stop_gradient(x)


def clip(x, x_min, x_max):
    return dispatch(x).clip(x, x_min, x_max)


def divide_no_nan(x, y):
    """``x / y``, with 0 where ``y == 0``."""
    safe = where(equal(y, 0), ones_like(y), y)
    return where(equal(y, 0), zeros_like(divide(x, safe)), divide(x, safe))


# ----------------------------------------------------------------------------
# Reductions


def _reduction(op: str):
    def fn(x, axis=None, keepdims: bool = False):
        return dispatch(x).reduce(op, x, axis, keepdims)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"``{op}`` over ``axis`` (all axes if None), as ``numpy.{op}``."
    return fn


sum = _reduction("sum")
mean = _reduction("mean")
max = _reduction("max")
min = _reduction("min")
prod = _reduction("prod")
any = _reduction("any")
all = _reduction("all")
var = _reduction("var")
std = _reduction("std")
logsumexp = _reduction("logsumexp")


def argmax(x, axis: int = -1):
    return dispatch(x).argmax(x, axis)


def argmin(x, axis: int = -1):
    return dispatch(x).argmin(x, axis)


def cumsum(x, axis: int = 0):
    return dispatch(x).cumsum(x, axis)


def cumprod(x, axis: int = 0):
    return dispatch(x).cumprod(x, axis)


def sort(x, axis: int = -1):
    return dispatch(x).sort(x, axis)


def argsort(x, axis: int = -1):
    return dispatch(x).argsort(x, axis)


def top_k(x, k: int):
    """The ``k`` largest values along the last axis and their int32 indices."""
    return dispatch(x).top_k(x, k)


def norm(x, ord=2, axis=None, keepdims: bool = False):
    """Vector p-norm ``sum(|x|**ord) ** (1 / ord)`` over ``axis`` (all axes if None);
    ``ord`` is a number >= 1 or ``inf``. ``axis=None`` on a matrix is the Frobenius norm."""
    if isinstance(ord, str) or isinstance(ord, bool) or not ord >= 1:
        raise ValueError(f"norm: ord must be a number >= 1 or math.inf, got {ord!r}.")
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if ord == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == 2:
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    return power(sum(power(abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


# ----------------------------------------------------------------------------
# Shape and indexing


def reshape(x, new_shape: Sequence[int]):
    return dispatch(x).reshape(x, tuple(new_shape))


def transpose(x, axes: Sequence[int] | None = None):
    return dispatch(x).transpose(x, None if axes is None else tuple(axes))


def swapaxes(x, axis1: int, axis2: int):
    axes = list(range(ndim(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def broadcast_to(x, new_shape: Sequence[int]):
    return dispatch(x).broadcast_to(x, tuple(new_shape))


def expand_dims(x, axis: int):
    return dispatch(x).expand_dims(x, axis)


def squeeze(x, axis=None):
    return dispatch(x).squeeze(x, axis)


def flatten(x):
    return reshape(x, (-1,))


def concatenate(xs: Sequence, axis: int = 0):
    return dispatch(*xs).concatenate(list(xs), axis)


def stack(xs: Sequence, axis: int = 0):
    return dispatch(*xs).stack(list(xs), axis)


def split(x, indices_or_sections, axis: int = 0):
    return dispatch(x).split(x, indices_or_sections, axis)


def getitem(x, index):
    """``x[index]`` for basic and integer-array indexing."""
    return dispatch(x).getitem(x, index)


def take(x, indices, axis: int | None = None):
    return dispatch(x, indices).take(x, indices, axis)


def take_along_axis(x, indices, axis: int):
    return dispatch(x, indices).take_along_axis(x, indices, axis)


def scatter_add(x, indices, updates):
    """``x`` with ``updates`` added at ``indices`` (an index tuple or an int array
    into axis 0), duplicates accumulating; ``x`` itself is not changed."""
    b = dispatch(x, updates)
    if isinstance(indices, list):  # a list means one int array, not a tuple of index arrays
        indices = b.asarray(indices, "int32")
    return b.scatter_add(x, indices, updates)


def pad(x, pad_width, constant_values=0):
    """Pad with a constant; ``pad_width`` is ``((before, after), ...)`` per axis."""
    pad_width = tuple((int(a), int(b)) for a, b in pad_width)
    return dispatch(x).pad(x, pad_width, constant_values)


def tile(x, reps: Sequence[int]):
    return dispatch(x).tile(x, tuple(reps))


def repeat(x, repeats: int, axis: int | None = None):
    return dispatch(x).repeat(x, repeats, axis)


def flip(x, axis=None):
    return dispatch(x).flip(x, axis)


def tril(x, k: int = 0):
    return dispatch(x).tril(x, k)


def triu(x, k: int = 0):
    return dispatch(x).triu(x, k)


def moveaxis(x, source: int, destination: int):
    axes = list(range(ndim(x)))
    source %= len(axes)
    destination %= len(axes)
    axes.insert(destination, axes.pop(source))
    return transpose(x, axes)


# ----------------------------------------------------------------------------
# Linear algebra


def matmul(x, y):
    return dispatch(x, y).matmul(x, y)


def dot(x, y):
    """``x @ y`` for matrices; the sum over the last axis of ``x`` and the
    second-to-last of ``y`` in general, as ``numpy.matmul`` for ndim >= 2."""
    return matmul(x, y)


def einsum(subscripts: str, *operands):
    return dispatch(*operands).einsum(subscripts, *operands)


def qr(x):
    """Reduced QR decomposition ``(q, r)`` of a matrix."""
    return dispatch(x).qr(x)


def outer(x, y):
    return multiply(expand_dims(flatten(x), -1), expand_dims(flatten(y), 0))
