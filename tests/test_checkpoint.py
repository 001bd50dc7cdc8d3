"""Train-state checkpoints (purekeras.state): the portable format, cross-backend resume, the manager."""
from __future__ import annotations

import json
import os

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import nn, ops, optim, random, state, train

SCCE = train.losses.SparseCategoricalCrossentropy
MODEL = nn.Sequential([nn.Dense(4), nn.BatchNormalization(), nn.Dropout(0.5), nn.Dense(3)])
OPT = optim.Adam(learning_rate=0.01)
ACC = train.metrics.SparseCategoricalAccuracy()


def _state(backend, seed=0):
    return train.init_state(MODEL, OPT, random.key(seed, backend=backend), nn.InputSpec((None, 3)), metrics=[ACC])


def _batch(n=8):
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    return x, (np.arange(n) % 3).astype(np.int32), None, np.ones(n, np.float32)


class _Steps(dict):
    def __missing__(self, backend):
        self[backend] = pk.jit(train.make_train_step(MODEL, SCCE(from_logits=True), OPT, metrics=[ACC]),
                               backend=backend)
        return self[backend]


@pytest.fixture(scope="module")
def steps():
    """One compiled (or eager) train step per backend, made on first use, shared by the tests."""
    return _Steps()


def _numpy(tree) -> dict:
    """``{path: NumPy array}`` (jit returns dicts in sorted order: compare by path)."""
    return {path: np.asarray(ops.convert_to_numpy(leaf)) for path, leaf in state.flatten_with_paths(tree)}


def _assert_same(a, b):
    left, right = _numpy(a), _numpy(b)
    assert sorted(left) == sorted(right)
    for path, x in left.items():
        assert x.dtype == right[path].dtype and x.shape == right[path].shape, path
        np.testing.assert_array_equal(x, right[path], err_msg=path)


def test_round_trip_of_a_train_state_on_each_backend(tmp_path, backend):
    ts = _state(backend, seed=3)._replace(step=ops.ones((), "int32", backend=backend))
    handle = state.save_checkpoint(tmp_path / "c", ts, epoch=2, metrics={"loss": 0.5}, metadata={"run": [1, "a"]})
    assert handle.done()
    restored = state.load_checkpoint(tmp_path / "c", like=_state(backend, seed=1))
    assert type(restored.state) is train.TrainState and type(restored.state.opt_state) is optim.OptState
    assert type(restored.state.opt_state.slots).__name__ == "AdamSlots"
    assert ops.backend_name(restored.state.params["dense"]["kernel"]) == backend
    assert (restored.step, restored.epoch, restored.metrics, restored.metadata) == (1, 2, {"loss": 0.5},
                                                                                    {"run": [1, "a"]})
    _assert_same(restored.state, ts)
    assert sorted(os.listdir(tmp_path / "c")) == ["checkpoint.json", "state.npz"]
    plain = state.load_checkpoint(tmp_path / "c")  # without like: NumPy in the saved nesting
    assert type(plain.state).__name__ == "TrainState" and isinstance(plain.state.step, np.ndarray)
    _assert_same(plain.state, ts)


def test_a_run_checkpointed_on_jax_resumes_on_torch(tmp_path, steps):
    batch = _batch()
    ts_jax, _ = steps["jax"](_state("jax"), batch)
    state.save_checkpoint(tmp_path / "c", ts_jax)
    ts_torch = state.load_checkpoint(tmp_path / "c", like=_state("torch", seed=7)).state
    _assert_same(ts_torch, ts_jax)
    ts_torch, logs_torch = steps["torch"](ts_torch, batch)
    ts_jax, logs_jax = steps["jax"](ts_jax, batch)
    assert int(ts_torch.step) == 2 and ops.backend_name(ts_torch.params["dense"]["kernel"]) == "torch"
    # The second step's loss comes from the restored params, dropout key and BatchNorm statistics.
    np.testing.assert_allclose(float(logs_torch["loss"]), float(logs_jax["loss"]), rtol=1e-5)
    np.testing.assert_allclose(_numpy(ts_torch.params)["dense_1/kernel"], _numpy(ts_jax.params)["dense_1/kernel"],
                               atol=1e-4)


def test_odd_leaves_round_trip(tmp_path):
    import ml_dtypes

    tree = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "empty": {}, "none": None,
            "half": np.ones((2,), ml_dtypes.bfloat16), "zero": np.zeros((0, 4), np.int32),
            "f": np.asarray(ops.ones((3,), "float16", backend="jax")), "t": (np.uint8(3), [np.bool_(True)])}
    state.save_checkpoint(tmp_path / "c", tree, step=3)
    got = state.load_checkpoint(tmp_path / "c").state
    assert list(got) == list(tree) and got["empty"] == {} and got["none"] is None
    assert got["half"].dtype == ml_dtypes.bfloat16 and got["zero"].shape == (0, 4)
    assert got["t"][0].dtype == np.uint8 and got["t"][1][0].dtype == np.bool_
    like = optree.tree_map(np.zeros_like, tree, none_is_leaf=False)
    _assert_same(state.load_checkpoint(tmp_path / "c", like=like).state, tree)


