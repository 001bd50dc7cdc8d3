"""Optimizers: Keras 3 as the oracle, no retrace, the learning rate in the state, errors."""
from __future__ import annotations

import os

import numpy as np
import pytest

from purekeras import ops, optim
from purekeras.optim import schedules

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402  (tests may use JAX directly to jit and count traces)
import keras  # noqa: E402  (the oracle; part of purekeras[test])

# One problem for every optimizer: two variables, gradients of a least-squares loss
# computed in NumPy from each side's current values (so both follow their own path).
_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(6, 3)).astype("float32")
Y = _RNG.normal(size=(6, 2)).astype("float32")
W0 = _RNG.normal(size=(3, 2)).astype("float32") + 1.0
B0 = np.array([0.5, -1.5], "float32")


def _grads(w, b):
    residual = X @ w + b - Y
    return {"w": (X.T @ residual).astype("float32"), "b": residual.sum(0).astype("float32")}


# (id, our optimizer, the Keras optimizer): 5 steps of each must agree within 1e-6.
ORACLE_CASES = [
    ("sgd", lambda: optim.SGD(0.02), lambda: keras.optimizers.SGD(0.02)),
    ("sgd_momentum", lambda: optim.SGD(0.02, momentum=0.9),
     lambda: keras.optimizers.SGD(0.02, momentum=0.9)),
    ("sgd_nesterov", lambda: optim.SGD(0.02, momentum=0.9, nesterov=True),
     lambda: keras.optimizers.SGD(0.02, momentum=0.9, nesterov=True)),
    ("adam", lambda: optim.Adam(0.05), lambda: keras.optimizers.Adam(0.05)),
    ("adam_amsgrad", lambda: optim.Adam(0.05, beta_2=0.9, amsgrad=True),
     lambda: keras.optimizers.Adam(0.05, beta_2=0.9, amsgrad=True)),
    ("adamw", lambda: optim.AdamW(0.05, weight_decay=0.1), lambda: keras.optimizers.AdamW(0.05, weight_decay=0.1)),
    ("rmsprop", lambda: optim.RMSprop(0.01), lambda: keras.optimizers.RMSprop(0.01)),
    ("rmsprop_momentum", lambda: optim.RMSprop(0.01, rho=0.8, momentum=0.5),
     lambda: keras.optimizers.RMSprop(0.01, rho=0.8, momentum=0.5)),
    ("rmsprop_centered", lambda: optim.RMSprop(0.01, momentum=0.3, centered=True, epsilon=1e-3),
     lambda: keras.optimizers.RMSprop(0.01, momentum=0.3, centered=True, epsilon=1e-3)),
    ("adagrad", lambda: optim.Adagrad(0.1), lambda: keras.optimizers.Adagrad(0.1)),
    ("adagrad_accumulator", lambda: optim.Adagrad(0.1, initial_accumulator_value=2.0, epsilon=1e-3),
     lambda: keras.optimizers.Adagrad(0.1, initial_accumulator_value=2.0, epsilon=1e-3)),
    ("adam_clipnorm", lambda: optim.Adam(0.05, clipnorm=1.0), lambda: keras.optimizers.Adam(0.05, clipnorm=1.0)),
    ("sgd_clipvalue", lambda: optim.SGD(0.02, clipvalue=0.5), lambda: keras.optimizers.SGD(0.02, clipvalue=0.5)),
    ("rmsprop_global_clipnorm", lambda: optim.RMSprop(0.01, global_clipnorm=1.0),
     lambda: keras.optimizers.RMSprop(0.01, global_clipnorm=1.0)),
    ("sgd_weight_decay", lambda: optim.SGD(0.02, momentum=0.5, weight_decay=0.3),
     lambda: keras.optimizers.SGD(0.02, momentum=0.5, weight_decay=0.3)),
    ("adagrad_weight_decay", lambda: optim.Adagrad(0.1, weight_decay=0.2),
     lambda: keras.optimizers.Adagrad(0.1, weight_decay=0.2)),
    ("sgd_schedule", lambda: optim.SGD(schedules.ExponentialDecay(0.05, 2, 0.5)),
     lambda: keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5))),
    ("adam_schedule_weight_decay",
     lambda: optim.Adam(schedules.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2), weight_decay=0.1),
     lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2),
                                   weight_decay=0.1)),
]


