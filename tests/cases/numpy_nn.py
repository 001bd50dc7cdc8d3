"""Honest NumPy references for convolution and pooling: direct loops over every
output position and window offset, written from the definitions (channels-last,
Keras kernel layout ``(*window, in_channels // groups, out_channels)``, TensorFlow's
"same" padding with the extra cell after). Nothing here calls purekeras or a framework.
"""
from __future__ import annotations

import math

import numpy as np


def _padding(in_sizes, eff_window, strides, padding):
    """(output sizes, [(pad_before, pad_after), ...]) per spatial axis."""
    if padding == "valid":
        out = [(s - w) // st + 1 for s, w, st in zip(in_sizes, eff_window, strides)]
        return out, [(0, 0)] * len(in_sizes)
    out = [math.ceil(s / st) for s, st in zip(in_sizes, strides)]
    pads = []
    for o, s, w, st in zip(out, in_sizes, eff_window, strides):
        total = max((o - 1) * st + w - s, 0)
        pads.append((total // 2, total - total // 2))
    return out, pads


def conv(x, kernel, strides, padding, dilation, groups):
    """``y[b, *p, o] = sum_{k, c} x[b, p * strides + k * dilation, g(o) * cin + c] * kernel[k, c, o]``."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    n = x.ndim - 2
    window = kernel.shape[:n]
    cin_g, cout = kernel.shape[-2], kernel.shape[-1]
    cout_g = cout // groups
    eff = [(w - 1) * d + 1 for w, d in zip(window, dilation)]
    out_sizes, pads = _padding(x.shape[1:-1], eff, strides, padding)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    y = np.zeros((x.shape[0], *out_sizes, cout))
    for b in range(x.shape[0]):
        for pos in np.ndindex(*out_sizes):
            for o in range(cout):
                g = o // cout_g
                total = 0.0
                for k in np.ndindex(*window):
                    idx = tuple(p * s + kk * d for p, s, kk, d in zip(pos, strides, k, dilation))
                    for c in range(cin_g):
                        total += xp[(b, *idx, g * cin_g + c)] * kernel[(*k, c, o)]
                y[(b, *pos, o)] = total
    return y


def pool(op, x, window, strides, padding):
    """Max or mean over each window; "same" padding cells are ignored (not counted)."""
    x = np.asarray(x, np.float64)
    out_sizes, pads = _padding(x.shape[1:-1], window, strides, padding)
    y = np.zeros((x.shape[0], *out_sizes, x.shape[-1]))
    for b in range(x.shape[0]):
        for pos in np.ndindex(*out_sizes):
            for c in range(x.shape[-1]):
                cells = []
                for k in np.ndindex(*window):
                    idx = [p * s + kk - lo for p, s, kk, (lo, _) in zip(pos, strides, k, pads)]
                    if all(0 <= i < size for i, size in zip(idx, x.shape[1:-1])):
                        cells.append(x[(b, *idx, c)])
                y[(b, *pos, c)] = max(cells) if op == "max" else sum(cells) / len(cells)
    return y
