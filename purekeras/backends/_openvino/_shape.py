"""Shape ops on OpenVINO graph nodes: reshape, transpose, broadcast, join, split, pad, tile.

Shapes are static while tracing. Two ops keep the leading (batch) axis free,
so that a model traced at one batch size can be reshaped to another (``pk.export``
with a dynamic batch): ``reshape`` copies an unchanged leading size from its
input (``special_zero``), and ``broadcast_to`` broadcasts bidirectionally,
asking only for the sizes that change.

>>> from purekeras.backends._openvino import _shape, _tensor
>>> x = _tensor.asarray([[1, 2, 3], [4, 5, 6]])
>>> _shape.reshape(x, (3, -1)).shape, _shape.flip(x, 1).tolist()
((3, 2), [[3, 2, 1], [6, 5, 4]])
>>> [p.tolist() for p in _shape.split(x, [1], 1)]
[[[1], [4]], [[2, 3], [5, 6]]]
"""
from __future__ import annotations

import math

import numpy as np
import openvino.opset15 as opset

from ._promote import operands
from ._tensor import OVTensor, asarray, cast, int64_constant, node, scalar


def _i64(values):
    return int64_constant(values)


def _normalize(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of bounds for an array of rank {rank}.")
    return axis % max(rank, 1)


def reshape(x: OVTensor, shape) -> OVTensor:
    shape = [int(d) for d in shape]
    if -1 in shape:  # resolve it here: a static target shape
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = x.size // known if known else 0
    if math.prod(shape) != x.size:
        raise ValueError(f"cannot reshape an array of shape {x.shape} into shape {tuple(shape)}.")
    if tuple(shape) == x.shape:
        return x
    target, special_zero = list(shape), False
    if x.ndim and shape and shape[0] == x.shape[0] and 0 not in shape:
        target[0], special_zero = 0, True  # "as the input's axis 0": keeps the batch free
    return node(opset.reshape(x.output, _i64(target), special_zero))


def transposed_source(x: OVTensor) -> tuple[OVTensor, list[int]] | None:
    """``(base, perm)`` when ``x`` is ``transpose(base, perm)`` in the graph, else None."""
    source = x.output.get_node()
    if source.get_type_name() != "Transpose":
        return None
    perm = source.input_value(1).get_node()
    if perm.get_type_name() != "Constant":
        return None
    return OVTensor(source.input_value(0)), [int(a) for a in perm.get_data()]


def transpose(x: OVTensor, axes) -> OVTensor:
    """``x`` with its axes permuted; a transpose of a transpose becomes one (or none),
    so the layout changes around consecutive convolutions cancel in the graph."""
    axes = list(reversed(range(x.ndim))) if axes is None else [_normalize(a, x.ndim) for a in axes]
    if axes == list(range(x.ndim)):
        return x
    inner = transposed_source(x)
    if inner is not None:
        base, perm = inner
        return transpose(base, [perm[a] for a in axes])
    return node(opset.transpose(x.output, _i64(axes)))


def to_layout_of(value: OVTensor, perm: list[int]) -> OVTensor:
    """A constant ``value`` that broadcasts against ``transpose(base, perm)``, moved to
    broadcast against ``base`` instead (for applying elementwise ops before a transpose)."""
    rank = len(perm)
    aligned = reshape(value, (1,) * (rank - value.ndim) + value.shape) if value.ndim < rank else value
    inverse = [perm.index(i) for i in range(rank)]
    return transpose(aligned, inverse)


def broadcast_to(x: OVTensor, shape) -> OVTensor:
    shape = tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}.")
    target = [1 if i >= offset and x.shape[i - offset] == d else d for i, d in enumerate(shape)]
    return node(opset.broadcast(x.output, _i64(target), broadcast_spec="BIDIRECTIONAL"))


def expand_dims(x: OVTensor, axis: int) -> OVTensor:
    return node(opset.unsqueeze(x.output, _i64([_normalize(axis, x.ndim + 1)])))


def squeeze(x: OVTensor, axis) -> OVTensor:
    if axis is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    else:
        axes = [_normalize(a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"cannot squeeze axes {bad} of shape {x.shape}: their size is not 1.")
    if not axes:
        return x
    return node(opset.squeeze(x.output, _i64(axes)))


def concatenate(xs, axis: int) -> OVTensor:
    tensors = operands(*xs)
    axis = _normalize(axis, tensors[0].ndim)
    return node(opset.concat([t.output for t in tensors], axis))


def stack(xs, axis: int) -> OVTensor:
    tensors = operands(*xs)
    axis = _normalize(axis, tensors[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in tensors], axis)


def take_range(x: OVTensor, start: int, stop: int, axis: int) -> OVTensor:
    """``x[start:stop]`` along ``axis`` (``0 <= start <= stop <= size``)."""
    axis = _normalize(axis, x.ndim)
    if (start, stop) == (0, x.shape[axis]):
        return x
    return node(opset.slice(x.output, _i64([start]), _i64([stop]), _i64([1]), _i64([axis])))


def split(x: OVTensor, indices_or_sections, axis: int) -> list[OVTensor]:
    axis = _normalize(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if n % sections:
            raise ValueError(f"split: an axis of size {n} does not divide into {sections} equal sections; "
                             "pass split indices instead.")
        bounds = [i * (n // sections) for i in range(sections + 1)]
    else:
        cuts = [min(max(int(i), 0), n) for i in np.asarray(indices_or_sections).tolist()]
        bounds = [0, *cuts, n]
    return [take_range(x, lo, max(lo, hi), axis) for lo, hi in zip(bounds[:-1], bounds[1:])]


def pad(x: OVTensor, pad_width, constant) -> OVTensor:
    begins = [int(b) for b, _ in pad_width]
    ends = [int(a) for _, a in pad_width]
    if not any(begins) and not any(ends):
        return x
    value = cast(constant, x.dtype) if isinstance(constant, OVTensor) else scalar(
        constant.item() if isinstance(constant, np.generic) else constant, x.dtype)
    return node(opset.pad(x.output, _i64(begins), _i64(ends), "constant", value.output))


def tile(x: OVTensor, reps) -> OVTensor:
    reps = [int(r) for r in reps]
    if len(reps) < x.ndim:
        reps = [1] * (x.ndim - len(reps)) + reps
    return node(opset.tile(x.output, _i64(reps)))


def repeat(x: OVTensor, repeats: int, axis) -> OVTensor:
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _normalize(axis, x.ndim)
    repeats = int(repeats)
    expanded = expand_dims(x, axis + 1)
    shape = list(expanded.shape)
    shape[axis + 1] = repeats
    tiled = broadcast_to(expanded, shape)
    out = list(x.shape)
    out[axis] *= repeats
    return reshape(tiled, out)


def flip(x: OVTensor, axis) -> OVTensor:
    if axis is None:
        axes = list(range(x.ndim))
    else:
        axes = [_normalize(a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    if not axes:
        return x
    big = np.iinfo(np.int64).min
    return node(opset.slice(x.output, _i64([-1] * len(axes)), _i64([big] * len(axes)),
                            _i64([-1] * len(axes)), _i64(axes)))


def _triangle(x: OVTensor, k: int, lower: bool) -> OVTensor:
    n, m = x.shape[-2], x.shape[-1]
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    zero = scalar(0, x.dtype) if x.dtype != "bool" else asarray(np.array(False))
    return node(opset.select(asarray(keep).output, x.output, zero.output))


def tril(x: OVTensor, k: int) -> OVTensor:
    return _triangle(x, int(k), True)


def triu(x: OVTensor, k: int) -> OVTensor:
    return _triangle(x, int(k), False)
