"""Elementwise ops, reductions and sorting on PyTorch, with JAX's dtype rules.

Binary ops promote with ``ops._dtypes`` (Python scalars weak); integer inputs to
float-valued functions give float32; sums and cumulative sums of small integers
give int32 (unsigned: uint32), as in JAX. uint16/uint32, which PyTorch's CPU
kernels mostly lack, are computed in int64 and wrapped back.

>>> import torch
>>> from purekeras.backends._torch import _math
>>> _math.binary("add", torch.ones(2, dtype=torch.float16), 1.5).dtype
torch.float16
>>> _math.reduce("sum", torch.ones(3, dtype=torch.int8), None, False).dtype
torch.int32
"""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

from ._convert import WIDE_UNSIGNED, asarray, is_inexact, promote, to_dtype

_MASKS = {torch.uint16: 0xFFFF, torch.uint32: 0xFFFFFFFF, torch.uint64: -1}

# name -> function; "inexact" ops turn integer / bool inputs into float32 first.
_UNARY = {
    "abs": torch.abs, "negative": torch.neg, "sign": torch.sign, "exp": torch.exp,
    "expm1": torch.expm1, "log": torch.log, "log1p": torch.log1p, "sqrt": torch.sqrt,
    "rsqrt": torch.rsqrt, "square": torch.square, "sin": torch.sin, "cos": torch.cos,
    "tan": torch.tan, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh,
    "arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan, "arctanh": torch.atanh,
    "erf": torch.erf, "erfinv": torch.erfinv, "floor": torch.floor, "ceil": torch.ceil,
    "round": torch.round, "reciprocal": torch.reciprocal, "logical_not": torch.logical_not,
    "isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite,
    "sigmoid": torch.sigmoid, "softplus": F.softplus, "relu": torch.relu,
}
_INEXACT_UNARY = frozenset({
    "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sinh",
    "cosh", "arcsin", "arccos", "arctan", "arctanh", "erf", "erfinv", "sigmoid", "softplus",
    "reciprocal",
})
# Binary ops with a Python operator accept a Python scalar on either side (weakly typed).
# (Tensor's own C-level operators; ``**``, ``//`` and ``%`` go through Python
# wrappers in torch, so their torch functions are used instead.)
_OPERATORS = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "floor_divide": torch.floor_divide, "mod": torch.remainder,
    "power": torch.pow, "equal": operator.eq, "not_equal": operator.ne,
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge,
}
# A Python scalar on the left: torch's reflected operators (``1 - t``, ``2 / t``) are
# Python wrappers, and ``number / t`` is ``t.reciprocal() * number`` (two roundings:
# 1 ulp off NumPy and JAX for a third of inputs). These are C calls with one rounding.
_SCALAR_FIRST = {
    "subtract": lambda x, y: torch.rsub(y, x),
    "divide": lambda x, y: torch.div(torch.full((), x, dtype=y.dtype), y),
}
_TENSOR_BINARY = {
    "maximum": torch.maximum, "minimum": torch.minimum, "logical_and": torch.logical_and,
    "logical_or": torch.logical_or, "logical_xor": torch.logical_xor, "arctan2": torch.atan2,
    "logaddexp": torch.logaddexp, "nextafter": torch.nextafter,
}
_INEXACT_BINARY = frozenset({"divide", "arctan2", "logaddexp", "nextafter"})
_BOOL_RESULT = frozenset({
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor",
})
_NUMBERS = (int, float)


