"""``pk.Model.fit`` vs Keras 3 ``model.fit`` (JAX backend) vs a hand-written loop.

All three train the same network on the same synthetic data (a multiple of the
batch size, so no partial batch), batch 128, Adam (Keras defaults), sparse
categorical cross-entropy from logits, the "accuracy" metric, shuffling each
epoch, ``verbose=0``:

- **fit**: ``pk.Model(spec, input_shape=..., backend="jax")`` → ``compile`` → ``fit``.
- **Keras**: ``keras.Sequential`` with ``KERAS_BACKEND=jax``, run in a SUBPROCESS
  so that Keras's global state cannot touch ours.
- **hand loop**: purekeras's pure step (``pk.jit(train.make_train_step(...))``)
  called once per batch from a Python loop over shuffled NumPy batches, the
  metrics read back as floats at each epoch end (as ``fit`` does).

Timing: a callback (or the loop) stamps the end of every epoch; the figure is
the median epoch time over epochs 2..N (epoch 1 holds the compilation), as
steps/s. Each candidate runs ``fit`` twice (the second call is compiled
already) and the epochs of both calls are pooled.

Run: ``.venv/bin/python benchmarks/bench_fit.py [--quick]``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import _harness as h
import workloads as wl

GOAL_VS_KERAS = 1.5
GOAL_VS_HAND = 1.0
STEPS_PER_EPOCH = 64
HERE = Path(__file__).resolve().parent


def epoch_times(stamps: list[float]) -> list[float]:
    """Seconds of epochs 2..N from the end-of-epoch stamps ``[end1, end2, ...]``.

    >>> epoch_times([1.0, 1.5, 2.5])
    [0.5, 1.0]
    """
    return [b - a for a, b in zip(stamps, stamps[1:])]


def dataset(workload: wl.Workload) -> tuple[np.ndarray, np.ndarray]:
    return workload.data(STEPS_PER_EPOCH * workload.batch_size)


# -- purekeras fit -----------------------------------------------------------------------
def fit_available() -> tuple[bool, str]:
    try:
        import purekeras as pk

        pk.Model  # noqa: B018 - resolves the lazy attribute
    except (ImportError, AttributeError) as err:
        return False, f"pk.Model is not available yet ({err})"
    return True, ""


def pk_fit_epochs(workload: wl.Workload, epochs: int, trials: int) -> list[float]:
    import purekeras as pk
    from purekeras import callbacks, optim, train

    class Stamp(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            self.stamps.append(time.perf_counter())

    x, y = dataset(workload)
    model = pk.Model(workload.purekeras_spec(), input_shape=workload.input_shape, backend="jax")
    model.compile(optimizer=optim.Adam(learning_rate=wl.LEARNING_RATE, epsilon=wl.EPSILON),
                  loss=train.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times = []
    for _ in range(trials):
        stamp = Stamp()
        model.fit(x, y, batch_size=workload.batch_size, epochs=epochs, verbose=0, callbacks=[stamp])
        times += epoch_times(stamp.stamps)
    return times


# -- the hand-written loop ---------------------------------------------------------------
def hand_loop_epochs(workload: wl.Workload, epochs: int, trials: int) -> list[float]:
    import purekeras as pk
    from purekeras import train

    x, y = dataset(workload)
    accuracy = train.metrics.SparseCategoricalAccuracy(name="accuracy")
    model, loss, opt, metrics = workload.purekeras_parts(metrics=(accuracy,))
    ts = workload.purekeras_state(model, opt, metrics=metrics)
    step = pk.jit(train.make_train_step(model, loss, opt, metrics=metrics), backend="jax")
    rng = np.random.default_rng(wl.SEED)
    b = workload.batch_size
    times = []
    for _ in range(trials):
        stamps = []
        for _ in range(epochs):
            ts = train.reset_metrics(ts, metrics)
            order = rng.permutation(len(x))
            logs = None
            for i in range(len(x) // b):
                idx = order[i * b:(i + 1) * b]
                ts, logs = step(ts, (x[idx], y[idx]))
            {k: float(v) for k, v in logs.items()}  # the epoch's logs as floats: one sync
            stamps.append(time.perf_counter())
        times += epoch_times(stamps)
    return times


# -- Keras 3, in a subprocess ------------------------------------------------------------
def keras_worker(name: str, epochs: int, trials: int) -> None:
    """Runs inside the subprocess (``KERAS_BACKEND=jax``); prints the epoch times as JSON."""
    import keras

    workload = wl.WORKLOADS[name]
    keras.utils.set_random_seed(wl.SEED)
    x, y = dataset(workload)

    class Stamp(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_epoch_end(self, epoch, logs=None):
            self.stamps.append(time.perf_counter())

    model = workload.keras_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=wl.LEARNING_RATE, epsilon=wl.EPSILON),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times = []
    for _ in range(trials):
        stamp = Stamp()
        model.fit(x, y, batch_size=workload.batch_size, epochs=epochs, verbose=0, callbacks=[stamp])
        times += epoch_times(stamp.stamps)
    print(json.dumps({"backend": keras.backend.backend(), "version": keras.__version__,
                      "times": times}))


def keras_epochs(name: str, epochs: int, trials: int) -> tuple[list[float], str]:
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--keras-worker", name,
         "--epochs", str(epochs), "--trials", str(trials)],
        capture_output=True, text=True, env=env, cwd=str(HERE), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the Keras subprocess failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["backend"] != "jax":
        raise RuntimeError(f"Keras ran on {result['backend']!r}, not JAX.")
    return result["times"], result["version"]


def main() -> None:
    def extra(parser):
        parser.add_argument("--keras-worker", metavar="WORKLOAD", help="(internal) Keras subprocess mode")
        parser.add_argument("--epochs", type=int, default=0)
        parser.add_argument("--trials", type=int, default=2)
        parser.add_argument("--workloads", default="W1,W2")

    args = h.parse_args(__doc__.splitlines()[0], extra)
    if args.keras_worker:
        keras_worker(args.keras_worker, args.epochs, args.trials)
        return
    epochs, trials = (3, 2) if args.quick else (6, 2)
    h.header(f"fit: pk.Model.fit vs Keras 3 fit (JAX) vs hand loop "
             f"({STEPS_PER_EPOCH} steps/epoch, epochs 2..{epochs} of {trials} fit calls; steps/s, median)")
    ok, why = fit_available()
    rows, keras_version = [], "?"
    for name in args.workloads.split(","):
        workload = wl.WORKLOADS[name]
        usable, reason = wl.available(workload)
        if not usable:
            rows.append([name, f"skipped: {reason}"] + [""] * 5)
            continue
        rate = lambda times: STEPS_PER_EPOCH / h.median(times)  # noqa: E731
        hand = rate(hand_loop_epochs(workload, epochs, trials))
        keras_times, keras_version = keras_epochs(name, epochs, trials)
        keras_rate = rate(keras_times)
        if ok:
            fit = rate(pk_fit_epochs(workload, epochs, trials))
            vs_keras, vs_hand = fit / keras_rate, fit / hand
            cells = [f"{fit:.0f}", f"**{vs_keras:.2f}** ({h.goal(vs_keras >= GOAL_VS_KERAS)})",
                     f"**{vs_hand:.2f}** ({h.goal(vs_hand >= GOAL_VS_HAND)})"]
        else:
            cells = [why, "", ""]
        rows.append([name, cells[0], f"{keras_rate:.0f}", f"{hand:.0f}", *cells[1:],
                     f"{hand / keras_rate:.2f}"])
        print(f"  {name}: done", flush=True)
    print(h.markdown_table(
        ["workload", "pk fit steps/s", f"Keras {keras_version} fit steps/s", "hand loop steps/s",
         f"fit/Keras (goal >= {GOAL_VS_KERAS})", f"fit/hand (goal >= {GOAL_VS_HAND})",
         "hand/Keras"], rows))


if __name__ == "__main__":
    main()
