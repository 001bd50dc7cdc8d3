"""Dtype promotion for the openvino backend: ``ops._dtypes``' one table, Python scalars weak.

>>> from purekeras.backends._openvino import _promote, _tensor
>>> x = _tensor.asarray([1.0, 2.0], "float16")
>>> _promote.promote(x, 1.5), _promote.promote(1, 2.5)
('float16', 'float32')
>>> [t.dtype for t in _promote.operands(x, 3)]
['float16', 'float16']
"""
from __future__ import annotations

import numpy as np

from ...ops._dtypes import result_type
from ._tensor import PYTHON_SCALARS, OVTensor, asarray, cast, to_numpy_input, value_dtype_name

_WEAK = (int, float)


def _kind(value):
    """What the promotion table needs: a dtype name (strong) or a weak Python type."""
    if isinstance(value, OVTensor):
        return value.dtype
    if type(value) in _WEAK:
        return type(value)
    if isinstance(value, bool):
        return "bool"
    return value_dtype_name(value)


def promote(*values) -> str:
    """The dtype an op on ``values`` gives."""
    return result_type(*(_kind(v) for v in values))


def operand(value, dtype: str) -> OVTensor:
    """``value`` (a tensor, Python scalar or array) as an ``OVTensor`` of ``dtype``."""
    if isinstance(value, OVTensor):
        return cast(value, dtype)
    if type(value) in PYTHON_SCALARS or isinstance(value, (np.ndarray, np.generic)):
        return asarray(value, dtype)
    return asarray(to_numpy_input(value), dtype)


def operands(*values, dtype: str | None = None) -> list[OVTensor]:
    """``values`` as tensors of one dtype: ``dtype``, else their promoted dtype."""
    dtype = dtype or promote(*values)
    return [operand(v, dtype) for v in values]


def is_float(dtype: str) -> bool:
    return dtype.startswith(("float", "bfloat"))


def is_integer(dtype: str) -> bool:
    return dtype.startswith(("int", "uint"))
