"""Dtypes, conversion to tensors, and dtype promotion for the PyTorch backend.

Conversion follows JAX with 64-bit types off, so both backends build the same
arrays from the same NumPy data: Python ``int`` -> int32, ``float`` -> float32,
and NumPy float64 / int64 / uint64 / complex128 -> float32 / int32 / uint32 /
complex64 (unless a dtype is asked for). Promotion uses ``ops._dtypes``' one
table, with Python scalars weak: ``float16 tensor + 1.0`` stays float16.

>>> import numpy as np
>>> from purekeras.backends._torch import _convert
>>> _convert.asarray(np.arange(3)).dtype, _convert.asarray(1.5).dtype
(torch.int32, torch.float32)
"""
from __future__ import annotations

import numpy as np
import torch

from ...ops._dtypes import result_type
from .._host import numpy_leaves_to

DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32,
    "uint64": torch.uint64, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float64": torch.float64, "complex64": torch.complex64,
    "complex128": torch.complex128,
}
NAMES: dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}
# NumPy dtypes canonicalised as JAX does with 64-bit types disabled.
_CANONICAL = {"float64": "float32", "int64": "int32", "uint64": "uint32", "complex128": "complex64"}
_PYTHON_DEFAULT = {bool: "bool", int: "int32", float: "float32", complex: "complex64"}
# Unsigned types wider than 8 bits have few CPU kernels in PyTorch; their
# arithmetic runs in int64 and is wrapped back.
WIDE_UNSIGNED = (torch.uint16, torch.uint32, torch.uint64)
PYTHON_SCALARS = (bool, int, float, complex)


