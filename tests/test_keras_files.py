"""Keras 3 files, both ways, proven by Keras itself (run in subprocesses: its global state
never touches ours).

One module fixture writes purekeras's files, then runs ``tests/keras_files_oracle.py``
once per Keras backend (JAX and TensorFlow, in parallel): Keras writes ``.keras`` and
``.weights.h5`` files of the same architectures (every supported layer, Sequential and
Functional, nested and shared layers), records its predictions, and reads ours. Then:
Keras's files load here on every purekeras backend and predict what Keras predicted;
ours load in Keras and predict what we predict; Adam's state survives both ways, so
the next training step equals Keras's.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import nn, ops, optim, random, train
from purekeras import state as state_lib
from purekeras.state._tree import map_with_paths
from tests.cases.registry import LAYER_CASES
from tests.test_keras_files_units import case_model

KERAS_BACKENDS = ("jax", "tensorflow")
ORACLE = Path(__file__).with_name("keras_files_oracle.py")
TOLERANCE = dict(atol=1e-5, rtol=1e-5)


def _mlp():
    return nn.Sequential([
        nn.Input((8,)), nn.Dense(16, activation="relu"), nn.BatchNormalization(), nn.Dropout(0.3),
        nn.Dense(8, activation="tanh", kernel_regularizer="l2"), nn.Activation("softmax"), nn.Identity()])


def _cnn2d():
    return nn.Sequential([
        nn.Input((8, 8, 3)), nn.Conv2D(4, 3, padding="same", activation="relu"), nn.MaxPooling2D(2),
        nn.Conv2D(6, 2), nn.AveragePooling2D(2, padding="same"), nn.Flatten(), nn.Dense(5)])


def _cnn1d():
    return nn.Sequential([
        nn.Input((12, 3)), nn.Conv1D(4, 3, padding="causal", dilation_rate=2), nn.MaxPooling1D(2),
        nn.Conv1D(4, 3, strides=2, padding="same", activation="gelu"), nn.AveragePooling1D(2, padding="same"),
        nn.GlobalMaxPooling1D(), nn.Dense(2)])


def _text():
    return nn.Sequential([
        nn.Input((6,), "int32"), nn.Embedding(20, 8), nn.LayerNormalization(),
        nn.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d", activation="relu"),
        nn.GlobalAveragePooling1D(), nn.Dense(3)])


def _graph():
    a, b = nn.Input((6, 8)), nn.Input((6, 4))
    shared = nn.Dense(8)
    x = shared(a)
    y = nn.Dense(8, activation="relu")(b)
    att = nn.MultiHeadAttention(num_heads=2, key_dim=4)(x, y)
    s = nn.LayerNormalization(axis=(1, 2))(nn.Add()([x, att]))
    m = nn.Multiply()([s, nn.Dropout(0.2, noise_shape=(None, 1, 8))(y)])
    c = nn.Concatenate()([m, nn.BatchNormalization(axis=1)(x)])
    o1 = nn.Dense(3)(nn.GlobalMaxPooling1D()(nn.Reshape((4, 24))(c)))
    o2 = nn.GlobalAveragePooling1D()(shared(s))
    return nn.Functional([a, b], [o1, o2])


def _image_graph():
    img = nn.Input((8, 8, 2))
    h = nn.BatchNormalization()(nn.Conv2D(4, 3, activation="relu")(img))
    pooled = nn.Concatenate()([nn.GlobalAveragePooling2D()(h), nn.GlobalMaxPooling2D()(h)])
    return nn.Functional(img, nn.Sequential([nn.Dense(6, activation="relu"), nn.Dense(2)])(pooled))


def _resume_model():
    return nn.Sequential([nn.Input((5,)), nn.Dense(8, activation="relu"), nn.Dense(3)])


MODELS = {"mlp": _mlp, "cnn2d": _cnn2d, "cnn1d": _cnn1d, "text": _text, "graph": _graph,
          "image_graph": _image_graph}
COMPILED = ("mlp", "cnn2d", "cnn1d", "text", "image_graph")
# compile() arguments of the files we write (default: loss="mse"), by Keras name or spec.
COMPILE = {"mlp": {"loss": train.losses.Huber(delta=2.0),
                   "metrics": ["mae", train.metrics.RootMeanSquaredError()]},
           "text": {"loss": "mean_squared_error", "metrics": ["accuracy"]}}


def _inputs() -> dict:
    rng = np.random.default_rng(0)
    data = {"resume_x": rng.normal(size=(8, 5)).astype("float32"),
            "resume_y": rng.normal(size=(8, 3)).astype("float32")}
    for case in LAYER_CASES:
        arrays = case.make_inputs(seed=1)
        for i, array in enumerate(arrays if isinstance(arrays, list) else [arrays]):
            data[f"case-{case.id}:{i}"] = array
    for name, build in MODELS.items():
        model = build()
        specs = model.input_specs if isinstance(model, nn.Functional) else (model.input_spec,)
        for i, spec in enumerate(specs):
            shape = (8, *spec.shape[1:])
            data[f"{name}:{i}"] = (rng.integers(0, 20, shape).astype("int32") if spec.dtype == "int32"
                                   else rng.normal(size=shape).astype("float32"))
    return data


def _x(inputs: dict, name: str, backend: str | None = None):
    xs = [inputs[k] for k in sorted(inputs) if k.startswith(name + ":")]
    if backend is not None:
        xs = [ops.asarray(x, backend=backend) for x in xs]
    return xs[0] if len(xs) == 1 else xs


def _predict(model, params, model_state, x, backend: str) -> list[np.ndarray]:
    """Inference outputs; on JAX through one compiled call (eager JAX compiles every op)."""
    def forward(p, s, inputs):
        return model.apply(p, s, inputs)[0]

    if backend == "jax":
        forward = pk.jit(forward, backend="jax", donate_argnums=())
    return _outputs(forward(params, model_state, x))


def _init_on(model, backend: str):
    """Fresh params and state on ``backend``, initialised on PyTorch (eager: nothing to compile)."""
    params, model_state = model.init(random.key(0, backend="torch"))
    move = lambda path, leaf: ops.asarray(ops.convert_to_numpy(leaf), ops.dtype(leaf), backend=backend)  # noqa: E731
    return map_with_paths(move, params), map_with_paths(move, model_state)


def _outputs(y) -> list[np.ndarray]:
    return [np.asarray(ops.convert_to_numpy(v)) for v in (y if isinstance(y, (list, tuple)) else [y])]


def _randomized(m: pk.Model, seed: int) -> None:
    """Give every weight (and batch-norm statistic) a random value, so files carry real numbers."""
    rng = np.random.default_rng(seed)

    def draw(path, leaf):
        value = rng.normal(scale=0.5, size=ops.shape(leaf)).astype("float32")
        value = np.abs(value) + 0.5 if path.endswith("moving_variance") else value
        return ops.asarray(value, ops.dtype(leaf), backend=m.backend)

    ts = m.train_state
    m.train_state = ts._replace(params=map_with_paths(draw, ts.params), state=map_with_paths(draw, ts.state))


def _write_ours(directory: Path, inputs: dict) -> dict:
    """purekeras's files (written on PyTorch: eager, nothing to compile) and their predictions."""
    directory.mkdir()
    preds = {}
    for name, build in MODELS.items():
        model = build()
        m = pk.Model(model, input_spec=getattr(model, "input_spec", None), backend="torch", seed=1)
        if name in COMPILED:
            m.compile(optimizer=optim.Adam(0.01), **COMPILE.get(name, {"loss": "mse"}))
        _randomized(m, seed=len(name))
        m.save(directory / f"{name}.keras")
        m.save_weights(directory / f"{name}.weights.h5")
        ts = m.train_state
        preds[name] = _outputs(m.spec.apply(ts.params, ts.state, _x(inputs, name, "torch"))[0])
    for case in LAYER_CASES:  # every layer case, alone between its inputs
        m = pk.Model(case_model(case), backend="torch", seed=1)
        _randomized(m, seed=3)
        m.save(directory / f"case-{case.id}.keras")
        ts = m.train_state
        x = _x(inputs, f"case-{case.id}", "torch")
        preds[f"case-{case.id}"] = _outputs(m.spec.apply(ts.params, ts.state, x)[0])
    m = pk.Model(_resume_model(), input_shape=(5,), backend="torch", seed=2)
    m.compile(optimizer=optim.Adam(0.01), loss="mse")
    m.fit(inputs["resume_x"], inputs["resume_y"], batch_size=8, epochs=3, shuffle=False, verbose=0)
    m.save(directory / "resume.keras")
    m.fit(inputs["resume_x"], inputs["resume_y"], batch_size=8, epochs=1, shuffle=False, verbose=0)
    preds["resume-next"] = m.get_weights()
    return preds


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """``(workdir, inputs, our predictions, {keras backend: Keras's results})``."""
    workdir = tmp_path_factory.mktemp("keras_files")
    inputs = _inputs()
    np.savez(workdir / "inputs.npz", **inputs)
    ours = _write_ours(workdir / "ours", inputs)
    runs = {}
    for keras_backend in KERAS_BACKENDS:
        # Keras on JAX compiles every eager op: unoptimised XLA compiles them faster.
        env = {**os.environ, "KERAS_BACKEND": keras_backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu",
               "XLA_FLAGS": "--xla_backend_optimization_level=0"}
        runs[keras_backend] = subprocess.Popen([sys.executable, str(ORACLE), str(workdir)], env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results, failures = {}, []
    try:
        for keras_backend, run in runs.items():
            output, _ = run.communicate(timeout=600)
            if run.returncode != 0:
                failures.append(f"Keras ({keras_backend}) failed:\n{output[-4000:]}")
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
                run.communicate()
    assert not failures, "\n".join(failures)
    for keras_backend in KERAS_BACKENDS:
        with np.load(workdir / f"keras-{keras_backend}" / "results.npz") as data:
            results[keras_backend] = dict(data)
    return workdir, inputs, ours, results


def _keras_outputs(results: dict, key: str) -> list[np.ndarray]:
    return [results[f"{key}:{i}"] for i in range(sum(k.startswith(key + ":") for k in results))]


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_model_files_load_and_predict_the_same(files, keras_backend, name, backend):
    workdir, inputs, _, results = files
    loaded = state_lib.load_model(workdir / f"keras-{keras_backend}" / f"{name}.keras", backend=backend)
    got = _predict(loaded.model, loaded.params, loaded.state, _x(inputs, name, backend), backend)
    expected = _keras_outputs(results[keras_backend], name)
    for got, want in zip(got, expected, strict=True):
        np.testing.assert_allclose(got, want, **TOLERANCE)
    if name in COMPILED:  # the optimizer's state came along: every Adam slot, and the step count
        assert type(loaded.compile_args.optimizer).__name__ == "Adam"
        assert int(ops.convert_to_numpy(loaded.opt_state.iterations)) == 7
        slots = [np.asarray(ops.convert_to_numpy(v)).reshape(-1)
                 for v in optree.tree_leaves(loaded.opt_state.slots)]
        np.testing.assert_array_equal(np.sort(np.concatenate(slots)), results[keras_backend][f"{name}-slots"])


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_weights_files_load_into_our_spec(files, keras_backend, name, backend):
    workdir, inputs, _, results = files
    model = MODELS[name]()
    params, model_state = _init_on(model, backend)
    params, model_state, _ = state_lib.load_weights(
        workdir / f"keras-{keras_backend}" / f"{name}.weights.h5", model, params, model_state)
    got = _predict(model, params, model_state, _x(inputs, name, backend), backend)
    for got, want in zip(got, _keras_outputs(results[keras_backend], name), strict=True):
        np.testing.assert_allclose(got, want, **TOLERANCE)


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
@pytest.mark.parametrize("fmt", [".keras", ".weights.h5"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_our_files_load_in_keras_and_predict_the_same(files, keras_backend, name, fmt):
    _, _, ours, results = files
    got = _keras_outputs(results[keras_backend], f"ours-{name}{fmt}")
    for keras_value, ours_value in zip(got, ours[name], strict=True):
        np.testing.assert_allclose(keras_value, ours_value, **TOLERANCE)


def test_every_layer_case_we_write_loads_in_keras_and_predicts_the_same(files):
    """Each registry case alone in a file, read by Keras on TensorFlow (configs read alike on
    every Keras backend; Keras 3.15's JAX MultiHeadAttention also fails on value_dim != key_dim)."""
    _, _, ours, results = files
    for case in LAYER_CASES:
        key = f"ours-case-{case.id}"
        assert f"{key}:error" not in results["tensorflow"], str(results["tensorflow"].get(f"{key}:error"))
        for keras_value, ours_value in zip(_keras_outputs(results["tensorflow"], key), ours[f"case-{case.id}"],
                                           strict=True):
            np.testing.assert_allclose(keras_value, ours_value, rtol=case.rtol, atol=case.atol, err_msg=case.id)


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
def test_adam_state_from_keras_resumes_training(files, keras_backend, backend):
    workdir, inputs, _, results = files
    expected = _keras_outputs(results[keras_backend], "resume-next")
    x, y = inputs["resume_x"], inputs["resume_y"]
    m = pk.load_model(workdir / f"keras-{keras_backend}" / "resume.keras", backend=backend)
    assert int(ops.convert_to_numpy(m.train_state.opt_state.iterations)) == 3
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(m.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, **TOLERANCE)
    m.load_weights(workdir / f"keras-{keras_backend}" / "resume.weights.h5")  # back to step 3, from Keras's
    assert int(ops.convert_to_numpy(m.train_state.opt_state.iterations)) == 3  # weights file this time
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(m.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, **TOLERANCE)


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
def test_keras_compiles_our_files_as_we_did(files, keras_backend):
    _, _, _, results = files
    compiled = {name: json.loads(str(results[keras_backend][f"ours-{name}-compile"])) for name in COMPILED}
    assert compiled["mlp"]["loss"] == ["Huber", 2.0]
    assert compiled["mlp"]["metrics"] == ["mae", "root_mean_squared_error"]  # a default spec: by name
    assert compiled["text"] == {"loss": ["str", None], "metrics": ["accuracy"], "optimizer": ["Adam", 0.01]}
    assert all(c["optimizer"] == ["Adam", 0.01] for c in compiled.values())


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
def test_our_adam_state_resumes_training_in_keras(files, keras_backend):
    _, _, ours, results = files
    got = _keras_outputs(results[keras_backend], "ours-resume-next")
    for keras_value, ours_value in zip(got, ours["resume-next"], strict=True):
        np.testing.assert_allclose(keras_value, ours_value, **TOLERANCE)
