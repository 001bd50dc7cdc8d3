"""NumPy-style math: elementwise functions, reductions, sorting. Written once,
dispatched on the type of their array arguments; Python scalars are weak (they
take the array's dtype).

>>> from purekeras import ops
>>> x = ops.asarray([1.0, 2.0, 3.0], backend="jax")
>>> float(ops.sum(ops.square(x)))
14.0
"""
from __future__ import annotations

import math

from ._dispatch import dispatch

# ----------------------------------------------------------------------------
# Elementwise, generated from one table each: name -> (summary, example input, output).

_UNARY = {
    "abs": ("Absolute value", "[-1.5, 2.0]", "[1.5, 2.0]"),
    "negative": ("``-x``", "[1.5, -2.0]", "[-1.5, 2.0]"),
    "sign": ("-1, 0 or 1 by the sign of ``x``", "[-3.0, 0.0, 2.0]", "[-1.0, 0.0, 1.0]"),
    "exp": ("``e ** x``", "[0.0, 1.0]", "[1.0, 2.7182817459106445]"),
    "expm1": ("``exp(x) - 1``, accurate near 0", "[0.0]", "[0.0]"),
    "log": ("Natural logarithm", "[1.0]", "[0.0]"),
    "log1p": ("``log(1 + x)``, accurate near 0", "[0.0]", "[0.0]"),
    "sqrt": ("Square root; integer inputs give float32", "[4.0, 9.0]", "[2.0, 3.0]"),
    "rsqrt": ("``1 / sqrt(x)``; integer inputs give float32", "[4.0, 16.0]", "[0.5, 0.25]"),
    "square": ("``x * x``", "[-3.0, 0.5]", "[9.0, 0.25]"),
    "sin": ("Sine (radians)", "[0.0]", "[0.0]"),
    "cos": ("Cosine (radians)", "[0.0]", "[1.0]"),
    "tan": ("Tangent (radians)", "[0.0]", "[0.0]"),
    "tanh": ("Hyperbolic tangent", "[0.0, 100.0]", "[0.0, 1.0]"),
    "sinh": ("Hyperbolic sine", "[0.0]", "[0.0]"),
    "cosh": ("Hyperbolic cosine", "[0.0]", "[1.0]"),
    "arcsin": ("Inverse sine", "[0.0, 1.0]", "[0.0, 1.5707963705062866]"),
    "arccos": ("Inverse cosine", "[1.0]", "[0.0]"),
    "arctan": ("Inverse tangent", "[0.0]", "[0.0]"),
    "arctanh": ("Inverse hyperbolic tangent", "[0.0]", "[0.0]"),
    "erf": ("The error function", "[0.0]", "[0.0]"),
    "erfinv": ("The inverse error function, on ``(-1, 1)``", "[0.0]", "[0.0]"),
    "floor": ("Round down", "[-1.5, 1.5]", "[-2.0, 1.0]"),
    "ceil": ("Round up", "[-1.5, 1.5]", "[-1.0, 2.0]"),
    "round": ("Round to nearest, halves to even", "[0.5, 1.5, 2.5]", "[0.0, 2.0, 2.0]"),
    "reciprocal": ("``1 / x``", "[4.0, -0.5]", "[0.25, -2.0]"),
    "logical_not": ("Boolean not", "[True, False]", "[False, True]"),
    "isnan": ("Whether ``x`` is NaN", "[float('nan'), 1.0]", "[True, False]"),
    "isinf": ("Whether ``x`` is +-inf", "[float('inf'), 1.0]", "[True, False]"),
    "isfinite": ("Whether ``x`` is neither NaN nor +-inf", "[float('inf'), 1.0]", "[False, True]"),
}
_BINARY = {  # examples: ``op(x, y)`` with an array ``x`` and a Python scalar ``y``
    "add": ("``x + y``", "[1.0, 2.0], 0.5", "[1.5, 2.5]"),
    "subtract": ("``x - y``", "[1.0, 2.0], 0.5", "[0.5, 1.5]"),
    "multiply": ("``x * y``", "[1.0, 2.0], 0.5", "[0.5, 1.0]"),
    "divide": ("``x / y``; integer inputs give floats", "[1.0, 3.0], 2.0", "[0.5, 1.5]"),
    "floor_divide": ("``floor(x / y)``", "[-3.0, 7.0], 2.0", "[-2.0, 3.0]"),
    "mod": ("``x - floor(x / y) * y`` (the sign of ``y``, as Python's ``%``)", "[-3.0, 7.0], 2.0", "[1.0, 1.0]"),
    "power": ("``x ** y``", "[2.0, 3.0], 2.0", "[4.0, 9.0]"),
    "maximum": ("The larger of ``x`` and ``y``", "[1.0, -2.0], 0.0", "[1.0, 0.0]"),
    "minimum": ("The smaller of ``x`` and ``y``", "[1.0, -2.0], 0.0", "[0.0, -2.0]"),
    "equal": ("``x == y``", "[1.0, 2.0], 2.0", "[False, True]"),
    "not_equal": ("``x != y``", "[1.0, 2.0], 2.0", "[True, False]"),
    "less": ("``x < y``", "[1.0, 2.0], 2.0", "[True, False]"),
    "less_equal": ("``x <= y``", "[1.0, 2.0], 2.0", "[True, True]"),
    "greater": ("``x > y``", "[1.0, 3.0], 2.0", "[False, True]"),
    "greater_equal": ("``x >= y``", "[1.0, 2.0], 2.0", "[False, True]"),
    "logical_and": ("Boolean and", "[True, False], True", "[True, False]"),
    "logical_or": ("Boolean or", "[True, False], False", "[True, False]"),
    "logical_xor": ("Boolean exclusive or", "[True, False], True", "[False, True]"),
    "arctan2": ("The angle of the point ``(y=x, x=y)``, as ``numpy.arctan2``", "[0.0], 1.0", "[0.0]"),
    "logaddexp": ("``log(exp(x) + exp(y))``, computed stably", "[0.0], 0.0", "[0.6931471824645996]"),
    "nextafter": ("The next float after ``x`` towards ``y``", "[1.0], 2.0", "[1.0000001192092896]"),
}


