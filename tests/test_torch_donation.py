"""Donation on PyTorch (``pk.jit``'s ``donate_argnums``, the train state by default):
the traced replay updates donated tensors in place where the graph would copy them
for an in-place kernel, returns them as new tensor objects and empties the caller's
(``backends/_torch/_trace.py``); anything that could see the write takes the copying
replay instead."""
from __future__ import annotations

import numpy as np
import optree
import pytest
import torch

import purekeras as pk
from purekeras import optim, random, train

from .training_models import SCCE, SPEC, cnn


def _batch(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(12, 6, 6, 1)).astype(np.float32), rng.integers(0, 3, size=12).astype(np.int32)


def _parts():
    model = cnn()
    opt = optim.Adam(learning_rate=0.01)
    ts = train.init_state(model, opt, random.key(3, backend="torch"), SPEC)
    return ts, train.make_train_step(model, SCCE(from_logits=True), opt)


def _bits(tree):  # copies: a NumPy view of a tensor would keep it from being donated
    return [pk.ops.convert_to_numpy(v).tobytes() for v in optree.tree_leaves(tree, none_is_leaf=False)]


def _slots(ts):
    """The tensors Adam updates in place when donated: params, m and v."""
    return optree.tree_leaves((ts.params, ts.opt_state.slots.m, ts.opt_state.slots.v))


def test_donated_steps_equal_copying_steps_bitwise_and_empty_the_old_state():
    ts, step_fn = _parts()
    donating = pk.jit(step_fn, backend="torch")
    copying = pk.jit(step_fn, backend="torch", donate_argnums=())
    ts_d, ts_c = ts, ts
    for i in range(5):
        before = ts_d
        ts_c, logs_c = copying(ts_c, _batch(i))
        ts_d, logs_d = donating(ts_d, _batch(i))
        assert _bits((ts_d, logs_d)) == _bits((ts_c, logs_c))
        emptied = [t.numel() == 0 for t in _slots(before)]
        assert all(emptied) if i >= 1 else not any(emptied)  # eager first, then traced and replayed
        assert before.step.shape == ()  # a donated tensor no op writes stays intact
    assert all(t.numel() > 0 for t in _slots(ts_d))


def test_a_donated_state_used_again_raises_a_clear_error():
    ts, step_fn = _parts()
    step = pk.jit(step_fn, backend="torch")
    for i in range(3):
        stale, (ts, _) = ts, step(ts, _batch(i))
    with pytest.raises(ValueError, match="donated.*Pass the state that call returned.*donate_argnums=\\(\\)"):
        step(stale, _batch(0))


def test_without_donation_the_inputs_stay_intact():
    ts, step_fn = _parts()
    step = pk.jit(step_fn, backend="torch", donate_argnums=())
    kept = _bits(ts)
    for i in range(4):
        step(ts, _batch(i))
    assert _bits(ts) == kept


def test_donated_views_and_shared_tensors_take_the_copying_replay():
    """A param that is a view of a caller's tensor, and Adam slots m and v that are one
    tensor: writing in place would change the caller's tensor or one slot through the
    other. Neither happens; results equal the copying replay's."""
    ts, step_fn = _parts()
    caller_kernel = ts.params["dense"]["kernel"].clone()
    m, v = ts.opt_state.slots.m, ts.opt_state.slots.v
    shared = {"dense": dict(v["dense"], kernel=m["dense"]["kernel"])}
    odd = ts._replace(params=dict(ts.params, dense=dict(ts.params["dense"], kernel=caller_kernel[:])),
                      opt_state=ts.opt_state._replace(slots=ts.opt_state.slots._replace(v=dict(v, **shared))))
    kept = caller_kernel.clone()
    donating = pk.jit(step_fn, backend="torch")
    copying = pk.jit(step_fn, backend="torch", donate_argnums=())
    for i in range(3):
        got, want = donating(odd, _batch(i)), copying(odd, _batch(i))
        assert _bits(got) == _bits(want)
    assert torch.equal(caller_kernel, kept)
    assert all(t.numel() > 0 for t in _slots(odd))


