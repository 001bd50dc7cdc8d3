"""Elementwise ops on OpenVINO graph nodes, with JAX's dtype rules.

Binary ops promote with ``ops._dtypes`` (Python scalars weak); integer inputs
to float-valued functions give float32. Ops without an OpenVINO node are
composed: ``expm1`` / ``log1p`` with Kahan's correction (accurate near 0),
``arctan2`` and ``logaddexp`` from ``atan`` / ``log1p``, ``erfinv`` from
``ops._portable`` (only ``+ - * /`` and selects).

>>> from purekeras.backends._openvino import _math, _tensor
>>> x = _tensor.asarray([1e-8, 1.0])
>>> [round(v, 10) for v in _math.unary("log1p", x).tolist()]
[1e-08, 0.6931471825]
>>> _math.binary("floor_divide", _tensor.asarray([-7, 7]), 2).tolist()
[-4, 3]
"""
from __future__ import annotations

import math

import numpy as np
import openvino.opset15 as opset

from .._registry import BackendError
from ._promote import is_float, operand, operands, promote
from ._tensor import OVTensor, asarray, cast, node, scalar


def _f(x: OVTensor) -> OVTensor:
    """``x``, with integer / bool dtypes turned into float32 (as ``jnp.sqrt``)."""
    return x if is_float(x.dtype) else cast(x, "float32")


def _one(dtype, value=1):
    return scalar(value, dtype).output


def _expm1(x):
    u = node(opset.exp(x.output))
    um1 = node(opset.subtract(u.output, _one(x.dtype)))
    corrected = node(opset.divide(opset.multiply(um1.output, x.output), opset.log(u.output)))
    out = where(binary("equal", u, 1.0), x, corrected)
    return where(binary("equal", um1, -1.0), um1, out)


def _log1p(x):
    u = node(opset.add(x.output, _one(x.dtype)))
    um1 = node(opset.subtract(u.output, _one(x.dtype)))
    corrected = node(opset.divide(opset.multiply(opset.log(u.output), x.output), um1.output))
    return where(binary("equal", u, 1.0), x, where(binary("equal", u, math.inf), u, corrected))


def _erfinv(x):
    from ...ops import _portable

    return cast(_portable.erfinv(cast(x, "float32")), x.dtype)


# name -> builder of an ov node from an ov output (float ops get float inputs).
_FLOAT_UNARY = {
    "exp": opset.exp, "log": opset.log, "sqrt": opset.sqrt, "sin": opset.sin, "cos": opset.cos,
    "tan": opset.tan, "tanh": opset.tanh, "sinh": opset.sinh, "cosh": opset.cosh,
    "arcsin": opset.asin, "arccos": opset.acos, "arctan": opset.atan, "arctanh": opset.atanh,
    "erf": opset.erf, "sigmoid": opset.sigmoid, "softplus": opset.softplus,
    "rsqrt": lambda o: opset.divide(_one(_dtype_of(o)), opset.sqrt(o)),
    "reciprocal": lambda o: opset.divide(_one(_dtype_of(o)), o),
}
_COMPOSED_FLOAT = {"expm1": _expm1, "log1p": _log1p, "erfinv": _erfinv}
_NUMERIC_UNARY = {
    "abs": opset.abs, "negative": opset.negative, "sign": opset.sign,
    "square": lambda o: opset.multiply(o, o),
    # a Relu node (not Maximum with 0) for floats: the CPU plugin fuses it into the convolution
    "relu": lambda o: opset.relu(o) if is_float(_dtype_of(o)) else opset.maximum(o, _one(_dtype_of(o), 0)),
}
_ROUNDING = {"floor": opset.floor, "ceil": opset.ceiling, "round": lambda o: opset.round(o, "half_to_even")}


def _dtype_of(output) -> str:
    from ._tensor import dtype_name

    return dtype_name(output.get_element_type())


_ELEMENTWISE = frozenset({*_FLOAT_UNARY, *_COMPOSED_FLOAT, *_NUMERIC_UNARY, *_ROUNDING, "logical_not",
                          "isnan", "isinf", "isfinite"})


def _sunk(x: OVTensor):
    """``(base, perm)`` if ``x`` is a traced transpose (elementwise ops commute with it)."""
    from ._shape import transposed_source

    return None if x.is_constant else transposed_source(x)


def unary(op: str, x) -> OVTensor:
    """``op`` on ``x``; on ``transpose(base)`` it runs on ``base`` first (the same values),
    which lets the transposes around convolutions meet and cancel."""
    x = x if isinstance(x, OVTensor) else asarray(x)
    inner = _sunk(x) if op in _ELEMENTWISE else None
    if inner is not None:
        from ._shape import transpose

        return transpose(unary(op, inner[0]), inner[1])
    if op in _FLOAT_UNARY:
        return node(_FLOAT_UNARY[op](_f(x).output))
    if op in _COMPOSED_FLOAT:
        return _COMPOSED_FLOAT[op](_f(x))
    if op in _NUMERIC_UNARY:
        if x.dtype == "bool" and op in ("abs", "square", "relu", "sign"):
            return x
        if op == "abs" and x.dtype.startswith("uint"):
            return x
        return node(_NUMERIC_UNARY[op](x.output))
    if op in _ROUNDING:
        return node(_ROUNDING[op](x.output)) if is_float(x.dtype) else x
    if op == "logical_not":
        return node(opset.logical_not(cast(x, "bool").output))
    if op in ("isnan", "isinf", "isfinite"):
        if not is_float(x.dtype):
            return asarray(np.full(x.shape, op == "isfinite"))
        fn = {"isnan": opset.is_nan, "isinf": opset.is_inf, "isfinite": opset.is_finite}[op]
        return node(fn(x.output))
    raise BackendError(f"openvino backend: unknown unary op {op!r}.")


