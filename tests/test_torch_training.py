"""Training on PyTorch end to end: the pure steps, the facade, DataLoader input, and
PyTorch next to JAX in one process.

``tests/test_model.py`` already runs the facade's contract on every backend (the
``backend`` fixture) and ``test_cross_backend.py`` the step's equality with
JAX's; these tests add what is PyTorch's own: no host sync inside a step, one graph under ``torch.compile``, the
multi-tensor optimizer path, ``torch.utils.data.DataLoader`` input, both backends
training side by side, and the README job on PyTorch.
"""
from __future__ import annotations

import numpy as np
import optree
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import purekeras as pk
from purekeras import ops, optim, random, train

from .training_models import SCCE, SPEC, assert_trees_close, cnn, images, mlp, tabular


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models on a shared 2-core machine run on one PyTorch thread: with two,
    a step is many times slower whenever another process holds a core
    (benchmarks/RESULTS.md). Set for this module only, then restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- the pure step (its equality with JAX: tests/test_cross_backend.py) -----------------
class _HostSync(AssertionError):
    pass


def test_train_and_eval_steps_make_no_host_sync(monkeypatch):
    """Every way a tensor's value reaches Python raises inside the steps."""
    model, acc = cnn(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(clipnorm=1.0)
    ts = train.init_state(model, opt, random.key(0, backend="torch"), SPEC, metrics=[acc])
    x, y = (torch.from_numpy(a) for a in images())
    batch = (x, y, None, torch.ones(len(x)))
    train_step = train.make_train_step(model, SCCE(from_logits=True), opt, metrics=[acc])
    eval_step = train.make_eval_step(model, SCCE(from_logits=True), metrics=[acc])

    def forbidden(name):
        def fail(self, *args, **kwargs):
            raise _HostSync(f"Tensor.{name} inside a step")
        return fail

    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, forbidden(name))
    ts, logs = train_step(ts, batch)
    ts, logs = eval_step(ts, batch)
    monkeypatch.undo()
    assert np.isfinite(float(logs["loss"]))


