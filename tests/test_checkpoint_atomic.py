"""Atomic checkpoints: a process killed (SIGKILL) in the middle of a save leaves the
previous checkpoint intact and loadable, in both formats."""
from __future__ import annotations

import os
import random as pyrandom
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from purekeras import state

# A child that saves a ~12 MB state again and again; every array of step i holds i.
CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from purekeras import state
    directory, kind = sys.argv[1], sys.argv[2]
    if kind == "orbax":
        import jax.numpy as jnp
        make = lambda shape, value: jnp.full(shape, value, jnp.float32)
    else:
        make = lambda shape, value: np.full(shape, value, np.float32)
    manager = state.CheckpointManager(directory, max_to_keep=1, format=kind)
    step = 0
    while True:
        step += 1
        tree = {"params": {"w": make((1000, 1000), step), "b": make((1000,), step)},
                "slots": (make((1000, 1000), step), make((1000, 1000), -step)), "step": np.int32(step)}
        manager.save(tree, step=step, epoch=step)
        print("saved", step, flush=True)
""")

LIKE = {"params": {"w": np.zeros((1000, 1000), np.float32), "b": np.zeros((1000,), np.float32)},
        "slots": (np.zeros((1000, 1000), np.float32), np.zeros((1000, 1000), np.float32)),
        "step": np.int32(0)}


def _save_in_progress(directory) -> bool:
    return any(name.startswith((".tmp-", ".old-")) or "orbax-checkpoint-tmp" in name for name in os.listdir(directory))


def _kill_during_saves(directory, kind: str, rng) -> bool:
    """Start the child, let it save twice, wait until a third save has begun (its
    temporary directory appears), SIGKILL it a random moment later; whether it left a
    save half done behind. Waiting for the temporary directory, not a fixed time, keeps
    the kill inside a save however loaded the machine is."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory), kind], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        for line in child.stdout:
            if line.startswith("saved") and int(line.split()[1]) >= 2:
                break
        deadline = time.monotonic() + 60.0
        while not _save_in_progress(directory) and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(rng.uniform(0.0, 0.005))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return _save_in_progress(directory)


def _check_latest_is_whole(directory) -> int:
    manager = state.CheckpointManager(directory, max_to_keep=1)  # opening it clears what the kill left
    assert all(name.isdigit() for name in os.listdir(directory)), os.listdir(directory)
    restored = manager.restore(like=LIKE)
    step = restored.step
    assert step >= 1 and restored.epoch == step and int(restored.state["step"]) == step
    assert float(restored.state["params"]["w"].min()) == float(restored.state["params"]["w"].max()) == step
    np.testing.assert_array_equal(restored.state["slots"][1], np.full((1000, 1000), -step, np.float32))
    np.testing.assert_array_equal(restored.state["params"]["b"], np.full((1000,), step, np.float32))
    return step


@pytest.mark.parametrize("kind, attempts", [("portable", 6), ("orbax", 3)])
def test_a_kill_during_a_save_leaves_the_previous_checkpoint_whole(tmp_path, kind, attempts):
    rng = pyrandom.Random(0)
    interrupted = 0
    steps = []
    for attempt in range(attempts):
        directory = tmp_path / f"run{attempt}"
        interrupted += _kill_during_saves(directory, kind, rng)
        steps.append(_check_latest_is_whole(directory))
        if interrupted >= 2:
            break
    assert interrupted >= 1, "no kill landed inside a save"
    assert min(steps) >= 1
