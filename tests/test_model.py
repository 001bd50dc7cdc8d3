"""pk.Model: compile / fit / evaluate / predict, weights, summary, retracing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import purekeras as pk
from purekeras import nn, ops, optim, random, train

SCCE = train.losses.SparseCategoricalCrossentropy


def _data(n=50, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (np.argmax(x[:, :classes], axis=1)).astype(np.int32)
    return x, y


def _mlp():
    return nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)])


def _model(backend="jax", metrics=("accuracy",), **compile_kwargs):
    m = pk.Model(_mlp(), input_shape=(4,), backend=backend, seed=0)
    return m.compile(optimizer=optim.Adam(learning_rate=0.01), loss=SCCE(from_logits=True),
                     metrics=list(metrics), **compile_kwargs)


@pytest.fixture(scope="module")
def trained():
    """One compiled, trained model shared by the tests that only read it (evaluate,
    predict, summary, printing): compiling is what costs time."""
    x, y = _data(40)
    m = _model("jax")
    m.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return m


def _counting_loss(traces: list):
    @dataclass(frozen=True)
    class CountingLoss(SCCE):
        def per_example(self, y_true, y_pred):
            traces.append(1)  # runs once per trace, never per compiled call
            return super().per_example(y_true, y_pred)

    return CountingLoss(from_logits=True)


def _manual_metrics(m, x, y, sample_weight=None):
    logits = m.predict(x, batch_size=len(x), verbose=0).astype(np.float64)
    log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - logits.max(1, keepdims=True)
    per_example = -log_probs[np.arange(len(y)), y]
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    correct = (np.argmax(logits, 1) == y).astype(np.float64)
    return (per_example * w).sum() / len(y), (correct * w).sum() / w.sum()


def test_fit_returns_history_and_learns(backend):
    x, y = _data(96)
    m = _model(backend)
    history = m.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert history is m.history and history.epoch == [0, 1, 2, 3, 4]
    assert sorted(history.history) == ["accuracy", "loss"]
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_weights_equal_pure_init_state(backend):
    spec = nn.InputSpec((None, 4))
    ts = train.init_state(_mlp(), optim.Adam(), random.key(0, backend=backend), spec)
    m = pk.Model(_mlp(), input_spec=spec, backend=backend, seed=0)
    np.testing.assert_array_equal(m.get_weights()[0], np.asarray(ts.params["dense"]["kernel"]))


# Tracing is a compiler's: pk.jit on torch runs eagerly for now (torch.compile is the
# second half of the PyTorch issue), so there is no trace to count there.
@pytest.mark.parametrize("backend", ["jax"])
def test_no_retrace_across_batches_and_epochs(backend):
    traces: list = []
    x, y = _data(50)  # 50 = 3 * 16 + 2: a ragged last batch
    m = pk.Model(_mlp(), input_shape=(4,), backend=backend).compile(
        optimizer="adam", loss=_counting_loss(traces), metrics=["accuracy"])
    m.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x[:10], y[:10]))
    assert len(traces) == 2  # one train trace + one eval trace
    m.evaluate(x, y, batch_size=16, verbose=0)
    assert len(traces) == 2


def test_padded_last_batch_gives_exact_evaluate(trained):
    x, y = _data(10)
    m = trained
    sw = np.linspace(0.5, 2.0, 10).astype(np.float32)
    for weights in (None, sw):
        expected_loss, expected_acc = _manual_metrics(m, x, y, weights)
        for batch_size in (4, 10, 3):  # 4 and 3 pad the last batch
            result = m.evaluate(x, y, batch_size=batch_size, verbose=0, sample_weight=weights, return_dict=True)
            assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)
            assert result["accuracy"] == pytest.approx(expected_acc, rel=1e-6)


def test_evaluate_return_forms(trained):
    x, y = _data(20)
    m = trained
    loss, acc = m.evaluate(x, y, verbose=0)
    assert isinstance(loss, float) and loss > 0 and 0.0 <= acc <= 1.0
    assert m.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "accuracy": acc}
    assert m.metrics_names == ["loss", "accuracy"]
    no_metrics = _model("jax", metrics=())
    assert isinstance(no_metrics.evaluate(x, y, verbose=0), float)


def test_predict_matches_apply_and_trims_padding(trained):
    x, _ = _data(21)
    m = trained
    out = m.predict(x, batch_size=8, verbose=0)
    ts = m.train_state
    expected, _ = m.spec.apply(ts.params, ts.state, ops.asarray(x, backend="jax"))
    assert isinstance(out, np.ndarray) and out.shape == (21, 3)
    np.testing.assert_allclose(out, np.asarray(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict([(x[:8],), (x[8:],)], verbose=0), out, rtol=1e-6)


def test_validation_split_and_validation_data(backend):
    x, y = _data(40)
    m = _model(backend)
    seen = []
    record = pk.callbacks.LambdaCallback(on_test_begin=lambda logs: seen.append("test"))
    history = m.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25, callbacks=[record])
    assert {"val_loss", "val_accuracy"} <= set(history.history)
    # The validation set is the last 25%, untouched by training: evaluating it gives val_loss.
    assert m.evaluate(x[30:], y[30:], batch_size=8, verbose=0)[0] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-5)
    assert seen == ["test", "test"]
    history = m.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x[:8], y[:8], np.ones(8)))
    assert len(history.history["val_loss"]) == 1


def test_class_weight_equals_sample_weight(backend):
    x, y = _data(32)
    a, b = _model(backend), _model(backend)
    a.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, class_weight={0: 3.0, 2: 0.5})
    weights = np.where(y == 0, 3.0, np.where(y == 2, 0.5, 1.0)).astype(np.float32)
    b.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, sample_weight=weights)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_shuffle_is_reproducible(backend):
    x, y = _data(48)
    runs = [_model(backend).fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=True).history["loss"]
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_initial_epoch_and_steps_per_epoch(backend):
    x, y = _data(40)
    m = _model(backend)
    batches = []
    count = pk.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = m.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, steps_per_epoch=3, verbose=0,
                    callbacks=[count])
    assert history.epoch == [2, 3] and batches == [0, 1, 2, 0, 1, 2]
    assert int(m.train_state.step) == 6


def test_steps_per_execution_matches_single_steps(backend):
    x, y = _data(36)  # 3 batches (the last padded): one execution of 2 steps, then one single step
    single = _model(backend)
    multi = _model(backend, steps_per_execution=2)
    h1 = single.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    h2 = multi.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    for w1, w2 in zip(single.get_weights(), multi.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)
    assert int(multi.train_state.step) == 6


def test_fit_on_iterables_and_generators(backend):
    x, y = _data(24)
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
    m = _model(backend)
    assert len(m.fit(batches, epochs=2, verbose=0).epoch) == 2

    def gen():
        while True:
            yield from batches

    history = m.fit(gen(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.epoch) == 2
    with pytest.raises(ValueError, match="one-shot"):
        m.fit(iter(batches), epochs=2, verbose=0)
    with pytest.warns(UserWarning, match="ran out of data"):
        history = m.fit(iter(batches), epochs=3, steps_per_epoch=2, verbose=0)
    assert history.epoch == [0, 1]


def test_builds_from_first_data_when_no_input_shape(backend):
    x, y = _data(16)
    m = pk.Model(_mlp(), backend=backend)
    assert m.predict(x, verbose=0).shape == (16, 3) and m.built  # predict needs no compile
    m = pk.Model(_mlp(), backend=backend).compile(optimizer="adam", loss=SCCE(from_logits=True))
    assert not m.built
    m.fit(x, y, batch_size=8, verbose=0)
    assert m.built and m.get_weights()[0].shape == (4, 8)
    with pytest.raises(ValueError, match="no weights yet"):
        pk.Model(_mlp(), backend=backend).get_weights()


@dataclass(frozen=True)
class _Join(nn.Layer):
    """Concatenate a list of inputs on the last axis (a test-local merge layer)."""

    def apply(self, params, state, x, *, training=False, rng=None):
        return ops.concatenate(list(x), axis=-1), state

    def output_spec(self, input_spec):
        specs = list(input_spec)
        return specs[0].with_shape((*specs[0].shape[:-1], sum(s.shape[-1] for s in specs)))


def test_functional_multi_input_with_list_and_dict(backend):
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(30, 3)).astype(np.float32), rng.normal(size=(30, 2)).astype(np.float32)
    y = (xa[:, 0] > 0).astype(np.int32)
    a, b = nn.Input((3,)), nn.Input((2,))
    out = nn.Dense(2)(_Join()([nn.Dense(4)(a), b]))
    for inputs, data, split in (([a, b], [xa, xb], 0.2), ({"a": a, "b": b}, {"a": xa, "b": xb}, 0.0)):
        m = pk.Model(nn.Functional(inputs, out), backend=backend)
        m.compile(optimizer="adam", loss=SCCE(from_logits=True), metrics=["accuracy"])
        history = m.fit(data, y, batch_size=8, epochs=2, verbose=0, validation_split=split)
        assert ("val_loss" in history.history) == bool(split)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert m.predict(data, verbose=0).shape == (30, 2)


def test_get_set_weights_order_and_round_trip(backend):
    m = _model(backend)
    weights = m.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]  # kernel before bias
    new = [np.full_like(w, i) for i, w in enumerate(weights)]
    m.set_weights(new)
    for got, want in zip(m.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="has shape"):
        m.set_weights([np.zeros((2, 2))] + new[1:])
    with pytest.raises(ValueError, match="4 weights"):
        m.set_weights(new[:2])


def test_weights_order_puts_state_after_params(backend):
    model = nn.Sequential([nn.Dense(3), nn.BatchNormalization(), nn.Dense(2)])
    m = pk.Model(model, input_shape=(4,), backend=backend)
    shapes = [w.shape for w in m.get_weights()]
    assert shapes == [(4, 3), (3,), (3,), (3,), (3,), (3,), (3, 2), (2,)]
    paths = ["/".join(p) for _, p in pk.state.weight_paths(model, m.train_state.params, m.train_state.state)]
    assert paths[2:6] == ["batch_normalization/gamma", "batch_normalization/beta",
                          "batch_normalization/moving_mean", "batch_normalization/moving_variance"]


def test_save_and_load_weights(tmp_path, trained):
    m = trained
    path = tmp_path / "model.weights.npz"
    m.save_weights(path)
    other = pk.Model(_mlp(), input_shape=(4,), backend="jax", seed=1)
    other.load_weights(path)
    for a, b in zip(m.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    loaded = pk.state.load_tree(path)
    assert list(loaded) == ["params", "state"] and loaded["params"]["dense"]["kernel"].shape == (4, 8)
    with pytest.raises(FileExistsError):
        m.save_weights(path, overwrite=False)
    wrong = pk.Model(nn.Sequential([nn.Dense(5), nn.Dense(3)]), input_shape=(4,), backend="jax")
    with pytest.raises(pk.state.TreeFileError, match="Shape mismatches"):
        wrong.load_weights(path)
    with pytest.raises(ValueError, match="end in '.weights.h5'"):
        m.save_weights(tmp_path / "model.h5")


def test_summary_lists_layers_shapes_and_totals(capsys, backend):
    m = pk.Model(_mlp(), input_shape=(4,), backend=backend)
    m.summary()
    text = capsys.readouterr().out
    for part in ("dense (Dense)", "dense_1 (Dense)", "(None, 8)", "(None, 3)", "Total params: 67",
                 "Trainable params: 67", "Non-trainable params: 0"):
        assert part in text


def test_verbose_zero_prints_nothing(capsys, trained):
    x, y = _data(20)
    m = trained
    m.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.2)
    m.evaluate(x, y, verbose=0)
    m.predict(x, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_one_and_two_print_epoch_lines(capsys, trained):
    x, y = _data(20)
    m = trained
    m.fit(x, y, batch_size=8, epochs=2, verbose=2, validation_split=0.2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    line = [ln for ln in out.splitlines() if ln.startswith("2/2 - ")][0]
    assert "loss: " in line and "accuracy: " in line and "val_loss: " in line
    m.fit(x, y, batch_size=8, epochs=1, verbose=1)
    m.evaluate(x, y, verbose="auto")
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "3/3" in out and "loss: " in out


def test_train_state_is_assignable_and_learning_rate_settable(backend):
    m = _model(backend)
    fresh = train.init_state(m.spec, m.optimizer, random.key(7, backend=backend), nn.InputSpec((None, 4)),
                             metrics=m.metrics)
    m.train_state = fresh
    np.testing.assert_array_equal(m.get_weights()[0], np.asarray(fresh.params["dense"]["kernel"]))
    m.learning_rate = 0.5
    assert m.learning_rate == 0.5 and float(m.train_state.opt_state.learning_rate) == 0.5
    with pytest.raises(TypeError, match="TrainState"):
        m.train_state = {"params": 1}


def test_fit_before_compile_raises(backend):
    m = pk.Model(_mlp(), input_shape=(4,), backend=backend)
    with pytest.raises(ValueError, match="compile"):
        m.fit(*_data(8), verbose=0)
    with pytest.raises(ValueError, match="no loss"):
        m.compile(optimizer="adam").fit(*_data(8), verbose=0)


def test_sequential_starting_with_input_builds_at_once():
    m = pk.Model(nn.Sequential([nn.Input((3,)), nn.Dense(2)]), backend="jax")
    assert m.built and [w.shape for w in m.get_weights()] == [(3, 2), (2,)]
