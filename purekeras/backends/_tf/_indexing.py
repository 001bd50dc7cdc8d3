"""NumPy-style indexing, gathers, scatters, padding and triangles on TensorFlow.

TensorFlow's ``__getitem__`` takes ints, slices (negative steps included),
``None`` and ``Ellipsis``; integer-array indices here become ``tf.gather`` (one
array) or ``tf.gather_nd`` (several, broadcast together), placed as NumPy
places them; negative gather indices count from the end, as in NumPy / JAX.

>>> import tensorflow as tf
>>> from purekeras.backends._tf import _indexing
>>> _indexing.getitem(tf.range(6), slice(None, None, -2)).numpy().tolist()
[5, 3, 1]
>>> _indexing.take(tf.range(6), tf.constant([-1, 0]), None).numpy().tolist()
[5, 0]
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._convert import TENSOR_TYPES, asarray, promote, static_shape, tensor, to_dtype


def _is_index_array(item) -> bool:
    if isinstance(item, TENSOR_TYPES):
        return item.shape.rank != 0 or item.dtype == tf.bool
    return isinstance(item, (np.ndarray, list))


def _index_tensor(value) -> tf.Tensor:
    t = value if isinstance(value, tf.Tensor) else asarray(np.asarray(value))
    if t.dtype == tf.bool or t.dtype in (tf.int32, tf.int64):
        return t
    return tf.cast(t, tf.int32)


def _wrap_negative(indices, size):
    if isinstance(size, int) and indices.dtype.is_unsigned:
        return indices
    return tf.where(indices < 0, indices + tf.cast(size, indices.dtype), indices)


def _consumed(item) -> int:
    """How many axes of the indexed array one index item consumes."""
    if item is None:
        return 0
    if isinstance(item, tf.Tensor) and item.dtype == tf.bool:
        return item.shape.rank
    return 1


def getitem(x, index):
    x = tensor(x)
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_tensor(i) if _is_index_array(i) else (int(i) if isinstance(i, np.integer) else i)
                  for i in items)
    arrays = [k for k, i in enumerate(items) if isinstance(i, tf.Tensor) and i.shape.rank != 0]
    if not arrays:
        return x[items]
    if len(arrays) == 1 and items[arrays[0]].dtype == tf.bool and len(items) == 1:
        return tf.boolean_mask(x, items[0])
    return _advanced(x, items, arrays)


def _advanced(x, items, arrays):
    """Integer-array indexing: basic items first, then one gather over the array axes."""
    used = sum(_consumed(i) for i in items if i is not Ellipsis)
    expanded = []
    for item in items:  # Ellipsis -> the slices it stands for
        if item is Ellipsis:
            expanded.extend([slice(None)] * (x.shape.rank - used))
        else:
            expanded.append(item)
    # Apply the basic part, keeping one axis for every array item.
    basic = tuple(slice(None) if isinstance(i, tf.Tensor) and i.shape.rank != 0 else i for i in expanded)
    y = x[basic]
    # Where each array item's axis sits in y (ints drop axes, None adds one).
    positions, axis = [], 0
    for item in expanded:
        if isinstance(item, tf.Tensor) and item.shape.rank != 0:
            if item.dtype == tf.bool:
                raise TypeError("getitem on tensorflow: a boolean mask mixed with other indices is not "
                                "supported; index with ops.where or integer arrays instead.")
            positions.append(axis)
            axis += 1
        elif item is None or isinstance(item, slice):
            axis += 1
    index_arrays = [item for item in expanded if isinstance(item, tf.Tensor) and item.shape.rank != 0]
    if len(index_arrays) == 1:
        (position,) = positions
        i = _wrap_negative(index_arrays[0], tf.shape(y, out_type=index_arrays[0].dtype)[position])
        return tf.gather(y, i, axis=position)
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    moved = positions + [a for a in range(y.shape.rank) if a not in positions]
    y = tf.transpose(y, moved)
    dims = tf.shape(y)
    indices = [_wrap_negative(tf.cast(i, tf.int32), dims[k]) for k, i in enumerate(index_arrays)]
    shape = indices[0].shape
    for i in indices[1:]:
        shape = tf.broadcast_static_shape(shape, i.shape)
    gathered = tf.gather_nd(y, tf.stack([tf.broadcast_to(i, shape) for i in indices], axis=-1))
    if not adjacent or positions[0] == 0:
        return gathered
    # NumPy puts adjacent array axes where they were: move them back after the leading axes.
    batch_rank, lead = shape.rank, positions[0]
    rest = gathered.shape.rank - batch_rank
    order = [batch_rank + k for k in range(lead)] + list(range(batch_rank)) + \
            [batch_rank + k for k in range(lead, rest)]
    return tf.transpose(gathered, order)


def take(x, indices, axis):
    x, indices = tensor(x), _index_tensor(indices)
    if axis is None:
        x, axis = tf.reshape(x, [-1]), 0
    axis %= x.shape.rank
    size = x.shape[axis]
    return tf.gather(x, _wrap_negative(indices, size if size is not None else tf.shape(x)[axis]), axis=axis)


def take_along_axis(x, indices, axis):
    """NumPy's ``take_along_axis``: the other axes of ``x`` and ``indices`` broadcast."""
    x, indices = tensor(x), _index_tensor(indices)
    rank = x.shape.rank
    axis %= rank
    indices = _wrap_negative(indices, x.shape[axis])
    x_shape, i_shape = static_shape(x), static_shape(indices)
    batch = [max(a, b) for k, (a, b) in enumerate(zip(x_shape, i_shape)) if k != axis]
    x_target = [*batch[:axis], x_shape[axis], *batch[axis:]]
    i_target = [*batch[:axis], i_shape[axis], *batch[axis:]]
    perm = [k for k in range(rank) if k != axis] + [axis]
    xt = tf.transpose(tf.broadcast_to(x, x_target), perm)
    it = tf.transpose(tf.broadcast_to(indices, i_target), perm)
    out = tf.gather(xt, it, batch_dims=rank - 1)
    inverse = list(np.argsort(perm))
    return tf.transpose(out, inverse)