@pytest.mark.parametrize("case", ORACLE_CASES, ids=[c[0] for c in ORACLE_CASES])
def test_matches_keras(case):
    _, ours_factory, keras_factory = case
    opt = ours_factory()
    params = {"w": ops.asarray(W0, backend="jax"), "b": ops.asarray(B0, backend="jax")}
    opt_state = opt.init(params)
    theirs = keras_factory()
    variables = [keras.Variable(W0), keras.Variable(B0)]
    for _ in range(5):
        ours_np = {k: np.asarray(v) for k, v in params.items()}
        params, opt_state = opt.apply(
            {k: ops.asarray(v, backend="jax") for k, v in _grads(ours_np["w"], ours_np["b"]).items()},
            opt_state, params)
        g = _grads(*(np.asarray(v.value) for v in variables))
        theirs.apply([g["w"], g["b"]], variables)
    np.testing.assert_allclose(np.asarray(params["w"]), np.asarray(variables[0].value), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(params["b"]), np.asarray(variables[1].value), rtol=1e-6, atol=1e-7)
    assert not np.allclose(np.asarray(params["w"]), W0)  # the problem really moved
    assert int(opt_state.iterations) == int(theirs.iterations.value) == 5
    # The state's rate is the rate of the next update, as Keras's `optimizer.learning_rate`.
    np.testing.assert_allclose(float(opt_state.learning_rate), float(theirs.learning_rate), rtol=1e-6)


NAMES = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]


def _problem():
    params = {"w": ops.asarray(W0, backend="jax"), "b": ops.asarray(B0, backend="jax")}
    grads = {k: ops.asarray(v, backend="jax") for k, v in _grads(W0, B0).items()}
    return params, grads


@pytest.mark.parametrize("name", NAMES)
def test_no_retrace_and_learning_rate_in_state(name):
    opt = optim.get(name)
    traces = []

    def apply(grads, opt_state, params):
        traces.append(1)  # a Python side effect: runs once per trace
        return opt.apply(grads, opt_state, params)

    step = jax.jit(apply)
    params, grads = _problem()
    opt_state = opt.init(params)
    params, opt_state = step(grads, opt_state, params)
    params, opt_state = step(grads, opt_state, params)
    opt_state = opt.with_learning_rate(opt_state, 0.0)
    assert float(opt_state.learning_rate) == 0.0
    frozen = {k: np.asarray(v) for k, v in params.items()}
    params, opt_state = step(grads, opt_state, params)
    assert len(traces) == 1
    assert int(opt_state.iterations) == 3
    for k in frozen:  # a zero rate (and no weight decay from it) leaves params as they were
        np.testing.assert_array_equal(np.asarray(params[k]), frozen[k])


def test_schedule_does_not_retrace_and_updates_the_rate():
    schedule = schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.01, 0.001])
    opt = optim.SGD(schedule, momentum=0.9)
    traces = []

    def apply(grads, opt_state, params):
        traces.append(1)
        return opt.apply(grads, opt_state, params)

    step = jax.jit(apply)
    params, grads = _problem()
    opt_state = opt.init(params)
    rates = [float(opt_state.learning_rate)]
    for _ in range(3):
        params, opt_state = step(grads, opt_state, params)
        rates.append(float(opt_state.learning_rate))
    assert len(traces) == 1
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.001], rtol=1e-6)
    with pytest.raises(ValueError, match="schedule"):
        opt.with_learning_rate(opt_state, 0.5)


