"""BackupAndRestore: an interrupted fit, rerun, ends bitwise where an uninterrupted one does."""
from __future__ import annotations

import os
import random as pyrandom
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import optree
import pytest

from purekeras import callbacks, ops, state

# The training run of every test here: dropout (the RNG key), BatchNormalization (layer
# state), Adam (slots), shuffled batches (the seed), validation, a metric.
FIT = textwrap.dedent("""
    import numpy as np
    import purekeras as pk
    from purekeras import nn

    def build(backend, steps_per_execution=1):
        model = pk.Model(nn.Sequential([nn.Dense(8, activation="relu"), nn.BatchNormalization(),
                                        nn.Dropout(0.3), nn.Dense(3)]),
                         input_shape=(4,), seed=1, backend=backend)
        return model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                             steps_per_execution=steps_per_execution)

    def run(model, callbacks, epochs=3, **fit_args):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(48, 4)).astype(np.float32)
        y = (np.arange(48) % 3).astype(np.int32)
        history = model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, validation_split=0.25,
                            callbacks=callbacks, **fit_args)
        return model, history
""")
NAMESPACE: dict = {}
exec(compile(FIT, "<fit>", "exec"), NAMESPACE)
BACKENDS = ["jax", "torch"]


class Models:
    """One compiled model per (backend, steps_per_execution), reset to its initial
    state for each run: the same run as a fresh model, without compiling again."""

    def __init__(self):
        self.cache = {}

    def fresh(self, backend: str, steps_per_execution: int = 1):
        key = (backend, steps_per_execution)
        if key not in self.cache:
            model = NAMESPACE["build"](backend, steps_per_execution)
            initial = optree.tree_map(lambda a: np.array(ops.convert_to_numpy(a)), model.train_state,
                                      none_is_leaf=False)
            self.cache[key] = (model, initial)
        model, initial = self.cache[key]
        model.train_state = optree.tree_map(lambda a: ops.asarray(a, backend=backend), initial,
                                            none_is_leaf=False)
        return model


@pytest.fixture(scope="module")
def models():
    return Models()


def run(models, backend, callbacks, steps_per_execution=1, **fit_args):
    return NAMESPACE["run"](models.fresh(backend, steps_per_execution), callbacks, **fit_args)


