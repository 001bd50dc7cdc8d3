"""optax interop: ``optim.from_optax`` equals optax itself; optax trains purekeras params."""
from __future__ import annotations

import jax
import numpy as np
import optax
import pytest

from purekeras import nn, ops, optim, random, train


def _problem():
    rng = np.random.default_rng(1)
    params = {"dense": {"kernel": rng.normal(size=(3, 2)).astype("float32"),
                        "bias": np.array([0.5, -0.5], "float32")}}
    targets = rng.normal(size=(3, 2)).astype("float32")

    def grads_of(p):  # gradient of 0.5 * ||kernel - targets||^2 + 0.5 * ||bias||^2
        return {"dense": {"kernel": p["dense"]["kernel"] - targets, "bias": p["dense"]["bias"]}}

    return jax.tree.map(lambda a: ops.asarray(a, backend="jax"), params), grads_of


TRANSFORMS = {
    "adam": lambda: optax.adam(0.05),
    "sgd_momentum_nesterov": lambda: optax.sgd(0.1, momentum=0.9, nesterov=True),
    "chain_clip_adamw": lambda: optax.chain(optax.clip_by_global_norm(0.5), optax.adamw(0.05, weight_decay=0.1)),
    "injected_lion": lambda: optax.inject_hyperparams(optax.lion)(learning_rate=0.01),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_matches_optax_itself(name):
    params, grads_of = _problem()
    opt = optim.from_optax(TRANSFORMS[name]())
    opt_state = opt.init(params)
    tx = TRANSFORMS[name]()
    theirs, tx_state = params, tx.init(params)
    for _ in range(5):
        params, opt_state = opt.apply(grads_of(params), opt_state, params)
        updates, tx_state = tx.update(grads_of(theirs), tx_state, theirs)
        theirs = optax.apply_updates(theirs, updates)
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), params, theirs)
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)),
                 opt_state.slots, tx_state)
    assert int(opt_state.iterations) == 5
    assert not np.allclose(np.asarray(params["dense"]["kernel"]), np.asarray(_problem()[0]["dense"]["kernel"]))


def test_injected_learning_rate_is_in_state_and_changes_without_retrace():
    opt = optim.from_optax(optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))
    traces = []

    def apply(grads, opt_state, params):
        traces.append(1)  # a Python side effect: runs once per trace
        return opt.apply(grads, opt_state, params)

    step = jax.jit(apply)
    params, grads_of = _problem()
    opt_state = opt.init(params)
    assert float(opt_state.learning_rate) == pytest.approx(0.1)
    params, opt_state = step(grads_of(params), opt_state, params)
    params, opt_state = step(grads_of(params), opt_state, params)
    opt_state = opt.with_learning_rate(opt_state, 0.0)
    assert float(opt_state.learning_rate) == 0.0
    before = jax.tree.map(np.asarray, params)
    params, opt_state = step(grads_of(params), opt_state, params)
    assert len(traces) == 1
    assert float(opt_state.learning_rate) == 0.0
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), b), params, before)


def test_plain_transform_has_no_readable_rate():
    opt = optim.from_optax(optax.adam(1e-3))
    opt_state = opt.init(_problem()[0])
    assert np.isnan(float(opt_state.learning_rate))
    with pytest.raises(ValueError, match="optax.inject_hyperparams"):
        opt.with_learning_rate(opt_state, 0.1)


def test_scheduled_optax_rate_cannot_be_set():
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=optax.linear_schedule(0.1, 0.0, 10))
    opt = optim.from_optax(tx)
    params, grads_of = _problem()
    opt_state = opt.init(params)
    params, opt_state = opt.apply(grads_of(params), opt_state, params)
    assert float(opt_state.learning_rate) == pytest.approx(0.1)  # the rate optax just used
    with pytest.raises(ValueError, match="schedule"):
        opt.with_learning_rate(opt_state, 0.5)


def test_not_a_transformation_is_explained():
    with pytest.raises(TypeError, match="already a purekeras optimizer"):
        optim.from_optax(optim.Adam())
    with pytest.raises(TypeError, match="expected an optax GradientTransformation"):
        optim.from_optax(optax.adam)  # the factory, not a transformation
    assert optim.get(optim.from_optax(optax.sgd(0.1))).tx is not None  # get passes it through


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1)) + 0.5).astype("float32")
    return ops.asarray(x, backend="jax"), ops.asarray(y, backend="jax")


def test_hand_written_jitted_optax_loop_trains_a_sequential():
    model = nn.Sequential([nn.Dense(16, activation="relu"), nn.Dense(1)])
    params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    x, y = _data()
    tx = optax.adam(0.02)
    tx_state = tx.init(params)

    def loss_fn(params):
        y_pred, _ = model.apply(params, state, x)
        return ops.mean(ops.square(ops.subtract(y_pred, y)))

    @jax.jit
    def step(params, tx_state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, tx_state = tx.update(grads, tx_state, params)
        return optax.apply_updates(params, updates), tx_state, loss

    params, tx_state, first = step(params, tx_state)
    for _ in range(150):
        params, tx_state, loss = step(params, tx_state)
    assert float(loss) < 0.05 * float(first)
    assert set(params) == {"dense", "dense_1"}  # purekeras's param tree, untouched by optax


def test_from_optax_in_a_purekeras_train_step():
    model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(1)])
    opt = optim.from_optax(optax.adam(0.02))
    ts = train.init_state(model, opt, random.key(1, backend="jax"), nn.InputSpec((None, 4)))
    step = jax.jit(train.make_train_step(model, train.losses.MeanSquaredError(), opt))
    batch = _data()
    ts, logs = step(ts, batch)
    first = float(logs["loss"])
    for _ in range(60):
        ts, logs = step(train.reset_metrics(ts, []), batch)
    assert float(logs["loss"]) < 0.3 * first
    assert int(ts.opt_state.iterations) == 61