def test_train_step_is_one_graph_under_torch_compile():
    """``fullgraph=True`` fails on any graph break (host sync, untraceable Python);
    ``aot_eager`` traces forward and backward like Inductor, without its C++ build."""
    model, acc = cnn(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(learning_rate=0.01)
    ts = train.init_state(model, opt, random.key(3, backend="torch"), SPEC, metrics=[acc])
    step = train.make_train_step(model, SCCE(from_logits=True), opt, metrics=[acc])
    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")
    x, y = (torch.from_numpy(a) for a in images())
    batch = (x, y, None, torch.ones(len(x)))
    eager_ts, eager_logs = step(ts, batch)
    compiled_ts, compiled_logs = compiled(ts, batch)
    assert_trees_close(compiled_ts.params, eager_ts.params, rtol=1e-5, atol=1e-7)
    assert_trees_close(compiled_logs, eager_logs, rtol=1e-5)


@pytest.mark.parametrize("opt", [
    optim.Adam(0.05, amsgrad=True, beta_2=0.9), optim.AdamW(0.05, weight_decay=0.1),
    optim.Adam(0.05, global_clipnorm=0.5), optim.Adam(0.05, beta_1=0.3, beta_2=0.4),
], ids=["amsgrad", "adamw", "global_clipnorm", "small_betas"])
def test_multi_tensor_adam_equals_jax(opt):
    """The multi-tensor path: float32 leaves through torch's fused kernel, bfloat16
    through ``torch._foreach_*`` (grouped by dtype)."""
    rng = np.random.default_rng(0)
    params = {"a": {"kernel": rng.normal(size=(5, 3)), "bias": rng.normal(size=(3,))},
              "b": rng.normal(size=(4,))}
    grads = [optree.tree_map(lambda p: rng.normal(size=p.shape), params) for _ in range(4)]
    dtypes = {"a": "float32", "b": "bfloat16"}
    results = {}
    for backend in ("jax", "torch"):
        def convert(tree, backend=backend):
            return {k: optree.tree_map(lambda v, k=k: ops.asarray(v, dtypes[k], backend=backend), tree[k])
                    for k in tree}
        p = convert(params)
        state = opt.init(p)
        for g in grads:
            p, state = opt.apply(convert(g), state, p)
        assert ops.dtype(p["b"]) == "bfloat16"
        results[backend] = optree.tree_map(lambda a: np.asarray(ops.convert_to_numpy(a), np.float32), p)
    assert_trees_close(results["torch"]["a"], results["jax"]["a"], rtol=1e-5, atol=1e-6)
    assert_trees_close(results["torch"]["b"], results["jax"]["b"], rtol=1e-2, atol=1e-2)


def test_adam_under_torch_func_vmap_takes_the_leaf_path():
    """An ensemble of 3 param sets updated under ``torch.func.vmap`` equals 3 updates."""
    opt = optim.Adam(0.1)
    params = {"w": torch.arange(6, dtype=torch.float32).reshape(3, 2)}
    grads = {"w": torch.tensor([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])}
    states = torch.func.vmap(opt.init)(params)
    batched, _ = torch.func.vmap(opt.apply)(grads, states, params)
    for i in range(3):
        one = {"w": params["w"][i]}
        expected, _ = opt.apply({"w": grads["w"][i]}, opt.init(one), one)
        torch.testing.assert_close(batched["w"][i], expected["w"])


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_takes_strided_tensors_and_float64(amsgrad):
    """The fused kernel walks memory linearly: transposed params and grads (as a
    transposed product's gradient is) must give Keras's update all the same."""
    rng = np.random.default_rng(1)
    opt = optim.Adam(0.05, amsgrad=amsgrad)
    params = {"t": rng.normal(size=(4, 6)), "g": rng.normal(size=(4, 6)), "d": rng.normal(size=(5,))}
    grads = [optree.tree_map(lambda a: rng.normal(size=a.shape), params) for _ in range(3)]

    def transposed_layout(tensor):  # the same values, stored transposed
        return tensor.T.contiguous().T

    results = {}
    for backend in ("jax", "torch"):
        def convert(tree, backend=backend):
            return {k: ops.asarray(v, "float64" if k == "d" and backend == "torch" else "float32", backend=backend)
                    for k, v in tree.items()}
        p = convert(params)
        if backend == "torch":  # a strided param with a contiguous gradient, and the other way round
            p["t"] = transposed_layout(p["t"])
        state = opt.init(p)
        for g in grads:
            g = convert(g)
            if backend == "torch":
                g["g"] = transposed_layout(g["g"])
            p, state = opt.apply(g, state, p)
        results[backend] = optree.tree_map(lambda a: np.asarray(ops.convert_to_numpy(a), np.float64), p)
    assert_trees_close(results["torch"], results["jax"], rtol=1e-5, atol=1e-6)


def test_adam_on_torch_stays_differentiable_and_a_beta_of_one_keeps_params():
    """Where autograd records the update (meta-learning), it must not go through the
    fused kernel, which autograd cannot see; with beta_2 = 1 Keras's step size is 0."""
    p, m = torch.randn(5, requires_grad=True), torch.randn(5, requires_grad=True)
    opt = optim.Adam(learning_rate=0.1)
    state = opt.init({"a": p.detach()})
    state = state._replace(slots=state.slots._replace(m={"a": m}, v={"a": torch.ones(5)}))
    new, _ = opt.apply({"a": torch.randn(5)}, state, {"a": p})
    new["a"].sum().backward()
    assert m.grad is not None and bool(torch.all(m.grad != 0)) and p.grad is not None
    still = optim.Adam(0.1, beta_2=1.0)
    ones = {"a": torch.ones(4)}
    new, _ = still.apply(ones, still.init(ones), ones)
    assert torch.equal(new["a"], torch.ones(4))


# -- the facade ---------------------------------------------------------------------------
def _torch_model(**compile_kwargs):
    m = pk.Model(mlp(), input_shape=(4,), backend="torch", seed=0)
    return m.compile(optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True),
                     metrics=["accuracy"], **compile_kwargs)


def test_fit_with_callbacks_evaluate_predict_on_torch():
    x, y = tabular()
    m = _torch_model()
    history = m.fit(x, y, batch_size=16, epochs=6, verbose=0, validation_split=0.25, callbacks=[
        pk.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
        pk.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1),
    ])
    logs = history.history
    assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert logs["loss"][-1] < logs["loss"][0]
    assert all(isinstance(t, torch.Tensor) for t in optree.tree_leaves(m.train_state.params))
    loss, accuracy = m.evaluate(x, y, batch_size=20, verbose=0)  # 96 = 4 * 20 + 16: a padded batch
    assert isinstance(loss, float) and 0.0 <= accuracy <= 1.0
    assert m.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-5)
    predictions = m.predict(x[:7], batch_size=4, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (7, 3)
    assert predictions.dtype == np.float32


def _is_torch_compiled(fn) -> bool:
    return hasattr(getattr(fn, "__wrapped__", None), "_torchdynamo_orig_callable")


def test_jit_compile_choice_reaches_the_backend():
    """Eager is PyTorch's default; ``jit_compile=True`` wraps the steps in ``torch.compile``
    (not called here: Inductor's first compile takes ~20 s on 2 cores)."""
    def step(ts, x):
        return ts, x

    assert not _is_torch_compiled(pk.jit(step, backend="torch"))
    assert _is_torch_compiled(pk.jit(step, backend="torch", compile=True))
    assert pk.jit(step, backend="jax", compile=False) is step
    assert not _is_torch_compiled(_torch_model()._function("train"))
    compiled = _torch_model(jit_compile=True)
    assert all(_is_torch_compiled(compiled._function(kind)) for kind in ("train", "eval", "predict"))
    with pytest.raises(ValueError, match="jit_compile must be 'auto', True or False"):
        _torch_model(jit_compile="yes")


def _loader(x, y, **kwargs):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y).long()), **kwargs)


