"""``pk.jit`` on PyTorch by default: eager on a signature's first call, traced into an
ATen graph on its second, replayed after (``backends/_torch/_trace.py``)."""
from __future__ import annotations

import warnings

import numpy as np
import optree
import pytest
import torch

import purekeras as pk
from purekeras import optim, random, train

from .training_models import SCCE, SPEC, cnn


def _batch(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(12, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=12).astype(np.int32)
    mask = np.ones(12, np.float32)
    mask[-2:] = 0.0
    return x, y, None, mask


def _run(compile, steps=5):
    model, acc = cnn(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(learning_rate=0.01, clipnorm=1.0)
    ts = train.init_state(model, opt, random.key(3, backend="torch"), SPEC, metrics=[acc])
    step = pk.jit(train.make_train_step(model, SCCE(from_logits=True), opt, metrics=[acc]),
                  backend="torch", compile=compile)
    history = []
    for i in range(steps):
        ts, logs = step(ts, _batch(i))
        history.append(logs)
    return ts, history


def _leaves(tree):
    return [np.asarray(v) for v in optree.tree_leaves(tree, none_is_leaf=False)]


def test_traced_steps_equal_eager_steps_bitwise():
    """Dropout, Adam with clipping, a metric and a padded batch: every state leaf and
    every step's logs are bitwise those of op-by-op execution."""
    traced_ts, traced_logs = _run(compile=None)
    eager_ts, eager_logs = _run(compile=False)
    assert optree.tree_structure(traced_ts) == optree.tree_structure(eager_ts)
    for a, b in zip(_leaves((traced_ts, traced_logs)), _leaves((eager_ts, eager_logs)), strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert int(traced_ts.step) == 5


def test_eager_first_then_traced_then_replayed_per_signature():
    calls = []

    def f(x, scale):
        calls.append(tuple(x.shape))
        return {"y": x * scale, "name": "kept"}

    jitted = pk.jit(f, backend="torch")
    for _ in range(4):
        out = jitted(torch.ones(2), 3.0)
    assert out["name"] == "kept" and out["y"].tolist() == [3.0, 3.0]
    assert calls == [(2,), (2,)]  # eager, then traced (with fake tensors); replayed twice
    assert jitted(np.ones(3, np.float32), 3.0)["y"].tolist() == [3.0] * 3  # a new shape: eager again
    assert jitted(torch.ones(2), 5.0)["y"].tolist() == [5.0, 5.0]  # a new non-tensor leaf: its own signature
    assert calls == [(2,), (2,), (3,), (2,)]


def test_untraceable_function_warns_once_and_stays_eager():
    def f(x):
        return x * 2 if x.sum().item() > 0 else x  # data-dependent Python

    jitted = pk.jit(f, backend="torch")
    assert jitted(torch.ones(2)).tolist() == [2.0, 2.0]
    with pytest.warns(RuntimeWarning, match="could not be traced.*compile=False"):
        assert jitted(-torch.ones(2)).tolist() == [-1.0, -1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jitted(torch.ones(2)).tolist() == [2.0, 2.0]  # eager for good, no second warning


def test_arguments_that_require_grad_run_eagerly():
    """The caller differentiates through the call: the graph is not used."""
    jitted = pk.jit(lambda w, x: (w * x).sum(), backend="torch")
    for _ in range(3):
        w = torch.ones(3, requires_grad=True)
        jitted(w, torch.arange(3.0)).backward()
        assert w.grad.tolist() == [0.0, 1.0, 2.0]


def test_a_jitted_function_composes_with_torch_func():
    jitted = pk.jit(lambda w: (w ** 3).sum(), backend="torch")
    for _ in range(3):
        assert torch.func.grad(jitted)(torch.tensor([1.0, 2.0])).tolist() == [3.0, 12.0]
        per_row = torch.func.vmap(jitted)(torch.tensor([[1.0], [2.0]]))
        assert per_row.tolist() == [1.0, 8.0]


def test_python_numbers_are_keyed_by_their_bits():
    jitted = pk.jit(lambda x, s: x / s, backend="torch")
    for s in (0.0, 0.0, 0.0, -0.0, -0.0, -0.0):  # eager, traced, replayed, for each zero
        expected = float("inf") if str(s) == "0.0" else float("-inf")
        assert jitted(torch.ones(1), s).item() == expected


def test_closures_over_tensors_trace_and_read_the_tensor_at_replay():
    weight = torch.tensor([1.0, 2.0])
    jitted = pk.jit(lambda x: x * weight, backend="torch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # traced: no "could not be traced" warning
        assert [jitted(torch.ones(2)).tolist() for _ in range(3)] == [[1.0, 2.0]] * 3
    weight.add_(1.0)
    assert jitted(torch.ones(2)).tolist() == [2.0, 3.0]


def test_other_returned_objects_keep_the_function_eager():
    class Box:
        def __init__(self, value):
            self.value = value

    jitted = pk.jit(lambda x: Box(x * 2), backend="torch")
    jitted(torch.ones(1))
    with pytest.warns(RuntimeWarning, match="returns Box objects"):
        out = jitted(torch.ones(1))
    assert type(out.value) is torch.Tensor and type(jitted(torch.ones(1)).value) is torch.Tensor


def test_a_failing_first_call_is_not_counted():
    def f(x, fail):
        if fail:
            raise ValueError("bad input")
        return x + 1

    jitted = pk.jit(f, backend="torch", static_argnums=(1,))
    for _ in range(2):
        with pytest.raises(ValueError, match="bad input"):
            jitted(torch.ones(1), True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [jitted(torch.ones(1), False).item() for _ in range(3)] == [2.0] * 3


def test_autocast_and_changing_numbers_run_eagerly():
    jitted = pk.jit(lambda x: x @ x, backend="torch")
    with torch.autocast("cpu", torch.bfloat16):
        for _ in range(3):
            assert jitted(torch.ones(2, 2)).dtype == torch.bfloat16
    assert [jitted(torch.ones(2, 2)).dtype for _ in range(3)] == [torch.float32] * 3
    scaled = pk.jit(lambda x, s: x * s, backend="torch")
    with pytest.warns(RuntimeWarning, match="more than 64 input signatures"):
        for i in range(70):
            assert scaled(torch.ones(1), float(i)).item() == i


def test_a_default_jitted_function_inside_torch_compile():
    inner = pk.jit(lambda x, scale=1.0: x * scale, backend="torch")
    compiled = torch.compile(lambda x: inner(x, scale=2.0) + 1, fullgraph=True, backend="eager")
    assert compiled(torch.ones(2)).tolist() == [3.0, 3.0]


def test_tracing_from_several_threads_at_once():
    import threading

    functions = [pk.jit(lambda a: torch.tanh(a * 2 + 1) @ a.T, backend="torch") for _ in range(4)]
    for f in functions:
        f(torch.ones(8, 8))
    barrier, results = threading.Barrier(4), []

    def go(f):
        barrier.wait()
        results.extend(float(f(torch.ones(8, 8)).sum()) for _ in range(3))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=go, args=(f,)) for f in functions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 12 and len(set(results)) == 1