def _unary(op: str):
    def fn(x):
        return dispatch(x).unary(op, x)

    summary, example, result = _UNARY[op]
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"""{summary}, elementwise, as ``numpy.{op}``.

    >>> from purekeras import ops
    >>> ops.{op}(ops.asarray({example}, backend="jax")).tolist()
    {result}
    """
    return fn


def _binary(op: str):
    def fn(x, y):
        return dispatch(x, y).binary(op, x, y)

    summary, example, result = _BINARY[op]
    x_example, y_example = example.rsplit(", ", 1)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"""{summary}, elementwise with NumPy broadcasting, as ``numpy.{op}``.

    >>> from purekeras import ops
    >>> ops.{op}(ops.asarray({x_example}, backend="jax"), {y_example}).tolist()
    {result}
    """
    return fn


abs, negative, sign, exp, expm1 = (_unary(n) for n in ("abs", "negative", "sign", "exp", "expm1"))
log, log1p, sqrt, rsqrt, square = (_unary(n) for n in ("log", "log1p", "sqrt", "rsqrt", "square"))
sin, cos, tan, tanh, sinh, cosh = (_unary(n) for n in ("sin", "cos", "tan", "tanh", "sinh", "cosh"))
arcsin, arccos, arctan, arctanh = (_unary(n) for n in ("arcsin", "arccos", "arctan", "arctanh"))
erf, erfinv, floor, ceil, round = (_unary(n) for n in ("erf", "erfinv", "floor", "ceil", "round"))
reciprocal, logical_not = _unary("reciprocal"), _unary("logical_not")
isnan, isinf, isfinite = _unary("isnan"), _unary("isinf"), _unary("isfinite")

add, subtract, multiply, divide = (_binary(n) for n in ("add", "subtract", "multiply", "divide"))
floor_divide, mod, power = _binary("floor_divide"), _binary("mod"), _binary("power")
maximum, minimum = _binary("maximum"), _binary("minimum")
equal, not_equal, less, less_equal = (_binary(n) for n in ("equal", "not_equal", "less", "less_equal"))
greater, greater_equal = _binary("greater"), _binary("greater_equal")
logical_and, logical_or, logical_xor = _binary("logical_and"), _binary("logical_or"), _binary("logical_xor")
arctan2, logaddexp, nextafter = _binary("arctan2"), _binary("logaddexp"), _binary("nextafter")


def where(condition, x, y):
    """Elementwise select: ``x`` where ``condition`` holds, else ``y`` (broadcast).

    >>> from purekeras import ops
    >>> ops.where(ops.asarray([True, False], backend="jax"), 1.0, -1.0).tolist()
    [1.0, -1.0]
    """
    return dispatch(condition, x, y).where(condition, x, y)


def stop_gradient(x):
    """``x``, with no gradient flowing back through it.

    >>> from purekeras import ops
    >>> ops.grad(lambda v: ops.multiply(ops.stop_gradient(v), v), backend="jax")(3.0).tolist()
    3.0
    """
    return dispatch(x).stop_gradient(x)


