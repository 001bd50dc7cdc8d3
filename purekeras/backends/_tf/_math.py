"""Elementwise ops, reductions and sorting on TensorFlow, with JAX's dtype rules.

Binary ops promote with ``ops._dtypes`` (Python scalars weak); integer inputs to
float-valued functions give float32; sums and cumulative sums of small integers
give int32 (unsigned: uint32); float16 / bfloat16 means and variances are
accumulated in float32, as in JAX.

>>> import tensorflow as tf
>>> from purekeras.backends._tf import _math
>>> _math.binary("add", tf.ones(2, tf.float16), 1.5).dtype.name
'float16'
>>> _math.reduce("sum", tf.ones(3, tf.int8), None, False).dtype.name
'int32'
"""
from __future__ import annotations

import tensorflow as tf

from ._convert import is_inexact, promote, tensor, to_dtype

_LOW = (tf.float16, tf.bfloat16)


def _integer_identity(fn):
    """``fn`` on floats; integers are returned as they are (floor, ceil, round of an int)."""
    return lambda x: x if not is_inexact(x.dtype) else fn(x)


def _abs(x):
    return x if x.dtype.is_unsigned or x.dtype == tf.bool else tf.abs(x)


def _sign(x):
    if x.dtype == tf.bool:
        return x
    if x.dtype.is_unsigned:
        return tf.cast(tf.not_equal(x, 0), x.dtype)
    return tf.sign(x)


def _logical_not(x):
    return tf.logical_not(x if x.dtype == tf.bool else tf.not_equal(x, 0))


def _float_check(fn, integer_value: bool):
    """``isnan`` & co.: integers are never nan/inf (always finite)."""
    return lambda x: fn(x) if is_inexact(x.dtype) else tf.fill(tf.shape(x), integer_value)


_UNARY = {
    "abs": _abs, "negative": tf.negative, "sign": _sign, "exp": tf.exp, "expm1": tf.math.expm1,
    "log": tf.math.log, "log1p": tf.math.log1p, "sqrt": tf.sqrt, "rsqrt": tf.math.rsqrt,
    "square": tf.square, "sin": tf.sin, "cos": tf.cos, "tan": tf.tan, "tanh": tf.tanh,
    "sinh": tf.sinh, "cosh": tf.cosh, "arcsin": tf.asin, "arccos": tf.acos, "arctan": tf.atan,
    "arctanh": tf.atanh, "erf": tf.math.erf, "erfinv": tf.math.erfinv,
    "floor": _integer_identity(tf.floor), "ceil": _integer_identity(tf.math.ceil),
    "round": _integer_identity(tf.round), "reciprocal": tf.math.reciprocal,
    "logical_not": _logical_not, "isnan": _float_check(tf.math.is_nan, False),
    "isinf": _float_check(tf.math.is_inf, False), "isfinite": _float_check(tf.math.is_finite, True),
    "sigmoid": tf.sigmoid, "softplus": tf.nn.softplus, "relu": tf.nn.relu,
}
_INEXACT_UNARY = frozenset({
    "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sinh",
    "cosh", "arcsin", "arccos", "arctan", "arctanh", "erf", "erfinv", "sigmoid", "softplus",
    "reciprocal",
})


def unary(op: str, x):
    x = tensor(x)
    if op in _INEXACT_UNARY and not is_inexact(x.dtype):
        x = tf.cast(x, tf.float32)
    return _UNARY[op](x)


def _floor_divide(x, y):
    if not is_inexact(x.dtype):
        return tf.math.floordiv(x, y)
    # NumPy's (and JAX's) float floor division: from the exact remainder, not floor(x / y).
    mod = tf.truncatemod(x, y)
    div = (x - mod) / y
    zero = tf.zeros_like(mod)
    div = tf.where(tf.logical_and(tf.not_equal(mod, zero), tf.not_equal(tf.less(y, zero), tf.less(mod, zero))),
                   div - 1, div)
    floored = tf.floor(div)
    floored = tf.where(div - floored > 0.5, floored + 1, floored)
    signed_zero = tf.zeros_like(div) * tf.sign(x / y)  # NumPy: copysign(0, x / y) where div is 0
    return tf.where(tf.equal(div, zero), signed_zero, floored)


def _mod(x, y):
    if not is_inexact(x.dtype):
        return tf.math.floormod(x, y)
    mod = tf.truncatemod(x, y)
    zero = tf.zeros_like(mod)
    wrong_sign = tf.logical_and(tf.not_equal(mod, zero), tf.not_equal(tf.less(y, zero), tf.less(mod, zero)))
    return tf.where(wrong_sign, mod + y, mod)


