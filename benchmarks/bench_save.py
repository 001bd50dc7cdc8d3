"""Saving: train-state checkpoint throughput, and the time an asynchronous save blocks.

The state: a stack of ``--layers`` Dense layers of equal width with ``--params``
parameters in all (default 100M), trained with Adam, so params + Adam's ``m`` and
``v`` are ~1.2 GB of float32 (``train.init_state``). Each candidate writes and reads
the same state; MB/s are state bytes (params + slots + scalars) per second.

- purekeras on JAX: ``save_checkpoint`` / ``load_checkpoint(like=...)`` in the
  portable format and in orbax's (the orbax save timed to ``wait_until_finished``);
- purekeras on PyTorch: the portable format;
- ``torch.save`` / ``torch.load(weights_only=True)`` of the same tensors (a flat dict);
- Keras 3 (``KERAS_BACKEND=jax``, in a subprocess that takes its turn with the
  others and times itself): ``save_weights`` / ``load_weights`` of a Dense stack
  of the same shapes with Adam built (its ``.weights.h5`` holds the weights and
  the optimizer's variables).

Candidates take turns, repeat by repeat, after one untimed warm-up each; figures
are medians. purekeras fsyncs every file and renames the checkpoint into place
(atomic); ``torch.save`` and Keras do neither. Restores read files the page cache
holds (just written): they measure the library, not the disk.

Then the asynchronous orbax save through ``CheckpointManager`` inside a loop of
donating update steps over the whole state (``measure_async``): the time the
loop is blocked (``save()`` returning, and the next step waiting for the
on-device copy it dispatched) against a synchronous save, and, separately, how
much the writer thread slows the steps that run while it writes.

Run: ``.venv/bin/python benchmarks/bench_save.py [--quick] [--params N] [--repeats R]``.
"""
from __future__ import annotations

import gc
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

KERAS_SNIPPET = """
import json, os, sys, time
import keras
width, layers, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
model = keras.Sequential([keras.Input((width,))] + [keras.layers.Dense(width) for _ in range(layers)])
model.compile(optimizer="adam", loss="mse")
model.optimizer.build(model.trainable_variables)
count = sum(v.numpy().size for v in model.weights) + sum(v.numpy().size for v in model.optimizer.variables)
print(json.dumps({"values": int(count)}), flush=True)
for command in sys.stdin:  # one line per round: save, then load, each timed here
    if command.strip() == "save":
        t = time.perf_counter(); model.save_weights(path); elapsed = time.perf_counter() - t
        print(json.dumps({"seconds": elapsed, "file_bytes": os.path.getsize(path)}), flush=True)
    elif command.strip() == "load":
        t = time.perf_counter(); model.load_weights(path)
        for v in model.weights: v.value.block_until_ready()
        print(json.dumps({"seconds": time.perf_counter() - t}), flush=True)
"""


