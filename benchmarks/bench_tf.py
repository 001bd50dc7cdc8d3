"""purekeras on TensorFlow: the pure train step vs hand-written ``tf.function`` steps;
``pk.Model.fit`` vs Keras 3 ``fit`` on TensorFlow.

Tables (one run; medians over interleaved windows, as ``_harness`` does):

1. **Train step** on W1, W2, W3, all XLA-compiled (``jit_compile=True``), batches
   already tensors:
   - *pk*: ``pk.jit(train.make_train_step(...), backend="tensorflow")`` (the
     default: ``tf.function(jit_compile=True)`` over one fixed input signature);
   - *hand variables*: the usual TensorFlow step, ``@tf.function(jit_compile=True)``
     with ``tf.GradientTape``, ``tf.nn.sparse_softmax_cross_entropy_with_logits``
     and a Keras-free Adam (Keras's formulas) updating ``tf.Variable``s in place;
   - *hand functional*: the same math with params and Adam slots as tensors in
     and out (what purekeras does), to separate "in-place variables" from
     "purekeras";
   - *pk JAX*: the same purekeras step on JAX (``jax.jit``), for picking a backend.
   Goal: pk / the faster hand-written step <= 1.10. Compile time is the first
   call (trace + XLA compile + one step).
2. **fit** on W1 and W2: ``pk.Model(..., backend="tensorflow").fit`` vs Keras 3
   ``model.fit`` with ``KERAS_BACKEND=tensorflow`` in a subprocess (Keras's
   defaults: ``jit_compile="auto"``), and ``pk.Model.fit`` on JAX; steps/s from
   the median epoch of epochs 2..N, the candidates taking turns fit call by fit
   call (as ``bench_fit.py``). Goal: pk fit >= 1.5x Keras on W1.

TensorFlow runs ops synchronously on the CPU (a ``tf.function`` call returns once
its outputs are computed), so window ends need no explicit block.

Run: ``.venv/bin/python benchmarks/bench_tf.py [--quick] [--tables step,fit]``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as h  # noqa: E402
import bench_fit  # noqa: E402
import workloads as wl  # noqa: E402

GOAL_STEP = 1.10
GOAL_FIT = 1.5
HERE = Path(__file__).resolve().parent
FIT_STEPS = {"W1": 256, "W2": 32}


# -- the hand-written TensorFlow steps, from purekeras's initial weights -------------------
def tf_forward(workload: wl.Workload):
    """``forward(kernels, x) -> logits`` with ``tf.nn`` ops; ``kernels`` is a list of
    ``(kernel, bias)`` in layer order (Keras layouts, which are TensorFlow's)."""
    import tensorflow as tf

    def forward(kernels, x):
        it = iter(kernels)
        for layer in workload.layers:
            kind = layer[0]
            activation = None
            if kind == "dense":
                w, b = next(it)
                x = tf.matmul(x, w) + b
                activation = layer[2]
            elif kind == "conv":
                w, b = next(it)
                x = tf.nn.conv2d(x, w, 1, "SAME") + b
                activation = layer[3]
            elif kind == "maxpool":
                x = tf.nn.max_pool2d(x, layer[1], layer[1], "VALID")
            else:
                x = tf.reshape(x, (tf.shape(x)[0], -1))
            if activation == "relu":
                x = tf.nn.relu(x)
        return x

    return forward


def _loss(logits, y):
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _adam_alpha(t):
    """Keras's bias-corrected step size at (float) step ``t``."""
    import tensorflow as tf

    return wl.LEARNING_RATE * tf.sqrt(1.0 - wl.BETA_2 ** t) / (1.0 - wl.BETA_1 ** t)


def hand_variables_step(workload: wl.Workload, pk_params):
    """``@tf.function(jit_compile=True)`` + ``GradientTape`` + Adam on ``tf.Variable``s."""
    import tensorflow as tf

    forward = tf_forward(workload)
    kernels = [(tf.Variable(k), tf.Variable(b)) for k, b in wl.native_params(pk_params)]
    variables = [v for pair in kernels for v in pair]
    ms = [tf.Variable(tf.zeros_like(v)) for v in variables]
    vs = [tf.Variable(tf.zeros_like(v)) for v in variables]
    iterations = tf.Variable(0.0)

    @tf.function(jit_compile=True)
    def train(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(forward(kernels, x), y)
        grads = tape.gradient(loss, variables)
        iterations.assign_add(1.0)
        alpha = _adam_alpha(iterations)
        for var, g, m, v in zip(variables, grads, ms, vs):
            m.assign_add((g - m) * (1.0 - wl.BETA_1))
            v.assign_add((tf.square(g) - v) * (1.0 - wl.BETA_2))
            var.assign_sub(m * alpha / (tf.sqrt(v) + wl.EPSILON))
        return loss

    def step(state, batch):
        return state, train(*batch)

    return step


def hand_functional_step(workload: wl.Workload, pk_params):
    """The same math with params and Adam slots as tensors in and out; returns
    ``(step, initial_state)``."""
    import tensorflow as tf

    forward = tf_forward(workload)
    params = [tf.constant(a) for pair in wl.native_params(pk_params) for a in pair]

    @tf.function(jit_compile=True)
    def train(params, ms, vs, t, x, y):
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = _loss(forward(list(zip(params[::2], params[1::2])), x), y)
        grads = tape.gradient(loss, params)
        t = t + 1.0
        alpha = _adam_alpha(t)
        ms = [m + (g - m) * (1.0 - wl.BETA_1) for g, m in zip(grads, ms)]
        vs = [v + (tf.square(g) - v) * (1.0 - wl.BETA_2) for g, v in zip(grads, vs)]
        params = [p - m * alpha / (tf.sqrt(v) + wl.EPSILON) for p, m, v in zip(params, ms, vs)]
        return params, ms, vs, t, loss

    def step(state, batch):
        params, ms, vs, t, loss = train(*state, *batch)
        return (params, ms, vs, t), loss

    zeros = [tf.zeros_like(p) for p in params]
    return step, (params, zeros, list(zeros), tf.constant(0.0))


def tf_batches(workload: wl.Workload, num: int) -> list:
    """``num`` batches ``(x, y)`` of the workload's synthetic data as tensors."""
    import tensorflow as tf

    x, y = workload.data(workload.batch_size * num)
    b = workload.batch_size
    return [(tf.constant(x[i * b:(i + 1) * b]), tf.constant(y[i * b:(i + 1) * b])) for i in range(num)]


def pk_tf_state(workload: wl.Workload, model, opt, seed: int = wl.SEED):
    from purekeras import nn, random, train

    return train.init_state(model, opt, random.key(seed, backend="tensorflow"),
                            nn.InputSpec((None, *workload.input_shape)))


def initial_losses_agree(workload: wl.Workload) -> bool:
    """Sanity check: the hand-written forward and purekeras give the same initial loss."""
    import numpy as np

    model, loss, opt, _ = workload.purekeras_parts()
    ts = pk_tf_state(workload, model, opt)
    x, y = tf_batches(workload, 1)[0]
    pk_loss = float(loss(y, model.apply(ts.params, ts.state, x)[0]))
    hand_loss = float(_loss(tf_forward(workload)(wl.native_params(ts.params), x), y))
    return bool(np.isclose(pk_loss, hand_loss, rtol=1e-4))


def step_runners(workload: wl.Workload, *, with_jax: bool = True) -> list[h.StepRunner]:
    import purekeras as pk
    from purekeras import train

    model, loss, opt, _ = workload.purekeras_parts()
    ts = pk_tf_state(workload, model, opt)
    batches = tf_batches(workload, 4)
    step = pk.jit(train.make_train_step(model, loss, opt), backend="tensorflow")
    runners = [h.StepRunner("pk", step, ts, batches),
               h.StepRunner("hand variables", hand_variables_step(workload, ts.params), None, batches)]
    functional, state = hand_functional_step(workload, ts.params)
    runners.append(h.StepRunner("hand functional", functional, state, batches))
    if with_jax:
        jax_step = pk.jit(train.make_train_step(model, loss, opt), backend="jax")
        runners.append(h.StepRunner("pk JAX", jax_step, workload.purekeras_state(model, opt),
                                    wl.device_batches(workload, 4)))
    return runners


def train_step_table(quick: bool) -> str:
    rows = []
    for name, workload in wl.WORKLOADS.items():
        big = name == "W3"
        runners = step_runners(workload)
        first = {r.name: r.first_call() for r in runners}
        times = h.interleaved(runners, windows=(3 if big else 5) if quick else (7 if big else 11),
                              target_s=1.0 if big else (0.2 if name == "W1" else 0.4))
        med = {k: h.median(v) for k, v in times.items()}
        best = min(med["hand variables"], med["hand functional"])
        best_name = "hand variables" if med["hand variables"] <= med["hand functional"] else "hand functional"
        ratio = med["pk"] / best
        paired = h.paired_ratio(times["pk"], times[best_name])
        rows.append([
            name, h.ms(med["pk"]), h.ms(med["hand variables"]), h.ms(med["hand functional"]),
            f"**{ratio:.3f}** ({h.goal(ratio <= GOAL_STEP)})", f"{paired:.3f}", h.ms(med["pk JAX"]),
            " / ".join(f"{first[k]:.1f}" for k in ("pk", "hand variables", "hand functional")),
            " / ".join(f"{h.spread(times[k]):.2f}" for k in times),
        ])
        print(f"  step {name}: done", file=sys.stderr, flush=True)
    return h.markdown_table(
        ["workload", "pk ms", "hand variables ms", "hand functional ms",
         f"pk / best hand (goal <= {GOAL_STEP})", "paired ratio", "pk JAX ms",
         "first call s (pk / hand var / hand fun)", "IQR/median (pk / hand var / hand fun / JAX)"], rows)


# -- table 2: fit -------------------------------------------------------------------------
class PkFit(bench_fit.PkFit):
    """``bench_fit.PkFit`` on any backend."""

    def __init__(self, workload: wl.Workload, backend: str):
        import purekeras as pk
        from purekeras import optim, train

        self.workload = workload
        self.x, self.y = bench_fit.dataset(workload)
        self.model = pk.Model(workload.purekeras_spec(), input_shape=workload.input_shape, backend=backend)
        self.model.compile(optimizer=optim.Adam(learning_rate=wl.LEARNING_RATE, epsilon=wl.EPSILON),
                           loss=train.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])


class KerasTFFit(bench_fit.KerasFit):
    """``bench_fit``'s Keras subprocess with ``KERAS_BACKEND=tensorflow``."""

    def __init__(self, name: str):
        import json

        env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
        self.stderr = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "bench_fit.py"), "--keras-worker", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env, cwd=str(HERE))
        info = json.loads(self._read())
        if info["backend"] != "tensorflow":
            raise RuntimeError(f"Keras ran on {info['backend']!r}, not TensorFlow.")
        self.version = info["version"]


