"""Stateless random: determinism, independence, ranges and distributions, per backend.

Statistical checks use n = 1e5 draws and bounds of about 5 standard errors, so a
correct sampler fails them with probability below 1e-6 (and the keys are fixed).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import purekeras as pk
from purekeras import backends, ops, random

N = 100_000


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _f64(x):
    return _np(ops.cast(x, "float32")).astype(np.float64)


def test_keys_are_uint32_pairs_of_the_seed(backend):
    k = random.key(0, backend=backend)
    assert backends.backend_name_of(k) == backend
    assert ops.dtype(k) == "uint32" and ops.shape(k) == (2,)
    assert _np(random.key(7, backend=backend)).tolist() == [0, 7]
    assert _np(random.key(2**32 + 5, backend=backend)).tolist() == [1, 5]
    assert _np(random.key(-1, backend=backend)).tolist() == [2**32 - 1, 2**32 - 1]
    assert _np(random.key(np.int64(7), backend=backend)).tolist() == [0, 7]


@pytest.mark.parametrize("seed", [1.5, "0", True, None, np.float32(1)])
def test_non_int_seed_raises(seed):
    with pytest.raises(TypeError, match="random.key expects an int seed"):
        random.key(seed, backend="jax")


def test_same_key_same_numbers(backend):
    k = random.key(42, backend=backend)
    for sample in (lambda k: random.bits(k, (5,)), lambda k: random.uniform(k, (5,)),
                   lambda k: random.normal(k, (5,)), lambda k: random.permutation(k, 6)):
        np.testing.assert_array_equal(_np(sample(k)), _np(sample(random.key(42, backend=backend))))
    compiled = pk.jit(lambda k: random.normal(k, (5,)), backend=backend, donate_argnums=())
    np.testing.assert_allclose(_np(compiled(k)), _np(random.normal(k, (5,))), rtol=1e-6, atol=1e-6)
    assert not np.array_equal(_np(random.uniform(k, (5,))), _np(random.uniform(random.key(43, backend=backend), (5,))))


def test_split_keys_differ(backend):
    k = random.key(0, backend=backend)
    keys = _np(random.split(k, 4))
    assert keys.shape == (4, 2) and keys.dtype == np.uint32
    rows = {tuple(r) for r in keys} | {tuple(_np(k))}
    assert len(rows) == 5
    k1, k2 = random.split(k)
    assert not np.array_equal(_np(random.bits(k1, (8,))), _np(random.bits(k2, (8,))))


def test_fold_in_is_deterministic_and_distinct(backend):
    k = random.key(3, backend=backend)
    np.testing.assert_array_equal(_np(random.fold_in(k, 11)), _np(random.fold_in(k, 11)))
    derived = {tuple(_np(random.fold_in(k, d))) for d in (0, 1, 2**32 - 1)}
    assert len(derived | {tuple(_np(k))}) == 4
    with pytest.raises(ValueError, match="fold_in expects an int"):
        random.fold_in(k, -1)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_uniform_stays_in_half_open_range(dtype, backend):
    k = random.key(0, backend=backend)
    for lo, hi in ((0.0, 1.0), (-1.0, 1.0), (2.0, 2.1)):
        u = random.uniform(k, (N // 4,), dtype, lo, hi)
        assert ops.dtype(u) == dtype
        x = _f64(u)
        assert x.min() >= lo and x.max() < hi, (dtype, lo, hi, x.min(), x.max())
    x = _f64(random.uniform(k, (N,), dtype, -1.0, 3.0))
    assert abs(x.mean() - 1.0) < 5 * (4 / math.sqrt(12)) / math.sqrt(N) + (0.02 if dtype == "bfloat16" else 0)


def test_uniform_array_bounds_broadcast(backend):
    lo = ops.asarray(np.array([0.0, 10.0], "float32"), backend=backend)
    hi = ops.asarray(np.array([1.0, 10.5], "float32"), backend=backend)
    x = _np(random.uniform(random.key(1, backend=backend), (1000, 2), "float32", lo, hi))
    assert (x[:, 0] >= 0).all() and (x[:, 0] < 1).all()
    assert (x[:, 1] >= 10).all() and (x[:, 1] < 10.5).all()


def test_unit_and_normal_extremes_are_finite(backend):
    """The extreme bit patterns give the extreme samples: still inside the ranges."""
    raw = ops.asarray(np.array([0, 1, 2**31, 2**32 - 1], "uint32"), backend=backend)
    unit = _np(random._unit(raw))
    assert unit[0] == 0.0 and unit[-1] == 1.0 - 2.0**-23
    z = _np(random._standard_normal(raw))
    assert np.isfinite(z).all() and np.abs(z).max() < 6.0, z
    assert z[0] == -z[-1] < -5.0  # symmetric, and far in the tail
    sym = _np(random._open_symmetric_unit(raw))
    assert sym[0] == -(1.0 - 2.0**-23) and sym[-1] == 1.0 - 2.0**-23


def test_normal_mean_and_std(backend):
    x = _f64(random.normal(random.key(0, backend=backend), (N,), "float32", mean=3.0, stddev=2.0))
    assert np.isfinite(x).all()
    assert abs(x.mean() - 3.0) < 5 * 2.0 / math.sqrt(N)
    assert abs(x.std() - 2.0) < 5 * 2.0 / math.sqrt(2 * N)
    # Tails: about 4.55% of draws lie beyond 2 standard deviations.
    assert abs(np.mean(np.abs(x - 3.0) > 4.0) - 0.0455) < 5 * math.sqrt(0.0455 * 0.9545 / N)
    assert ops.dtype(random.normal(random.key(0, backend=backend), (3,), "bfloat16")) == "bfloat16"


def test_truncated_normal_bounded_with_keras_std(backend):
    x = _f64(random.truncated_normal(random.key(0, backend=backend), (N,), "float32", mean=1.0, stddev=0.5))
    assert np.abs(x - 1.0).max() <= 2 * 0.5 + 1e-6
    assert abs(x.mean() - 1.0) < 5 * 0.44 / math.sqrt(N)
    assert abs(x.std() / 0.5 - 0.87962566) < 0.01


def test_bernoulli_rate_and_shape(backend):
    k = random.key(0, backend=backend)
    draws = _np(random.bernoulli(k, 0.3, (N,)))
    assert draws.dtype == np.bool_
    assert abs(draws.mean() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / N)
    p = ops.asarray(np.array([0.0, 1.0, 0.5], "float32"), backend=backend)
    per_p = _np(random.bernoulli(k, p))  # shape defaults to p's shape
    assert per_p.shape == (3,) and not per_p[0] and per_p[1]


def test_categorical_frequencies(backend):
    probs = np.array([[0.2, 0.5, 0.3], [0.7, 0.1, 0.2]])
    logits = ops.asarray(np.log(probs).astype("float32"), backend=backend)
    n = 20_000
    draws = _np(random.categorical(random.key(0, backend=backend), logits, n))
    assert draws.shape == (2, n) and draws.dtype == np.int32
    freq = np.stack([np.bincount(row, minlength=3) / n for row in draws])
    assert np.abs(freq - probs).max() < 5 * math.sqrt(0.25 / n)
    with pytest.raises(ValueError, match="logits of shape"):
        random.categorical(random.key(0, backend=backend), ops.zeros((3,), backend=backend))


def test_permutation_and_shuffle(backend):
    k1, k2 = random.split(random.key(0, backend=backend))
    p1, p2 = _np(random.permutation(k1, 100)), _np(random.permutation(k2, 100))
    assert sorted(p1.tolist()) == list(range(100)) and not np.array_equal(p1, p2)
    x = np.arange(12, dtype="float32").reshape(3, 4)
    rows = _np(random.shuffle(k1, ops.asarray(x, backend=backend)))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    cols = _np(random.shuffle(k1, ops.asarray(x, backend=backend), axis=1))
    assert sorted(cols.T.tolist()) == sorted(x.T.tolist())


def test_float_only_dtypes(backend):
    with pytest.raises(ValueError, match="dtype must be one of"):
        random.uniform(random.key(0, backend=backend), (2,), "int32")
