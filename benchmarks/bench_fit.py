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
- **device-resident loop**: the same loop over batches put on the device once,
  unshuffled: the most any training loop around this step can reach, so
  "device loop / Keras" is the best ``fit``/Keras ratio possible here.

Timing: a callback (or the loop) stamps the end of every epoch; the figure is
the median epoch time over epochs 2..N of each ``fit`` call (epoch 1 of the
first call holds the compilation), as steps/s. Each candidate makes several
``fit`` calls, the candidates taking turns call by call (the Keras subprocess
stays alive between its calls), and the epochs of all calls are pooled.

Run: ``.venv/bin/python benchmarks/bench_fit.py [--quick]``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import _harness as h
import workloads as wl

GOAL_VS_KERAS = 1.5
GOAL_VS_HAND = 1.0
# Steps per epoch, so that an epoch lasts a few tenths of a second (a short epoch
# is at the mercy of one preemption on this shared machine).
STEPS_PER_EPOCH = {"W1": 256, "W2": 32, "W3": 4, "P0": 2048}
HERE = Path(__file__).resolve().parent


def epoch_times(stamps: list[float]) -> list[float]:
    """Seconds of epochs 2..N from the end-of-epoch stamps ``[end1, end2, ...]``.

    >>> epoch_times([1.0, 1.5, 2.5])
    [0.5, 1.0]
    """
    return [b - a for a, b in zip(stamps, stamps[1:])]


def dataset(workload: wl.Workload) -> tuple[np.ndarray, np.ndarray]:
    """The training set: ``STEPS_PER_EPOCH`` full batches of synthetic data."""
    return workload.data(STEPS_PER_EPOCH[workload.name] * workload.batch_size)


# -- purekeras fit ---------------------------------------------------------------------
def fit_available() -> tuple[bool, str]:
    """Whether ``pk.Model`` exists yet, and why not."""
    try:
        import purekeras as pk

        pk.Model  # noqa: B018 - resolves the lazy attribute
    except (ImportError, AttributeError) as err:
        return False, f"pk.Model is not available yet ({err})"
    return True, ""


class PkFit:
    """``pk.Model`` compiled once; ``trial(epochs)`` is one ``fit`` call's epochs 2..N."""

    def __init__(self, workload: wl.Workload):
        import purekeras as pk
        from purekeras import optim, train

        self.workload = workload
        self.x, self.y = dataset(workload)
        self.model = pk.Model(workload.purekeras_spec(), input_shape=workload.input_shape, backend="jax")
        self.model.compile(optimizer=optim.Adam(learning_rate=wl.LEARNING_RATE, epsilon=wl.EPSILON),
                           loss=train.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])

    def trial(self, epochs: int) -> list[float]:
        stamp = h.epoch_stamp_callback()
        self.model.fit(self.x, self.y, batch_size=self.workload.batch_size, epochs=epochs, verbose=0,
                       callbacks=[stamp])
        return epoch_times(stamp.stamps)


# -- the hand-written loop ---------------------------------------------------------------
class HandLoop:
    """purekeras's pure step called batch by batch from a Python loop over shuffled
    NumPy batches. With ``on_device=True`` the batches are put on the device once,
    in a fixed order: no slicing, shuffling or copying per step, so its rate is
    the most any loop around this step can reach (the ceiling for ``fit``)."""

    def __init__(self, workload: wl.Workload, *, on_device: bool = False):
        import purekeras as pk
        from purekeras import train

        self.train = train
        self.x, self.y = dataset(workload)
        accuracy = train.metrics.SparseCategoricalAccuracy(name="accuracy")
        model, loss, opt, self.metrics = workload.purekeras_parts(metrics=(accuracy,))
        self.ts = workload.purekeras_state(model, opt, metrics=self.metrics)
        self.step = pk.jit(train.make_train_step(model, loss, opt, metrics=self.metrics), backend="jax")
        self.rng = np.random.default_rng(wl.SEED)
        self.batch_size = workload.batch_size
        self.device_batches = None
        if on_device:
            import jax

            b = self.batch_size
            self.device_batches = [jax.device_put((self.x[i:i + b], self.y[i:i + b]))
                                   for i in range(0, len(self.x), b)]

    def _epoch_batches(self):
        if self.device_batches is not None:
            return self.device_batches
        x, y, b = self.x, self.y, self.batch_size
        order = self.rng.permutation(len(x))
        return ((x[idx], y[idx]) for idx in (order[i:i + b] for i in range(0, len(x), b)))

    def trial(self, epochs: int) -> list[float]:
        step, ts = self.step, self.ts
        stamps = []
        for _ in range(epochs):
            ts = self.train.reset_metrics(ts, self.metrics)
            logs = None
            for batch in self._epoch_batches():
                ts, logs = step(ts, batch)
            {k: float(v) for k, v in logs.items()}  # the epoch's logs as floats: one sync
            stamps.append(time.perf_counter())
        self.ts = ts
        return epoch_times(stamps)