class KerasChild:
    """Keras 3 (``KERAS_BACKEND=jax``) in a subprocess that saves and loads on command,
    timing each itself: it takes its turn among the other candidates."""

    def __init__(self, width: int, layers: int, directory: str):
        env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
        path = os.path.join(directory, "keras.weights.h5")
        self.process = subprocess.Popen([sys.executable, "-c", KERAS_SNIPPET, str(width), str(layers), path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.values = self._reply()["values"]
        self.file_bytes = 0

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Keras subprocess ended early (run it alone to see its error)")
        return json.loads(line)

    def _command(self, name: str) -> float:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        reply = self._reply()
        self.file_bytes = reply.get("file_bytes", self.file_bytes)
        return reply["seconds"]

    def save(self) -> float:
        return self._command("save")

    def restore(self) -> float:
        return self._command("load")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


KERAS = "Keras 3 save_weights / load_weights (JAX)"


def _state_values(tree) -> int:
    from purekeras import ops, state

    return sum(math.prod(ops.shape(leaf)) for _, leaf in state.flatten_with_paths(tree))


def _state_bytes(tree) -> int:
    from purekeras import ops, state

    return sum(math.prod(ops.shape(leaf)) * (4 if ops.dtype(leaf) in ("float32", "int32", "uint32") else 8)
               for _, leaf in state.flatten_with_paths(tree))


def _block(tree):
    import torch

    from purekeras import state

    leaves = [leaf for _, leaf in state.flatten_with_paths(tree)]
    h.block([leaf for leaf in leaves if not isinstance(leaf, torch.Tensor)])
    return tree


def _candidates(ts_jax, ts_torch, directory: str) -> dict:
    """name -> (save() -> None, restore() -> None), each on its own path."""
    import torch

    from purekeras import state

    def portable(ts, path):
        return (lambda: state.save_checkpoint(path, ts),
                lambda: _block(state.load_checkpoint(path, like=ts).state))

    def orbax(ts, path):
        return (lambda: state.save_checkpoint(path, ts, format="orbax").wait_until_finished(),
                lambda: _block(state.load_checkpoint(path, like=ts).state))

    flat = dict(state.flatten_with_paths(ts_torch))
    torch_path = os.path.join(directory, "state.pt")

    def torch_save():
        torch.save(flat, torch_path)

    def torch_load():
        torch.load(torch_path, weights_only=True)

    return {
        "purekeras JAX, portable": portable(ts_jax, os.path.join(directory, "jax-portable")),
        "purekeras JAX, orbax (save to wait_until_finished)": orbax(ts_jax, os.path.join(directory, "jax-orbax")),
        "purekeras PyTorch, portable": portable(ts_torch, os.path.join(directory, "torch-portable")),
        "torch.save / torch.load": (torch_save, torch_load),
    }


def _timed(fn) -> float:
    """Seconds ``fn()`` takes, or the seconds it returns (a candidate timing itself)."""
    gc.collect()
    start = time.perf_counter()
    reported = fn()
    return reported if isinstance(reported, float) else time.perf_counter() - start


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def measure_candidates(candidates: dict, repeats: int, directory: str) -> dict:
    times = {name: {"save": [], "restore": []} for name in candidates}
    names = list(candidates)
    for round_ in range(repeats + 1):  # round 0 warms up (compiles the checksum, starts orbax)
        order = names if round_ % 2 == 0 else list(reversed(names))
        for name in order:
            save, restore = candidates[name]
            save_s, restore_s = _timed(save), _timed(restore)
            if round_:
                times[name]["save"].append(save_s)
                times[name]["restore"].append(restore_s)
            print(f"  {name}: save {save_s:.2f} s, restore {restore_s:.2f} s", flush=True)
            for entry in os.listdir(directory):  # one candidate's files on disk at a time
                _remove(os.path.join(directory, entry))
    return times


def measure_async(ts, repeats: int, directory: str, steps: int) -> dict:
    """The cost of an asynchronous orbax save to a training loop of donating update
    steps over the whole state (``p * 0.999``: memory-bound, like an optimizer's
    update), each step timed to completion:

    - ``blocked``: how long ``CheckpointManager.save`` takes to return, plus how much
      longer the first step after it takes than a step without a save (it waits
      for the on-device copy the save dispatched: its arrays are donated);
    - ``slowed``: the extra seconds of the following steps, run until the save is
      on disk (at least ``steps``), over as many steps without a save (the writer
      thread shares the CPU with them);
    - ``sync``: a synchronous orbax save of the same state."""
    import jax
    import jax.numpy as jnp

    from purekeras import state

    update = jax.jit(lambda t: jax.tree.map(
        lambda a: a * jnp.asarray(0.999, a.dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, t),
        donate_argnums=0)
    ts = h.block(update(ts))
    manager = state.CheckpointManager(os.path.join(directory, "async"), max_to_keep=1, format="orbax")

    def step() -> float:
        nonlocal ts
        start = time.perf_counter()
        ts = h.block(update(ts))
        return time.perf_counter() - start

    out = {key: [] for key in ("returns", "blocked", "slowed", "steps", "on_disk", "sync")}
    for round_ in range(repeats + 1):
        gc.collect()
        start = time.perf_counter()
        handle = manager.save(ts, step=round_)
        returns = time.perf_counter() - start
        first = step()
        after = [step()]
        while len(after) < steps - 1 or not handle.done():
            after.append(step())
        handle.wait_until_finished()
        on_disk = time.perf_counter() - start
        gc.collect()
        without = [step() for _ in range(len(after) + 1)]
        normal = h.median(without)
        blocked, slowed = returns + first - normal, sum(after) - normal * len(after)
        sync_s = _timed(lambda r=round_: state.save_checkpoint(os.path.join(directory, f"sync{r}"), ts,
                                                              format="orbax").wait_until_finished())
        _remove(os.path.join(directory, f"sync{round_}"))
        print(f"  async save: returns after {returns:.3f} s, first step {first:.3f} s (normal {normal:.3f} s): "
              f"blocked {blocked:.3f} s; next {len(after)} steps slowed by {slowed:.2f} s; on disk after "
              f"{on_disk:.2f} s; sync save {sync_s:.2f} s", flush=True)
        if round_:
            for key, value in zip(out, (returns, blocked, slowed, len(after), on_disk, sync_s)):
                out[key].append(value)
    manager.close()
    return out


def main():
    args = h.parse_args(__doc__.splitlines()[0], extra=lambda p: (
        p.add_argument("--params", type=int, default=100_000_000),
        p.add_argument("--layers", type=int, default=25),
        p.add_argument("--repeats", type=int, default=3),
        p.add_argument("--steps", type=int, default=3, help="update steps timed after an async save, at least"),
        p.add_argument("--dir", default=None, help="where to write (default: a temporary directory)")))
    params, repeats = (10_000_000, 2) if args.quick else (args.params, args.repeats)
    width = round(math.sqrt(params / args.layers))

    from purekeras import nn, optim, random, train

    model = nn.Sequential([nn.Dense(width) for _ in range(args.layers)])
    spec = nn.InputSpec((None, width))
    ts_jax = train.init_state(model, optim.Adam(), random.key(0, backend="jax"), spec)
    ts_torch = train.init_state(model, optim.Adam(), random.key(0, backend="torch"), spec)
    size = _state_bytes(ts_jax)
    mb = size / 1e6
    directory = tempfile.mkdtemp(prefix="bench-save-", dir=args.dir)
    try:
        h.header(f"Saving a train state: {args.layers} x Dense({width}) + Adam, "
                 f"{params / 1e6:.0f}M params, {mb:.0f} MB (median of {repeats})")
        keras = KerasChild(width, args.layers, directory)
        candidates = _candidates(ts_jax, ts_torch, directory)
        candidates[KERAS] = (keras.save, keras.restore)
        times = measure_candidates(candidates, repeats, directory)
        keras.close()
        asynchronous = measure_async(ts_jax, repeats, directory, args.steps)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    keras_restore = h.median(times[KERAS]["restore"])
    rows = []
    for name, t in times.items():
        save_s, restore_s = h.median(t["save"]), h.median(t["restore"])
        label = f"{name} (file {keras.file_bytes / 1e6:.0f} MB)" if name == KERAS else name
        rows.append([label, f"{save_s:.2f}", f"{mb / save_s:.0f}", f"{restore_s:.2f}", f"{mb / restore_s:.0f}",
                     f"{keras_restore / restore_s:.2f}"])
    print(h.markdown_table(["candidate", "save s", "save MB/s", "restore s", "restore MB/s",
                            "restore speed / Keras 3"], rows))
    print(f"\nKeras's file holds {keras.values / 1e6:.1f}M values (weights and Adam's variables), "
          f"purekeras's state {_state_values(ts_jax) / 1e6:.1f}M.")

    med = {key: h.median(values) for key, values in asynchronous.items()}
    ratio = med["blocked"] / med["sync"]
    print()
    print(h.markdown_table(
        ["asynchronous orbax save (CheckpointManager, JAX)", "seconds (median)"],
        [["save() returns after", f"{med['returns']:.3f}"],
         ["training loop blocked (save() + the first step's wait for the on-device copy)", f"{med['blocked']:.3f}"],
         [f"the next ~{med['steps']:.0f} steps, run while the save is written, slowed by", f"{med['slowed']:.2f}"],
         ["save on disk after", f"{med['on_disk']:.2f}"],
         ["synchronous orbax save, same state", f"{med['sync']:.2f}"],
         ["blocked / synchronous (goal <= 0.10)", f"{ratio:.3f} ({h.goal(ratio <= 0.10)})"],
         ["(blocked + slowed) / synchronous", f"{(med['blocked'] + med['slowed']) / med['sync']:.3f}"]]))
    best_restore = min(h.median(t["restore"]) for name, t in times.items() if name.startswith("purekeras JAX"))
    print(f"\nrestore at least as fast as Keras 3 (JAX, best purekeras format): "
          f"{keras_restore / best_restore:.2f}x ({h.goal(best_restore <= keras_restore)})")
    print(f"\nraw seconds: {json.dumps({'candidates': times, 'async': asynchronous})}")


if __name__ == "__main__":
    main()
