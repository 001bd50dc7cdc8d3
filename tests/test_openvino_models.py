"""Whole models on OpenVINO: predict from any backend, the facade, training errors, export.

- A CNN (W2's layers) and a transformer encoder block (MultiHeadAttention +
  LayerNormalization + Dense, a Functional graph) match JAX within 1e-4.
- ``pk.Model.predict(x, backend="openvino")`` on a PyTorch-trained facade equals its
  own predict, compiles once for all batches, and follows new weights after fit;
  ``pk.Model(..., backend="openvino")`` initialises, loads weights, predicts and
  evaluates; training on it raises an error that says to train elsewhere.
- ``pk.export`` writes ``.xml`` / ``.bin`` that plain ``openvino`` runs in a
  subprocess that never imports purekeras, with a dynamic or fixed batch.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import backends, nn, ops, optim, random, train
from purekeras._export import ExportError
from purekeras.backends import openvino_backend

SCCE = train.losses.SparseCategoricalCrossentropy
RTOL, ATOL = 1e-4, 1e-5


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def cnn() -> nn.Sequential:
    return nn.Sequential([
        nn.Conv2D(8, 3, padding="same", activation="relu"),
        nn.Conv2D(16, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Dense(32, activation="relu"),
        nn.Dense(10),
    ])


def encoder_block(seq: int = 6, dim: int = 16, heads: int = 2) -> nn.Functional:
    inp = nn.Input((seq, dim))
    attended = nn.MultiHeadAttention(num_heads=heads, key_dim=dim // heads)([inp, inp])
    h = nn.LayerNormalization(epsilon=1e-6)(nn.Add()([inp, attended]))
    ff = nn.Dense(dim, name="ff_out")(nn.Dense(2 * dim, activation="gelu", name="ff_in")(h))
    return nn.Functional(inp, nn.LayerNormalization(epsilon=1e-6)(nn.Add()([h, ff])))


def _digits(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8, 8, 1), dtype=np.float32)
    y = (x[:, :4].mean((1, 2, 3)) > x[:, 4:].mean((1, 2, 3))).astype(np.int32)
    return x, y


@pytest.mark.parametrize("name", ["cnn", "encoder_block"])
def test_model_on_openvino_matches_jax(name):
    model, shape = (cnn(), (8, 8, 1)) if name == "cnn" else (encoder_block(), (6, 16))
    params, state = model.init(random.key(0, backend="openvino"), nn.InputSpec((None, *shape)))  # = JAX's bits
    params, state = (optree.tree_map(lambda a: ops.asarray(_np(a), backend="jax"), t) for t in (params, state))
    x = np.random.default_rng(1).standard_normal((5, *shape)).astype(np.float32)
    expected = pk.jit(lambda p, s, x: model.apply(p, s, x)[0], backend="jax", donate_argnums=())(params, state, x)
    predict = openvino_backend.predict_function(model, params, state)
    np.testing.assert_allclose(predict(x), _np(expected), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(predict(x[:1]), _np(expected)[:1], rtol=RTOL, atol=ATOL)
    assert predict.num_compiled == 2  # one model per input shape


@pytest.fixture(scope="module")
def trained():
    """A small CNN trained 2 epochs on PyTorch (the facade; eager, so no compile), with
    its data. PyTorch runs on one thread here, as in tests/test_torch_training.py."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    x, y = _digits()
    m = pk.Model(cnn(), input_shape=(8, 8, 1), backend="torch", seed=0)
    m.compile(optimizer=optim.Adam(1e-2), loss=SCCE(from_logits=True), metrics=["accuracy"])
    m.fit(x, y, batch_size=16, epochs=2, verbose=0)
    yield m, x, y
    torch.set_num_threads(threads)


def test_facade_predicts_on_openvino(trained):
    m, x, y = trained
    own = m.predict(x, batch_size=24, verbose=0)
    on_ov = m.predict(x, batch_size=24, verbose=0, backend="openvino")  # 3 batches, the last padded
    np.testing.assert_allclose(on_ov, own, rtol=RTOL, atol=ATOL)
    step = m._functions["predict:openvino"]
    assert step.function.num_compiled == 1


def test_facade_predict_follows_new_weights(trained):
    m, x, y = trained
    before = m.predict(x, verbose=0, backend="openvino")
    m.set_weights([w * 0.5 for w in m.get_weights()])
    after = m.predict(x, verbose=0, backend="openvino")
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, m.predict(x, verbose=0), rtol=RTOL, atol=ATOL)


def test_predict_on_a_training_backend_by_name_is_refused(trained):
    m, x, _ = trained
    with pytest.raises(ValueError, match="not an inference backend"):
        m.predict(x, verbose=0, backend="jax")


def test_openvino_facade_loads_weights_predicts_and_evaluates(trained, tmp_path):
    m, x, y = trained
    path = tmp_path / "w.npz"
    m.save_weights(path)
    o = pk.Model(cnn(), input_shape=(8, 8, 1), backend="openvino", seed=0)
    o.load_weights(path)
    np.testing.assert_allclose(o.predict(x, verbose=0), m.predict(x, verbose=0), rtol=RTOL, atol=ATOL)
    o.compile(optimizer="adam", loss=SCCE(from_logits=True), metrics=["accuracy"])
    m_loss, m_acc = m.evaluate(x, y, verbose=0)
    o_loss, o_acc = o.evaluate(x, y, verbose=0)
    assert o_acc == m_acc and o_loss == pytest.approx(m_loss, rel=1e-4)