# -- Keras 3, in a subprocess ------------------------------------------------------------
def keras_worker(name: str) -> None:
    """Runs inside the subprocess (``KERAS_BACKEND=jax``): builds and compiles the
    model, then for each line ``fit E`` on stdin runs ``fit(epochs=E)`` and prints
    the epoch times (epochs 2..E) as JSON; stops at end of input."""
    import keras

    workload = wl.get(name)
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
    print(json.dumps({"backend": keras.backend.backend(), "version": keras.__version__}), flush=True)
    for line in sys.stdin:
        stamp = Stamp()
        model.fit(x, y, batch_size=workload.batch_size, epochs=int(line.split()[1]), verbose=0,
                  callbacks=[stamp])
        print(json.dumps(epoch_times(stamp.stamps)), flush=True)


class KerasFit:
    """A Keras subprocess kept alive between trials, so that its trials can take
    turns with ours (the load on this shared machine changes from minute to minute)."""

    def __init__(self, name: str):
        env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
        self.stderr = tempfile.TemporaryFile("w+")  # a file, not a pipe: it can never fill up
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--keras-worker", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env, cwd=str(HERE))
        info = json.loads(self._read())
        if info["backend"] != "jax":
            raise RuntimeError(f"Keras ran on {info['backend']!r}, not JAX.")
        self.version = info["version"]

    def _read(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            raise RuntimeError(f"the Keras subprocess failed:\n{self.stderr.read()[-3000:]}")
        return line

    def trial(self, epochs: int) -> list[float]:
        self.proc.stdin.write(f"fit {epochs}\n")
        self.proc.stdin.flush()
        return json.loads(self._read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        self.stderr.close()


def main() -> None:
    def extra(parser):
        parser.add_argument("--keras-worker", metavar="WORKLOAD", help="(internal) Keras subprocess mode")
        parser.add_argument("--workloads", help="comma-separated; default W1,W2,P0 (W1,P0 with --quick)")

    args = h.parse_args(__doc__.splitlines()[0], extra)
    if args.keras_worker:
        keras_worker(args.keras_worker)
        return
    epochs, trials = (3, 2) if args.quick else (4, 7)
    h.header(f"fit: pk.Model.fit vs Keras 3 fit (JAX) vs hand loop (epochs 2..{epochs} of {trials} "
             "fit calls each, taking turns; steps/s from the median epoch)")
    ok, why = fit_available()
    rows, keras_version = [], "?"
    for name in (args.workloads or ("W1,P0" if args.quick else "W1,W2,P0")).split(","):
        workload = wl.get(name)
        usable, reason = wl.available(workload)
        if not usable:
            rows.append([name, f"skipped: {reason}"] + [""] * 7)
            continue
        keras = KerasFit(name)
        keras_version = keras.version
        candidates = {"keras": keras, "hand": HandLoop(workload),
                      "device": HandLoop(workload, on_device=True)}
        if ok:
            candidates["fit"] = PkFit(workload)
        times = {k: [] for k in candidates}
        for t in range(trials):
            for key in (candidates if t % 2 == 0 else reversed(list(candidates))):
                times[key] += candidates[key].trial(epochs)
        keras.close()
        rate = {k: STEPS_PER_EPOCH[name] / h.median(v) for k, v in times.items()}
        if ok:
            vs_keras, vs_hand = rate["fit"] / rate["keras"], rate["fit"] / rate["hand"]
            cells = [f"{rate['fit']:.0f}", f"**{vs_keras:.2f}** ({h.goal(vs_keras >= GOAL_VS_KERAS)})",
                     f"**{vs_hand:.2f}** ({h.goal(vs_hand >= GOAL_VS_HAND)})"]
        else:
            cells = [why, "", ""]
        rows.append([f"{name} ({STEPS_PER_EPOCH[name]} steps/epoch)", cells[0], f"{rate['keras']:.0f}",
                     f"{rate['hand']:.0f}", f"{rate['device']:.0f}", *cells[1:],
                     f"{rate['device'] / rate['keras']:.2f}",
                     " / ".join(f"{h.spread(times[k]):.2f}" for k in times)])
        print(f"  {name}: done", file=sys.stderr, flush=True)
    print(h.markdown_table(
        ["workload", "pk fit steps/s", f"Keras {keras_version} fit steps/s", "hand loop steps/s",
         "device-resident loop steps/s", f"fit/Keras (goal >= {GOAL_VS_KERAS})",
         f"fit/hand (goal >= {GOAL_VS_HAND})", "ceiling: device loop/Keras",
         "IQR/median (keras / hand / device / fit)"], rows))


if __name__ == "__main__":
    main()