def scatter_add(x, indices, updates):
    x = tensor(x)
    if isinstance(indices, tuple):
        if not all(isinstance(i, (tf.Tensor, np.ndarray, list, int, np.integer)) for i in indices):
            raise TypeError(
                f"scatter_add on tensorflow takes an int array or a tuple of int arrays as indices, got "
                f"{indices!r}; express slices as index arrays (e.g. ops.arange).")
        parts = [_index_tensor(i) for i in indices]
    else:
        parts = [_index_tensor(indices)]
    parts = [tf.cast(_wrap_negative(p, x.shape[k]), tf.int32) for k, p in enumerate(parts)]
    shape = parts[0].shape
    for p in parts[1:]:
        shape = tf.broadcast_static_shape(shape, p.shape)
    index = tf.stack([tf.broadcast_to(p, shape) for p in parts], axis=-1)
    target = [*shape.as_list(), *static_shape(x)[len(parts):]]
    updates = tf.broadcast_to(to_dtype(updates, x.dtype), target)
    return tf.tensor_scatter_nd_add(x, index, updates)


def pad(x, pad_width, constant):
    x = tensor(x)
    return tf.pad(x, [list(p) for p in pad_width], constant_values=to_dtype(constant, x.dtype))


def flip(x, axis):
    x = tensor(x)
    if axis is None:
        axes = list(range(x.shape.rank))
    elif isinstance(axis, (tuple, list)):
        axes = [int(a) for a in axis]
    else:
        axes = [int(axis)]
    return tf.reverse(x, axes)


def split(x, indices_or_sections, axis):
    x = tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, (np.ndarray, tf.Tensor)):
        indices_or_sections = [int(i) for i in np.asarray(indices_or_sections).tolist()]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"split: an axis of size {size} does not divide into "
                f"{indices_or_sections} equal sections; pass split indices instead.")
        return tf.split(x, indices_or_sections, axis=axis)
    bounds = [min(max(int(i) if int(i) >= 0 else int(i) + size, 0), size) for i in indices_or_sections]
    edges = [0, *bounds, size]
    sizes = [max(b - a, 0) for a, b in zip(edges[:-1], edges[1:])]
    return tf.split(x, sizes, axis=axis)


def _band(x, k, lower: bool):
    x = tensor(x)
    rows, cols = static_shape(x)[-2:]
    offset = tf.range(cols)[None, :] - tf.range(rows)[:, None]  # column - row
    keep = offset <= k if lower else offset >= k
    return tf.where(keep, x, tf.zeros_like(x))


def tril(x, k):
    return _band(x, k, lower=True)


def triu(x, k):
    return _band(x, k, lower=False)


def concatenate(xs, axis):
    dtype = promote(*xs)
    return tf.concat([to_dtype(x, dtype) for x in xs], axis=axis)


def stack(xs, axis):
    dtype = promote(*xs)
    return tf.stack([to_dtype(x, dtype) for x in xs], axis=axis)
