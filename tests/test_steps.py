"""The pure train / eval / predict steps: purity, no retracing, multi-step calls."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optree

import purekeras as pk
from purekeras import nn, optim, random, train

MODEL = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)])
LOSS = train.losses.SparseCategoricalCrossentropy(from_logits=True)
ACC = train.metrics.SparseCategoricalAccuracy()
OPT = optim.Adam(learning_rate=1e-2)


def _state(seed=0):
    return train.init_state(MODEL, OPT, random.key(seed, backend="jax"), nn.InputSpec((None, 4)), metrics=[ACC])


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return (jnp.asarray(rng.standard_normal((n, 4)), "float32"), jnp.asarray(rng.integers(0, 3, n), "int32"))


def test_step_is_pure_and_deterministic():
    ts = _state()
    before = optree.tree_map(np.asarray, ts)
    step = train.make_train_step(MODEL, LOSS, OPT, metrics=[ACC])
    a, logs_a = step(ts, _batch())
    b, logs_b = step(ts, _batch())
    for x, y in zip(optree.tree_leaves(before), optree.tree_leaves(ts)):
        np.testing.assert_array_equal(x, y)  # input untouched
    for x, y in zip(optree.tree_leaves(a), optree.tree_leaves(b)):
        np.testing.assert_array_equal(x, y)
    assert int(a.step) == 1 and int(a.opt_state.iterations) == 1
    assert set(logs_a) == {"loss", "sparse_categorical_accuracy"}


def test_jitted_step_never_retraces():
    traces = []
    step = train.make_train_step(MODEL, LOSS, OPT, metrics=[ACC])

    def counted(ts, batch):
        traces.append(1)
        return step(ts, batch)

    jitted = pk.jit(counted, backend="jax")
    ts = _state()
    for i in range(4):
        ts, logs = jitted(ts, _batch(seed=i))
    ts = ts._replace(opt_state=OPT.with_learning_rate(ts.opt_state, 1e-3))
    ts, _ = jitted(ts, _batch(seed=9))
    assert len(traces) == 1
    assert int(ts.step) == 5


def test_jit_equals_eager_step():
    step = train.make_train_step(MODEL, LOSS, OPT, metrics=[ACC])
    eager, _ = step(_state(), _batch())
    compiled, _ = pk.jit(step, backend="jax")(_state(), _batch())
    for x, y in zip(optree.tree_leaves(eager), optree.tree_leaves(compiled)):
        np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=1e-5, atol=1e-6)


def test_loss_decreases():
    step = pk.jit(train.make_train_step(MODEL, LOSS, OPT, metrics=[ACC]), backend="jax")
    ts = _state()
    batch = _batch(64)
    first = None
    for _ in range(60):
        ts = train.reset_metrics(ts, [ACC])
        ts, logs = step(ts, batch)
        first = float(logs["loss"]) if first is None else first
    assert float(logs["loss"]) < 0.85 * first


def test_multi_step_unrolled_and_scanned_equal_single_steps():
    step = train.make_train_step(MODEL, LOSS, OPT, metrics=[ACC])
    batches = [_batch(seed=i) for i in range(3)]
    ts = _state()
    for b in batches:
        ts, logs = step(ts, b)
    stacked = optree.tree_map(lambda *xs: jnp.stack(xs), *batches)
    for unroll in (True, False):
        multi = pk.jit(train.make_multi_step(step, 3, unroll=unroll), backend="jax", donate_argnums=())
        ts_k, logs_k = multi(_state(), stacked)
        for x, y in zip(optree.tree_leaves(ts), optree.tree_leaves(ts_k)):
            np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(logs_k["loss"], logs["loss"], rtol=1e-5)


def test_padding_mask_gives_unpadded_result():
    eval_step = train.make_eval_step(MODEL, LOSS, metrics=[ACC])
    x, y = _batch(10)
    ts = _state()
    _, plain = eval_step(ts, (x, y))
    pad = lambda a: jnp.concatenate([a, jnp.zeros((6, *a.shape[1:]), a.dtype)])  # noqa: E731
    mask = jnp.concatenate([jnp.ones(10), jnp.zeros(6)])
    _, padded = eval_step(ts, (pad(x), pad(y), None, mask))
    for k in plain:
        np.testing.assert_allclose(padded[k], plain[k], rtol=1e-6)


def test_regularization_enters_the_loss():
    reg_model = nn.Sequential([nn.Dense(3, kernel_regularizer=nn.regularizers.L2(0.5))])
    ts = train.init_state(reg_model, OPT, random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    x, y = _batch(8)
    _, logs = train.make_eval_step(reg_model, LOSS)(ts, (x, y))
    logits, _ = reg_model.apply(ts.params, ts.state, x)
    data_loss = LOSS(y, logits)
    penalty = 0.5 * jnp.sum(jnp.square(ts.params["dense"]["kernel"]))
    np.testing.assert_allclose(logs["loss"], data_loss + penalty, rtol=1e-6)


def test_predict_step():
    ts = _state()
    x, _ = _batch(4)
    out = pk.jit(train.make_predict_step(MODEL), backend="jax", donate_argnums=())(ts, x)
    np.testing.assert_allclose(out, MODEL.apply(ts.params, ts.state, x)[0], rtol=1e-6)


def test_train_state_is_a_pytree_jax_can_shard():
    ts = _state()
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    placed = jax.device_put(ts, sharding)
    assert jax.tree.structure(placed) == jax.tree.structure(ts)
