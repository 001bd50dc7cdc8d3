"""NumPy-style indexing, gathers, scatters and padding on PyTorch tensors.

PyTorch's indexing lacks negative slice steps and negative gather indices; here
both work as in NumPy / JAX.

>>> import torch
>>> from purekeras.backends._torch import _indexing
>>> _indexing.getitem(torch.arange(6), slice(None, None, -2)).tolist()
[5, 3, 1]
>>> _indexing.take(torch.arange(6), torch.tensor([-1, 0]), None).tolist()
[5, 0]
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ._convert import asarray, to_dtype


def _index_tensor(value):
    """An index array as a tensor torch accepts (int64, or bool for masks)."""
    t = value if isinstance(value, torch.Tensor) else asarray(np.asarray(value))
    if t.dtype == torch.bool or t.dtype == torch.int64:
        return t
    return t.to(torch.int64)


def _consumed(item) -> int:
    """How many axes of the indexed array one index item consumes."""
    if item is None:
        return 0
    if isinstance(item, torch.Tensor) and item.dtype == torch.bool:
        return item.ndim
    return 1


def _normalize(x, index) -> tuple:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, (torch.Tensor, np.ndarray, list)):
            item = _index_tensor(item)
        elif isinstance(item, np.integer):
            item = int(item)
        out.append(item)
    return tuple(out)


def _flip_negative_steps(x, items):
    """Negative-step slices become positive ones on a flipped axis (same elements)."""
    used = sum(_consumed(i) for i in items if i is not Ellipsis)
    axis, flips, fixed = 0, [], []
    for item in items:
        if item is Ellipsis:
            axis += x.ndim - used
        elif isinstance(item, slice) and item.step is not None and item.step < 0:
            n = x.shape[axis]
            picked = range(*item.indices(n))
            if len(picked) == 0:
                item = slice(0, 0)
            else:
                start = n - 1 - picked[0]
                item = slice(start, start + (len(picked) - 1) * -item.step + 1, -item.step)
            flips.append(axis)
        axis += _consumed(item) if item is not Ellipsis else 0
        fixed.append(item)
    return torch.flip(x, flips), tuple(fixed)


def getitem(x, index):
    items = _normalize(x, index)
    if any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in items):
        x, items = _flip_negative_steps(x, items)
    return x[items]


def _wrap_negative(indices, size):
    return torch.where(indices < 0, indices + size, indices)


def take(x, indices, axis):
    indices = _index_tensor(indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    flat = _wrap_negative(indices.reshape(-1), x.shape[axis])
    out = torch.index_select(x, axis, flat)
    return out.reshape((*x.shape[:axis], *indices.shape, *x.shape[axis + 1:]))


def take_along_axis(x, indices, axis):
    indices = _wrap_negative(_index_tensor(indices), x.shape[axis])
    return torch.take_along_dim(x, indices, dim=axis)


def scatter_add(x, indices, updates):
    if isinstance(indices, tuple):
        if not all(isinstance(i, (torch.Tensor, np.ndarray, list, int, np.integer)) for i in indices):
            raise TypeError(
                f"scatter_add on torch takes an int array or a tuple of int arrays as indices, got "
                f"{indices!r}; express slices as index arrays (e.g. ops.arange).")
        index = tuple(_index_tensor(i) for i in indices)
    else:
        index = (_index_tensor(indices),)
    return torch.index_put(x, index, to_dtype(updates, x.dtype), accumulate=True)


def pad(x, pad_width, constant):
    flat = [int(v) for before_after in reversed(pad_width) for v in before_after]
    if isinstance(constant, torch.Tensor):  # F.pad takes a number: select the pad cells
        inside = F.pad(torch.ones_like(x, dtype=torch.bool), flat, value=False)
        return torch.where(inside, F.pad(x, flat), constant.to(x.dtype))
    if isinstance(constant, np.generic):
        constant = constant.item()
    return F.pad(x, flat, value=constant)


def flip(x, axis):
    if axis is None:
        dims = list(range(x.ndim))
    elif isinstance(axis, (tuple, list)):
        dims = list(axis)
    else:
        dims = [axis]
    return torch.flip(x, dims)


def split(x, indices_or_sections, axis):
    if isinstance(indices_or_sections, (np.ndarray, torch.Tensor)):
        indices_or_sections = [int(i) for i in indices_or_sections.tolist()]
    elif not isinstance(indices_or_sections, int):
        indices_or_sections = [int(i) for i in indices_or_sections]
    elif x.shape[axis] % indices_or_sections:
        raise ValueError(
            f"split: an axis of size {x.shape[axis]} does not divide into "
            f"{indices_or_sections} equal sections; pass split indices instead.")
    return list(torch.tensor_split(x, indices_or_sections, dim=axis))
