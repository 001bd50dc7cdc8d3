"""Orbax checkpoints on JAX: asynchronous saves, donation, sharded arrays, verified restores."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import purekeras as pk
from purekeras import nn, ops, optim, random, state, train

SCCE = train.losses.SparseCategoricalCrossentropy
MODEL = nn.Sequential([nn.Dense(4), nn.BatchNormalization(), nn.Dense(3)])
OPT = optim.Adam(learning_rate=0.01)


def _state(backend="jax", seed=0):
    return train.init_state(MODEL, OPT, random.key(seed, backend=backend), nn.InputSpec((None, 3)))


def _batch(n=8):
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    return x, (np.arange(n) % 3).astype(np.int32), None, np.ones(n, np.float32)


@pytest.fixture(scope="module")
def step():
    return pk.jit(train.make_train_step(MODEL, SCCE(from_logits=True), OPT), backend="jax")


def _host(tree) -> dict:
    return {path: np.asarray(ops.convert_to_numpy(leaf)) for path, leaf in state.flatten_with_paths(tree)}


def _assert_same(a, b):
    left, right = _host(a), _host(b)
    assert sorted(left) == sorted(right)
    for path, value in left.items():
        assert value.dtype == right[path].dtype, path
        np.testing.assert_array_equal(value, right[path], err_msg=path)


def test_async_save_captures_the_state_before_the_next_donating_steps(tmp_path, step):
    ts, _ = step(_state(), _batch())
    expected = _host(ts)
    with state.CheckpointManager(tmp_path, format="orbax") as manager:
        handle = manager.save(ts, epoch=1, metrics={"loss": 2.0})
        for _ in range(3):  # the saved arrays are donated to these steps while orbax writes
            ts, _ = step(ts, _batch())
        handle.wait_until_finished()
        assert handle.done() and manager.all_steps() == [1]
        restored = manager.restore(like=_state(seed=5))
    assert (restored.step, restored.epoch, restored.metrics) == (1, 1, {"loss": 2.0})
    assert type(restored.state) is train.TrainState and type(restored.state.opt_state.slots).__name__ == "AdamSlots"
    for path, value in _host(restored.state).items():
        np.testing.assert_array_equal(value, expected[path], err_msg=path)
    assert int(ts.step) == 4


def test_orbax_checkpoint_restores_as_numpy_and_on_torch(tmp_path):
    ts = _state(seed=2)
    state.save_checkpoint(tmp_path / "c", ts, format="orbax", metadata={"k": "v"}).wait_until_finished()
    assert state.checkpoint_format(tmp_path / "c") == "orbax"
    plain = state.load_checkpoint(tmp_path / "c")
    assert isinstance(plain.state.params["dense"]["kernel"], np.ndarray) and plain.metadata == {"k": "v"}
    _assert_same(plain.state, ts)
    on_torch = state.load_checkpoint(tmp_path / "c", like=_state("torch"))
    assert ops.backend_name(on_torch.state.params["dense"]["kernel"]) == "torch"
    _assert_same(on_torch.state, ts)


def test_host_leaves_zero_size_and_none_go_through_orbax(tmp_path):
    import ml_dtypes

    tree = {"t": ops.ones((2, 2), backend="torch"), "np64": np.arange(3, dtype=np.int64), "none": None,
            "zero": np.zeros((0, 2), np.float32), "bf": ops.ones((3,), "bfloat16", backend="jax"),
            "half": np.ones(2, ml_dtypes.bfloat16), "flag": np.array([True, False])}
    state.save_checkpoint(tmp_path / "c", tree, step=0, format="orbax").wait_until_finished()
    got = state.load_checkpoint(tmp_path / "c").state
    assert got["none"] is None and got["zero"].shape == (0, 2) and got["np64"].dtype == np.int64
    _assert_same(got, tree)


def test_sharded_arrays_restore_with_the_sharding_of_like(tmp_path, step):
    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    sharding = NamedSharding(mesh, PartitionSpec("data"))
    ts, _ = step(_state(), _batch())
    sharded = jax.tree.map(lambda a: jax.device_put(a, sharding) if a.ndim else a, ts)
    state.save_checkpoint(tmp_path / "c", sharded, format="orbax").wait_until_finished()
    like = jax.tree.map(lambda a: jax.device_put(a, sharding) if a.ndim else a, _state(seed=3))
    restored = state.load_checkpoint(tmp_path / "c", like=like).state
    assert restored.params["dense"]["kernel"].sharding == sharding
    _assert_same(restored, ts)
    portable = tmp_path / "p"  # the portable format places arrays with like's sharding too
    state.save_checkpoint(portable, sharded)
    assert state.load_checkpoint(portable, like=like).state.opt_state.slots.m["dense"]["bias"].sharding == sharding


def test_sharded_save_and_resharded_restore_on_two_devices(tmp_path):
    """Two CPU devices (XLA_FLAGS, hence a subprocess): a kernel split over a mesh is
    saved shard by shard and restored split the other way, and replicated."""
    code = textwrap.dedent(f"""
        import numpy as np, jax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        from purekeras import state
        assert len(jax.devices()) == 2
        mesh = Mesh(np.array(jax.devices()), ("x",))
        value = np.arange(32, dtype=np.float32).reshape(4, 8)
        tree = {{"kernel": jax.device_put(value, NamedSharding(mesh, P("x", None))), "step": jax.numpy.int32(3)}}
        manager = state.CheckpointManager({str(tmp_path)!r}, format="orbax")
        manager.save(tree, step=3)
        manager.save(tree, step=3)  # replacing a step goes through the same atomic path
        manager.wait_until_finished()
        for spec in (P(None, "x"), P()):
            like = {{"kernel": jax.device_put(np.zeros((4, 8), np.float32), NamedSharding(mesh, spec)),
                    "step": jax.numpy.int32(0)}}
            got = manager.restore(like=like).state
            assert got["kernel"].sharding.spec == spec, got["kernel"].sharding
            assert len(got["kernel"].addressable_shards) == 2
            np.testing.assert_array_equal(np.asarray(got["kernel"]), value)
        manager.close()
        print("ok", sorted(__import__("os").listdir({str(tmp_path)!r})))
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ok ['3']" in out.stdout


def test_a_damaged_orbax_checkpoint_fails_its_checksum(tmp_path):
    tree = {"w": ops.asarray(np.arange(4096, dtype=np.float32), backend="jax")}
    state.save_checkpoint(tmp_path / "c", tree, step=0, format="orbax").wait_until_finished()
    data = [os.path.join(root, name) for root, _, names in os.walk(tmp_path / "c" / "state")
            for name in names if os.sep + "d" + os.sep in os.path.join(root, name)]
    biggest = max(data, key=os.path.getsize)
    with open(biggest, "r+b") as f:
        f.seek(os.path.getsize(biggest) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(state.CheckpointError, match="damaged"):
        state.load_checkpoint(tmp_path / "c")


def test_orbax_manager_keeps_the_last_n_and_the_best(tmp_path):
    manager = state.CheckpointManager(tmp_path, max_to_keep=1, best_metric="loss", format="orbax")
    for step, loss in [(1, 0.5), (2, 0.1), (3, 0.7), (4, 0.9)]:
        manager.save({"w": ops.full((2,), float(step), backend="jax")}, step=step, metrics={"loss": loss})
    manager.wait_until_finished()
    assert manager.all_steps() == [2, 4] and manager.best_step() == 2
    assert manager.restore(step=2).state["w"].tolist() == [2.0, 2.0]
    manager.close()
