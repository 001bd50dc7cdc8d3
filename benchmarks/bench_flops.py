"""W3's achieved FLOP/s in purekeras's train step vs this machine's float32 matmul ceiling.

What is counted: only the matmuls of the Dense layers. Forward is ``2·B·in·out``
per layer; backward is twice that (input gradient + kernel gradient), so the
headline count is ``3 × 2·B·Σ(in·out)`` per step. The first layer's input
gradient is not needed (the input is data, and XLA drops it), so the FLOPs
really executed are ``2·B·in₀·out₀`` fewer: both are reported. Bias adds,
relu, softmax and the Adam update are not counted (they are O(params), under
1% here).

The ceiling is a jitted float32 ``jnp.dot``: 2048×2048 @ 2048×2048, and W3's own
hidden-layer shape 1024×2048 @ 2048×2048 (the faster of the two counts), median
over timed windows taken in turn with the step's windows in the same run.

Run: ``.venv/bin/python benchmarks/bench_flops.py [--quick]``.
"""
from __future__ import annotations

import _harness as h
import workloads as wl

GOAL = 0.8


def step_flops(workload: wl.Workload) -> tuple[float, float]:
    """``(headline, executed)`` matmul FLOPs per train step of an MLP workload.

    >>> headline, executed = step_flops(wl.WORKLOADS["W1"])
    >>> int(headline), int(executed)
    (64880640, 60686336)
    """
    sizes = workload.dense_sizes()
    b = workload.batch_size
    forward = sum(2 * b * i * o for i, o in sizes)
    first_input_grad = 2 * b * sizes[0][0] * sizes[0][1]
    return 3 * forward, 3 * forward - first_input_grad


MATMULS = ((2048, 2048, 2048), (1024, 2048, 2048))  # (m, k, n); the second is W3's hidden layer


def matmul_runner(m: int, k: int, n: int) -> h.StepRunner:
    """A runner whose "step" is a jitted ``(m, k) @ (k, n)`` float32 matmul."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(wl.SEED)
    a = jax.device_put(rng.standard_normal((m, k), dtype=np.float32))
    b = jax.device_put(rng.standard_normal((k, n), dtype=np.float32))
    dot = jax.jit(lambda s, ab: (s, jnp.dot(*ab)))  # StepRunner's (state, batch) shape
    return h.StepRunner(f"{m}x{k} @ {k}x{n}", dot, 0, [(a, b)])


def w3_runner() -> h.StepRunner:
    """purekeras's compiled train step on W3."""
    import purekeras as pk
    from purekeras import train

    workload = wl.WORKLOADS["W3"]
    model, loss, opt, _ = workload.purekeras_parts()
    return h.StepRunner("W3", pk.jit(train.make_train_step(model, loss, opt), backend="jax"),
                        workload.purekeras_state(model, opt), wl.device_batches(workload, 2))


def main() -> None:
    args = h.parse_args(__doc__.splitlines()[0])
    h.header("W3 achieved FLOP/s vs the float32 matmul ceiling")
    runners = [matmul_runner(*shape) for shape in MATMULS] + [w3_runner()]
    compile_s = runners[-1].compile_time()
    for runner in runners[:-1]:
        runner.first_call()
    # The matmuls and the step take turns window by window, so that the load from
    # other processes hits the ceiling and the step alike.
    times = h.interleaved(runners, windows=5 if args.quick else 11, target_s=0.6 if args.quick else 1.0)
    med = {k: h.median(v) for k, v in times.items()}
    ceilings = {r.name: 2 * m * k * n / med[r.name] for r, (m, k, n) in zip(runners, MATMULS)}
    ceiling = max(ceilings.values())
    step_s = med["W3"]
    headline, executed = step_flops(wl.WORKLOADS["W3"])
    rows = [[
        h.ms(step_s), f"{headline / 1e9:.1f}", f"{headline / step_s / 1e9:.1f}",
        f"{executed / step_s / 1e9:.1f}", f"{ceiling / 1e9:.1f}",
        f"**{headline / step_s / ceiling:.2f}**", f"{executed / step_s / ceiling:.2f}",
        h.goal(headline / step_s / ceiling >= GOAL), f"{compile_s:.2f}",
    ]]
    print(h.markdown_table(
        ["W3 step ms", "GFLOP/step (3×fwd)", "GFLOP/s (3×fwd)", "GFLOP/s (executed)",
         "ceiling GFLOP/s", "fraction (3×fwd)", "fraction (executed)", f"goal >= {GOAL}",
         "compile s"], rows))
    print()
    print(h.markdown_table(
        ["timed", "GFLOP/s (median)", "IQR/median"],
        [[f"jnp.dot {name}", f"{c / 1e9:.1f}", f"{h.spread(times[name]):.2f}"]
         for name, c in ceilings.items()] + [["W3 train step (3×fwd)", f"{headline / step_s / 1e9:.1f}",
                             f"{h.spread(times['W3']):.2f}"]]))


if __name__ == "__main__":
    main()