def test_training_on_openvino_says_where_to_train(trained):
    _, x, y = trained
    o = pk.Model(cnn(), input_shape=(8, 8, 1), backend="openvino")
    o.compile(optimizer="adam", loss=SCCE(from_logits=True))
    message = r"Train on another backend.*backend=\"openvino\""
    with pytest.raises(backends.BackendError, match=message):
        o.fit(x, y, epochs=1, verbose=0)
    model, loss, opt = cnn(), SCCE(from_logits=True), optim.SGD()
    ts = train.init_state(model, opt, random.key(0, backend="openvino"), nn.InputSpec((None, 8, 8, 1)))
    step = train.make_train_step(model, loss, opt)
    with pytest.raises(backends.BackendError, match=message):
        step(ts, (ops.asarray(x[:4], backend="openvino"), ops.asarray(y[:4], backend="openvino")))
    with pytest.raises(backends.BackendError, match=message):
        pk.jit(step, backend="openvino")(ts, (x[:4], y[:4]))


# ----------------------------------------------------------------------------
# Export

_PLAIN_OPENVINO = textwrap.dedent("""
    import json, sys
    import numpy as np
    import openvino as ov
    args = json.loads(sys.argv[1])
    data = np.load(args["data"])
    core = ov.Core()
    model = core.read_model(args["xml"])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    errors = []
    for batch in args["batches"]:
        out = compiled(data["x"][:batch])[compiled.output(0)]
        errors.append(float(np.max(np.abs(out - data["expected"][:batch]))))
    print(json.dumps({"errors": errors, "inputs": [i.get_any_name() for i in model.inputs],
                      "outputs": [o.get_any_name() for o in model.outputs],
                      "purekeras_imported": any(m.startswith("purekeras") for m in sys.modules)}))
""")


def _run_plain_openvino(xml, data, batches) -> dict:
    args = json.dumps({"xml": str(xml), "data": str(data), "batches": batches})
    out = subprocess.run([sys.executable, "-c", _PLAIN_OPENVINO, args], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("batch_size", [None, 4])
def test_export_runs_in_plain_openvino(trained, tmp_path, batch_size):
    m, x, _ = trained
    written = pk.export(m, tmp_path / "digits", format="openvino", batch_size=batch_size)
    assert written == str(tmp_path / "digits.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.bin", "digits.xml"]  # no temp files left
    expected = m.predict(x[:7], verbose=0)
    np.savez(tmp_path / "data.npz", x=x[:7], expected=expected)
    result = _run_plain_openvino(written, tmp_path / "data.npz", [1, 3, 7] if batch_size is None else [4])
    assert not result["purekeras_imported"]
    assert result["inputs"] == ["input"] and result["outputs"] == ["output"]
    assert max(result["errors"]) < 1e-4 * max(1.0, float(np.abs(expected).max()))


def test_export_a_spec_with_its_params(tmp_path):
    block = encoder_block()
    params, state = block.init(random.key(1, backend="torch"))  # trained on PyTorch, say
    written = pk.export(block, tmp_path / "block.xml", params=params, state=state)
    x = np.random.default_rng(2).standard_normal((3, 6, 16)).astype(np.float32)
    expected, _ = block.apply(params, state, ops.asarray(x, backend="torch"))
    np.savez(tmp_path / "data.npz", x=x, expected=_np(expected))
    result = _run_plain_openvino(written, tmp_path / "data.npz", [2, 3])
    assert max(result["errors"]) < 1e-4 * max(1.0, float(np.abs(_np(expected)).max()))


@dataclass(frozen=True)
class _AddRowIndex(nn.Layer):
    """Adds each row's index: the batch size is read as a Python int, so it is fixed
    once traced (at batch 1 the index is a broadcast 0)."""

    def apply(self, params, state, x, *, training=False, rng=None):
        rows = ops.arange(ops.shape(x)[0], dtype="float32", backend=ops.backend_name(x))
        return ops.add(x, ops.reshape(rows, (-1, 1))), state

    def output_spec(self, input_spec):
        return input_spec


def test_export_with_a_free_batch_checks_the_model_allows_it(tmp_path):
    spec = nn.InputSpec((None, 3))
    with pytest.raises(ExportError, match="Pass batch_size=N"):
        pk.export(_AddRowIndex(), tmp_path / "f", params={}, state={}, input_spec=spec)
    assert not list(tmp_path.iterdir())  # nothing written
    path = pk.export(_AddRowIndex(), tmp_path / "f", params={}, state={}, input_spec=spec, batch_size=2)
    assert path.endswith("f.xml")


def test_export_errors_name_the_fix(trained, tmp_path):
    m, _, _ = trained
    with pytest.raises(ValueError, match="format must be one of"):
        pk.export(m, tmp_path / "m", format="onnx")
    with pytest.raises(ValueError, match="pass params="):
        pk.export(cnn(), tmp_path / "m")
    with pytest.raises(ValueError, match="input_spec"):
        pk.export(cnn(), tmp_path / "m", params={}, state={})


def test_the_readme_job_can_finish_on_openvino():
    """examples/train_digits.py --predict-backend openvino: the step after training
    (here on the untrained CNN; tests/test_digits.py trains it)."""
    from .test_digits import _example

    example = _example()
    model = pk.Model(example.build_model(), input_shape=(8, 8, 1), backend="torch", seed=0)
    _, (x_test, y_test) = example.load_data(0)
    own = float((model.predict(x_test, batch_size=256, verbose=0).argmax(-1) == y_test).mean())
    on_ov, agreement = example.predict_on(model, "openvino", seed=0)
    assert on_ov == pytest.approx(own, abs=0.01) and agreement >= 0.99
