"""Bit-reproducible float32 math for the samplers: the same bits on every backend.

``random.normal`` with the same key must give the same bits on JAX and PyTorch
(same seed, same initial params). Two things stand in the way, and this module
removes both:

- **Fused multiply-add.** Inside a fusion XLA:CPU contracts ``a * b + c`` into
  one FMA (rounded once); eager PyTorch rounds the product, then the sum.
  ``product(a, b)`` is ``a * b`` fenced by ``minimum(., FLOAT32_MAX)`` (the
  identity on finite values, which no compiler folds away), so the product is
  rounded on its own everywhere and ``multiply_add`` rounds twice everywhere.
- **Transcendentals.** ``log``, ``log1p``, ``erfinv`` (and even float32
  ``sqrt`` in PyTorch's vectorised CPU kernels) differ between frameworks in
  the last bits. ``erfinv`` here uses only ``+ - * /`` (correctly rounded in
  IEEE arithmetic), comparisons and selects: Giles' single-precision
  polynomials (as XLA's ``erf_inv``) on a logarithm by range reduction and an
  atanh series, and a square root by Newton's iteration.

It is a sampler's tool (accurate to a few float32 ulps on ``(-1, 1)`` away
from the ends by more than 2**-31), not a public op; ``ops.erfinv`` stays each
framework's own.

>>> from purekeras import ops
>>> from purekeras.ops import _portable
>>> x = ops.asarray([-0.5, 0.0, 0.9], backend="jax")
>>> [round(v, 6) for v in _portable.erfinv(x).tolist()]
[-0.476936, 0.0, 1.163087]
"""
from __future__ import annotations

import math

from . import _core, _math

FLOAT32_MAX = 3.4028234663852886e38
_LN2 = math.log(2.0)
# 1 / (2k + 1), highest power first: log(m) = 2 s * sum_k (s**2)**k / (2k + 1).
_ATANH_SERIES = tuple(1.0 / n for n in (13, 11, 9, 7, 5, 3, 1))
# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision.
_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def fence(x):
    """``x`` unchanged, but no longer a product a following add could fuse with.

    >>> from purekeras import ops
    >>> fence(ops.asarray([1.5], backend="jax")).tolist()
    [1.5]
    """
    return _math.minimum(x, FLOAT32_MAX)


def product(x, y):
    """``x * y`` rounded to its dtype on every backend (never fused into an FMA).

    >>> from purekeras import ops
    >>> product(ops.asarray([3.0], backend="jax"), 0.5).tolist()
    [1.5]
    """
    return fence(_math.multiply(x, y))


def multiply_add(x, y, z):
    """``x * y + z`` with two roundings on every backend.

    >>> from purekeras import ops
    >>> multiply_add(ops.asarray([3.0], backend="jax"), 0.5, 1.0).tolist()
    [2.5]
    """
    return _math.add(product(x, y), z)


def _horner(coefficients, w):
    p = multiply_add(w, coefficients[0], coefficients[1])
    for c in coefficients[2:]:
        p = multiply_add(p, w, c)
    return p


def log_unit(y):
    """Natural log of ``y`` in ``[2**-31, 1]`` (float32), from ``+ - * /`` only.

    ``y = m * 2**-t`` with ``m`` in ``[0.75, 1.5)`` (binary search on exact
    power-of-two scalings), then ``log(m) = 2 atanh((m - 1) / (m + 1))``.

    >>> from purekeras import ops
    >>> round(float(log_unit(ops.asarray(0.25, backend="jax"))), 6)
    -1.386294
    """
    m, t = y, _core.zeros_like(y)
    for s in (16, 8, 4, 2, 1):
        scaled = _math.multiply(m, float(2**s))  # exact
        take = _math.less(scaled, 1.5)
        m = _math.where(take, scaled, m)
        t = _math.where(take, _math.add(t, float(s)), t)
    f = _math.subtract(m, 1.0)  # exact: m is within a factor 2 of 1
    s = _math.divide(f, _math.add(f, 2.0))
    z = product(s, s)
    log_m = product(_math.multiply(s, 2.0), _horner(_ATANH_SERIES, z))
    return _math.subtract(log_m, product(t, _LN2))


def _sqrt(w):
    """Square root of ``w`` in ``[5, 32]`` by Newton's iteration from a line (4 steps
    take the relative error from 0.23 to below 1e-14)."""
    y = multiply_add(w, 0.25, 1.5)
    for _ in range(4):
        y = _math.multiply(_math.add(y, _math.divide(w, y)), 0.5)
    return y


def erfinv(x):
    """The inverse error function of float32 ``x`` in ``(-1, 1)``, bit-identical on
    every backend (Giles' polynomials in ``w = -log(1 - x**2)``).

    >>> from purekeras import ops
    >>> round(float(erfinv(ops.asarray(0.5, backend="jax"))), 6)
    0.476936
    """
    x = fence(x)
    w = _math.negative(log_unit(product(_math.subtract(1.0, x), _math.add(1.0, x))))
    central = _horner(_CENTRAL, _math.subtract(w, 2.5))
    tail = _horner(_TAIL, _math.subtract(_sqrt(w), 3.0))
    return _math.multiply(_math.where(_math.less(w, 5.0), central, tail), x)