def test_restoring_into_a_different_state_lists_every_difference(tmp_path):
    state.save_checkpoint(tmp_path / "c", _state("jax"))
    other = train.init_state(nn.Sequential([nn.Dense(5), nn.Dense(3), nn.Dense(3)]), optim.SGD(),
                             random.key(0, backend="jax"),
                             nn.InputSpec((None, 3)))
    with pytest.raises(state.CheckpointError) as error:
        state.load_checkpoint(tmp_path / "c", like=other)
    message = str(error.value)
    for part in ("Missing", "Unexpected", "Shape mismatches", "params/dense/kernel: (3, 4) saved, (3, 5) expected",
                 "same model"):
        assert part in message
    wrong_dtype = {"w": np.zeros(2, np.float32)}
    state.save_checkpoint(tmp_path / "d", {"w": np.zeros(2, np.float64)})
    with pytest.raises(state.CheckpointError, match="Dtype mismatches.*float64 saved, float32 expected"):
        state.load_checkpoint(tmp_path / "d", like=wrong_dtype)


def test_bad_arguments_and_missing_checkpoints_have_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        state.save_checkpoint(tmp_path / "c", {"w": np.zeros(1)}, format="pickle")
    with pytest.raises(TypeError, match="metadata must be JSON"):
        state.save_checkpoint(tmp_path / "c", {"w": np.zeros(1)}, metadata={"f": object()})
    assert not os.path.exists(tmp_path / "c")
    with pytest.raises(state.CheckpointError, match="does not exist"):
        state.load_checkpoint(tmp_path / "nothing")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(state.CheckpointError, match="holds no purekeras checkpoint"):
        state.load_checkpoint(tmp_path / "empty")
    with pytest.raises(state.CheckpointError, match="holds no checkpoint"):
        state.CheckpointManager(tmp_path / "m").restore()


def test_manager_keeps_the_last_n_and_the_best(tmp_path):
    tree = {"w": np.zeros(2, np.float32)}
    manager = state.CheckpointManager(tmp_path, max_to_keep=2, best_metric="acc", mode="max")
    for step, acc in [(10, 0.5), (20, 0.9), (30, 0.7), (40, 0.6), (50, 0.8)]:
        manager.save({"w": np.full(2, step, np.float32)}, step=step, metrics={"acc": acc}, epoch=step // 10)
    assert manager.all_steps() == [20, 40, 50] and manager.latest_step() == 50 and manager.best_step() == 20
    assert manager.restore().state["w"].tolist() == [50.0, 50.0]
    best = manager.restore(step=manager.best_step(), like=tree)
    assert (best.state["w"].tolist(), best.epoch, best.metrics) == ([20.0, 20.0], 2, {"acc": 0.9})
    reopened = state.CheckpointManager(tmp_path, max_to_keep=2, best_metric="acc", mode="max")
    assert reopened.best_step() == 20  # read back from the descriptions
    with pytest.raises(KeyError, match="best_metric 'acc' is not among"):
        manager.save(tree, step=60, metrics={"loss": 1.0})
    lowest = state.CheckpointManager(tmp_path / "min", max_to_keep=1, best_metric="loss")
    for step, loss in [(1, 0.3), (2, float("nan")), (3, 0.4)]:
        lowest.save(tree, step=step, metrics={"loss": loss})
    assert lowest.all_steps() == [1, 3]
    with pytest.raises(ValueError, match="max_to_keep"):
        state.CheckpointManager(tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="mode must be"):
        state.CheckpointManager(tmp_path, mode="best")


def test_manager_takes_the_step_from_the_train_state_and_overwrites_atomically(tmp_path, steps):
    manager = state.CheckpointManager(tmp_path)
    ts = _state("jax")
    manager.save(ts)
    ts, _ = steps["jax"](ts, _batch())
    manager.save(ts)
    manager.save(ts._replace(rng=ops.zeros((2,), "uint32", backend="jax")), step=1)  # replaces step 1
    assert manager.all_steps() == [0, 1] and sorted(os.listdir(tmp_path)) == ["0", "1"]
    assert manager.restore(like=ts).state.rng.tolist() == [0, 0]
    with pytest.raises(ValueError, match="pass step="):
        manager.save({"w": np.zeros(1)})


def test_opening_a_manager_finishes_what_a_killed_save_left(tmp_path):
    tree = {"w": np.ones(2, np.float32)}
    state.save_checkpoint(tmp_path / "3", tree, step=3)
    state.save_checkpoint(tmp_path / "4", tree, step=4)
    os.replace(tmp_path / "4", tmp_path / f".old-4-{'a' * 32}")  # killed between the two renames
    os.makedirs(tmp_path / ".tmp-5-xyz")  # killed while writing step 5
    os.makedirs(tmp_path / "6.orbax-checkpoint-tmp")
    manager = state.CheckpointManager(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["3", "4"] and manager.latest_step() == 4
    assert manager.restore(like=tree).step == 4


def test_description_is_json_with_a_checksum(tmp_path):
    state.save_checkpoint(tmp_path / "c", {"w": np.zeros(2, np.float32)}, step=1, epoch=0)
    with open(tmp_path / "c" / "checkpoint.json") as f:
        wrapped = json.load(f)
    assert wrapped["checkpoint"]["arrays"] == [["w", [2], "float32"]] and isinstance(wrapped["crc32"], int)
    assert state.checkpoint_info(tmp_path / "c")["epoch"] == 0
    wrapped["checkpoint"]["epoch"] = 5  # an edit without a new checksum is refused
    with open(tmp_path / "c" / "checkpoint.json", "w") as f:
        json.dump(wrapped, f)
    with pytest.raises(state.CheckpointError, match="CRC-32"):
        state.load_checkpoint(tmp_path / "c")