class Interrupt(callbacks.Callback):
    """Raises after ``at`` train batches: an interruption inside the process."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


def _same_weights(model, weights) -> bool:
    return all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(model.get_weights(), weights))


@pytest.fixture(scope="module")
def reference(models):
    """``(weights, history)`` of the uninterrupted run, per backend (and fit arguments)."""
    cache = {}

    def get(backend, **fit_args):
        key = (backend, tuple(sorted(fit_args.items())))
        if key not in cache:
            model, history = run(models, backend, [], **dict(fit_args))
            cache[key] = (model.get_weights(), history.history)
        return cache[key]

    return get


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("save_freq, stop_at", [("epoch", 11), (2, 7)])
def test_an_interrupted_fit_resumes_bitwise(tmp_path, models, backend, save_freq, stop_at, reference):
    with pytest.raises(KeyboardInterrupt):
        run(models, backend, [callbacks.BackupAndRestore(tmp_path, save_freq=save_freq), Interrupt(stop_at)])
    assert os.listdir(tmp_path)
    model, history = run(models, backend, [callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)])
    weights, ref_history = reference(backend)
    assert _same_weights(model, weights)
    assert history.history["loss"][-1] == ref_history["loss"][-1]
    assert history.history["val_loss"][-1] == ref_history["val_loss"][-1]
    assert len(history.history["loss"]) == (1 if save_freq == "epoch" else 2)  # epochs run after resuming
    assert not os.path.exists(tmp_path)  # delete_checkpoint=True: gone after a complete fit


def test_resume_with_steps_per_epoch_and_steps_per_execution(tmp_path, models, reference):
    args = dict(steps_per_epoch=4, steps_per_execution=2)  # batches stream across passes of the data
    with pytest.raises(KeyboardInterrupt):
        run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=2), Interrupt(5)], **args)
    model, _ = run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=2)], **args)
    assert _same_weights(model, reference("jax", **args)[0])


def test_orbax_backups_resume_bitwise(tmp_path, models, reference):
    with pytest.raises(KeyboardInterrupt):
        run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=3, format="orbax"), Interrupt(8)])
    model, _ = run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=3, format="orbax")])
    assert _same_weights(model, reference("jax")[0])


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path, models, reference):
    backup = lambda: callbacks.BackupAndRestore(tmp_path, save_freq=2, double_checkpoint=True)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        run(models, "jax", [backup(), Interrupt(9)])
    manager = state.CheckpointManager(tmp_path)
    assert manager.all_steps() == [6, 8]
    with open(os.path.join(manager.step_directory(8), "state.npz"), "r+b") as f:
        f.truncate(100)  # the latest backup is damaged
    model, _ = run(models, "jax", [backup()])
    assert _same_weights(model, reference("jax")[0])


def test_a_damaged_single_backup_is_a_clear_error(tmp_path, models):
    with pytest.raises(KeyboardInterrupt):
        run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=2), Interrupt(3)])
    (step,) = state.CheckpointManager(tmp_path).all_steps()
    with open(os.path.join(tmp_path, str(step), "state.npz"), "r+b") as f:
        f.truncate(100)
    with pytest.raises(state.CheckpointError, match="truncated|not a readable"):
        run(models, "jax", [callbacks.BackupAndRestore(tmp_path, save_freq=2)])


def test_keep_the_backup_and_refuse_another_seed(tmp_path, models):
    run(models, "jax", [callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    info = state.checkpoint_info(os.path.join(tmp_path, os.listdir(tmp_path)[0]))
    assert info["epoch"] == 1 and info["metadata"]["position"] == [1, 0] and info["metadata"]["seed"] == 1
    _, history = run(models, "jax", [callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    assert history.history == {}  # the backup says the run is complete
    model = models.fresh("jax")
    model.seed = 2
    try:
        with pytest.raises(ValueError, match="seed=1, this one has seed=2"):
            NAMESPACE["run"](model, [callbacks.BackupAndRestore(tmp_path)], epochs=1)
    finally:
        model.seed = 1


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="backup_dir is empty"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int"):
        callbacks.BackupAndRestore("/tmp/x", save_freq=0)


# -- a real kill, in a subprocess ---------------------------------------------------------
CHILD = FIT + textwrap.dedent("""
    import sys
    from purekeras import callbacks

    class Pace(callbacks.Callback):  # reports each batch and waits for the parent's go-ahead
        def __init__(self):
            super().__init__()
            self.count = 0

        def on_train_batch_end(self, batch, logs=None):
            self.count += 1
            print("step", self.count, flush=True)
            sys.stdin.readline()

    backend, backup_dir, out = sys.argv[1:4]
    model, _ = run(build(backend), [Pace(), callbacks.BackupAndRestore(backup_dir, save_freq=2)])
    np.savez(out, *model.get_weights())
    print("done", flush=True)
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fit_killed_mid_epoch_and_rerun_ends_bitwise_identical(tmp_path, backend, reference):
    kill_at = pyrandom.Random(backend).choice([k for k in range(3, 14) if k % 5])  # 5 batches per epoch
    command = [sys.executable, "-c", CHILD, backend, str(tmp_path / "backup"), str(tmp_path / "out.npz")]
    # JAX's persistent compilation cache: the rerun loads the first run's executables.
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "xla"),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        for line in child.stdout:
            step = int(line.split()[1])
            child.stdin.write("go\n")
            child.stdin.flush()
            if step == kill_at:  # let it run into the next step (or a save), then kill it
                time.sleep(pyrandom.Random(step).uniform(0.0, 0.02))
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL and not os.path.exists(tmp_path / "out.npz")
    rerun = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    steps_run = [int(line.split()[1]) for line in rerun.stdout.splitlines() if line.startswith("step")]
    assert len(steps_run) <= 15 - (kill_at - kill_at % 2 - 2)  # resumed from a late backup, not from scratch
    with np.load(tmp_path / "out.npz") as saved:
        weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    expected = reference(backend)[0]
    assert len(weights) == len(expected)
    for got, want in zip(weights, expected):
        assert got.dtype == want.dtype and np.array_equal(got, want)
