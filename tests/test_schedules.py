"""Learning-rate schedules: Keras 3 as the oracle at many steps, traceable, frozen."""
from __future__ import annotations

import os

import numpy as np
import pytest

from purekeras import ops, optim
from purekeras.optim import schedules

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402
import keras  # noqa: E402  (the oracle)

KS = keras.optimizers.schedules
STEPS = list(range(0, 40)) + [57, 99, 100, 101, 250, 1000]
# Keras's CosineDecay with a warmup target uses `ops.cond`, which JAX compiles on
# every eager call: fewer steps, still across warmup, decay and the clamp.
WARMUP_STEPS = [0, 1, 5, 9, 10, 11, 13, 19, 20, 25, 29, 30, 31, 1000]

# (id, ours, Keras's): evaluated at every step of STEPS.
CASES = [
    ("exponential", schedules.ExponentialDecay(0.1, 7, 0.8), KS.ExponentialDecay(0.1, 7, 0.8)),
    ("exponential_staircase", schedules.ExponentialDecay(0.3, 5, 0.5, staircase=True),
     KS.ExponentialDecay(0.3, 5, 0.5, staircase=True)),
    ("inverse_time", schedules.InverseTimeDecay(0.2, 3, 0.7), KS.InverseTimeDecay(0.2, 3, 0.7)),
    ("inverse_time_staircase", schedules.InverseTimeDecay(0.2, 3, 0.7, staircase=True),
     KS.InverseTimeDecay(0.2, 3, 0.7, staircase=True)),
    ("cosine", schedules.CosineDecay(0.1, 30), KS.CosineDecay(0.1, 30)),
    ("cosine_alpha", schedules.CosineDecay(0.1, 25, alpha=0.2), KS.CosineDecay(0.1, 25, alpha=0.2)),
    ("cosine_warmup", schedules.CosineDecay(0.01, 20, alpha=0.1, warmup_target=0.5, warmup_steps=10),
     KS.CosineDecay(0.01, 20, alpha=0.1, warmup_target=0.5, warmup_steps=10)),
    ("cosine_warmup_target_no_steps", schedules.CosineDecay(0.01, 20, warmup_target=0.5),
     KS.CosineDecay(0.01, 20, warmup_target=0.5)),
    ("piecewise", schedules.PiecewiseConstantDecay([5, 12, 30], [1.0, 0.5, 0.1, 0.01]),
     KS.PiecewiseConstantDecay([5, 12, 30], [1.0, 0.5, 0.1, 0.01])),
    ("piecewise_one_boundary", schedules.PiecewiseConstantDecay([3], [0.2, 0.02]),
     KS.PiecewiseConstantDecay([3], [0.2, 0.02])),
    ("polynomial", schedules.PolynomialDecay(0.1, 30), KS.PolynomialDecay(0.1, 30)),
    ("polynomial_power", schedules.PolynomialDecay(0.1, 30, end_learning_rate=0.01, power=2.0),
     KS.PolynomialDecay(0.1, 30, end_learning_rate=0.01, power=2.0)),
    ("polynomial_cycle", schedules.PolynomialDecay(0.1, 12, end_learning_rate=0.001, power=0.5, cycle=True),
     KS.PolynomialDecay(0.1, 12, end_learning_rate=0.001, power=0.5, cycle=True)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_keras(case):
    _, ours, theirs = case
    steps = WARMUP_STEPS if isinstance(ours, schedules.CosineDecay) and ours.warmup_target is not None else STEPS
    # Step by step and eagerly, as Keras is run here: the same float32 operations.
    got = np.asarray([ours(ops.asarray(s, "int32", backend="jax")) for s in steps])
    want = np.asarray([float(theirs(np.int32(s))) for s in steps])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert got.dtype == np.float32
    np.testing.assert_allclose(float(ours(steps[3])), want[3], rtol=1e-6)  # a Python int step
    # Compiled over a vector of steps (the schedule is elementwise). XLA turns
    # `x / constant` into `x * (1 / constant)` and vectorises division, which moves
    # the fraction by an ulp: visible only where `1 - fraction` cancels.
    compiled = np.asarray(jax.jit(jax.vmap(ours))(np.asarray(steps, "int32")))
    np.testing.assert_allclose(compiled, want, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("case", CASES[:1] + CASES[6:7] + CASES[8:9] + CASES[12:13],
                         ids=["exponential", "cosine_warmup", "piecewise", "polynomial_cycle"])
def test_traced_once_and_frozen(case):
    _, schedule, _ = case
    traces = []

    def rate(step):
        traces.append(1)
        return schedule(step)

    compiled = jax.jit(rate)
    for step in (0, 11, 500):
        compiled(ops.asarray(step, "int32", backend="jax"))
    assert len(traces) == 1
    hash(schedule)  # a frozen, hashable spec: a static argument of a compiled step
    with pytest.raises(AttributeError):
        schedule.name = "other"


def test_optimizer_follows_its_schedule():
    schedule = schedules.PolynomialDecay(0.5, 4, end_learning_rate=0.1)
    opt = optim.Adagrad(schedule)
    params = {"w": ops.ones((2,), backend="jax")}
    opt_state = opt.init(params)
    seen = [float(opt_state.learning_rate)]
    for _ in range(5):
        params, opt_state = opt.apply({"w": ops.ones((2,), backend="jax")}, opt_state, params)
        seen.append(float(opt_state.learning_rate))
    np.testing.assert_allclose(seen, [float(schedule(s)) for s in range(6)], rtol=1e-6)
    np.testing.assert_allclose(seen, [0.5, 0.4, 0.3, 0.2, 0.1, 0.1], rtol=1e-6)
    with pytest.raises(ValueError, match="cannot be set by hand"):
        opt.with_learning_rate(opt_state, 0.1)


def test_piecewise_keeps_tuples():
    schedule = schedules.PiecewiseConstantDecay([1, 2], [3.0, 2.0, 1.0])
    assert schedule.boundaries == (1, 2) and schedule.values == (3.0, 2.0, 1.0)


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
    (lambda: schedules.CosineDecay(0.1, -3), "`decay_steps` must be > 0"),
    (lambda: schedules.PolynomialDecay(0.1, 0), "`decay_steps` must be > 0"),
    (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5]), "one shorter than `values`"),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1]), "strictly increasing"),
])
def test_bad_arguments_are_explained(make, message):
    with pytest.raises(ValueError, match=message):
        make()