def test_get():
    assert [type(optim.get(n)).__name__ for n in NAMES] == ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
    assert optim.get("SGD").learning_rate == 0.01  # Keras's default
    assert optim.get("AdamW").weight_decay == 0.004
    opt = optim.RMSprop(centered=True)
    assert optim.get(opt) is opt
    with pytest.raises(ValueError, match="known names: adagrad, adam, adamw, rmsprop, sgd"):
        optim.get("adamax")


def test_specs_are_frozen_and_hashable():
    opt = optim.SGD(schedules.PiecewiseConstantDecay([10], [0.1, 0.01]), momentum=0.9, clipnorm=1.0)
    assert hash(opt) == hash(optim.SGD(schedules.PiecewiseConstantDecay([10], [0.1, 0.01]), momentum=0.9,
                                       clipnorm=1.0))
    with pytest.raises(AttributeError):
        opt.momentum = 0.5


def test_slots_are_named_tuples_with_only_what_is_used():
    params, _ = _problem()
    assert optim.SGD().init(params).slots == optim.SGDSlots(())
    assert set(optim.SGD(momentum=0.5).init(params).slots.momentums) == {"w", "b"}
    adam = optim.Adam().init(params).slots
    assert isinstance(adam, optim.AdamSlots) and adam.v_hat == ()
    assert set(optim.Adam(amsgrad=True).init(params).slots.v_hat) == {"w", "b"}
    rms = optim.RMSprop(centered=True).init(params).slots
    assert rms.momentums == () and set(rms.average_gradients) == {"w", "b"}
    acc = optim.Adagrad(initial_accumulator_value=0.25).init(params).slots.accumulators
    np.testing.assert_array_equal(np.asarray(acc["b"]), [0.25, 0.25])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_params_keep_their_dtype(name, dtype):
    opt = type(optim.get(name))(learning_rate=0.1)  # a step bfloat16 can see
    params = {"w": ops.ones((2, 2), dtype, backend="jax")}
    grads = {"w": ops.full((2, 2), 0.5, "float32", backend="jax")}
    new_params, opt_state = opt.apply(grads, opt.init(params), params)
    assert ops.dtype(new_params["w"]) == dtype
    assert np.all(np.asarray(new_params["w"], "float32") < 1.0)
    assert ops.dtype(opt_state.learning_rate) == "float32"


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD(clipnorm=1.0, global_clipnorm=1.0), "at most one of clipnorm, clipvalue and global_clipnorm"),
    (lambda: optim.Adam(learning_rate="fast"), "`learning_rate` must be a float or a schedule"),
    (lambda: optim.SGD(momentum=1.5), "`momentum` must be a float in \\[0, 1\\]"),
    (lambda: optim.RMSprop(momentum=-0.1), "`momentum` must be a float >= 0"),
    (lambda: optim.AdamW(weight_decay=None), "Use optim.Adam for no weight decay"),
    (lambda: optim.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: optim.SGD(clipvalue=-1.0), "`clipvalue` must be None or a number >= 0"),
])
def test_bad_arguments_are_explained(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_empty_params_are_explained():
    with pytest.raises(ValueError, match="params with no arrays"):
        optim.Adam().init({})


def test_clip_gradients_matches_keras_helpers():
    grads = [ops.asarray(g, backend="jax") for g in _grads(W0, B0).values()]
    ours = optim.clip_gradients(grads, global_clipnorm=0.5)
    np.testing.assert_allclose(float(optim.global_norm(ours)), 0.5, rtol=1e-6)
    zero = optim.clip_gradients([ops.zeros((3,), backend="jax")], clipnorm=1.0)
    np.testing.assert_array_equal(np.asarray(zero[0]), [0.0, 0.0, 0.0])  # no NaN from a zero norm


def test_mismatched_grads_are_explained():
    params, grads = _problem()
    opt = optim.Adam()
    with pytest.raises(ValueError, match="grads and params must have the same tree structure"):
        opt.apply({"w": grads["w"]}, opt.init(params), params)
