"""Timing utilities shared by the benchmark scripts.

Rules every script follows: compilation (trace + lower + XLA compile, ahead of
time) is timed on its own; then the first call and a warm-up window; then
several timed windows, each ending with ``block_until_ready`` (never inside a
window). Steady-state figures are the MEDIAN over windows. Candidates that are
compared are timed in interleaved windows (A, B, B, A, ...) so that load from
other processes on this shared machine hits them alike; ratios are taken
between medians (and, as a check, as the median of per-window ratios).

>>> runner = StepRunner("double", lambda s, b: (s * 2 % 7, None), 1, [None])
>>> compile_s = runner.compile_time()
>>> times = interleaved([runner], windows=3, target_s=0.0)
>>> len(times["double"]), runner.steps_done
(3, 5)
>>> print(markdown_table(["a", "b"], [[1, "x"]]))
| a | b |
| --- | --- |
| 1 | x |
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


def block(tree: Any) -> Any:
    """Wait until every JAX array in ``tree`` is computed (no-op for other leaves)."""
    try:
        import jax
    except ImportError:  # pragma: no cover - JAX is the only backend benchmarked today
        return tree
    return jax.block_until_ready(tree)


@dataclass
class StepRunner:
    """A step ``(state, batch) -> (state, out)`` with its own state, fed from a
    cycle of ``batches``. ``window(n)`` runs ``n`` calls and blocks once, at the end.

    >>> r = StepRunner("inc", lambda s, b: (s + b, s), 0, [1, 2])
    >>> _ = r.window(3); r.state
    4
    """

    name: str
    step: Callable
    state: Any
    batches: Sequence
    steps_per_call: int = 1  # > 1 for multi-step calls: times are divided by it
    steps_done: int = 0
    _cursor: int = 0
    out: Any = field(default=None, repr=False)

    def _next_batch(self):
        batch = self.batches[self._cursor]
        self._cursor = (self._cursor + 1) % len(self.batches)
        return batch

    def window(self, calls: int) -> float:
        """Seconds for ``calls`` calls, blocking only after the last one."""
        step, state, out = self.step, self.state, None
        start = time.perf_counter()
        for _ in range(calls):
            state, out = step(state, self._next_batch())
        block((state, out))
        elapsed = time.perf_counter() - start
        self.state, self.out = state, out
        self.steps_done += calls
        return elapsed

    def first_call(self) -> float:
        """Seconds for the first call: tracing, compilation and one execution."""
        return self.window(1)

    def compile_time(self) -> float:
        """Seconds to trace, lower and compile the step for these batches, then make
        the first call (which finds it compiled). JAX's ahead-of-time ``lower(...).compile()``
        keeps the execution out of the figure; a step without ``lower`` reports its
        first call instead."""
        lower = getattr(self.step, "lower", None)
        if lower is None:
            return self.first_call()
        start = time.perf_counter()
        lower(self.state, self.batches[0]).compile()
        elapsed = time.perf_counter() - start
        self.first_call()
        return elapsed


def calls_for(runner: StepRunner, target_s: float) -> tuple[int, float]:
    """Warm ``runner`` up and return how many calls fill a window of about
    ``target_s`` seconds (at least 1), and the seconds per call."""
    per_call = runner.window(1)
    if per_call < target_s:
        per_call = runner.window(2) / 2
    return max(1, round(target_s / per_call)), per_call


def interleaved(runners: Sequence[StepRunner], *, windows: int, target_s: float,
                budget_s: float | None = None) -> dict[str, list[float]]:
    """Per-step seconds of each runner in each of ``windows`` windows of about
    ``target_s`` seconds, the runners taking turns window by window (the order
    flips every window), after a warm-up (``runner.first_call()`` must have run).

    ``budget_s`` caps the time of a very slow runner: it gets only as many
    windows (of one call) as fit in ``budget_s``, but at least 3."""
    plan = {}
    for runner in runners:
        calls, per_call = calls_for(runner, target_s)
        n = windows
        if budget_s is not None and calls * per_call * windows > budget_s:
            n = min(windows, max(3, int(budget_s / (calls * per_call))))
        plan[runner.name] = (calls, n)
    times: dict[str, list[float]] = {r.name: [] for r in runners}
    for w in range(windows):
        order = runners if w % 2 == 0 else list(reversed(runners))
        for runner in order:
            calls, n = plan[runner.name]
            if w < n:
                times[runner.name].append(runner.window(calls) / (calls * runner.steps_per_call))
    return times


def median(values: Sequence[float]) -> float:
    """The median (robust to the spikes of a shared machine).

    >>> median([3.0, 1.0, 100.0])
    3.0
    """
    return statistics.median(values)


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over windows of ``a[i] / b[i]``: with interleaved windows, each pair ran
    back to back under about the same load, so this ratio is steadier than the ratio
    of the medians when the load drifts.

    >>> paired_ratio([2.0, 4.0, 9.0], [1.0, 2.0, 3.0])
    2.0
    """
    return median([x / y for x, y in zip(a, b)])


def spread(values: Sequence[float]) -> float:
    """Relative interquartile spread, ``(q3 - q1) / median``: the noise of a figure.

    >>> round(spread([1.0, 1.0, 1.0, 1.0]), 3)
    0.0
    """
    if len(values) < 4:
        return (max(values) - min(values)) / median(values)
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / median(values)


def ms(seconds: float, digits: int = 3) -> str:
    """``seconds`` as milliseconds with ``digits`` significant figures.

    >>> ms(0.0012345)
    '1.23'
    """
    return f"{seconds * 1e3:.{digits}g}"


def ratio(a: float, b: float) -> str:
    """``a / b`` to 3 decimals.

    >>> ratio(1.0, 2.0)
    '0.500'
    """
    return f"{a / b:.3f}"


def goal(met: bool) -> str:
    """``"yes"`` or ``"**no**"`` for a goal column.

    >>> goal(False)
    '**no**'
    """
    return "yes" if met else "**no**"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(str(h) for h in headers) + " |",
             "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def parse_args(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None):
    """The common command line: ``--quick`` (fewer repeats) and ``--workloads``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer windows and repeats")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def machine_summary() -> dict[str, str]:
    """CPU model, core count, Python/JAX versions and the load average, as strings.

    >>> sorted(machine_summary())[:3]
    ['cpu', 'cpus', 'jax']
    """
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        from importlib.metadata import version

        jax_version = version("jax")
    except Exception:  # noqa: BLE001 - metadata may be missing; say so
        jax_version = "not installed"
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return {"cpu": cpu, "cpus": str(os.cpu_count()), "jax": jax_version,
            "python": sys.version.split()[0], "load": load}


def header(title: str) -> None:
    """Print a section title and the machine's load now (figures are only as good as that)."""
    info = machine_summary()
    print(f"\n## {title}\n")
    print(f"_{info['cpu']}, {info['cpus']} CPUs, jax {info['jax']}, load average {info['load']}_\n",
          flush=True)


def epoch_stamp_callback():
    """A purekeras callback recording ``time.perf_counter()`` at each epoch end in
    ``.stamps`` (so fit's epochs can be timed after the compiling first one)."""
    import time

    from purekeras import callbacks

    class EpochStamp(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            self.stamps.append(time.perf_counter())

    return EpochStamp()
