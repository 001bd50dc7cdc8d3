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
import numbers
from typing import Sequence

import numpy as np

from . import ops
from .ops import _portable
from .ops._dispatch import dispatch

# Mantissa bits used per float dtype: every uniform value is k / 2**bits, exact in that dtype.
_MANTISSA_BITS = {"float32": 23, "float64": 23, "float16": 10, "bfloat16": 7}


def key(seed: int, *, backend: str | None = None):
    """A key (``uint32[2]`` array) for the integer ``seed`` on ``backend``.

    The key is ``[seed >> 32, seed & 0xFFFFFFFF]`` of ``seed mod 2**64`` (JAX's
    threefry seeding), computed here once, so every backend starts from the same key.

    >>> from purekeras import random
    >>> random.key(2**32 + 5, backend="jax").tolist()
    [1, 5]
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"random.key expects an int seed, got {type(seed).__name__} {seed!r}; "
            "pass e.g. random.key(0) or random.key(int(seed))."
        )
    seed = int(seed) % (1 << 64)
    data = np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32)
    return ops.asarray(data, "uint32", backend=backend)


def split(key, num: int = 2):
    """``num`` new independent keys, stacked: shape ``(num, 2)``. Index them
    (``keys[0]``): TensorFlow graphs cannot unpack a tensor (``a, b = keys``), so
    code meant for every backend indexes.

    >>> from purekeras import random
    >>> random.split(random.key(0, backend="jax"), 3).shape
    (3, 2)
    """
    return dispatch(key).random_split(key, num)


def fold_in(key, data: int):
    """A new key derived from ``key`` and the integer ``data`` (in ``[0, 2**32)``).

    >>> from purekeras import random
    >>> k = random.key(0, backend="jax")
    >>> bool((random.fold_in(k, 1) == random.fold_in(k, 1)).all())
    True
    """
    if isinstance(data, bool) or not isinstance(data, numbers.Integral) or not 0 <= data < 1 << 32:
        raise ValueError(f"random.fold_in expects an int in [0, 2**32), got {data!r}.")
    return dispatch(key).random_fold_in(key, int(data))


def bits(key, shape: Sequence[int]):
    """Uniform random ``uint32`` bits of ``shape``.

    >>> from purekeras import random
    >>> random.bits(random.key(0, backend="jax"), (2, 3)).dtype
    dtype('uint32')
    """
    return dispatch(key).random_bits(key, tuple(shape))


def _unit(raw, mantissa_bits: int = 23):
    """Random ``uint32`` bits -> float32 in ``[0, 1)``: the high ``mantissa_bits``
    bits as ``k / 2**mantissa_bits``, exact in float32 and in the target dtype."""
    b = dispatch(raw)
    high = b.binary("floor_divide", raw, b.asarray(1 << (32 - mantissa_bits), "uint32"))
    return ops.multiply(ops.cast(high, "float32"), 1.0 / (1 << mantissa_bits))


def _open_symmetric_unit(raw):
    """Random ``uint32`` bits -> float32 strictly inside ``(-1, 1)``: ``(k + 0.5) / 2**22 - 1``
    for the high 23 bits ``k``, every step exact, so the ends are ``-+(1 - 2**-23)``."""
    b = dispatch(raw)
    k = ops.cast(b.binary("floor_divide", raw, b.asarray(512, "uint32")), "float32")
    return ops.subtract(ops.multiply(ops.add(k, 0.5), 1.0 / (1 << 22)), 1.0)


def _check_float(dtype: str, where: str) -> None:
    if dtype not in _MANTISSA_BITS:
        raise ValueError(f"random.{where} makes floats; dtype must be one of {sorted(_MANTISSA_BITS)}, "
                         f"got {dtype!r}.")


def _bound(like, value, dtype):
    """``value`` (scalar or array) as an array of ``dtype`` on the backend of ``like``."""
    b = dispatch(like)
    return b.cast(value, dtype) if b.is_array(value) else b.asarray(value, dtype)


def _compiled(key, impl, static_argnums: tuple[int, ...]):
    """``impl`` compiled as one program per static configuration on the key's backend
    (where eager ops would otherwise compile one by one), or ``impl`` itself."""
    return dispatch(key).compile_eager(impl, static_argnums)


def uniform(key, shape: Sequence[int] = (), dtype: str = "float32", minval=0.0, maxval=1.0):
    """Uniform floats in ``[minval, maxval)``.

    The high bits of each draw give ``k / 2**m`` in ``[0, 1)`` (``m`` = 23, or the
    mantissa width of float16 / bfloat16), exact and identical on every backend;
    it is scaled in float32 (product and sum rounded apart, never fused, so every
    backend gives the same bits), cast, and kept below ``maxval`` after rounding.

    >>> from purekeras import random
    >>> u = random.uniform(random.key(0, backend="jax"), (1000,), "bfloat16", -1.0, 1.0)
    >>> bool((u >= -1).all() and (u < 1).all())
    True
    """
    _check_float(dtype, "uniform")
    return _compiled(key, _uniform, (1, 2))(key, tuple(shape), dtype, minval, maxval)


def _uniform(key, shape, dtype, minval, maxval):
    unit = _unit(bits(key, shape), _MANTISSA_BITS[dtype])
    span = ops.subtract(_bound(unit, maxval, "float32"), _bound(unit, minval, "float32"))
    out = ops.cast(_portable.multiply_add(unit, span, minval), dtype)
    below_max = ops.nextafter(_bound(out, maxval, dtype), _bound(out, minval, dtype))
    return ops.minimum(out, below_max)


def normal(key, shape: Sequence[int] = (), dtype: str = "float32", mean=0.0, stddev=1.0):
    """Normal samples ``mean + stddev * z`` by the inverse CDF, ``z = sqrt(2) * erfinv(u)``
    for ``u`` uniform strictly inside ``(-1, 1)`` (so ``|z| < 5.3``: never infinite).
    ``erfinv`` is ``ops._portable``'s, so every backend gives the same bits.

    >>> from purekeras import random
    >>> z = random.normal(random.key(0, backend="jax"), (10000,))
    >>> abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1) < 0.05
    True
    """
    _check_float(dtype, "normal")
    return _compiled(key, _normal, (1, 2))(key, tuple(shape), dtype, mean, stddev)


def _normal(key, shape, dtype, mean, stddev):
    z = _standard_normal(bits(key, shape))
    return ops.cast(_portable.multiply_add(z, stddev, mean), dtype)


def _standard_normal(raw):
    """Random ``uint32`` bits -> standard normal float32, ``sqrt(2) * erfinv(u)``."""
    return _portable.product(_portable.erfinv(_open_symmetric_unit(raw)), math.sqrt(2.0))


def truncated_normal(key, shape: Sequence[int] = (), dtype: str = "float32", mean=0.0, stddev=1.0,
                     lower: float = -2.0, upper: float = 2.0):
    """Normal samples restricted to ``[lower, upper]`` standard deviations (Keras's
    ``TruncatedNormal`` uses ±2, giving a standard deviation of ``0.8796 * stddev``),
    drawn exactly by the inverse CDF over the truncated range.

    >>> from purekeras import random
    >>> t = random.truncated_normal(random.key(0, backend="jax"), (1000,))
    >>> bool((abs(t) <= 2).all())
    True
    """
    _check_float(dtype, "truncated_normal")
    impl = _compiled(key, _truncated_normal, (1, 2, 5, 6))
    return impl(key, tuple(shape), dtype, mean, stddev, float(lower), float(upper))


def _truncated_normal(key, shape, dtype, mean, stddev, lower, upper):
    a = math.erf(lower / math.sqrt(2.0))
    b = math.erf(upper / math.sqrt(2.0))
    # Map (-1, 1) onto (a, b) so erfinv never sees the endpoints.
    u = _portable.multiply_add(_open_symmetric_unit(bits(key, shape)), (b - a) / 2.0, (a + b) / 2.0)
    z = ops.clip(_portable.product(_portable.erfinv(u), math.sqrt(2.0)), lower, upper)
    return ops.cast(_portable.multiply_add(z, stddev, mean), dtype)


def bernoulli(key, p=0.5, shape: Sequence[int] | None = None):
    """Booleans that are True with probability ``p``; ``shape`` defaults to ``p``'s shape.

    >>> from purekeras import random
    >>> random.bernoulli(random.key(0, backend="jax"), 0.3, (4,)).dtype
    dtype('bool')
    """
    shape = ops.shape(p) if shape is None else tuple(shape)
    return ops.less(uniform(key, shape), p)


def categorical(key, logits, num_samples: int = 1):
    """Class indices sampled from ``logits`` (``(batch, classes)``) by the Gumbel-max
    trick: shape ``(batch, num_samples)``, int32.

    >>> import numpy as np
    >>> from purekeras import ops, random
    >>> logits = ops.asarray(np.log(np.array([[0.0, 1.0]]) + 1e-30), backend="jax")
    >>> random.categorical(random.key(0, backend="jax"), logits, 3).tolist()
    [[1, 1, 1]]
    """
    if ops.ndim(logits) != 2:
        raise ValueError(f"random.categorical expects logits of shape (batch, classes), "
                         f"got shape {ops.shape(logits)}.")
    return _compiled(key, _categorical, (2,))(key, logits, int(num_samples))


def _categorical(key, logits, num_samples):
    batch, classes = ops.shape(logits)
    tiny = 1.1754944e-38  # the smallest normal float32: log(u) stays finite
    u = uniform(key, (batch, num_samples, classes), minval=tiny, maxval=1.0)
    gumbel = ops.negative(ops.log(ops.negative(ops.log(u))))
    return ops.argmax(ops.add(ops.expand_dims(logits, 1), gumbel), axis=-1)


def permutation(key, n: int):
    """A random permutation of ``range(n)`` (int32), by sorting random bits.

    >>> from purekeras import random
    >>> sorted(random.permutation(random.key(0, backend="jax"), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    return _compiled(key, _permutation, (1,))(key, int(n))


def _permutation(key, n):
    return ops.argsort(bits(key, (n,)), axis=-1)


def shuffle(key, x, axis: int = 0):
    """``x`` with its entries along ``axis`` randomly permuted.

    >>> from purekeras import ops, random
    >>> x = ops.arange(4, backend="jax")
    >>> sorted(random.shuffle(random.key(0, backend="jax"), x).tolist())
    [0, 1, 2, 3]
    """
    return ops.take(x, permutation(key, ops.shape(x)[axis]), axis=axis)


__all__ = [
    "key", "split", "fold_in", "bits", "uniform", "normal", "truncated_normal",
    "bernoulli", "categorical", "permutation", "shuffle",
]
