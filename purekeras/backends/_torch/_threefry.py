"""threefry2x32 random bits on PyTorch, bit-identical to ``jax.random``.

The layout is JAX's with ``jax_threefry_partitionable=True`` (the default since
JAX 0.5): element ``i`` of an array of ``shape`` (row-major) hashes the 64-bit
counter ``i`` split into ``(hi, lo)`` 32-bit words, and

- ``split(key, num)[i] = threefry(key, (0, i))`` as a ``(hi, lo)`` pair;
- ``fold_in(key, d) = threefry(key, (0, d))``;
- ``bits(key, shape)[i] = hi ^ lo`` of ``threefry(key, counter(i))``.

PyTorch's CPU kernels lack most uint32 arithmetic, so the hash runs on int64
tensors holding uint32 values (masked to 32 bits after each add); keys and bits
are returned as uint32 tensors.

>>> import torch
>>> from purekeras.backends._torch import _threefry
>>> _threefry.random_bits(torch.tensor([0, 0], dtype=torch.uint32), (2,)).tolist()
[4070199207, 4202968722]
"""
from __future__ import annotations

import math

import torch

_MASK = 0xFFFFFFFF
_PARITY = 0x1BD11BDA
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotate_left(x, r: int):
    return torch.bitwise_and(torch.bitwise_or(x << r, x >> (32 - r)), _MASK)


def threefry2x32(key, hi, lo):
    """The threefry2x32 hash (20 rounds) of counter words ``(hi, lo)`` under ``key``,
    all int64 tensors holding uint32 values; returns the two output words."""
    k1, k2 = key[0], key[1]
    ks = (k1, k2, torch.bitwise_xor(torch.bitwise_xor(k1, k2), _PARITY))
    x0 = torch.bitwise_and(hi + ks[0], _MASK)
    x1 = torch.bitwise_and(lo + ks[1], _MASK)
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = torch.bitwise_and(x0 + x1, _MASK)
            x1 = torch.bitwise_xor(_rotate_left(x1, r), x0)
        x0 = torch.bitwise_and(x0 + ks[(i + 1) % 3], _MASK)
        x1 = torch.bitwise_and(x1 + ks[(i + 2) % 3] + (i + 1), _MASK)
    return x0, x1


def _words(key):
    return key.to(torch.int64)


def _uint32(x):
    return x.to(torch.uint32)


def random_split(key, num: int):
    counters = torch.arange(num, dtype=torch.int64)
    x0, x1 = threefry2x32(_words(key), torch.zeros_like(counters), counters)
    return _uint32(torch.stack([x0, x1], dim=-1))


def random_fold_in(key, data: int):
    zero, value = torch.zeros((), dtype=torch.int64), torch.tensor(int(data) & _MASK, dtype=torch.int64)
    x0, x1 = threefry2x32(_words(key), zero, value)
    return _uint32(torch.stack([x0, x1]))


def random_bits(key, shape):
    shape = tuple(int(d) for d in shape)
    counters = torch.arange(math.prod(shape), dtype=torch.int64)
    x0, x1 = threefry2x32(_words(key), counters >> 32, torch.bitwise_and(counters, _MASK))
    return _uint32(torch.bitwise_xor(x0, x1).reshape(shape))
