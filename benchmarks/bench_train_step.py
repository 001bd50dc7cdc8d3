"""purekeras's compiled train step vs a hand-written ``jax.jit`` step, on W1, W2, W3.

The native step is the same model written with ``jnp`` directly, softmax
cross-entropy on integer labels, and Adam with Keras's update rule written by
hand (the same FLOPs as ``optim.Adam``); a second native column uses
``optax.adam(1e-3, eps=1e-7)``. A second copy of the native step, timed like the
others, gives an A/A ratio: two identical programs differ by that much in this
run, so a pk/native ratio within it is a tie. The state is donated in every candidate, all
start from the same weights and read the same device-resident batches.

Second table: ``steps_per_execution`` — ``K=8`` steps per call via
``train.make_multi_step(step, 8, unroll=True)`` vs ``unroll=False`` (``lax.scan``).

Run: ``.venv/bin/python benchmarks/bench_train_step.py [--quick]``.
"""
from __future__ import annotations

import sys

import _harness as h
import workloads as wl

GOAL_RATIO = 1.02
MULTI_K = 8


def native_keras_adam_step(workload: wl.Workload):
    """``(state, (x, y)) -> (state, loss)`` in plain JAX; ``state = (params, m, v, t)``."""
    import jax
    import jax.numpy as jnp

    forward = workload.native_forward()
    b1, b2, eps, lr = wl.BETA_1, wl.BETA_2, wl.EPSILON, wl.LEARNING_RATE

    def loss_fn(params, x, y):
        logp = jax.nn.log_softmax(forward(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step(state, batch):
        params, m, v, t = state
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        t = t + 1
        tf = t.astype(jnp.float32)
        alpha = lr * jnp.sqrt(1 - b2 ** tf) / (1 - b1 ** tf)
        m = jax.tree.map(lambda m, g: m + (g - m) * (1 - b1), m, grads)
        v = jax.tree.map(lambda v, g: v + (g * g - v) * (1 - b2), v, grads)
        params = jax.tree.map(lambda p, m, v: p - m * alpha / (jnp.sqrt(v) + eps), params, m, v)
        return (params, m, v, t), loss

    return step


def native_optax_step(workload: wl.Workload):
    """``(state, (x, y)) -> (state, loss)`` with optax's Adam; ``state = (params, opt_state)``."""
    import jax
    import optax

    forward = workload.native_forward()
    tx = optax.adam(wl.LEARNING_RATE, b1=wl.BETA_1, b2=wl.BETA_2, eps=wl.EPSILON)

    def loss_fn(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()

    def step(state, batch):
        params, opt_state = state
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    return step, tx


def runners_for(workload: wl.Workload, batches) -> list[h.StepRunner]:
    """purekeras, native (Keras-style Adam), a second identical native ("native A/A":
    its ratio to the first is the noise floor of this run) and native (optax)
    runners, all from the same weights."""
    import jax
    import jax.numpy as jnp

    import purekeras as pk
    from purekeras import train

    model, loss, opt, _ = workload.purekeras_parts()
    ts = workload.purekeras_state(model, opt)
    pk_step = pk.jit(train.make_train_step(model, loss, opt), backend="jax")

    copy = lambda tree: jax.tree.map(jnp.array, tree)  # noqa: E731 - own buffers (donation)
    params = copy(wl.native_params(ts.params))
    zeros = jax.tree.map(jnp.zeros_like, params)
    native_state = (params, zeros, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))
    native = jax.jit(native_keras_adam_step(workload), donate_argnums=0)
    native_again = jax.jit(native_keras_adam_step(workload), donate_argnums=0)

    optax_fn, tx = native_optax_step(workload)
    optax_params = copy(params)
    optax_state = (optax_params, tx.init(optax_params))
    optax_step = jax.jit(optax_fn, donate_argnums=0)
    return [h.StepRunner("purekeras", pk_step, ts, batches),
            h.StepRunner("native", native, native_state, batches),
            h.StepRunner("native A/A", native_again, copy(native_state), batches),
            h.StepRunner("optax", optax_step, optax_state, batches)]


def train_step_table(quick: bool) -> str:
    """The Markdown table: purekeras vs native vs optax on every workload."""
    rows = []
    for name, workload in wl.WORKLOADS.items():
        ok, why = wl.available(workload)
        if not ok:
            rows.append([name, f"skipped: {why}"] + [""] * 9)
            continue
        big = name == "W3"
        batches = wl.device_batches(workload, 4)
        runners = runners_for(workload, batches)
        compile_s = {r.name: r.compile_time() for r in runners}
        times = h.interleaved(runners, windows=5 if quick else (13 if big else 15),
                              target_s=(0.5 if quick else 0.8) if big else (0.1 if quick else 0.2))
        med = {k: h.median(v) for k, v in times.items()}
        r = med["purekeras"] / med["native"]
        rows.append([
            name, h.ms(med["purekeras"]), h.ms(med["native"]), h.ms(med["optax"]),
            f"**{r:.3f}**", h.goal(r <= GOAL_RATIO),
            f"{h.paired_ratio(times['purekeras'], times['native']):.3f}",
            h.ratio(med["native A/A"], med["native"]),
            h.ratio(med["purekeras"], med["optax"]),
            " / ".join(f"{compile_s[k]:.2f}" for k in ("purekeras", "native", "optax")),
            " / ".join(f"{h.spread(times[k]):.2f}" for k in ("purekeras", "native", "optax")),
        ])
        print(f"  {name}: done", file=sys.stderr, flush=True)
    return h.markdown_table(
        ["workload", "purekeras ms", "native ms", "optax ms", "ratio pk/native", f"goal <= {GOAL_RATIO}",
         "paired pk/native", "A/A native/native (noise)", "ratio pk/optax", "compile s (pk / native / optax)",
         "IQR/median (pk / native / optax)"], rows)


def multi_step_table(quick: bool) -> str:
    """The Markdown table: K=1 vs K=8 unrolled vs K=8 ``lax.scan`` on W1 and W2."""
    import purekeras as pk
    from purekeras import train

    rows = []
    for name in ("W1", "W2"):
        workload = wl.WORKLOADS[name]
        ok, why = wl.available(workload)
        if not ok:
            rows.append([name, f"skipped: {why}"] + [""] * 6)
            continue
        model, loss, opt, _ = workload.purekeras_parts()
        step = train.make_train_step(model, loss, opt)
        single = h.StepRunner("K=1", pk.jit(step, backend="jax"), workload.purekeras_state(model, opt),
                              wl.device_batches(workload, 4))
        stacked = wl.device_batches(workload, 2, stack=MULTI_K)
        runners = [single] + [
            h.StepRunner(label, pk.jit(train.make_multi_step(step, MULTI_K, unroll=unroll), backend="jax"),
                         workload.purekeras_state(model, opt), stacked, steps_per_call=MULTI_K)
            for label, unroll in (("unrolled", True), ("scan", False))]
        compile_s = {r.name: r.compile_time() for r in runners}
        # lax.scan over W2's convolutions is so slow on XLA:CPU that it gets a time budget.
        times = h.interleaved(runners, windows=5 if quick else 11, target_s=0.1 if quick else 0.2,
                              budget_s=10 if quick else 20)
        med = {k: h.median(v) for k, v in times.items()}
        scan_over_unrolled = med["scan"] / med["unrolled"]
        faster = "unrolled" if scan_over_unrolled > 1 else "scan"
        rows.append([
            name, h.ms(med["K=1"]), h.ms(med["unrolled"]), h.ms(med["scan"]),
            f"{scan_over_unrolled:.2f}", faster,
            h.ratio(min(med["unrolled"], med["scan"]), med["K=1"]),
            " / ".join(f"{compile_s[k]:.2f}" for k in ("K=1", "unrolled", "scan")),
        ])
        print(f"  {name}: done", file=sys.stderr, flush=True)
    return h.markdown_table(
        ["workload", "K=1 ms/step", f"K={MULTI_K} unrolled ms/step", f"K={MULTI_K} scan ms/step",
         "scan/unrolled", "faster", "best K=8 / K=1", "compile s (K=1 / unrolled / scan)"], rows)


def main() -> None:
    args = h.parse_args(__doc__.splitlines()[0])
    h.header("Train step: purekeras vs hand-written JAX (ms per step, median)")
    print(train_step_table(args.quick))
    h.header(f"steps_per_execution: K={MULTI_K} steps per call, unrolled vs lax.scan (ms per step)")
    print(multi_step_table(args.quick))


if __name__ == "__main__":
    main()
