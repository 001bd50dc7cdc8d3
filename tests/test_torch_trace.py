"""``pk.jit`` on PyTorch by default: eager on a signature's first call, traced into an
ATen graph on its second, replayed after (``backends/_torch/_trace.py``)."""
from __future__ import annotations

import warnings

import numpy as np
import optree
import pytest
import torch

import purekeras as pk
from purekeras import nn, optim, random, train

SCCE = train.losses.SparseCategoricalCrossentropy


def _model():
    return nn.Sequential([
        nn.Conv2D(4, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Dense(8, activation="relu"),
        nn.Dense(3),
    ])


def _batch(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(12, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=12).astype(np.int32)
    mask = np.ones(12, np.float32)
    mask[-2:] = 0.0
    return x, y, None, mask


def _run(compile, steps=5):
    model, acc = _model(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(learning_rate=0.01, clipnorm=1.0)
    ts = train.init_state(model, opt, random.key(3, backend="torch"), nn.InputSpec((None, 6, 6, 1)),
                          metrics=[acc])
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