def test_fit_takes_a_data_loader():
    """Built from the loader's shapes; int64 labels and the short last batch (96 = 5 * 18 + 6)
    are handled; evaluating the loader equals evaluating the arrays."""
    x, y = tabular()
    shuffled = _loader(x, y, batch_size=18, shuffle=True, generator=torch.Generator().manual_seed(0))
    m = pk.Model(mlp(), backend="torch", seed=0)
    m.compile(optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True), metrics=["accuracy"])
    history = m.fit(shuffled, epochs=4, verbose=0, validation_data=_loader(x, y, batch_size=32))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert m.built and m.get_weights()[0].shape == (4, 16)
    in_order = _loader(x, y, batch_size=18)
    np.testing.assert_allclose(m.evaluate(in_order, verbose=0), m.evaluate(x, y, batch_size=18, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(m.predict(in_order, verbose=0), m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_data_loader_errors_and_peek_draws_no_batch():
    from purekeras.train._data import TorchDataLoaderAdapter, adapt

    x, y = tabular(10)
    loader = _loader(x, y, batch_size=4, shuffle=True)
    with pytest.raises(ValueError, match="batch_size is set by the batches of a DataLoader"):
        adapt(loader, batch_size=4)
    with pytest.raises(ValueError, match="do not pass y or sample_weight"):
        adapt(loader, y)
    adapter = adapt(loader)
    assert isinstance(adapter, TorchDataLoaderAdapter) and adapter.num_batches == 3
    state = torch.random.get_rng_state()
    px, py = adapter.peek()
    assert torch.equal(torch.random.get_rng_state(), state)  # no shuffle drawn
    assert (px.shape, px.dtype, py.shape, py.dtype) == ((1, 4), np.float32, (1,), np.int32)


def test_jax_and_torch_models_train_side_by_side():
    """Two facades in one process, epochs interleaved, no global switch: the same seed
    gives the same initial weights and (up to float32 rounding) the same training."""
    x, y = tabular()
    models = {}
    for backend in ("jax", "torch"):
        models[backend] = pk.Model(mlp(), input_shape=(4,), backend=backend, seed=1).compile(
            optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True), metrics=["accuracy"])
    for a, b in zip(models["jax"].get_weights(), models["torch"].get_weights()):
        np.testing.assert_array_equal(a, b)
    losses = {"jax": [], "torch": []}
    for _ in range(3):
        for backend, m in models.items():
            losses[backend] += m.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"]
    assert ops.backend_name(optree.tree_leaves(models["torch"].train_state.params)[0]) == "torch"
    assert ops.backend_name(optree.tree_leaves(models["jax"].train_state.params)[0]) == "jax"
    assert losses["torch"][-1] < losses["torch"][0] and losses["jax"][-1] < losses["jax"][0]
    np.testing.assert_allclose(losses["torch"], losses["jax"], rtol=1e-4)
    for a, b in zip(models["jax"].get_weights(), models["torch"].get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)


def test_readme_job_reaches_target_accuracy_on_torch():
    """``python examples/train_digits.py --backend torch``: the CNN on sklearn's digits
    to >= 0.97 test accuracy (~17 s on 2 cores, eager PyTorch)."""
    from tests.test_digits import _example

    example = _example()
    model, accuracy = example.train(backend="torch", seed=0, verbose=0)
    assert accuracy >= example.TARGET_ACCURACY, f"test accuracy {accuracy:.4f}"
    assert model.backend == "torch" and max(model.history.history["val_accuracy"]) >= 0.95
    assert isinstance(optree.tree_leaves(model.train_state.params)[0], torch.Tensor)
