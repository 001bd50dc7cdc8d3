"""Callbacks: Keras's hooks and order, and each callback's behaviour inside pk.Model.fit."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np
import pytest

import purekeras as pk
from purekeras import callbacks, nn, optim, train

SCCE = train.losses.SparseCategoricalCrossentropy


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1).astype(np.int32)


def _model(loss=None, lr=0.01):
    m = pk.Model(nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)]), input_shape=(4,), seed=0)
    return m.compile(optimizer=optim.Adam(learning_rate=lr), loss=loss or SCCE(from_logits=True),
                     metrics=["accuracy"])


def _scripted(name, values):
    """A callback that writes ``values[epoch]`` into the epoch logs under ``name``; placed
    before the callback under test, it scripts what that callback monitors."""
    return callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({name: values[epoch]}))


def test_hooks_fire_in_keras_order():
    x, y = _data(16)
    events = []
    hooks = {hook: (lambda *args, hook=hook: events.append(hook.removeprefix("on_")))
             for hook in callbacks._base.HOOKS}
    m = _model()
    m.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x[:8], y[:8]),
          callbacks=[callbacks.LambdaCallback(**hooks)])
    epoch = ["epoch_begin", "train_batch_begin", "train_batch_end", "train_batch_begin", "train_batch_end",
             "test_begin", "test_batch_begin", "test_batch_end", "test_end", "epoch_end"]
    assert events == ["train_begin", *epoch, *epoch, "train_end"]
    events.clear()
    m.evaluate(x, y, batch_size=16, verbose=0, callbacks=[callbacks.LambdaCallback(**hooks)])
    m.predict(x, batch_size=16, verbose=0, callbacks=[callbacks.LambdaCallback(**hooks)])
    assert events == ["test_begin", "test_batch_begin", "test_batch_end", "test_end",
                      "predict_begin", "predict_batch_begin", "predict_batch_end", "predict_end"]


def test_batch_logs_are_arrays_and_epoch_logs_floats():
    x, y = _data(16)
    seen = {}
    record = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.setdefault("batch", logs),
        on_epoch_end=lambda epoch, logs: seen.setdefault("epoch", dict(logs)))
    _model().fit(x, y, batch_size=8, verbose=0, callbacks=[record])
    assert not isinstance(seen["batch"]["loss"], float) and math.isfinite(float(seen["batch"]["loss"]))
    assert all(isinstance(v, float) for v in seen["epoch"].values())


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_epoch_logs_are_the_same_whether_or_not_a_callback_reads_batch_logs(backend):
    """Without a batch-end callback ``fit`` steps without computing logs; the epoch's
    logs, computed from the metric states, are the same as with one."""
    x, y = _data(20)
    histories = []
    for cbs in ([], [callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)]):
        m = pk.Model(nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)]), input_shape=(4,), seed=0,
                     backend=backend)
        m.compile(optimizer=optim.Adam(learning_rate=0.01), loss=SCCE(from_logits=True), metrics=["accuracy"])
        histories.append(m.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=cbs).history)
        assert set(m._functions) & {"train", "train_unlogged"} == {"train_unlogged" if not cbs else "train"}
    assert histories[0] == histories[1]


def test_history_records_every_epoch():
    x, y = _data(16)
    history = _model().fit(x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25)
    assert isinstance(history, callbacks.History) and history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())


def test_early_stopping_stops_and_restores_best_weights():
    x, y = _data(16)
    m = _model()
    snapshots = []
    keep = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(m.get_weights()))
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=1, restore_best_weights=True)
    history = m.fit(x, y, batch_size=8, epochs=10, verbose=0,
                    callbacks=[_scripted("score", [3.0, 1.0, 2.0, 2.0, 2.0]), keep, stop])
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2 and stop.best_epoch == 1
    for got, best in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, best)
    assert not np.array_equal(snapshots[2][0], snapshots[1][0])


def test_early_stopping_baseline_min_delta_and_start_epoch():
    x, y = _data(8)
    scores = [0.5, 0.6, 0.6, 0.6, 0.6]
    stop = callbacks.EarlyStopping(monitor="score", mode="max", baseline=0.9, patience=2)
    history = _model().fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[_scripted("score", scores), stop])
    assert history.epoch == [0, 1, 2]  # below the baseline, the wait is never reset
    stop = callbacks.EarlyStopping(monitor="score", mode="max", patience=2)
    history = _model().fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[_scripted("score", scores), stop])
    assert history.epoch == [0, 1, 2, 3]
    stop = callbacks.EarlyStopping(monitor="score", patience=1)
    with pytest.raises(ValueError, match="mode='max' or mode='min'"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[_scripted("score", [1.0]), stop])
    stop = callbacks.EarlyStopping(monitor="val_loss", min_delta=0.5, patience=1, start_from_epoch=2)
    history = _model().fit(x, y, batch_size=8, epochs=10, verbose=0,
                           callbacks=[_scripted("val_loss", [9.0, 9.0, 5.0, 4.8, 4.0, 1.0]), stop])
    assert history.epoch == [0, 1, 2, 3]  # epochs 0-1 ignored; 4.8 is not 0.5 better than 5.0


def test_reduce_lr_on_plateau_lowers_rate_without_retracing():
    traces: list = []

    @dataclass(frozen=True)
    class CountingLoss(SCCE):
        def per_example(self, y_true, y_pred):
            traces.append(1)
            return super().per_example(y_true, y_pred)

    x, y = _data(16)
    m = _model(loss=CountingLoss(from_logits=True), lr=0.1)
    reduce = callbacks.ReduceLROnPlateau(monitor="score", mode="min", factor=0.5, patience=1, min_lr=0.02)
    history = m.fit(x, y, batch_size=8, epochs=5, verbose=0,
                    callbacks=[_scripted("score", [1.0] * 5), reduce])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    assert m.learning_rate == pytest.approx(0.02)
    assert len(traces) == 1  # one train trace: the rate lives in the optimizer state


def test_reduce_lr_cooldown():
    x, y = _data(8)
    m = _model(lr=1.0)
    reduce = callbacks.ReduceLROnPlateau(monitor="score", mode="min", factor=0.5, patience=1, cooldown=2,
                                         min_delta=0.0)
    m.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[_scripted("score", [1.0] * 6), reduce])
    # Logged before any change: reduced at the end of epoch 1, cooldown counts down at
    # epochs 2 and 3, where the wait restarts and reaches the patience again (Keras's rule).
    assert m.history.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25])


def test_learning_rate_scheduler():
    x, y = _data(8)
    m = _model(lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = m.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[sched])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    one_arg = callbacks.LearningRateScheduler(lambda epoch: 0.001)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[one_arg])
    assert m.learning_rate == pytest.approx(0.001)


def test_csv_logger_writes_rows_and_appends(tmp_path):
    x, y = _data(16)
    path = tmp_path / "log.csv"
    m = _model()
    m.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.5, callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert float(rows[2][2]) == pytest.approx(m.history.history["loss"][1])
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;") and lines[3].endswith(";NA;NA")


def test_model_checkpoint_best_only_writes_and_loads_back(tmp_path):
    x, y = _data(16)
    m = _model()
    snapshots = []
    keep = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(m.get_weights()))
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{score:.2f}.npz")
    ckpt = callbacks.ModelCheckpoint(pattern, monitor="score", mode="min", save_best_only=True)
    m.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[_scripted("score", [3.0, 1.0, 2.0, 0.5]), keep, ckpt])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01-3.00.npz", "ckpt-02-1.00.npz", "ckpt-04-0.50.npz"]
    m.load_weights(tmp_path / "ckpt-02-1.00.npz")
    for got, want in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, want)
    every = callbacks.ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.npz"), save_freq=3)
    m.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[every])  # 8 batches: saves after 3 and 6
    assert sorted(p.name for p in tmp_path.glob("b-*")) == ["b-1-3.npz", "b-2-2.npz"]
    with pytest.raises(ValueError, match="legacy Keras file format"):
        callbacks.ModelCheckpoint(str(tmp_path / "model.h5"))


def test_terminate_on_nan(capsys):
    x, y = _data(32)
    x[9] = np.nan  # in the second batch of 8
    batches = []
    count = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = _model().fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False,
                           callbacks=[callbacks.TerminateOnNaN(), count])
    assert batches == [0, 1] and history.epoch == [0] and math.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_progbar_logger_verbose_modes(capsys):
    x, y = _data(16)
    m = _model()
    m.fit(x, y, batch_size=8, epochs=1, verbose=2, callbacks=[callbacks.ProgbarLogger()])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/1") == 1 and "2/2 - " in out and "loss: " in out
    m.fit(x, y, batch_size=8, epochs=1, verbose=1, validation_split=0.5)
    out = capsys.readouterr().out
    assert "1/1 |" in out and "val_loss: " in out


def test_callback_list_skips_idle_batch_hooks():
    class EpochOnly(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class BatchAlias(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    cbs = callbacks.CallbackList([EpochOnly()])
    assert not cbs.reads_batch_logs("train")
    assert callbacks.CallbackList([BatchAlias()]).reads_batch_logs("train")
    with pytest.raises(TypeError, match="Callback instances"):
        callbacks.CallbackList([object()])
    with pytest.raises(TypeError, match="unknown hooks"):
        callbacks.LambdaCallback(on_epoch_finish=print)