def _wrap_unsigned(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """An int64 result of unsigned arithmetic, wrapped modulo 2**bits into ``dtype``."""
    if out.dtype != torch.int64:
        return out
    return torch.bitwise_and(out, _MASKS[dtype]).to(dtype)


def unary(op: str, x):
    x = x if isinstance(x, torch.Tensor) else asarray(x)
    if op in _INEXACT_UNARY and not is_inexact(x.dtype):
        x = x.to(torch.float32)
    elif x.dtype in WIDE_UNSIGNED and op not in ("logical_not", "isnan", "isinf", "isfinite"):
        return _wrap_unsigned(_UNARY[op](x.to(torch.int64)), x.dtype)
    return _UNARY[op](x)


def binary(op: str, x, y):
    if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.dtype == y.dtype \
            and x.dtype not in WIDE_UNSIGNED and (op not in _INEXACT_BINARY or is_inexact(x.dtype)):
        fn = _OPERATORS.get(op) or _TENSOR_BINARY[op]
        return fn(x, y)  # the common case: no promotion
    dtype = promote(x, y)
    if op in _INEXACT_BINARY and not is_inexact(dtype):
        dtype = torch.float32
    compute = torch.int64 if dtype in WIDE_UNSIGNED else dtype
    fn = _OPERATORS.get(op)
    if fn is None:  # torch.maximum & co. take tensors only
        out = _TENSOR_BINARY[op](to_dtype(x, compute), to_dtype(y, compute))
    else:
        # A Python number stays a number: torch treats it weakly, as the table does.
        b = y if type(y) in _NUMBERS else to_dtype(y, compute)
        if type(x) in _NUMBERS and isinstance(b, torch.Tensor):
            out = _SCALAR_FIRST.get(op, fn)(x, b)
        else:
            out = fn(to_dtype(x, compute), b)
    if compute is not dtype:
        return _wrap_unsigned(out, dtype)
    if op not in _BOOL_RESULT and out.dtype != dtype:
        out = out.to(dtype)  # e.g. bool + int: torch says int64, the table int32
    return out


def where(cond, x, y):
    cond = cond if isinstance(cond, torch.Tensor) else asarray(cond)
    if cond.dtype != torch.bool:
        cond = cond != 0
    dtype = promote(x, y)
    if dtype in WIDE_UNSIGNED:
        out = torch.where(cond, to_dtype(x, torch.int64), to_dtype(y, torch.int64))
        return out.to(dtype)
    # A Python number beside a tensor of the result's dtype goes in as a scalar (no
    # tensor made for it); torch keeps the tensor's dtype, as the table says.
    if type(y) in _NUMBERS and isinstance(x, torch.Tensor) and x.dtype == dtype:
        return torch.where(cond, x, y)
    if type(x) in _NUMBERS and isinstance(y, torch.Tensor) and y.dtype == dtype:
        return torch.where(cond, x, y)
    return torch.where(cond, to_dtype(x, dtype), to_dtype(y, dtype))


def clip(x, lo, hi):
    bounds = [v for v in (lo, hi) if v is not None]
    dtype = promote(x, *bounds)
    x = to_dtype(x, dtype)
    if any(isinstance(v, torch.Tensor) for v in bounds):
        lo = None if lo is None else to_dtype(lo, dtype)
        hi = None if hi is None else to_dtype(hi, dtype)
    else:
        lo = None if lo is None else (float(lo) if is_inexact(dtype) else int(lo))
        hi = None if hi is None else (float(hi) if is_inexact(dtype) else int(hi))
    if dtype in WIDE_UNSIGNED:
        return torch.clamp(x.to(torch.int64), lo, hi).to(dtype)
    return torch.clamp(x, lo, hi)


# ----------------------------------------------------------------------------
# Reductions


def _int_accumulator(dtype: torch.dtype) -> torch.dtype | None:
    """JAX's sum / prod / cumsum dtype for integer inputs (None: keep the input's)."""
    if dtype == torch.bool or dtype in (torch.int8, torch.int16, torch.int32):
        return torch.int32
    if dtype in (torch.uint8, torch.uint16, torch.uint32):
        return torch.uint32
    return None


def _all_dims(x, dims):
    return tuple(range(x.ndim)) if dims is None else dims


def _sum(x, dims, keepdims):
    target = None if is_inexact(x.dtype) else _int_accumulator(x.dtype)
    if target == torch.uint32:
        out = torch.sum(x.to(torch.int64), dim=_all_dims(x, dims), keepdim=keepdims)
        return _wrap_unsigned(out, target)
    return torch.sum(x, dim=_all_dims(x, dims), keepdim=keepdims, dtype=target)


def _prod(x, dims, keepdims):
    target = None if is_inexact(x.dtype) else _int_accumulator(x.dtype)
    wide = target == torch.uint32
    out = x.to(torch.int64 if wide else (target or x.dtype))
    # torch.prod takes one dim at a time (and would widen int32 to int64 unasked).
    dims = sorted({d % max(x.ndim, 1) for d in _all_dims(x, dims)}, reverse=True) if x.ndim else []
    for d in dims:
        out = torch.prod(out, dim=d, keepdim=True, dtype=out.dtype)
    if not keepdims and dims:
        out = out.reshape([s for i, s in enumerate(out.shape) if i not in dims])
    return _wrap_unsigned(out, target) if wide else out


def _floated(x):
    return x if is_inexact(x.dtype) else x.to(torch.float32)


def _extreme(fn, logical):
    def reduce(x, dims, keepdims):
        if x.dtype == torch.bool:
            return logical(x, dims, keepdims)
        if x.dtype in WIDE_UNSIGNED:
            return fn(x.to(torch.int64), dim=_all_dims(x, dims), keepdim=keepdims).to(x.dtype)
        return fn(x, dim=_all_dims(x, dims), keepdim=keepdims)

    return reduce


def _logical(fn):
    def reduce(x, dims, keepdims):
        if dims is None:
            out = fn(x)
            return out.reshape((1,) * x.ndim) if keepdims else out
        return fn(x, dim=dims, keepdim=keepdims)

    return reduce


_any, _all = _logical(torch.any), _logical(torch.all)
_REDUCERS = {
    "sum": _sum,
    "mean": lambda x, d, k: torch.mean(_floated(x), dim=_all_dims(x, d), keepdim=k),
    "max": _extreme(torch.amax, _any),
    "min": _extreme(torch.amin, _all),
    "prod": _prod,
    "any": _any,
    "all": _all,
    "var": lambda x, d, k: torch.var(_floated(x), dim=d, correction=0, keepdim=k),
    "std": lambda x, d, k: torch.std(_floated(x), dim=d, correction=0, keepdim=k),
    "logsumexp": lambda x, d, k: torch.logsumexp(_floated(x), dim=_all_dims(x, d), keepdim=k),
}


def _identity_reduce(op, x):
    """A reduction over no axes (``axis=()``): NumPy returns each element's own value."""
    if op in ("any", "all"):
        return x.to(torch.bool)
    if op in ("var", "std"):
        return torch.zeros_like(_floated(x))
    if op in ("mean", "logsumexp"):
        return _floated(x)
    if op in ("sum", "prod") and not is_inexact(x.dtype):
        target = _int_accumulator(x.dtype)
        return x if target is None else x.to(target)
    return x


def reduce(op: str, x, axis, keepdims: bool):
    x = x if isinstance(x, torch.Tensor) else asarray(x)
    if axis is None:
        dims = None
    elif isinstance(axis, (tuple, list)):
        dims = tuple(int(a) for a in axis)
    else:
        dims = (int(axis),)
    if dims == ():
        return _identity_reduce(op, x)
    return _REDUCERS[op](x, dims, keepdims)


def _sortable(x):
    return x.to(torch.uint8) if x.dtype == torch.bool else x


def argmax(x, axis):
    x = _sortable(x)
    x = x.to(torch.int64) if x.dtype in WIDE_UNSIGNED else x
    return torch.argmax(x, dim=axis).to(torch.int32)


def argmin(x, axis):
    x = _sortable(x)
    x = x.to(torch.int64) if x.dtype in WIDE_UNSIGNED else x
    return torch.argmin(x, dim=axis).to(torch.int32)


def _cumulative(fn):
    def run(x, axis):
        if axis is None:
            x, axis = x.reshape(-1), 0
        target = None if is_inexact(x.dtype) else _int_accumulator(x.dtype)
        if target == torch.uint32:
            return _wrap_unsigned(fn(x.to(torch.int64), dim=axis), target)
        return fn(x, dim=axis, dtype=target)

    return run


cumsum, cumprod = _cumulative(torch.cumsum), _cumulative(torch.cumprod)


def sort(x, axis):
    values = torch.sort(_sortable(x), dim=axis, stable=True).values
    return values.to(torch.bool) if x.dtype == torch.bool else values


def argsort(x, axis):
    return torch.argsort(_sortable(x), dim=axis, stable=True).to(torch.int32)


def top_k(x, k):
    # A stable descending sort keeps the lower index first on ties, as lax.top_k.
    values, indices = torch.sort(_sortable(x), dim=-1, descending=True, stable=True)
    values = values[..., :k]
    return (values.to(torch.bool) if x.dtype == torch.bool else values), indices[..., :k].to(torch.int32)


def matmul(x, y):
    dtype = promote(x, y)
    if dtype in WIDE_UNSIGNED:
        return _wrap_unsigned(torch.matmul(to_dtype(x, torch.int64), to_dtype(y, torch.int64)), dtype)
    x, y = to_dtype(x, dtype), to_dtype(y, dtype)
    if _narrow_product(x, y):
        return _transposed_product(x, y)
    return torch.matmul(x, y)


def _narrow_product(x, y) -> bool:
    """Whether ``x @ y`` is a product that PyTorch's CPU GEMM (MKL) computes 2-5x
    slower than its transpose: 2-15 output columns (a classifier head's 10 units),
    at least 64 rows, 32 summed terms and 16k entries in ``x``, below which the two
    copies cost more than they save (``benchmarks/bench_matmul.py``)."""
    if y.ndim != 2 or x.ndim < 2 or not x.is_cpu or x.dtype not in (torch.float32, torch.float64):
        return False
    inner = x.shape[-1]
    rows = x.numel() // inner if inner else 0
    return 2 <= y.shape[1] < 16 and rows >= 64 and inner >= 32 and rows * inner >= 16384


def _transposed_product(x, y):
    """``x @ y`` as ``(y.T @ x.T).T``: the same sums, in GEMM's fast layout. ``y.T`` is
    copied (it is small): autograd computes a gradient in its input's layout, so
    ``y``'s gradient is then a fast product too. The result is made contiguous, as
    ``torch.matmul``'s is (``.view`` works on it)."""
    flat = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    product = torch.mm(y.t().contiguous(), flat.t()).t().contiguous()
    return product if x.ndim == 2 else product.view(*x.shape[:-1], y.shape[1])


def einsum(subscripts: str, *operands):
    dtype = promote(*operands)
    return torch.einsum(subscripts, *(to_dtype(o, dtype) for o in operands))


def qr(x):
    x = x if isinstance(x, torch.Tensor) else asarray(x)
    if x.dtype in (torch.float16, torch.bfloat16):  # no low-precision LAPACK kernels
        q, r = torch.linalg.qr(x.to(torch.float32), mode="reduced")
        return q.to(x.dtype), r.to(x.dtype)
    return tuple(torch.linalg.qr(_floated(x), mode="reduced"))
