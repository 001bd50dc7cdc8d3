"""Reductions, sorting, cumulative ops and products on OpenVINO graph nodes.

Sums and products of small integers accumulate in int32 (unsigned: uint32), as
in JAX; means, variances and ``logsumexp`` of integers are float32. Sorting
uses a stable ``TopK`` (ties keep the lower index first, as ``lax.top_k``).

>>> from purekeras.backends._openvino import _reduce, _tensor
>>> x = _tensor.asarray([[1.0, 5.0, 3.0], [4.0, 4.0, 0.0]])
>>> _reduce.reduce("sum", x, 1, False).tolist(), _reduce.argmax(x, 1).tolist()
([9.0, 8.0], [1, 0])
>>> _reduce.cumprod(_tensor.asarray([1, 2, 3, 4]), 0).tolist()
[1, 2, 6, 24]
"""
from __future__ import annotations

import numpy as np
import openvino.opset15 as opset

from . import _math, _shape
from ._promote import is_float, operands
from ._tensor import OVTensor, asarray, cast, int64_constant, node, scalar


def _axes(x: OVTensor, axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted({int(a) % max(x.ndim, 1) for a in axes}))


def _axes_const(axes):
    return int64_constant(list(axes))


def _accumulator(dtype: str) -> str:
    """JAX's sum / prod / cumsum dtype."""
    if dtype == "bool" or dtype in ("int8", "int16"):
        return "int32"
    if dtype in ("uint8", "uint16"):
        return "uint32"
    return dtype


def _float(x):
    return x if is_float(x.dtype) else cast(x, "float32")


def _reduce_node(fn, x, axes, keepdims):
    return node(fn(x.output, _axes_const(axes), keepdims))


def _mean(x, axes, keepdims):
    return _reduce_node(opset.reduce_mean, _float(x), axes, keepdims)


def _var(x, axes, keepdims):
    xf = _float(x)
    centred = _math.binary("subtract", xf, _mean(xf, axes, True))
    return _mean(_math.unary("square", centred), axes, keepdims)


def _logsumexp(x, axes, keepdims):
    xf = _float(x)
    top = _reduce_node(opset.reduce_max, xf, axes, True)
    top = _math.where(_math.unary("isfinite", top), top, scalar(0.0, xf.dtype))
    total = _reduce_node(opset.reduce_sum, _math.unary("exp", _math.binary("subtract", xf, top)), axes, True)
    out = _math.binary("add", _math.unary("log", total), top)
    return out if keepdims else _shape.squeeze(out, axes)


def _extreme(fn, logical):
    def reduce(x, axes, keepdims):
        if x.dtype == "bool":
            return _reduce_node(logical, x, axes, keepdims)
        return _reduce_node(fn, x, axes, keepdims)

    return reduce


_REDUCERS = {
    "sum": lambda x, a, k: _reduce_node(opset.reduce_sum, cast(x, _accumulator(x.dtype)), a, k),
    "prod": lambda x, a, k: _reduce_node(opset.reduce_prod, cast(x, _accumulator(x.dtype)), a, k),
    "mean": _mean,
    "max": _extreme(opset.reduce_max, opset.reduce_logical_or),
    "min": _extreme(opset.reduce_min, opset.reduce_logical_and),
    "any": lambda x, a, k: _reduce_node(opset.reduce_logical_or, cast(x, "bool"), a, k),
    "all": lambda x, a, k: _reduce_node(opset.reduce_logical_and, cast(x, "bool"), a, k),
    "var": _var,
    "std": lambda x, a, k: _math.unary("sqrt", _var(x, a, k)),
    "logsumexp": _logsumexp,
}


def _identity_reduce(op, x):
    """A reduction over no axes: each element's own value (NumPy's ``axis=()``)."""
    if op in ("any", "all"):
        return cast(x, "bool")
    if op in ("var", "std"):
        return asarray(np.zeros(x.shape, "float32" if not is_float(x.dtype) else x.dtype))
    if op in ("mean", "logsumexp"):
        return _float(x)
    if op in ("sum", "prod"):
        return cast(x, _accumulator(x.dtype))
    return x


def reduce(op: str, x, axis, keepdims: bool) -> OVTensor:
    x = x if isinstance(x, OVTensor) else asarray(x)
    if isinstance(axis, (tuple, list)) and len(axis) == 0:
        return _identity_reduce(op, x)
    return _REDUCERS[op](x, _axes(x, axis), keepdims)


# ----------------------------------------------------------------------------
# Arg-reductions and sorting


def _sortable(x):
    return cast(x, "int32") if x.dtype == "bool" else x


def _topk(x, k, axis, mode, sort="value"):
    values, indices = node(opset.topk(_sortable(x).output, int64_constant(k), axis, mode, sort,
                                      "i32", True), None)
    return (cast(values, "bool") if x.dtype == "bool" else values), indices


def argmax(x, axis) -> OVTensor:
    axis = int(axis) % x.ndim
    return _shape.squeeze(_topk(x, 1, axis, "max")[1], (axis,))


def argmin(x, axis) -> OVTensor:
    axis = int(axis) % x.ndim
    return _shape.squeeze(_topk(x, 1, axis, "min")[1], (axis,))


def sort(x, axis) -> OVTensor:
    axis = int(axis) % x.ndim
    return _topk(x, x.shape[axis], axis, "min")[0]


def argsort(x, axis) -> OVTensor:
    axis = int(axis) % x.ndim
    return _topk(x, x.shape[axis], axis, "min")[1]


def top_k(x, k: int) -> tuple[OVTensor, OVTensor]:
    return _topk(x, int(k), x.ndim - 1, "max")


# ----------------------------------------------------------------------------
# Cumulative


def _flat(x, axis):
    if axis is None:
        return _shape.reshape(x, (-1,)), 0
    return x, int(axis) % x.ndim


def cumsum(x, axis) -> OVTensor:
    x, axis = _flat(x, axis)
    x = cast(x, _accumulator(x.dtype))
    return node(opset.cum_sum(x.output, int64_constant(axis)))


def cumprod(x, axis) -> OVTensor:
    """A log-depth scan: ``ceil(log2(n))`` multiplications by shifted copies."""
    x, axis = _flat(x, axis)
    x = cast(x, _accumulator(x.dtype))
    n, shift = x.shape[axis], 1
    while shift < n:
        ones = [(0, 0)] * x.ndim
        ones[axis] = (shift, 0)
        shifted = _shape.pad(_shape.take_range(x, 0, n - shift, axis), ones, 1)
        x = _math.binary("multiply", x, shifted)
        shift *= 2
    return x


# ----------------------------------------------------------------------------
# Products


def matmul(x, y) -> OVTensor:
    a, b = operands(x, y)
    if a.dtype == "bool":
        a, b = cast(a, "int32"), cast(b, "int32")
        return cast(node(opset.matmul(a.output, b.output, False, False)), "bool")
    return node(opset.matmul(a.output, b.output, False, False))


def einsum(subscripts: str, *operands_) -> OVTensor:
    from ._einsum import einsum as lowered

    return lowered(subscripts, *operands_)
