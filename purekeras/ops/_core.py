"""NumPy-style array ops: conversion, creation, shape, indexing, linear algebra.

Written once, dispatched on the type of their array arguments; creation ops take
``backend=`` (default: ``$PUREKERAS_BACKEND``, else the first installed).

>>> from purekeras import ops
>>> x = ops.ones((2, 3), backend="jax")
>>> ops.shape(ops.matmul(x, ops.transpose(x)))
(2, 2)
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._dispatch import dispatch

# ----------------------------------------------------------------------------
# Conversion and metadata


def asarray(x: Any, dtype: str | None = None, *, backend: str | None = None):
    """``x`` (array, NumPy array, list, scalar) as an array of ``backend``
    (default: the backend of ``x``, else the process default).

    >>> from purekeras import ops
    >>> ops.asarray([1, 2], "float32", backend="jax").tolist()
    [1.0, 2.0]
    """
    return dispatch(x, backend=backend).asarray(x, dtype)


def backend_name(*xs) -> str:
    """The name of the backend owning the first framework array in ``xs``.

    >>> from purekeras import ops
    >>> ops.backend_name(ops.ones((1,), backend="jax"))
    'jax'
    """
    return dispatch(*xs).name


def convert_to_numpy(x) -> np.ndarray:
    """A NumPy array with the values of ``x`` (NumPy inputs and Python values too).

    >>> from purekeras import ops
    >>> ops.convert_to_numpy(ops.ones((2,), backend="jax"))
    array([1., 1.], dtype=float32)
    """
    if isinstance(x, (np.ndarray, np.generic, int, float, bool, complex, list, tuple)):
        return np.asarray(x)
    return dispatch(x).to_numpy(x)


def shape(x) -> tuple[int, ...]:
    """The static shape of ``x`` as a tuple of ints (``()`` for a scalar).

    >>> from purekeras import ops
    >>> ops.shape(ops.ones((2, 3), backend="jax")), ops.shape([[1, 2]]), ops.shape(1.0)
    ((2, 3), (1, 2), ())
    """
    if hasattr(x, "shape"):
        return tuple(int(d) for d in x.shape)
    return np.shape(x)


def ndim(x) -> int:
    """The number of axes of ``x``.

    >>> from purekeras import ops
    >>> ops.ndim(ops.ones((2, 3), backend="jax"))
    2
    """
    return len(shape(x))


def size(x) -> int:
    """The number of elements of ``x``.

    >>> from purekeras import ops
    >>> ops.size(ops.ones((2, 3), backend="jax"))
    6
    """
    return math.prod(shape(x))


def dtype(x) -> str:
    """The dtype of ``x`` as a NumPy-style name; NumPy inputs keep theirs.

    >>> import numpy as np
    >>> from purekeras import ops
    >>> ops.dtype(ops.ones((1,), "bfloat16", backend="jax")), ops.dtype(np.zeros(1))
    ('bfloat16', 'float64')
    """
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name
    return dispatch(x).dtype_name(x)


def cast(x, dtype: str):
    """``x`` converted to ``dtype``; returned as is when it already has it.

    >>> from purekeras import ops
    >>> ops.cast(ops.asarray([1.7, -1.7], backend="jax"), "int32").tolist()
    [1, -1]
    """
    b = dispatch(x)
    if b.is_array(x) and b.dtype_name(x) == dtype:
        return x
    return b.cast(x, dtype)


def is_floating(dtype_name: str) -> bool:
    """Whether the dtype name is a float type (bfloat16 included).

    >>> from purekeras import ops
    >>> ops.is_floating("bfloat16"), ops.is_floating("int32")
    (True, False)
    """
    return dtype_name.startswith(("float", "bfloat"))


# ----------------------------------------------------------------------------
# Creation


def zeros(shape: Sequence[int], dtype: str = "float32", *, backend: str | None = None):
    """An array of zeros.

    >>> from purekeras import ops
    >>> ops.zeros((2,), "int32", backend="jax").tolist()
    [0, 0]
    """
    return dispatch(backend=backend).zeros(tuple(shape), dtype)


def ones(shape: Sequence[int], dtype: str = "float32", *, backend: str | None = None):
    """An array of ones.

    >>> from purekeras import ops
    >>> ops.ones((2,), backend="jax").tolist()
    [1.0, 1.0]
    """
    return dispatch(backend=backend).ones(tuple(shape), dtype)


def full(shape: Sequence[int], value, dtype: str = "float32", *, backend: str | None = None):
    """An array filled with ``value``.

    >>> from purekeras import ops
    >>> ops.full((2,), 7, "int32", backend="jax").tolist()
    [7, 7]
    """
    return dispatch(value, backend=backend).full(tuple(shape), value, dtype)


def zeros_like(x, dtype: str | None = None):
    """Zeros with the shape (and, unless given, the dtype) of ``x``.

    >>> from purekeras import ops
    >>> ops.zeros_like(ops.ones((2,), "int32", backend="jax")).tolist()
    [0, 0]
    """
    b = dispatch(x)
    return b.zeros(shape(x), dtype or b.dtype_name(x))


def ones_like(x, dtype: str | None = None):
    """Ones with the shape (and, unless given, the dtype) of ``x``.

    >>> from purekeras import ops
    >>> ops.ones_like(ops.zeros((2,), backend="jax"), "int32").tolist()
    [1, 1]
    """
    b = dispatch(x)
    return b.ones(shape(x), dtype or b.dtype_name(x))


def full_like(x, value, dtype: str | None = None):
    """``value`` with the shape (and, unless given, the dtype) of ``x``.

    >>> from purekeras import ops
    >>> ops.full_like(ops.zeros((2,), backend="jax"), 0.5).tolist()
    [0.5, 0.5]
    """
    b = dispatch(x)
    return b.full(shape(x), value, dtype or b.dtype_name(x))


def arange(start, stop=None, step=1, dtype: str | None = None, *, backend: str | None = None):
    """``start, start + step, ...`` below ``stop``; ``arange(n)`` is ``0 .. n - 1``.

    >>> from purekeras import ops
    >>> ops.arange(3, backend="jax").tolist(), ops.arange(1.0, 2.0, 0.5, backend="jax").tolist()
    ([0, 1, 2], [1.0, 1.5])
    """
    if stop is None:
        start, stop = 0, start
    return dispatch(backend=backend).arange(start, stop, step, dtype)


def eye(n: int, m: int | None = None, dtype: str = "float32", *, backend: str | None = None):
    """The ``n x m`` (default square) identity matrix.

    >>> from purekeras import ops
    >>> ops.eye(2, backend="jax").tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return dispatch(backend=backend).eye(n, m, dtype)


