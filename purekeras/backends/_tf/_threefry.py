"""threefry2x32 random bits on TensorFlow, bit-identical to ``jax.random``.

The layout is JAX's with ``jax_threefry_partitionable=True`` (the default since
JAX 0.5): element ``i`` of an array of ``shape`` (row-major) hashes the 64-bit
counter ``i`` split into ``(hi, lo)`` 32-bit words, and

- ``split(key, num)[i] = threefry(key, (0, i))`` as a ``(hi, lo)`` pair;
- ``fold_in(key, d) = threefry(key, (0, d))``;
- ``bits(key, shape)[i] = hi ^ lo`` of ``threefry(key, counter(i))``.

TensorFlow has uint32 kernels for add, xor and shifts (wrapping modulo 2**32,
under XLA too), so the hash runs on uint32 tensors directly.

>>> import tensorflow as tf
>>> from purekeras.backends._tf import _threefry
>>> _threefry.random_bits(tf.constant([0, 0], tf.uint32), (2,)).numpy().tolist()
[4070199207, 4202968722]
"""
from __future__ import annotations

import math

import tensorflow as tf

from ._convert import tensor

_PARITY = 0x1BD11BDA
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotate_left(x, r: int):
    left = tf.bitwise.left_shift(x, tf.constant(r, tf.uint32))
    right = tf.bitwise.right_shift(x, tf.constant(32 - r, tf.uint32))
    return tf.bitwise.bitwise_or(left, right)


def threefry2x32(key, hi, lo):
    """The threefry2x32 hash (20 rounds) of uint32 counter words ``(hi, lo)`` under
    the uint32 ``key``; returns the two output words."""
    k1, k2 = key[0], key[1]
    ks = (k1, k2, tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(k1, k2), tf.constant(_PARITY, tf.uint32)))
    x0, x1 = hi + ks[0], lo + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = tf.bitwise.bitwise_xor(_rotate_left(x1, r), x0)
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + (ks[(i + 2) % 3] + tf.constant(i + 1, tf.uint32))
    return x0, x1


def _key(key):
    key = tensor(key)
    return key if key.dtype == tf.uint32 else tf.cast(key, tf.uint32)


def random_split(key, num: int):
    counters = tf.range(num, dtype=tf.int32)
    lo = tf.cast(counters, tf.uint32)
    x0, x1 = threefry2x32(_key(key), tf.zeros_like(lo), lo)
    return tf.stack([x0, x1], axis=-1)


def random_fold_in(key, data: int):
    value = tf.constant(int(data) & 0xFFFFFFFF, tf.uint32)
    x0, x1 = threefry2x32(_key(key), tf.constant(0, tf.uint32), value)
    return tf.stack([x0, x1])


def random_bits(key, shape):
    shape = tuple(int(d) for d in shape)
    size = math.prod(shape)
    if size >= 2**31:
        raise ValueError(f"random bits on tensorflow: at most 2**31 - 1 values per call, asked for {size}.")
    lo = tf.cast(tf.range(size, dtype=tf.int32), tf.uint32)
    x0, x1 = threefry2x32(_key(key), tf.zeros_like(lo), lo)
    return tf.reshape(tf.bitwise.bitwise_xor(x0, x1), shape)