_ARITHMETIC = {
    "add": opset.add, "subtract": opset.subtract, "multiply": opset.multiply, "power": opset.power,
    "maximum": opset.maximum, "minimum": opset.minimum, "mod": opset.floor_mod,
}
_COMPARISON = {
    "equal": opset.equal, "not_equal": opset.not_equal, "less": opset.less,
    "less_equal": opset.less_equal, "greater": opset.greater, "greater_equal": opset.greater_equal,
}
_LOGICAL = {"logical_and": opset.logical_and, "logical_or": opset.logical_or, "logical_xor": opset.logical_xor}


def _constant_like(value) -> bool:
    return not isinstance(value, OVTensor) or value.is_constant


def _sink_binary(op, x, y):
    """``op(x, y)`` computed before a transpose of ``x`` (or ``y``) when the other operand
    is a constant, or a transpose by the same permutation; None if neither applies."""
    from ._shape import to_layout_of, transpose

    for first, second, swap in ((x, y, False), (y, x, True)):
        inner = _sunk(first) if isinstance(first, OVTensor) else None
        if inner is None:
            continue
        base, perm = inner
        if _constant_like(second):
            other = second if type(second) in (int, float, bool) else to_layout_of(asarray(second), perm)
            if isinstance(other, OVTensor) and other.ndim > len(perm):
                return None
        else:
            other_inner = _sunk(second)
            if other_inner is None or other_inner[1] != perm:
                return None
            other = other_inner[0]
        a, b = (other, base) if swap else (base, other)
        return transpose(binary(op, a, b), perm)
    return None


def binary(op: str, x, y) -> OVTensor:
    sunk = _sink_binary(op, x, y)
    if sunk is not None:
        return sunk
    dtype = promote(x, y)
    if op in _LOGICAL:
        a, b = operands(x, y, dtype="bool")
        return node(_LOGICAL[op](a.output, b.output))
    if op in ("divide", "arctan2", "logaddexp", "nextafter") and not is_float(dtype):
        dtype = "float32"
    if dtype == "bool" and op in ("add", "maximum"):
        op = "logical_or"
        return binary(op, x, y)
    if dtype == "bool" and op in ("multiply", "minimum"):
        return binary("logical_and", x, y)
    a, b = operands(x, y, dtype=dtype)
    if op in _ARITHMETIC:
        return node(_ARITHMETIC[op](a.output, b.output))
    if op in _COMPARISON:
        return node(_COMPARISON[op](a.output, b.output))
    if op == "divide":
        return node(opset.divide(a.output, b.output))
    if op == "floor_divide":
        quotient = node(opset.divide(a.output, b.output))
        return node(opset.floor(quotient.output)) if is_float(dtype) else _floored(a, b, quotient)
    if op == "arctan2":
        return _arctan2(a, b)
    if op == "logaddexp":
        return _logaddexp(a, b)
    if op == "nextafter":
        return _nextafter(a, b)
    raise BackendError(f"openvino backend: unknown binary op {op!r}.")


def _floored(a, b, quotient):
    """An integer quotient rounded toward minus infinity, whichever way ``quotient`` was
    rounded (the reference kernels floor, the CPU plugin truncates)."""
    remainder = binary("subtract", a, binary("multiply", quotient, b))
    if a.dtype.startswith("uint"):
        return quotient
    off = binary("logical_and", binary("not_equal", remainder, 0),
                 binary("not_equal", binary("less", remainder, 0), binary("less", b, 0)))
    return binary("subtract", quotient, cast(off, a.dtype))


def _arctan2(y, x):
    base = node(opset.atan(opset.divide(y.output, x.output)))
    pi = math.pi
    upper = binary("greater_equal", y, 0.0)
    left = where(upper, binary("add", base, pi), binary("subtract", base, pi))
    on_axis = where(binary("greater", y, 0.0), scalar(pi / 2, y.dtype),
                    where(binary("less", y, 0.0), scalar(-pi / 2, y.dtype), scalar(0.0, y.dtype)))
    return where(binary("greater", x, 0.0), base, where(binary("less", x, 0.0), left, on_axis))


def _logaddexp(a, b):
    larger = binary("maximum", a, b)
    gap = unary("negative", unary("abs", binary("subtract", a, b)))
    out = binary("add", larger, unary("log1p", unary("exp", gap)))
    return where(binary("equal", a, b), binary("add", a, math.log(2.0)), out)


def _nextafter(a, b):
    if a.is_constant and b.is_constant:  # no OpenVINO node: computed on the host
        return asarray(np.nextafter(a.numpy(), b.numpy()))
    raise BackendError(
        "openvino backend: nextafter has no OpenVINO graph op; it runs on constants only "
        "(the random samplers use it while initialising weights).")


def where(cond, x, y) -> OVTensor:
    a, b = operands(x, y)
    c = operand(cond, "bool") if not isinstance(cond, OVTensor) else cast(cond, "bool")
    return node(opset.select(c.output, a.output, b.output))


def softmax(x, axis) -> OVTensor:
    x = asarray(x)
    return node(opset.softmax(x.output, int(axis) % x.ndim))


def log_softmax(x, axis) -> OVTensor:
    x = asarray(x)
    return node(opset.log_softmax(x.output, int(axis) % x.ndim))


def clip(x, lo, hi) -> OVTensor:
    bounds = [v for v in (lo, hi) if v is not None]
    dtype = promote(x, *bounds)
    out = operand(x, dtype)
    if lo is not None:
        out = node(opset.maximum(out.output, operand(lo, dtype).output))
    if hi is not None:
        out = node(opset.minimum(out.output, operand(hi, dtype).output))
    return out
