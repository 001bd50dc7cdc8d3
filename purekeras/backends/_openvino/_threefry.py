"""threefry2x32 random bits for the openvino backend, bit-identical to ``jax.random``.

OpenVINO is an inference runtime: random bits are needed only to initialise
weights (``pk.Model(..., backend="openvino")`` builds its weights like any
backend), where keys are constants. So the hash runs on the host, in NumPy
(uint64 words holding uint32 values, masked after each add), in JAX's
``jax_threefry_partitionable`` layout (see ``backends/_torch/_threefry.py``).
A key that depends on a traced input has no value to hash: that raises.

>>> import numpy as np
>>> from purekeras.backends._openvino import _threefry
>>> _threefry.bits(np.array([0, 0], np.uint32), (2,)).tolist()
[4070199207, 4202968722]
"""
from __future__ import annotations

import math

import numpy as np

_MASK = np.uint64(0xFFFFFFFF)
_PARITY = np.uint64(0x1BD11BDA)
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotate_left(x, r: int):
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _MASK


def threefry2x32(key: np.ndarray, hi: np.ndarray, lo: np.ndarray):
    """The threefry2x32 hash (20 rounds) of counter words ``(hi, lo)`` under ``key``
    (uint64 arrays holding uint32 values); returns the two output words."""
    k1, k2 = key[0], key[1]
    ks = (k1, k2, k1 ^ k2 ^ _PARITY)
    x0 = (hi + ks[0]) & _MASK
    x1 = (lo + ks[1]) & _MASK
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = (x0 + x1) & _MASK
            x1 = _rotate_left(x1, r) ^ x0
        x0 = (x0 + ks[(i + 1) % 3]) & _MASK
        x1 = (x1 + ks[(i + 2) % 3] + np.uint64(i + 1)) & _MASK
    return x0, x1


def _words(key) -> np.ndarray:
    return np.asarray(key).astype(np.uint64)


def split(key, num: int) -> np.ndarray:
    counters = np.arange(num, dtype=np.uint64)
    x0, x1 = threefry2x32(_words(key), np.zeros_like(counters), counters)
    return np.stack([x0, x1], axis=-1).astype(np.uint32)


def fold_in(key, data: int) -> np.ndarray:
    x0, x1 = threefry2x32(_words(key), np.zeros((), np.uint64), np.asarray(int(data) & 0xFFFFFFFF, np.uint64))
    return np.stack([x0, x1]).astype(np.uint32)


def bits(key, shape) -> np.ndarray:
    shape = tuple(int(d) for d in shape)
    counters = np.arange(math.prod(shape), dtype=np.uint64)
    x0, x1 = threefry2x32(_words(key), counters >> np.uint64(32), counters & _MASK)
    return (x0 ^ x1).astype(np.uint32).reshape(shape)
