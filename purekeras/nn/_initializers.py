"""Initializers: frozen specs called as ``init(key, shape, dtype) -> array``.

Keras's names and defaults. Fans follow Keras: for a kernel of shape
``(*window, fan_in_channels, out_channels)``, ``fan_in = window_size * shape[-2]``
and ``fan_out = window_size * shape[-1]``.

>>> from purekeras import nn, random
>>> w = nn.initializers.get("glorot_uniform")(random.key(0, backend="jax"), (3, 4), "float32")
>>> w.shape
(3, 4)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import ops, random


def compute_fans(shape) -> tuple[float, float]:
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


@dataclass(frozen=True)
class Initializer:
    def __call__(self, key, shape, dtype: str = "float32"):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(key, shape, dtype).")


@dataclass(frozen=True)
class Zeros(Initializer):
    def __call__(self, key, shape, dtype="float32"):
        return ops.zeros(shape, dtype, backend=ops.backend_name(key))


@dataclass(frozen=True)
class Ones(Initializer):
    def __call__(self, key, shape, dtype="float32"):
        return ops.ones(shape, dtype, backend=ops.backend_name(key))


@dataclass(frozen=True)
class Constant(Initializer):
    value: float = 0.0

    def __call__(self, key, shape, dtype="float32"):
        return ops.full(shape, self.value, dtype, backend=ops.backend_name(key))


@dataclass(frozen=True)
class RandomNormal(Initializer):
    mean: float = 0.0
    stddev: float = 0.05
    seed: int | None = None

    def __call__(self, key, shape, dtype="float32"):
        return random.normal(key, shape, dtype, self.mean, self.stddev)


@dataclass(frozen=True)
class RandomUniform(Initializer):
    minval: float = -0.05
    maxval: float = 0.05
    seed: int | None = None

    def __call__(self, key, shape, dtype="float32"):
        return random.uniform(key, shape, dtype, self.minval, self.maxval)


@dataclass(frozen=True)
class TruncatedNormal(Initializer):
    mean: float = 0.0
    stddev: float = 0.05
    seed: int | None = None

    def __call__(self, key, shape, dtype="float32"):
        return random.truncated_normal(key, shape, dtype, self.mean, self.stddev)


@dataclass(frozen=True)
class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, ``n`` the fan chosen by ``mode``."""

    scale: float = 1.0
    mode: str = "fan_in"  # fan_in, fan_out, fan_avg
    distribution: str = "truncated_normal"  # truncated_normal, untruncated_normal, uniform
    seed: int | None = None

    def __post_init__(self):
        if self.mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling mode must be fan_in, fan_out or fan_avg; got {self.mode!r}.")
        if self.distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"Unknown VarianceScaling distribution {self.distribution!r}.")

    def __call__(self, key, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return random.uniform(key, shape, dtype, -limit, limit)
        if self.distribution in ("untruncated_normal", "normal"):
            return random.normal(key, shape, dtype, 0.0, math.sqrt(variance))
        # Std of a standard normal truncated to [-2, 2], as Keras corrects for it.
        return random.truncated_normal(key, shape, dtype, 0.0, math.sqrt(variance) / 0.87962566103423978)


def GlorotUniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def GlorotNormal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed)


def HeUniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def HeNormal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def LecunUniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def LecunNormal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


@dataclass(frozen=True)
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample,
    reshaped to ``shape`` (rows = product of all but the last dimension)."""

    gain: float = 1.0
    seed: int | None = None

    def __call__(self, key, shape, dtype="float32"):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = random.normal(key, flat, "float32")
        q, r = ops.qr(a)
        d = ops.sign(ops.einsum("ii->i", r))
        q = ops.multiply(q, d)
        if rows < cols:
            q = ops.transpose(q)
        return ops.cast(ops.reshape(ops.multiply(q, self.gain), shape), dtype)


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "normal": RandomNormal, "uniform": RandomUniform,  # Keras's aliases
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
}


def get(identifier) -> Initializer:
    """An initializer from a Keras name (``"he_normal"``), a spec, or a callable."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"Unknown initializer {identifier!r}; known: {sorted(_BY_NAME)}.")
        return _BY_NAME[key]()
    if callable(identifier):
        return identifier
    raise TypeError(f"An initializer must be a name or a callable, got {identifier!r}.")
