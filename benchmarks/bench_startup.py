"""Start-up costs, each measured in a fresh Python subprocess.

1. ``import purekeras`` (must import no framework), median of 7 runs; also
   ``import purekeras`` plus its framework-free subpackages, and ``import jax``
   alone for reference.
2. Time to first step on W1: import, build the spec, init the train state on
   JAX (eager: each op compiles on first use), first ``pk.jit`` train step
   (trace + compile + run, blocked). Reported per phase, plus the whole
   process's wall time seen from the parent (interpreter start-up included).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--quick]``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _harness as h

GOAL_IMPORT_S = 0.15
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

IMPORT_SNIPPET = """
import sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
print(elapsed, int(any(m in sys.modules for m in ("jax", "torch", "tensorflow"))))
"""

FIRST_STEP_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
import purekeras as pk
t1 = time.perf_counter()
from purekeras import backends, nn, optim, train
t2 = time.perf_counter()
backends.get_backend("jax")  # imports JAX
t3 = time.perf_counter()
sys.path.insert(0, {here!r})
import workloads as wl
w = wl.WORKLOADS["W1"]
model, loss, opt, _ = w.purekeras_parts()
ts = w.purekeras_state(model, opt)
x, y = w.data(w.batch_size)
t4 = time.perf_counter()
step = pk.jit(train.make_train_step(model, loss, opt), backend="jax")
ts, logs = step(ts, (x, y))
float(logs["loss"])  # blocks
t5 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "subpackages": t2 - t1, "jax": t3 - t2, "build_init": t4 - t3,
                  "first_step": t5 - t4, "total": t5 - t0}}))
"""

PHASES = {"import": "import purekeras", "subpackages": "import nn, optim, train",
          "jax": "import the JAX backend", "build_init": "build + init_state (eager)",
          "first_step": "first jitted step (trace+compile+run)", "total": "total in-process"}


def run_python(code: str) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter (repo root on the path); stdout and wall seconds."""
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    env = dict(os.environ, PYTHONPATH=path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # use (and keep) the cached .pyc files
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{proc.stderr[-2000:]}")
    lines = proc.stdout.strip().splitlines()
    return (lines[-1] if lines else ""), wall


def import_times(module: str, runs: int) -> tuple[list[float], bool, list[float]]:
    """In-process import seconds per run, whether a framework got imported, wall seconds."""
    times, walls, framework = [], [], False
    for _ in range(runs):
        out, wall = run_python(IMPORT_SNIPPET.format(module=module))
        seconds, leaked = out.split()
        times.append(float(seconds))
        walls.append(wall)
        framework |= leaked == "1"
    return times, framework, walls


def main() -> None:
    args = h.parse_args(__doc__.splitlines()[0])
    runs = 3 if args.quick else 7
    h.header("Start-up: cold import and time to first step (fresh subprocesses)")
    run_python("import purekeras, jax")  # warm the OS file cache and .pyc files once

    rows = []
    for module in ("purekeras", "purekeras, purekeras.nn, purekeras.optim, purekeras.train", "jax"):
        times, framework, walls = import_times(module, runs)
        is_pk = module == "purekeras"
        rows.append([f"`import {module}`", f"{h.median(times):.4f}", f"{min(times):.4f}",
                     f"{h.median(walls):.3f}", "yes" if framework else "no",
                     h.goal(h.median(times) <= GOAL_IMPORT_S) if is_pk else ""])
    print(h.markdown_table(["what", "median s", "min s", "process wall s (median)",
                            "imports a framework", f"goal <= {GOAL_IMPORT_S} s"], rows))

    phases: dict[str, list[float]] = {}
    walls = []
    for _ in range(2 if args.quick else 5):
        out, wall = run_python(FIRST_STEP_SNIPPET.format(here=str(HERE)))
        for key, value in json.loads(out).items():
            phases.setdefault(key, []).append(value)
        walls.append(wall)
    print()
    print(h.markdown_table(
        ["W1 time to first step", "median s", "min s"],
        [[label, f"{h.median(phases[k]):.3f}", f"{min(phases[k]):.3f}"] for k, label in PHASES.items()]
        + [["process wall (interpreter start-up included)", f"{h.median(walls):.3f}", f"{min(walls):.3f}"]]))

if __name__ == "__main__":
    main()