def dtype_name(dtype) -> str:
    """A NumPy-style dtype name from a name, a torch dtype or a NumPy dtype."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, torch.dtype):
        return NAMES[dtype]
    return np.dtype(dtype).name


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype for a NumPy-style name (or torch / NumPy dtype)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = dtype_name(dtype)
    if name not in DTYPES:
        raise TypeError(f"torch backend: unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}.")
    return DTYPES[name]


def is_float(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point


def is_inexact(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point or dtype.is_complex


def _from_numpy(array: np.ndarray, dtype: torch.dtype | None) -> torch.Tensor:
    name = array.dtype.name
    if name == "bfloat16":  # ml_dtypes' bfloat16: same bits as torch's
        bits = np.array(array.view(np.uint16), order="C", copy=True)
        tensor = torch.from_numpy(bits).view(torch.bfloat16)
        return tensor if dtype is None else tensor.to(dtype)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"torch backend: cannot convert an array of dtype {array.dtype} to a tensor.")
    if dtype is None:
        target = np.dtype(_CANONICAL.get(name, name))
    elif dtype in (torch.bfloat16,):
        target = np.dtype("float32")
    else:
        target = np.dtype(NAMES[dtype])
    # A C-ordered private copy: tensors never alias the caller's NumPy memory.
    tensor = torch.from_numpy(np.array(array, dtype=target, order="C", copy=True))
    return tensor if dtype is None or tensor.dtype == dtype else tensor.to(dtype)


def host_tensor(array) -> torch.Tensor:
    """NumPy ``array`` as a tensor that shares its memory where it can (a writeable,
    C-contiguous, native-order array of a dtype the backends compute in), else a private copy as
    ``asarray`` makes. For values a function only reads, such as a batch.

    >>> import numpy as np
    >>> a = np.ones(3, np.float32)
    >>> host_tensor(a).data_ptr() == a.ctypes.data, host_tensor(a.astype(np.float64)).dtype
    (True, torch.float32)
    """
    if (isinstance(array, np.ndarray) and array.flags.writeable and array.flags.c_contiguous
            and array.dtype.isnative and array.dtype.kind in "biufc" and array.dtype.name not in _CANONICAL):
        return torch.from_numpy(array)
    return asarray(array)


def _from_scalar(x, dtype: torch.dtype | None) -> torch.Tensor:
    if dtype is None:
        dtype = DTYPES[_PYTHON_DEFAULT[type(x)]]
    elif isinstance(x, float) and not is_inexact(dtype) and dtype != torch.bool:
        x = int(x)  # truncation toward zero, as a float -> int cast
    return torch.tensor(x, dtype=dtype)


def asarray(x, dtype=None) -> torch.Tensor:
    """``x`` (tensor, NumPy array, list, Python scalar) as a tensor of ``dtype``.

    >>> asarray([1, 2], "float32").tolist()
    [1.0, 2.0]
    """
    target = None if dtype is None else torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if target is None or x.dtype == target else x.to(target)
    if type(x) in PYTHON_SCALARS:
        return _from_scalar(x, target)
    if isinstance(x, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in x):
        stacked = torch.stack([asarray(v) for v in x])
        return stacked if target is None else stacked.to(target)
    return _from_numpy(np.asarray(x), target)


def to_numpy(x) -> np.ndarray:
    """A NumPy copy of tensor ``x``; bfloat16 becomes ``ml_dtypes.bfloat16`` as in JAX."""
    if not isinstance(x, torch.Tensor):
        return np.asarray(x)
    # A private copy: a donated train state is updated in place (pk.jit), and a NumPy
    # view of a tensor's memory would change with it (and keep it from being donated).
    x = x.detach().clone() if x.device.type == "cpu" else x.detach().cpu()
    x = x.resolve_conj().resolve_neg()
    if x.dtype == torch.bfloat16:
        try:
            import ml_dtypes
        except ImportError:  # without ml_dtypes NumPy has no bfloat16: widen exactly
            return x.to(torch.float32).numpy()
        return x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return x.numpy()


_WEAK_BITS = {int: 1, float: 2, complex: 4}


def lattice_kind(x):
    """What the promotion table needs for ``x``: a dtype name (strong), or the
    Python type of a weak scalar (``int``, ``float``, ``complex``)."""
    if isinstance(x, torch.Tensor):
        return NAMES[x.dtype]
    if type(x) in _WEAK_BITS:
        return type(x)
    if isinstance(x, bool):
        return "bool"  # Python bools are not weak
    name = (x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.asarray(x).dtype).name
    return _CANONICAL.get(name, name)


def _tables():
    """``ops._dtypes.result_type`` tabulated once at import for every pair of dtype
    names, and for every dtype (or none) with every set of weak Python types.
    Constant tables: torch.compile reads them without guarding on a growing cache."""
    names = list(DTYPES)
    join = {(a, b): result_type(a, b) for a in names for b in names}
    weak_types = [t for t, _ in sorted(_WEAK_BITS.items(), key=lambda kv: kv[1])]
    with_weak = {}
    for mask in range(1, 8):
        chosen = [t for t in weak_types if mask & _WEAK_BITS[t]]
        with_weak[(None, mask)] = DTYPES[result_type(*chosen)]
        for a in names:
            with_weak[(a, mask)] = DTYPES[result_type(a, *chosen)]
    return join, with_weak


_JOIN, _WITH_WEAK = _tables()


def promote(*values) -> torch.dtype:
    """The torch dtype an op on ``values`` returns (ONE table: ``ops._dtypes``).

    >>> promote(torch.ones(1, dtype=torch.float16), 1.0), promote(1, 2.5)
    (torch.float16, torch.float32)
    """
    strong, weak = None, 0
    for v in values:
        kind = lattice_kind(v)
        if isinstance(kind, str):
            strong = kind if strong is None else _JOIN[(strong, kind)]
        else:
            weak |= _WEAK_BITS[kind]
    if weak:
        return _WITH_WEAK[(strong, weak)]
    if strong is None:
        raise TypeError("promote needs at least one value.")
    return DTYPES[strong]


def to_dtype(x, dtype: torch.dtype) -> torch.Tensor:
    """``x`` as a tensor of exactly ``dtype`` (Python scalars and NumPy included)."""
    if isinstance(x, torch.Tensor):
        return x if x.dtype == dtype else x.to(dtype)
    return asarray(x, dtype)


def tensor_leaves(tree):
    """``tree`` with its NumPy leaves turned into tensors (other leaves untouched)."""
    return numpy_leaves_to(tree, asarray)