def _logaddexp(x, y):
    larger = tf.maximum(x, y)
    delta = x - y
    return tf.where(tf.math.is_nan(delta), x + y, larger + tf.math.log1p(tf.exp(-tf.abs(delta))))


def _boolean(fn_bool, fn):
    return lambda x, y: fn_bool(x, y) if x.dtype == tf.bool else fn(x, y)


def _logical(fn):
    def run(x, y):
        x = x if x.dtype == tf.bool else tf.not_equal(x, 0)
        y = y if y.dtype == tf.bool else tf.not_equal(y, 0)
        return fn(x, y)

    return run


def nextafter(x, y):
    """The next float after ``x`` towards ``y`` (float16 / bfloat16 from their bits)."""
    if x.dtype in (tf.float32, tf.float64):
        return tf.math.nextafter(x, y)
    bits = tf.cast(tf.bitcast(x, tf.uint16), tf.int32)
    up = tf.greater(y, x)
    negative = tf.not_equal(tf.bitwise.bitwise_and(bits, 0x8000), 0)
    moved = tf.where(tf.not_equal(up, negative), bits + 1, bits - 1)  # +1: away from zero
    # From a zero: the smallest subnormal in the direction of y.
    from_zero = tf.where(up, tf.ones_like(bits), tf.fill(tf.shape(bits), 0x8001))
    moved = tf.where(tf.equal(tf.bitwise.bitwise_and(bits, 0x7FFF), 0), from_zero, moved)
    out = tf.bitcast(tf.cast(moved, tf.uint16), x.dtype)
    out = tf.where(tf.equal(x, y), y, out)
    return tf.where(tf.logical_or(tf.math.is_nan(x), tf.math.is_nan(y)), x + y, out)


_BINARY = {
    "add": _boolean(tf.logical_or, tf.add), "subtract": tf.subtract,
    "multiply": _boolean(tf.logical_and, tf.multiply), "divide": tf.divide,
    "floor_divide": _floor_divide, "mod": _mod, "power": tf.pow,
    "maximum": _boolean(tf.logical_or, tf.maximum), "minimum": _boolean(tf.logical_and, tf.minimum),
    "equal": tf.equal, "not_equal": tf.not_equal, "less": tf.less, "less_equal": tf.less_equal,
    "greater": tf.greater, "greater_equal": tf.greater_equal,
    "logical_and": _logical(tf.logical_and), "logical_or": _logical(tf.logical_or),
    "logical_xor": _logical(tf.math.logical_xor), "arctan2": tf.atan2, "logaddexp": _logaddexp,
    "nextafter": nextafter,
}
_INEXACT_BINARY = frozenset({"divide", "arctan2", "logaddexp", "nextafter"})


def binary(op: str, x, y):
    if isinstance(x, tf.Tensor) and isinstance(y, tf.Tensor) and x.dtype == y.dtype:
        dtype = x.dtype  # the common case: nothing to promote
    else:
        dtype = promote(x, y)
    if op in _INEXACT_BINARY and not is_inexact(dtype):
        dtype = tf.float32
    return _BINARY[op](to_dtype(x, dtype), to_dtype(y, dtype))


def where(cond, x, y):
    cond = tensor(cond)
    if cond.dtype != tf.bool:
        cond = tf.not_equal(cond, 0)
    dtype = promote(x, y)
    return tf.where(cond, to_dtype(x, dtype), to_dtype(y, dtype))


def clip(x, lo, hi):
    dtype = promote(x, *(v for v in (lo, hi) if v is not None))
    out = to_dtype(x, dtype)
    if lo is not None:
        out = tf.maximum(out, to_dtype(lo, dtype))
    if hi is not None:
        out = tf.minimum(out, to_dtype(hi, dtype))
    return out


# ----------------------------------------------------------------------------
# Reductions


def int_accumulator(dtype: tf.DType) -> tf.DType | None:
    """JAX's sum / prod / cumsum dtype for integer inputs (None: keep the input's)."""
    if dtype == tf.bool or dtype in (tf.int8, tf.int16, tf.int32):
        return tf.int32
    if dtype in (tf.uint8, tf.uint16, tf.uint32):
        return tf.uint32
    return None


def _accumulated(x):
    target = None if is_inexact(x.dtype) else int_accumulator(x.dtype)
    return x if target is None else tf.cast(x, target)


def _floated(x):
    return x if is_inexact(x.dtype) else tf.cast(x, tf.float32)


def _in_float32(fn):
    """``fn`` over float16 / bfloat16 computed in float32 and cast back (as JAX does)."""

    def run(x, axis, keepdims):
        x = _floated(x)
        if x.dtype in _LOW:
            return tf.cast(fn(tf.cast(x, tf.float32), axis=axis, keepdims=keepdims), x.dtype)
        return fn(x, axis=axis, keepdims=keepdims)

    return run


