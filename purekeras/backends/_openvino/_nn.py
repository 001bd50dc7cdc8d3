"""Channels-last convolution and pooling on OpenVINO's channels-first nodes.

Inputs are ``(batch, *spatial, channels)`` and kernels Keras's
``(*window, in_channels // groups, out_channels)``; they are transposed to
OpenVINO's ``NC(spatial)`` and ``OI(window)`` (grouped: ``GOI(window)``) layouts,
and the CPU plugin folds the transposes between consecutive layers. ``"same"``
padding is TensorFlow's / XLA's (the extra cell after); the average over
``"same"`` windows counts only the real cells, as Keras.

>>> from purekeras.backends._openvino import _nn, _tensor
>>> import numpy as np
>>> x, k = _tensor.asarray(np.ones((1, 5, 5, 2))), _tensor.asarray(np.ones((3, 3, 2, 4)))
>>> _nn.conv(x, k, (2, 2), "same", (1, 1), 1).shape
(1, 3, 3, 4)
>>> _nn.pool("avg", _tensor.asarray(np.arange(3.0).reshape(1, 3, 1)), (2,), (2,), "same")[0, :, 0].tolist()
[0.5, 2.0]
"""
from __future__ import annotations


import openvino.opset15 as opset

from .._host import same_padding
from . import _shape
from ._promote import is_float, operands
from ._tensor import OVTensor, cast, node


def _pads(x: OVTensor, window, strides, dilation, padding):
    n = len(window)
    if padding == "valid":
        return [0] * n, [0] * n
    pads = [same_padding(x.shape[1 + i], window[i], strides[i], dilation[i]) for i in range(n)]
    return [b for b, _ in pads], [a for _, a in pads]


def _channels_first(x: OVTensor) -> OVTensor:
    return _shape.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))


def _channels_last(y: OVTensor) -> OVTensor:
    return _shape.transpose(y, (0, *range(2, y.ndim), 1))


def conv(x, kernel, strides, padding, dilation, groups) -> OVTensor:
    x, kernel = operands(x, kernel)
    n = x.ndim - 2
    window = kernel.shape[:n]
    begins, ends = _pads(x, window, strides, dilation, padding)
    xt = _channels_first(x)
    kt = _shape.transpose(kernel, (n + 1, n, *range(n)))  # (*window, I, O) -> (O, I, *window)
    if groups == 1:
        y = node(opset.convolution(xt.output, kt.output, list(strides), begins, ends, list(dilation)))
    else:
        out_channels, in_per_group = kt.shape[0], kt.shape[1]
        grouped = _shape.reshape(kt, (groups, out_channels // groups, in_per_group, *window))
        y = node(opset.group_convolution(xt.output, grouped.output, list(strides), begins, ends,
                                         list(dilation)))
    return _channels_last(y)


def pool(op, x, window, strides, padding) -> OVTensor:
    window, strides = list(window), list(strides)
    begins, ends = _pads(x, window, strides, [1] * len(window), padding)
    dtype = x.dtype
    work = x if is_float(dtype) else cast(x, "float32")
    xt = _channels_first(work)
    if op == "max":
        y = node(opset.max_pool(xt.output, strides, [1] * len(window), begins, ends, window), 0)
    else:
        y = node(opset.avg_pool(xt.output, strides, begins, ends, window, exclude_pad=True))
    out = _channels_last(y)
    return out if out.dtype == dtype else cast(out, dtype)
