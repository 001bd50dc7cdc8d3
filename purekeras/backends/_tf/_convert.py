"""Dtypes, conversion to tensors, and dtype promotion for the TensorFlow backend.

Conversion follows JAX with 64-bit types off, so every backend builds the same
arrays from the same NumPy data: Python ``int`` -> int32, ``float`` -> float32,
and NumPy float64 / int64 / uint64 / complex128 -> float32 / int32 / uint32 /
complex64 (unless a dtype is asked for). TensorFlow never promotes on its own,
so every op here casts its operands to the dtype of ``ops._dtypes``' one table
first, with Python scalars weak: ``float16 tensor + 1.0`` stays float16. All of
it is plain Python run while a ``tf.function`` traces: nothing of it is left in
the graph but the casts the table asks for.

>>> import numpy as np
>>> from purekeras.backends._tf import _convert
>>> _convert.asarray(np.arange(3)).dtype.name, _convert.asarray(1.5).dtype.name
('int32', 'float32')
"""
from __future__ import annotations

import numpy as np
import optree
import tensorflow as tf

from ...ops._dtypes import result_type
from .._host import numpy_leaves_to

DTYPES: dict[str, tf.DType] = {
    "bool": tf.bool, "int8": tf.int8, "int16": tf.int16, "int32": tf.int32, "int64": tf.int64,
    "uint8": tf.uint8, "uint16": tf.uint16, "uint32": tf.uint32, "uint64": tf.uint64,
    "float16": tf.float16, "bfloat16": tf.bfloat16, "float32": tf.float32, "float64": tf.float64,
    "complex64": tf.complex64, "complex128": tf.complex128,
}
NAMES: dict[tf.DType, str] = {v: k for k, v in DTYPES.items()}
# NumPy dtypes canonicalised as JAX does with 64-bit types disabled.
_CANONICAL = {"float64": "float32", "int64": "int32", "uint64": "uint32", "complex128": "complex64"}
_PYTHON_DEFAULT = {bool: "bool", int: "int32", float: "float32", complex: "complex64"}
PYTHON_SCALARS = (bool, int, float, complex)
TENSOR_TYPES = (tf.Tensor, tf.Variable)


def dtype_name(dtype) -> str:
    """A NumPy-style dtype name from a name, a ``tf.DType`` or a NumPy dtype."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, tf.DType):
        return NAMES[dtype]
    return np.dtype(dtype).name


def tf_dtype(dtype) -> tf.DType:
    """The ``tf.DType`` for a NumPy-style name (or a tf / NumPy dtype)."""
    if isinstance(dtype, tf.DType):
        return dtype
    name = dtype_name(dtype)
    if name not in DTYPES:
        raise TypeError(f"tensorflow backend: unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}.")
    return DTYPES[name]


def is_float(dtype: tf.DType) -> bool:
    return dtype.is_floating


def is_inexact(dtype: tf.DType) -> bool:
    return dtype.is_floating or dtype.is_complex


def _from_numpy(array: np.ndarray, dtype: tf.DType | None) -> tf.Tensor:
    if array.dtype.kind not in "biufc" and array.dtype.name != "bfloat16":
        raise TypeError(f"tensorflow backend: cannot convert an array of dtype {array.dtype} to a tensor.")
    if dtype is None:
        name = array.dtype.name
        target = _CANONICAL.get(name, name)
        if target != name:
            array = array.astype(target)
        return tf.constant(array)
    if NAMES[dtype] != "bfloat16" and array.dtype.name != "bfloat16":
        return tf.constant(array.astype(dtype.as_numpy_dtype, copy=False))
    return tf.cast(tf.constant(array), dtype)


def _from_scalar(x, dtype: tf.DType | None) -> tf.Tensor:
    if dtype is None:
        dtype = DTYPES[_PYTHON_DEFAULT[type(x)]]
    elif isinstance(x, float) and not is_inexact(dtype) and dtype != tf.bool:
        x = int(x)  # truncation toward zero, as a float -> int cast
    elif isinstance(x, int) and dtype.is_unsigned and x < 0:
        x &= (1 << (8 * dtype.size)) - 1  # wrap, as a NumPy cast does
    elif dtype == tf.bool:
        x = bool(x)
    return tf.constant(x, dtype=dtype)


def asarray(x, dtype=None) -> tf.Tensor:
    """``x`` (tensor, NumPy array, list, Python scalar) as a tensor of ``dtype``.

    >>> asarray([1, 2], "float32").numpy().tolist()
    [1.0, 2.0]
    """
    target = None if dtype is None else tf_dtype(dtype)
    if isinstance(x, tf.Tensor):
        return x if target is None or x.dtype == target else tf.cast(x, target)
    if isinstance(x, tf.Variable):
        return asarray(tf.convert_to_tensor(x), dtype)
    if type(x) in PYTHON_SCALARS:
        return _from_scalar(x, target)
    if isinstance(x, (list, tuple)) and any(isinstance(v, TENSOR_TYPES) for v in optree.tree_leaves(x)):
        parts = [asarray(v) for v in x]
        joint = promote(*parts)
        stacked = tf.stack([to_dtype(p, joint) for p in parts])
        return stacked if target is None else tf.cast(stacked, target)
    return _from_numpy(np.asarray(x), target)


def to_numpy(x) -> np.ndarray:
    """A NumPy copy of tensor ``x``; bfloat16 stays ``ml_dtypes.bfloat16`` as in JAX."""
    if isinstance(x, TENSOR_TYPES):
        return np.array(x.numpy())
    return np.asarray(x)


_WEAK_BITS = {int: 1, float: 2, complex: 4}


def lattice_kind(x):
    """What the promotion table needs for ``x``: a dtype name (strong), or the
    Python type of a weak scalar (``int``, ``float``, ``complex``)."""
    if isinstance(x, TENSOR_TYPES):
        return NAMES[x.dtype]
    if type(x) in _WEAK_BITS:
        return type(x)
    if isinstance(x, bool):
        return "bool"  # Python bools are not weak
    name = (x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.asarray(x).dtype).name
    return _CANONICAL.get(name, name)


def _tables():
    """``ops._dtypes.result_type`` tabulated once for every pair of dtype names, and for
    every dtype (or none) with every set of weak Python types."""
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


def promote(*values) -> tf.DType:
    """The ``tf.DType`` an op on ``values`` returns (ONE table: ``ops._dtypes``).

    >>> promote(tf.ones(1, tf.float16), 1.0).name, promote(1, 2.5).name
    ('float16', 'float32')
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


def to_dtype(x, dtype: tf.DType) -> tf.Tensor:
    """``x`` as a tensor of exactly ``dtype`` (Python scalars and NumPy included)."""
    if isinstance(x, tf.Tensor):
        return x if x.dtype == dtype else tf.cast(x, dtype)
    return asarray(x, dtype)


def tensor(x) -> tf.Tensor:
    """``x`` as a tensor (its own dtype; NumPy and Python values converted)."""
    return x if isinstance(x, tf.Tensor) else asarray(x)


def tensor_leaves(tree):
    """``tree`` with its NumPy leaves turned into tensors (other leaves untouched)."""
    return numpy_leaves_to(tree, asarray)


def static_shape(x) -> tuple:
    """The shape of tensor ``x`` as a tuple (``None`` for an unknown dimension)."""
    return tuple(x.shape.as_list()) if x.shape.rank is not None else ()
