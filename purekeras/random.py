"""Stateless randomness: keys are plain ``uint32[2]`` arrays, samplers take a key.

There is no global RNG and no hidden stream: the same key gives the same
numbers, every time. Split a key to get independent ones.

>>> from purekeras import random
>>> key = random.key(0, backend="jax")
>>> k1, k2 = random.split(key)
>>> random.uniform(k1, (2,)).shape
(2,)
"""
from __future__ import annotations

import math
from typing import Sequence

from . import ops
from .ops._dispatch import dispatch


def key(seed: int, *, backend: str | None = None):
    """A key (``uint32[2]`` array) for ``seed`` on ``backend``."""
    if not isinstance(seed, int):
        raise TypeError(f"random.key expects an int seed, got {type(seed).__name__}.")
    return dispatch(backend=backend).random_key(seed)


def split(key, num: int = 2):
    """``num`` new independent keys, stacked: shape ``(num, 2)``."""
    return dispatch(key).random_split(key, num)


def fold_in(key, data: int):
    """A new key derived from ``key`` and the integer ``data``."""
    return dispatch(key).random_fold_in(key, data)


def bits(key, shape: Sequence[int]):
    """Uniform random ``uint32`` bits of ``shape``."""
    return dispatch(key).random_bits(key, tuple(shape))


def uniform(key, shape: Sequence[int] = (), dtype: str = "float32", minval=0.0, maxval=1.0):
    """Uniform floats in ``[minval, maxval)``.

    The 23 high bits become the mantissa of a float in ``[1, 2)``, so the result is
    exact and identical on every backend.
    """
    unit = ops.multiply(_mantissa(key, shape), 1.0 / (1 << 23))  # in [0, 1)
    out = ops.add(ops.multiply(unit, maxval - minval), minval)
    return ops.cast(out, dtype)


def _mantissa(key, shape):
    """The 23 high random bits of each draw as exact float32 integers in [0, 2**23)."""
    raw = bits(key, shape)
    b = dispatch(raw)
    return ops.cast(b.binary("floor_divide", raw, b.asarray(512, "uint32")), "float32")


def _open_symmetric_unit(key, shape):
    """Uniform floats strictly inside (-1, 1), exactly representable in float32."""
    return ops.subtract(ops.multiply(ops.add(_mantissa(key, shape), 0.5), 1.0 / (1 << 22)), 1.0)


def normal(key, shape: Sequence[int] = (), dtype: str = "float32", mean=0.0, stddev=1.0):
    """Standard normal samples (scaled by ``stddev``, shifted by ``mean``) by
    the inverse CDF: ``sqrt(2) * erfinv(u)`` for ``u`` uniform in ``(-1, 1)``."""
    z = ops.multiply(ops.erfinv(_open_symmetric_unit(key, shape)), math.sqrt(2.0))
    return ops.cast(ops.add(ops.multiply(z, stddev), mean), dtype)


def truncated_normal(key, shape: Sequence[int] = (), dtype: str = "float32", mean=0.0, stddev=1.0,
                     lower: float = -2.0, upper: float = 2.0):
    """Normal samples restricted to ``[lower, upper]`` standard deviations, drawn
    exactly by the inverse CDF over the truncated range."""
    a = math.erf(lower / math.sqrt(2.0))
    b = math.erf(upper / math.sqrt(2.0))
    # Map (-1, 1) onto (a, b) so erfinv never sees the endpoints.
    u = ops.add(ops.multiply(_open_symmetric_unit(key, shape), (b - a) / 2.0), (a + b) / 2.0)
    z = ops.multiply(ops.erfinv(u), math.sqrt(2.0))
    z = ops.clip(z, lower, upper)
    return ops.cast(ops.add(ops.multiply(z, stddev), mean), dtype)


def bernoulli(key, p=0.5, shape: Sequence[int] = ()):
    """Booleans that are True with probability ``p``."""
    return ops.less(uniform(key, shape), p)


def categorical(key, logits, num_samples: int = 1):
    """Class indices sampled from ``logits`` (``(batch, classes)``) by the Gumbel-max
    trick: shape ``(batch, num_samples)``, int32."""
    batch, classes = ops.shape(logits)
    tiny = 1.1754944e-38
    u = uniform(key, (batch, num_samples, classes), minval=tiny, maxval=1.0)
    gumbel = ops.negative(ops.log(ops.negative(ops.log(u))))
    return ops.argmax(ops.add(ops.expand_dims(logits, 1), gumbel), axis=-1)


def permutation(key, n: int):
    """A random permutation of ``range(n)`` (int32), by sorting random bits."""
    return ops.argsort(bits(key, (n,)), axis=-1)


def shuffle(key, x, axis: int = 0):
    """``x`` with its entries along ``axis`` randomly permuted."""
    return ops.take(x, permutation(key, ops.shape(x)[axis]), axis=axis)


__all__ = [
    "key", "split", "fold_in", "bits", "uniform", "normal", "truncated_normal",
    "bernoulli", "categorical", "permutation", "shuffle",
]
