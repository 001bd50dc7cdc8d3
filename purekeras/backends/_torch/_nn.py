"""Channels-last convolution and pooling on PyTorch's channels-first kernels.

Inputs are ``(batch, *spatial, channels)`` and kernels Keras's
``(*window, in_channels // groups, out_channels)``; they are permuted to
NC(spatial) / OI(window) views (a channels-last memory layout, so oneDNN runs
them without copies). ``"same"`` padding is XLA's / TensorFlow's: total
``max((out - 1) * stride + dilated_window - size, 0)`` with the extra cell
after, for any stride; the average over ``"same"`` windows counts only the real
cells.

>>> import torch
>>> from purekeras.backends._torch import _nn
>>> _nn.conv(torch.ones(1, 5, 5, 2), torch.ones(3, 3, 2, 4), (2, 2), "same", (1, 1), 1).shape
torch.Size([1, 3, 3, 4])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._host import same_padding
from ._convert import promote, to_dtype

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_SUM_POOL = {2: F.avg_pool2d, 3: F.avg_pool3d}  # with divisor_override=1: window sums


def _channels_first(x):
    return x.movedim(-1, 1)


def _channels_last(y):
    return y.movedim(1, -1)


def _flat_pads(pads) -> list[int]:
    """``F.pad``'s order: the last axis first."""
    return [p for before_after in reversed(pads) for p in before_after]


def conv(x, kernel, strides, padding, dilation, groups):
    dtype = promote(x, kernel)
    x, kernel = to_dtype(x, dtype), to_dtype(kernel, dtype)
    n = x.ndim - 2
    xt = _channels_first(x)
    kt = kernel.permute(n + 1, n, *range(n))  # (*window, I, O) -> (O, I, *window)
    pad_arg = 0
    if padding == "same":
        pads = [same_padding(x.shape[1 + i], kernel.shape[i], strides[i], dilation[i]) for i in range(n)]
        if all(before == after for before, after in pads):
            pad_arg = tuple(before for before, _ in pads)
        else:
            xt = F.pad(xt, _flat_pads(pads))
    y = _CONV[n](xt, kt, None, stride=tuple(strides), padding=pad_arg,
                 dilation=tuple(dilation), groups=groups)
    return _channels_last(y)


def _window_sums(xt, window, strides):
    """Sums over windows of a channels-first array (no padding)."""
    if len(window) == 1:  # 1-d pooling as 2-d over a unit axis
        out = F.avg_pool2d(xt.unsqueeze(-2), (1, *window), (1, *strides), divisor_override=1)
        return out.squeeze(-2)
    return _SUM_POOL[len(window)](xt, window, strides, divisor_override=1)


def pool(op, x, window, strides, padding):
    window, strides = tuple(window), tuple(strides)
    n = len(window)
    xt = _channels_first(x)
    pads = None
    if padding == "same":
        pads = [same_padding(x.shape[1 + i], window[i], strides[i]) for i in range(n)]
        if not any(before or after for before, after in pads):
            pads = None
    if op == "max":
        if x.dtype.is_floating_point:
            low, work = -math.inf, xt
        else:  # no integer max-pool kernels on CPU: float64 holds every int32 exactly
            low, work = -math.inf, xt.to(torch.float64)
        if pads is not None:
            work = F.pad(work, _flat_pads(pads), value=low)
        return _channels_last(_MAX_POOL[n](work, window, strides)).to(x.dtype)
    if pads is None:
        return _channels_last(_window_sums(xt, window, strides) / math.prod(window))
    # Keras's "same" average excludes the padded cells from the count.
    flat = _flat_pads(pads)
    summed = _window_sums(F.pad(xt, flat), window, strides)
    ones = torch.ones((1, 1, *x.shape[1:-1]), dtype=x.dtype)
    counts = _window_sums(F.pad(ones, flat), window, strides)
    return _channels_last(summed / counts)