# ----------------------------------------------------------------------------
# Shape


def reshape(x, new_shape: Sequence[int]):
    """``x`` with a new shape (one ``-1`` is inferred).

    >>> from purekeras import ops
    >>> ops.shape(ops.reshape(ops.ones((2, 3), backend="jax"), (3, -1)))
    (3, 2)
    """
    return dispatch(x).reshape(x, tuple(new_shape))


def transpose(x, axes: Sequence[int] | None = None):
    """``x`` with its axes permuted (reversed if ``axes`` is None).

    >>> from purekeras import ops
    >>> ops.shape(ops.transpose(ops.ones((1, 2, 3), backend="jax"), (2, 0, 1)))
    (3, 1, 2)
    """
    return dispatch(x).transpose(x, None if axes is None else tuple(axes))


def swapaxes(x, axis1: int, axis2: int):
    """``x`` with two axes exchanged.

    >>> from purekeras import ops
    >>> ops.shape(ops.swapaxes(ops.ones((1, 2, 3), backend="jax"), 0, -1))
    (3, 2, 1)
    """
    axes = list(range(ndim(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to position ``destination``.

    >>> from purekeras import ops
    >>> ops.shape(ops.moveaxis(ops.ones((1, 2, 3), backend="jax"), 0, -1))
    (2, 3, 1)
    """
    axes = list(range(ndim(x)))
    source %= len(axes)
    destination %= len(axes)
    if source == destination:
        return asarray(x)
    axes.insert(destination, axes.pop(source))
    return transpose(x, axes)


def broadcast_to(x, new_shape: Sequence[int]):
    """``x`` broadcast (NumPy rules) to ``new_shape``.

    >>> from purekeras import ops
    >>> ops.broadcast_to(ops.asarray([1, 2], backend="jax"), (2, 2)).tolist()
    [[1, 2], [1, 2]]
    """
    return dispatch(x).broadcast_to(x, tuple(new_shape))


def expand_dims(x, axis: int):
    """``x`` with a new axis of size 1 at ``axis``.

    >>> from purekeras import ops
    >>> ops.shape(ops.expand_dims(ops.ones((2, 3), backend="jax"), -1))
    (2, 3, 1)
    """
    return dispatch(x).expand_dims(x, axis)


def squeeze(x, axis=None):
    """``x`` without its size-1 axes (or only ``axis``).

    >>> from purekeras import ops
    >>> ops.shape(ops.squeeze(ops.ones((1, 2, 1), backend="jax"), 0))
    (2, 1)
    """
    return dispatch(x).squeeze(x, axis)


def flatten(x):
    """``x`` as a 1-d array.

    >>> from purekeras import ops
    >>> ops.shape(ops.flatten(ops.ones((2, 3), backend="jax")))
    (6,)
    """
    return reshape(x, (-1,))


def concatenate(xs: Sequence, axis: int = 0):
    """The arrays ``xs`` joined along an existing ``axis``.

    >>> from purekeras import ops
    >>> ops.shape(ops.concatenate([ops.ones((2, 1), backend="jax"), ops.ones((2, 3), backend="jax")], -1))
    (2, 4)
    """
    return dispatch(*xs).concatenate(list(xs), axis)


def stack(xs: Sequence, axis: int = 0):
    """The same-shaped arrays ``xs`` joined along a new ``axis``.

    >>> from purekeras import ops
    >>> ops.shape(ops.stack([ops.ones((2,), backend="jax")] * 3, axis=1))
    (2, 3)
    """
    return dispatch(*xs).stack(list(xs), axis)


def split(x, indices_or_sections, axis: int = 0) -> list:
    """``x`` cut along ``axis`` into equal sections (an int) or at the given indices.

    >>> from purekeras import ops
    >>> [p.tolist() for p in ops.split(ops.arange(5, backend="jax"), [1, 3])]
    [[0], [1, 2], [3, 4]]
    """
    return dispatch(x).split(x, indices_or_sections, axis)


def tile(x, reps: Sequence[int]):
    """``x`` repeated ``reps[i]`` times along each axis ``i``.

    >>> from purekeras import ops
    >>> ops.tile(ops.asarray([1, 2], backend="jax"), (2,)).tolist()
    [1, 2, 1, 2]
    """
    return dispatch(x).tile(x, tuple(reps))


def repeat(x, repeats: int, axis: int | None = None):
    """Each element of ``x`` repeated ``repeats`` times (along ``axis``, or flattened).

    >>> from purekeras import ops
    >>> ops.repeat(ops.asarray([1, 2], backend="jax"), 2).tolist()
    [1, 1, 2, 2]
    """
    return dispatch(x).repeat(x, repeats, axis)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (an int, a tuple, or None for all axes).

    >>> from purekeras import ops
    >>> ops.flip(ops.asarray([1, 2, 3], backend="jax")).tolist()
    [3, 2, 1]
    """
    return dispatch(x).flip(x, axis)


def pad(x, pad_width, constant_values=0):
    """``x`` padded with a constant; ``pad_width`` is ``((before, after), ...)`` per axis.

    >>> from purekeras import ops
    >>> ops.pad(ops.asarray([1, 2], backend="jax"), ((1, 2),)).tolist()
    [0, 1, 2, 0, 0]
    """
    pad_width = tuple((int(a), int(b)) for a, b in pad_width)
    return dispatch(x).pad(x, pad_width, constant_values)


def tril(x, k: int = 0):
    """``x`` with the elements above the ``k``-th diagonal zeroed (last two axes).

    >>> from purekeras import ops
    >>> ops.tril(ops.ones((2, 2), "int32", backend="jax")).tolist()
    [[1, 0], [1, 1]]
    """
    return dispatch(x).tril(x, k)


def triu(x, k: int = 0):
    """``x`` with the elements below the ``k``-th diagonal zeroed (last two axes).

    >>> from purekeras import ops
    >>> ops.triu(ops.ones((2, 2), "int32", backend="jax")).tolist()
    [[1, 1], [0, 1]]
    """
    return dispatch(x).triu(x, k)


# ----------------------------------------------------------------------------
# Indexing


def getitem(x, index):
    """``x[index]`` for basic (ints, slices, None, Ellipsis) and integer-array indexing.

    >>> from purekeras import ops
    >>> ops.getitem(ops.arange(6, backend="jax"), slice(1, None, 2)).tolist()
    [1, 3, 5]
    """
    return dispatch(x).getitem(x, index)


def take(x, indices, axis: int | None = None):
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened
    ``x`` if None); negative indices count from the end.

    >>> from purekeras import ops
    >>> ops.take(ops.asarray([10, 20, 30], backend="jax"), ops.asarray([2, -3], backend="jax")).tolist()
    [30, 10]
    """
    return dispatch(x, indices).take(x, indices, axis)


def take_along_axis(x, indices, axis: int):
    """``x`` gathered along ``axis`` at ``indices`` of the same rank (as NumPy).

    >>> from purekeras import ops
    >>> x = ops.asarray([[1, 2], [3, 4]], backend="jax")
    >>> ops.take_along_axis(x, ops.asarray([[1], [0]], backend="jax"), 1).tolist()
    [[2], [3]]
    """
    return dispatch(x, indices).take_along_axis(x, indices, axis)


def scatter_add(x, indices, updates):
    """A copy of ``x`` with ``updates`` added at ``indices`` (an int array or list
    into axis 0, or a tuple of index arrays); duplicate indices accumulate.

    >>> from purekeras import ops
    >>> ops.scatter_add(ops.zeros((3,), backend="jax"), [0, 0, 2], ops.ones((3,), backend="jax")).tolist()
    [2.0, 0.0, 1.0]
    """
    b = dispatch(x, updates)
    if isinstance(indices, list):  # a list means one int array, not a tuple of index arrays
        indices = b.asarray(indices, "int32")
    return b.scatter_add(x, indices, updates)


# ----------------------------------------------------------------------------
# Linear algebra


def matmul(x, y):
    """Matrix product with NumPy's rules (1-d operands, broadcast batch axes).

    >>> from purekeras import ops
    >>> ops.matmul(ops.asarray([[1.0, 2.0]], backend="jax"), ops.asarray([[3.0], [4.0]], backend="jax")).tolist()
    [[11.0]]
    """
    return dispatch(x, y).matmul(x, y)


def dot(x, y):
    """``matmul(x, y)``: for 1-d and 2-d operands this is ``numpy.dot``.

    >>> from purekeras import ops
    >>> float(ops.dot(ops.asarray([1.0, 2.0], backend="jax"), ops.asarray([3.0, 4.0], backend="jax")))
    11.0
    """
    return matmul(x, y)


def einsum(subscripts: str, *operands):
    """Einstein summation, as ``numpy.einsum``.

    >>> from purekeras import ops
    >>> float(ops.einsum("ii->", ops.eye(3, backend="jax")))
    3.0
    """
    return dispatch(*operands).einsum(subscripts, *operands)


def qr(x):
    """Reduced QR decomposition ``(q, r)`` of a matrix (or a batch of them):
    ``q`` has orthonormal columns, ``r`` is upper triangular, ``q @ r == x``.

    >>> from purekeras import ops
    >>> q, r = ops.qr(ops.ones((3, 2), backend="jax"))
    >>> ops.shape(q), ops.shape(r)
    ((3, 2), (2, 2))
    """
    return dispatch(x).qr(x)


def outer(x, y):
    """The outer product of the flattened ``x`` and ``y``.

    >>> from purekeras import ops
    >>> ops.outer(ops.asarray([1, 2], backend="jax"), ops.asarray([1, 10], backend="jax")).tolist()
    [[1, 10], [2, 20]]
    """
    return dispatch(x, y).binary("multiply", expand_dims(flatten(x), -1), expand_dims(flatten(y), 0))


__all__ = [
    "asarray", "backend_name", "convert_to_numpy", "shape", "ndim", "size", "dtype", "cast",
    "is_floating", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye",
    "reshape", "transpose", "swapaxes", "moveaxis", "broadcast_to", "expand_dims", "squeeze",
    "flatten", "concatenate", "stack", "split", "tile", "repeat", "flip", "pad", "tril", "triu",
    "getitem", "take", "take_along_axis", "scatter_add", "matmul", "dot", "einsum", "qr", "outer",
]