def test_a_tensor_the_function_closes_over_is_never_written():
    closed = torch.zeros(3)

    def bump(p, g):
        out = p.clone()
        torch._foreach_add_([out], [g])  # the clone-then-write pattern of torch's fused kernels
        return out, closed * 1.0  # reads the closure after the write

    jitted = pk.jit(bump, backend="torch")
    for _ in range(3):
        out, seen = jitted(closed, torch.ones(3))  # the donated input is the closed-over tensor
    assert torch.equal(out, torch.ones(3)) and torch.equal(seen, torch.zeros(3))
    assert torch.equal(closed, torch.zeros(3))
    p = torch.zeros(3)
    for _ in range(3):  # the signature's graph exists: replays write into p and empty it
        p_next, _seen = jitted(p, torch.ones(3))
        assert p.numel() == 0
        p = p_next
    assert torch.equal(p, torch.full((3,), 3.0))


def test_numpy_values_taken_from_a_state_do_not_change_with_later_donated_steps():
    ts, step_fn = _parts()
    step = pk.jit(step_fn, backend="torch")
    for i in range(2):
        ts, _ = step(ts, _batch(i))
    taken = pk.ops.convert_to_numpy(ts.params["dense"]["kernel"])
    kept = taken.copy()
    for i in range(2):
        ts, _ = step(ts, _batch(i))
    assert np.array_equal(taken, kept)
    assert not np.array_equal(pk.ops.convert_to_numpy(ts.params["dense"]["kernel"]), kept)


def test_numpy_leaves_of_a_donated_argument_are_copied_and_numpy_batches_are_only_read():
    ts, step_fn = _parts()
    numpy_ts = optree.tree_map(lambda t: np.array(t.numpy()), ts)
    kept_state = _bits(numpy_ts)
    x, y = _batch(0)
    kept_batch = (x.copy(), y.copy())
    step = pk.jit(step_fn, backend="torch")
    outs = [step(numpy_ts, (x, y)) for _ in range(3)]  # the same NumPy state every call
    assert _bits(numpy_ts) == kept_state
    assert np.array_equal(x, kept_batch[0]) and np.array_equal(y, kept_batch[1])
    assert _bits(outs[0]) == _bits(outs[2])


def test_outputs_never_share_memory_with_a_numpy_batch_the_caller_reuses():
    """Batches share NumPy's memory (no copy per step); an output that is a view of one
    (a Flatten model's prediction) is copied, in the graph and in eager calls."""
    flatten = pk.jit(lambda ts, x: (ts, x.reshape(-1)), backend="torch")
    buffer = np.ones((2, 2), np.float32)
    outs = []
    for _ in range(3):  # eager, traced, replayed
        outs.append(flatten(torch.zeros(()), buffer)[1])
        buffer[:] = 7.0
        buffer[:] = 1.0 if len(outs) < 3 else 5.0
    assert [o.tolist() for o in outs] == [[1.0] * 4] * 3

    model = pk.Model(pk.nn.Sequential([pk.nn.Flatten()]), backend="torch", input_shape=(None, 2, 2))
    refilled = np.zeros((3, 2, 2), np.float32)

    def batches():  # one buffer refilled per batch, as many loaders do
        for k in range(4):
            refilled[:] = k
            yield (refilled,)

    assert model.predict(batches(), verbose=0, steps=4)[::3, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_donated_tensors_over_numpy_memory_and_big_endian_batches():
    def bump(p, g):
        out = p.clone()
        torch._foreach_add_([out], [g])
        return out

    caller = np.ones(2, np.float32)
    jitted = pk.jit(bump, backend="torch")
    for _ in range(3):  # torch.from_numpy memory is NumPy's: never written
        assert jitted(torch.from_numpy(caller), torch.ones(2)).tolist() == [2.0, 2.0]
    assert caller.tolist() == [1.0, 1.0]

    big_endian = np.arange(4, dtype=">f4")
    double = pk.jit(lambda ts, x: (ts, x * 2.0), backend="torch")
    assert [double(torch.zeros(()), big_endian)[1].tolist() for _ in range(3)] == [[0.0, 2.0, 4.0, 6.0]] * 3
