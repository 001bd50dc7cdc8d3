"""NumPy-style indexing, gathers and scatters on OpenVINO graph nodes.

``getitem`` takes ints, slices (any step), ``None``, ``Ellipsis`` and one integer
(or boolean constant) array index; on constant arrays every NumPy index works
(it is computed on the host). Negative indices count from the end everywhere.

>>> from purekeras.backends._openvino import _indexing, _tensor
>>> x = _tensor.asarray([[1, 2, 3], [4, 5, 6]])
>>> _indexing.getitem(x, (slice(None), slice(None, None, -2))).tolist()
[[3, 1], [6, 4]]
>>> _indexing.take(x, _tensor.asarray([-1, 0]), 1).tolist()
[[3, 1], [6, 4]]
"""
from __future__ import annotations

import numpy as np
import openvino.opset15 as opset

from .._registry import BackendError
from . import _math, _shape
from ._promote import operand
from ._tensor import OVTensor, asarray, cast, int64_constant, node, scalar

_MIN = np.iinfo(np.int64).min


def _i64(values):
    return int64_constant(values)


def _index_tensor(value) -> OVTensor:
    t = value if isinstance(value, OVTensor) else asarray(np.asarray(value))
    return t if t.dtype in ("int32", "int64", "bool") else cast(t, "int32")


def _is_array_index(item) -> bool:
    return isinstance(item, (OVTensor, np.ndarray, list))


def _host_index(item):
    return item.numpy() if isinstance(item, OVTensor) else item


def getitem(x: OVTensor, index) -> OVTensor:
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(int(i) if isinstance(i, np.integer) else i for i in items)
    arrays = [i for i in items if _is_array_index(i)]
    if x.is_constant and all(not isinstance(i, OVTensor) or i.is_constant for i in arrays):
        return asarray(np.asarray(x.numpy()[tuple(_host_index(i) for i in items)]))
    items = tuple(_mask_to_positions(i) for i in items)
    arrays = [i for i in items if _is_array_index(i)]
    if len(arrays) > 1:
        raise BackendError(
            "openvino backend: indexing a traced value with more than one index array is not "
            "supported; use ops.take / ops.take_along_axis, or index one axis at a time.")
    return _basic_and_one_array(x, _expand_ellipsis(items, x.ndim))


def _mask_to_positions(item):
    """A boolean constant mask on one axis -> the integer positions it selects."""
    if isinstance(item, OVTensor) and item.dtype == "bool":
        if not item.is_constant or item.ndim != 1:
            raise BackendError("openvino backend: a traced boolean mask has a data-dependent shape; "
                               "use ops.where instead.")
        return np.nonzero(item.numpy())[0].astype(np.int32)
    if isinstance(item, (np.ndarray, list)) and np.asarray(item).dtype == bool:
        if np.asarray(item).ndim != 1:
            raise BackendError("openvino backend: boolean masks index one axis at a time.")
        return np.nonzero(np.asarray(item))[0].astype(np.int32)
    return item


def _expand_ellipsis(items, rank):
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...').")
    out = []
    for item in items:
        if item is Ellipsis:
            out.extend([slice(None)] * (rank - used))
        else:
            out.append(item)
    if sum(1 for i in out if i is not None) > rank:
        raise IndexError(f"too many indices for an array of rank {rank}.")
    return out + [slice(None)] * (rank - sum(1 for i in out if i is not None))


def _basic_and_one_array(x, items):
    starts, stops, steps, axes, drop, gather = [], [], [], [], [], None
    axis, new_axes, position = 0, [], 0
    for item in items:
        if item is None:
            new_axes.append(position)
            position += 1
            continue
        n = x.shape[axis]
        if isinstance(item, int):
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for axis {axis} with size {n}.")
            i = item % n
            starts.append(i), stops.append(i + 1), steps.append(1), axes.append(axis)
            drop.append(axis)
        elif isinstance(item, slice):
            start, stop, step = item.indices(n)
            if (start, stop, step) != (0, n, 1):
                if step < 0 and stop < 0:
                    stop = _MIN  # "before index 0", not "the last element"
                starts.append(start), stops.append(stop), steps.append(step), axes.append(axis)
            position += 1
        else:
            gather = (axis, item, position)
            position += 1
        axis += 1
    out = x
    if axes:
        out = node(opset.slice(out.output, _i64(starts), _i64(stops), _i64(steps), _i64(axes)))
    if gather is not None:
        g_axis, indices, g_position = gather
        indices = _index_tensor(indices)
        out = node(opset.gather(out.output, indices.output, scalar(g_axis, "int64").output))
        extra = indices.ndim - 1
        drop = [d if d < g_axis else d + extra for d in drop]
        new_axes = [p if p <= g_position else p + extra for p in new_axes]
    if drop:
        out = _shape.squeeze(out, tuple(drop))
    for p in new_axes:
        out = _shape.expand_dims(out, p)
    return out


def take(x: OVTensor, indices, axis) -> OVTensor:
    if axis is None:
        x, axis = _shape.reshape(x, (-1,)), 0
    axis = int(axis) % x.ndim
    indices = _index_tensor(indices)
    return node(opset.gather(x.output, indices.output, scalar(axis, "int64").output))


def _wrapped(indices: OVTensor, size: int) -> OVTensor:
    return _math.where(_math.binary("less", indices, 0), _math.binary("add", indices, size), indices)


def take_along_axis(x: OVTensor, indices, axis: int) -> OVTensor:
    axis = int(axis) % x.ndim
    indices = _wrapped(_index_tensor(indices), x.shape[axis])
    shape_x, shape_i = list(x.shape), list(indices.shape)
    common = [max(a, b) for a, b in zip(shape_x, shape_i)]
    x = _shape.broadcast_to(x, [common[d] if d != axis else shape_x[d] for d in range(x.ndim)])
    indices = _shape.broadcast_to(indices, [common[d] if d != axis else shape_i[d] for d in range(x.ndim)])
    return node(opset.gather_elements(x.output, indices.output, axis))


def scatter_add(x: OVTensor, indices, updates) -> OVTensor:
    arrays = list(indices) if isinstance(indices, tuple) else [indices]
    arrays = [_index_tensor(a) for a in arrays]
    if any(a.dtype == "bool" for a in arrays):
        raise BackendError("openvino backend: scatter_add takes integer index arrays, not masks.")
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    columns = [_shape.broadcast_to(_wrapped(cast(a, "int32"), x.shape[d]), shape) for d, a in enumerate(arrays)]
    nd = _shape.stack(columns, -1)
    target = (*shape, *x.shape[len(arrays):])
    values = _shape.broadcast_to(operand(updates, x.dtype), target)
    return node(opset.scatter_nd_update(x.output, nd.output, values.output, "sum"))
