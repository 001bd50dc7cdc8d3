"""Channels-last convolution and pooling on TensorFlow (its native layout).

Kernels are Keras's ``(*window, in_channels // groups, out_channels)``, which is
TensorFlow's own. TensorFlow's ``"SAME"`` is XLA's (the extra cell after); the
one combination TensorFlow refuses, strides and dilation both above 1, runs as a
stride-1 convolution over XLA's padding, subsampled. Average pooling over
``"same"`` windows counts only the real cells, as Keras does.

>>> import tensorflow as tf
>>> from purekeras.backends._tf import _nn
>>> _nn.conv(tf.ones((1, 5, 5, 2)), tf.ones((3, 3, 2, 4)), (2, 2), "same", (1, 1), 1).shape
TensorShape([1, 3, 3, 4])
"""
from __future__ import annotations


import tensorflow as tf

from .._host import same_padding
from ._convert import promote, to_dtype


def _convolve(x, kernel, strides, padding, dilation, groups):
    n = x.shape.rank - 2
    if groups > 1 and n == 3:  # no grouped 3-d kernels: one convolution per group
        xs = tf.split(x, groups, axis=-1)
        ks = tf.split(kernel, groups, axis=-1)
        return tf.concat([_convolve(a, b, strides, padding, dilation, 1) for a, b in zip(xs, ks)], -1)
    return tf.nn.convolution(x, kernel, strides=list(strides), padding=padding, dilations=list(dilation))


def conv(x, kernel, strides, padding, dilation, groups):
    dtype = promote(x, kernel)
    x, kernel = to_dtype(x, dtype), to_dtype(kernel, dtype)
    strides, dilation = tuple(strides), tuple(dilation)
    n = x.shape.rank - 2
    if max(strides) == 1 or max(dilation) == 1:
        return _convolve(x, kernel, strides, padding.upper(), dilation, groups)
    if padding == "same":
        pads = [same_padding(x.shape[1 + i], kernel.shape[i], strides[i], dilation[i]) for i in range(n)]
        x = tf.pad(x, [[0, 0], *pads, [0, 0]])
    full = _convolve(x, kernel, (1,) * n, "VALID", dilation, groups)
    return full[(slice(None), *(slice(None, None, s) for s in strides), slice(None))]


def pool(op, x, window, strides, padding):
    window, strides = list(window), list(strides)
    kind = "MAX" if op == "max" else "AVG"
    if op == "max" and not (x.dtype.is_floating or x.dtype == tf.int32):
        # Max-pooling kernels are for floats and int32: float64 holds every other int exactly.
        return tf.cast(tf.nn.pool(tf.cast(x, tf.float64), window, kind, strides=strides,
                                  padding=padding.upper()), x.dtype)
    return tf.nn.pool(x, window, kind, strides=strides, padding=padding.upper())