def fit_table(quick: bool) -> str:
    epochs, trials = (3, 2) if quick else (4, 5)
    rows, version = [], "?"
    for name in FIT_STEPS:
        workload = wl.WORKLOADS[name]
        keras = KerasTFFit(name)
        version = keras.version
        candidates = {"pk tf": PkFit(workload, "tensorflow"), "keras tf": keras, "pk JAX": PkFit(workload, "jax")}
        times = {k: [] for k in candidates}
        for t in range(trials):
            for key in (candidates if t % 2 == 0 else reversed(list(candidates))):
                times[key] += candidates[key].trial(epochs)
        keras.close()
        steps = bench_fit.STEPS_PER_EPOCH[name]
        rate = {k: steps / h.median(v) for k, v in times.items()}
        r = rate["pk tf"] / rate["keras tf"]
        goal = h.goal(r >= GOAL_FIT) if name == "W1" else "(no goal)"
        rows.append([f"{name} ({steps} steps/epoch)", f"{rate['keras tf']:.0f}", f"{rate['pk tf']:.0f}",
                     f"**{r:.2f}** ({goal})", f"{rate['pk JAX']:.0f}",
                     " / ".join(f"{h.spread(times[k]):.2f}" for k in times)])
        print(f"  fit {name}: done", file=sys.stderr, flush=True)
    return h.markdown_table(
        ["workload", f"Keras {version} TF fit steps/s", "pk TF fit steps/s", f"pk/Keras (goal >= {GOAL_FIT} on W1)",
         "pk JAX fit steps/s", "IQR/median (pk tf / keras tf / pk JAX)"], rows)


def main() -> None:
    def extra(parser):
        parser.add_argument("--tables", default="step,fit", help="which tables (comma-separated)")

    args = h.parse_args(__doc__.splitlines()[0], extra)
    import tensorflow as tf

    tables = args.tables.split(",")
    print(f"\n_tensorflow {tf.__version__}; same initial loss, hand-written vs purekeras: "
          f"{', '.join(f'{n} {initial_losses_agree(w)}' for n, w in wl.WORKLOADS.items())}_", flush=True)
    if "step" in tables:
        h.header("Train step on TensorFlow (XLA): purekeras vs hand-written tf.function (ms per step, median)")
        print(train_step_table(args.quick), flush=True)
    if "fit" in tables:
        start = time.perf_counter()
        h.header("fit on TensorFlow: pk.Model.fit vs Keras 3 fit (KERAS_BACKEND=tensorflow), "
                 "steps/s from the median epoch")
        print(fit_table(args.quick), flush=True)
        print(f"  fit: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