def _extreme(fn, logical):
    def run(x, axis, keepdims):
        if x.dtype == tf.bool:
            return logical(x, axis=axis, keepdims=keepdims)
        return fn(x, axis=axis, keepdims=keepdims)

    return run


def _truth(fn):
    return lambda x, axis, keepdims: fn(x if x.dtype == tf.bool else tf.not_equal(x, 0), axis=axis,
                                         keepdims=keepdims)


_REDUCERS = {
    "sum": lambda x, axis, keepdims: tf.reduce_sum(_accumulated(x), axis=axis, keepdims=keepdims),
    "mean": _in_float32(tf.reduce_mean),
    "max": _extreme(tf.reduce_max, tf.reduce_any),
    "min": _extreme(tf.reduce_min, tf.reduce_all),
    "prod": lambda x, axis, keepdims: tf.reduce_prod(_accumulated(x), axis=axis, keepdims=keepdims),
    "any": _truth(tf.reduce_any),
    "all": _truth(tf.reduce_all),
    "var": _in_float32(tf.math.reduce_variance),
    "std": _in_float32(tf.math.reduce_std),
    "logsumexp": lambda x, axis, keepdims: tf.reduce_logsumexp(_floated(x), axis=axis, keepdims=keepdims),
}


def _identity_reduce(op, x):
    """A reduction over no axes (``axis=()``): NumPy returns each element's own value."""
    if op in ("any", "all"):
        return x if x.dtype == tf.bool else tf.not_equal(x, 0)
    if op in ("var", "std"):
        return tf.zeros_like(_floated(x))
    if op in ("mean", "logsumexp"):
        return _floated(x)
    if op in ("sum", "prod"):
        return _accumulated(x)
    return x


def reduce(op: str, x, axis, keepdims: bool):
    x = tensor(x)
    if isinstance(axis, (tuple, list)):
        axis = [int(a) for a in axis]
        if not axis:
            return _identity_reduce(op, x)
    elif axis is not None:
        axis = int(axis)
    return _REDUCERS[op](x, axis, keepdims)


def _sortable(x):
    """Bool and unsigned values as signed ints of the same order (TF sorts neither)."""
    if x.dtype == tf.bool or x.dtype in (tf.uint8, tf.uint16):
        return tf.cast(x, tf.int32)
    if x.dtype in (tf.uint32, tf.uint64):
        return tf.cast(x, tf.int64)
    return x


def argmax(x, axis):
    return tf.argmax(_sortable(tensor(x)), axis=axis, output_type=tf.int32)


def argmin(x, axis):
    return tf.argmin(_sortable(tensor(x)), axis=axis, output_type=tf.int32)


def _cumulative(fn):
    def run(x, axis):
        x = tensor(x)
        if axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        return fn(_accumulated(x), axis=axis)

    return run


cumsum, cumprod = _cumulative(tf.cumsum), _cumulative(tf.math.cumprod)


def sort(x, axis):
    x = tensor(x)
    return tf.cast(tf.sort(_sortable(x), axis=axis), x.dtype)


def argsort(x, axis):
    return tf.argsort(_sortable(tensor(x)), axis=axis, stable=True)


def top_k(x, k):
    x = tensor(x)
    # TensorFlow's top_k keeps the lower index first on ties, as lax.top_k.
    values, indices = tf.math.top_k(_sortable(x), k=k, sorted=True)
    return tf.cast(values, x.dtype), tf.cast(indices, tf.int32)


def matmul(x, y):
    dtype = promote(x, y)
    x, y = to_dtype(x, dtype), to_dtype(y, dtype)
    if x.shape.rank == 1 and y.shape.rank == 1:
        return tf.reduce_sum(x * y)
    if x.shape.rank == 1:
        return tf.squeeze(tf.matmul(x[None, :], y), -2)
    if y.shape.rank == 1:
        return tf.squeeze(tf.matmul(x, y[:, None]), -1)
    return tf.matmul(x, y)


def einsum(subscripts: str, *operands):
    dtype = promote(*operands)
    return tf.einsum(subscripts, *(to_dtype(o, dtype) for o in operands))


def qr(x):
    x = tensor(x)
    if x.dtype in _LOW or not is_inexact(x.dtype):  # no low-precision or integer kernels
        q, r = tf.linalg.qr(tf.cast(x, tf.float32), full_matrices=False)
        out = x.dtype if is_inexact(x.dtype) else tf.float32
        return tf.cast(q, out), tf.cast(r, out)
    q, r = tf.linalg.qr(x, full_matrices=False)
    return q, r