def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]``.

    >>> from purekeras import ops
    >>> ops.clip(ops.asarray([-2.0, 0.5, 3.0], backend="jax"), -1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    return dispatch(x).clip(x, x_min, x_max)


def divide_no_nan(x, y):
    """``x / y``, with 0 where ``y == 0`` (and a zero gradient there).

    >>> from purekeras import ops
    >>> ops.divide_no_nan(ops.asarray([1.0, 1.0], backend="jax"), ops.asarray([0.0, 4.0], backend="jax")).tolist()
    [0.0, 0.25]
    """
    zero = equal(y, 0)
    quotient = divide(x, where(zero, 1, y))
    return where(zero, 0, quotient)


# ----------------------------------------------------------------------------
# Reductions

_REDUCTIONS = {  # name -> (summary, example result over axis 0 of [[1, 2], [3, 4]])
    "sum": ("Sum", "[4.0, 6.0]"),
    "mean": ("Mean", "[2.0, 3.0]"),
    "max": ("Maximum", "[3.0, 4.0]"),
    "min": ("Minimum", "[1.0, 2.0]"),
    "prod": ("Product", "[3.0, 8.0]"),
    "var": ("Variance (biased: divided by n)", "[1.0, 1.0]"),
    "std": ("Standard deviation (biased: sqrt of ``var``)", "[1.0, 1.0]"),
    "logsumexp": ("``log(sum(exp(x)))``, computed stably", "[3.1269280910491943, 4.126927852630615]"),
    "any": ("Whether any element is true", "[True, True]"),
    "all": ("Whether all elements are true", "[True, False]"),
}


def _reduction(op: str):
    def fn(x, axis=None, keepdims: bool = False):
        return dispatch(x).reduce(op, x, axis, keepdims)

    summary, result = _REDUCTIONS[op]
    data = "[[True, False], [True, True]]" if op in ("any", "all") else "[[1.0, 2.0], [3.0, 4.0]]"
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"""{summary} over ``axis`` (an int, a tuple, or None for all axes), as ``numpy.{op}``.

    >>> from purekeras import ops
    >>> ops.{op}(ops.asarray({data}, backend="jax"), axis=0).tolist()
    {result}
    """
    return fn


sum, mean, max, min, prod = (_reduction(n) for n in ("sum", "mean", "max", "min", "prod"))
var, std, logsumexp, any, all = (_reduction(n) for n in ("var", "std", "logsumexp", "any", "all"))


def argmax(x, axis: int = -1):
    """Index (int32) of the largest value along ``axis``; the first one on ties.

    >>> from purekeras import ops
    >>> ops.argmax(ops.asarray([[1.0, 3.0, 3.0]], backend="jax")).tolist()
    [1]
    """
    return dispatch(x).argmax(x, axis)


def argmin(x, axis: int = -1):
    """Index (int32) of the smallest value along ``axis``; the first one on ties.

    >>> from purekeras import ops
    >>> ops.argmin(ops.asarray([[2.0, 1.0, 1.0]], backend="jax")).tolist()
    [1]
    """
    return dispatch(x).argmin(x, axis)


def cumsum(x, axis: int = 0):
    """Running sum along ``axis``.

    >>> from purekeras import ops
    >>> ops.cumsum(ops.asarray([1, 2, 3], backend="jax")).tolist()
    [1, 3, 6]
    """
    return dispatch(x).cumsum(x, axis)


def cumprod(x, axis: int = 0):
    """Running product along ``axis``.

    >>> from purekeras import ops
    >>> ops.cumprod(ops.asarray([1, 2, 3], backend="jax")).tolist()
    [1, 2, 6]
    """
    return dispatch(x).cumprod(x, axis)


def sort(x, axis: int = -1):
    """``x`` sorted ascending along ``axis``.

    >>> from purekeras import ops
    >>> ops.sort(ops.asarray([3, 1, 2], backend="jax")).tolist()
    [1, 2, 3]
    """
    return dispatch(x).sort(x, axis)


def argsort(x, axis: int = -1):
    """Indices (int32) that sort ``x`` along ``axis``; stable.

    >>> from purekeras import ops
    >>> ops.argsort(ops.asarray([3, 1, 2], backend="jax")).tolist()
    [1, 2, 0]
    """
    return dispatch(x).argsort(x, axis)


def top_k(x, k: int):
    """The ``k`` largest values along the last axis, descending, and their int32
    indices (the lower index first on ties).

    >>> from purekeras import ops
    >>> values, indices = ops.top_k(ops.asarray([1.0, 5.0, 3.0], backend="jax"), 2)
    >>> values.tolist(), indices.tolist()
    ([5.0, 3.0], [1, 2])
    """
    return dispatch(x).top_k(x, k)


def norm(x, ord=2, axis=None, keepdims: bool = False):
    """Vector p-norm ``sum(|x| ** ord) ** (1 / ord)`` over ``axis`` (all axes if
    None, so a matrix gives its Frobenius norm); ``ord`` is a number >= 1 or ``inf``.

    >>> from purekeras import ops
    >>> float(ops.norm(ops.asarray([3.0, -4.0], backend="jax")))
    5.0
    """
    if isinstance(ord, (str, bool)) or not ord >= 1:
        raise ValueError(f"norm: ord must be a number >= 1 or math.inf, got {ord!r}.")
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if ord == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == 2:
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    return power(sum(power(abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


__all__ = [
    *_UNARY, *_BINARY, *_REDUCTIONS, "where", "stop_gradient", "clip", "divide_no_nan",
    "argmax", "argmin", "cumsum", "cumprod", "sort", "argsort", "top_k", "norm",
]
