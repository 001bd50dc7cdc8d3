"""Keras file support inside purekeras: every layer case round-trips, the optimizer's state
keeps Keras's order for every optimizer, the facade and ModelCheckpoint write both formats,
and files that do not fit the model fail with ``FileFormatError`` naming the part."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import callbacks, nn, ops, optim, random
from purekeras import state as state_lib
from purekeras.state import FileFormatError
from purekeras.state._keras_graph import model_entry, model_from_entry
from purekeras.state._keras_walk import model_objects
from purekeras.state._tree import flatten_with_paths
from purekeras.state._safe_config import LoadContext
from tests.cases.registry import LAYER_CASES

CTX = LoadContext({}, True, "config.json")


def case_model(case) -> nn.Functional:
    """The case's layer between ``nn.Input``s: a Functional model Keras can describe."""
    shapes = case.input_shapes if isinstance(case.input_shapes, list) else [case.input_shapes]
    inputs = [nn.Input(s[1:], case.input_dtype) for s in shapes]
    if isinstance(case.layer, nn.MultiHeadAttention):
        out = case.layer(*inputs)
    else:
        out = case.layer(inputs if isinstance(case.input_shapes, list) else inputs[0])
    return nn.Functional(inputs if len(inputs) > 1 else inputs[0], out)


def _numpy(tree):
    return [np.asarray(ops.convert_to_numpy(leaf)) for leaf in optree.tree_leaves(tree)]


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.id)
def test_every_layer_case_round_trips_config_variables_and_weights(case, tmp_path):
    model = case_model(case)
    entry = json.loads(json.dumps(model_entry(model, None, None)))  # through JSON, as in a file
    assert model_from_entry(entry, "the model", CTX)[0] == model
    params, model_state = model.init(random.key(0, backend="torch"))
    # The variables Keras files hold (computed from the spec, nothing allocated) are init's.
    declared = {("params" if v.tree == "params" else "state", "/".join((*o.tree_path, v.name))): (v.shape, v.dtype)
                for o in model_objects(model, None, "functional") for v in o.variables}
    made = {(tree, path): (tuple(ops.shape(leaf)), ops.dtype(leaf))
            for tree, values in (("params", params), ("state", model_state))
            for path, leaf in flatten_with_paths(values)}
    assert declared == made
    path = tmp_path / "case.keras"
    state_lib.save_model(path, model, params, model_state)
    loaded = state_lib.load_model(path, backend="torch")
    assert loaded.model == model
    for got, want in zip(_numpy((loaded.params, loaded.state)), _numpy((params, model_state)), strict=True):
        np.testing.assert_array_equal(got, want)


def _trained(optimizer, backend="torch"):
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="relu"), nn.BatchNormalization(), nn.Dense(2)])
    m = pk.Model(model, input_shape=(3,), backend=backend, seed=0).compile(optimizer=optimizer, loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    m.fit(x, x[:, :2], batch_size=4, epochs=1, shuffle=False, verbose=0)
    return m, x


@pytest.mark.parametrize("optimizer", [
    optim.Adam(0.01, amsgrad=True), optim.AdamW(0.01), optim.SGD(0.1, momentum=0.9, nesterov=True),
    optim.RMSprop(0.01, momentum=0.5, centered=True), optim.Adagrad(0.1),
    optim.SGD(optim.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)),
], ids=lambda o: type(o).__name__ + ("_schedule" if callable(o.learning_rate) else ""))
def test_optimizer_state_round_trips_in_both_formats(optimizer, tmp_path):
    m, x = _trained(optimizer)
    m.save(tmp_path / "m.keras")
    m.save_weights(tmp_path / "m.weights.h5")
    restored = pk.load_model(tmp_path / "m.keras", backend="torch")
    assert restored.optimizer == optimizer and restored.spec == m.spec
    other = pk.Model(m.spec, input_shape=(3,), backend="torch", seed=5).compile(optimizer=optimizer, loss="mse")
    other.load_weights(tmp_path / "m.weights.h5")
    for copy in (restored, other):
        want = _numpy((m.train_state.params, m.train_state.state, m.train_state.opt_state))
        got = _numpy((copy.train_state.params, copy.train_state.state, copy.train_state.opt_state))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    for copy in (m, restored, other):  # the next step is the same from every copy
        copy.fit(x, x[:, :2], batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b, c in zip(m.get_weights(), restored.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_model_checkpoint_writes_keras_and_weights_files(tmp_path):
    m, x = _trained(optim.Adam(0.01))
    best = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.keras"), monitor="loss", save_best_only=True)
    every = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}-{batch}.weights.h5"), save_freq=2,
                                      save_weights_only=True)
    m.fit(x, x[:, :2], batch_size=2, epochs=2, shuffle=False, verbose=0, callbacks=[best, every])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best-1.keras", "best-2.keras", "w-1-2.weights.h5", "w-1-4.weights.h5",
                     "w-2-2.weights.h5", "w-2-4.weights.h5"]
    restored = pk.load_model(tmp_path / "best-2.keras", backend="torch")
    for a, b in zip(restored.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(ops.convert_to_numpy(restored.train_state.opt_state.iterations)) == 2 + 8  # _trained took 2
    m.load_weights(tmp_path / "w-1-2.weights.h5")
    assert int(ops.convert_to_numpy(m.train_state.opt_state.iterations)) == 2 + 2
    with pytest.raises(ValueError, match="save_weights_only=True"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_weights_only=True)


def test_files_that_do_not_fit_the_model_fail_clearly(tmp_path):
    m, _ = _trained(optim.SGD())
    path = tmp_path / "m.weights.h5"
    m.save_weights(path)
    wider = pk.Model(nn.Sequential([nn.Dense(5, activation="relu"), nn.BatchNormalization(), nn.Dense(2)]),
                     input_shape=(3,), backend="torch")
    with pytest.raises(FileFormatError, match=r"layers/dense/vars/0 \(dense.kernel\) has shape \(3, 4\), but the "
                                              r"model expects \(3, 5\)"):
        wider.load_weights(path)
    fewer = pk.Model(nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(2)]), input_shape=(3,), backend="torch")
    with pytest.raises(FileFormatError, match="holds variables the model does not have"):
        fewer.load_weights(path)
    no_bias = pk.Model(nn.Sequential([nn.Dense(4, use_bias=False), nn.BatchNormalization(), nn.Dense(2)]),
                       input_shape=(3,), backend="torch")
    with pytest.raises(FileFormatError, match=r"'layers/dense/vars' holds \['0', '1'\], but 'dense' has 1"):
        no_bias.load_weights(path)
    adam, _ = _trained(optim.Adam())
    adam.save_weights(path)
    sgd = pk.Model(m.spec, input_shape=(3,), backend="torch").compile(optimizer=optim.SGD(momentum=0.5), loss="mse")
    with pytest.raises(FileFormatError, match="'optimizer/vars' holds 14 variables, but SGD on this model has 8"):
        sgd.load_weights(path)


def test_lossy_dtypes_are_refused_and_exact_ones_converted(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(2)])
    params, model_state = model.init(random.key(0, backend="torch"))
    exact = {"dense": {"kernel": np.array([[0.5, 1.0], [2.0, -1.0]]), "bias": np.zeros(2)}}  # float64
    state_lib.save_weights(tmp_path / "exact.weights.h5", model, exact, {})
    loaded, _, _ = state_lib.load_weights(tmp_path / "exact.weights.h5", model, params, model_state)
    assert ops.dtype(loaded["dense"]["kernel"]) == "float32"
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded["dense"]["kernel"]), exact["dense"]["kernel"])
    lossy = {"dense": {"kernel": np.full((2, 2), 0.1), "bias": np.zeros(2)}}
    state_lib.save_weights(tmp_path / "lossy.weights.h5", model, lossy, {})
    with pytest.raises(FileFormatError, match="float64 values that do not convert exactly to the model's float32"):
        state_lib.load_weights(tmp_path / "lossy.weights.h5", model, params, model_state)


def test_bfloat16_weights_are_stored_as_keras_stores_them(tmp_path):
    model = nn.Sequential([nn.Input((3,)), nn.Dense(2, dtype="bfloat16")])
    params, model_state = model.init(random.key(0, backend="jax"))
    state_lib.save_model(tmp_path / "bf16.keras", model, params, model_state)
    loaded = state_lib.load_model(tmp_path / "bf16.keras", backend="jax")
    assert loaded.model == model and ops.dtype(loaded.params["dense"]["kernel"]) == "bfloat16"
    for got, want in zip(_numpy(loaded.params), _numpy(params), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_corrupted_weight_is_an_error_not_a_different_model(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(2)])
    params = {"dense": {"kernel": np.full((2, 2), 1.25, "float32"), "bias": np.zeros(2, "float32")}}
    path = tmp_path / "m.weights.h5"
    state_lib.save_weights(path, model, params, {})
    data = bytearray(path.read_bytes())
    where = data.find(np.float32(1.25).tobytes())
    data[where] ^= 0x01  # the kernel's first value
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="SHA-256: the file is corrupted"):
        state_lib.load_weights(path, model, params, {})


def test_keras_constructs_without_an_equivalent_are_named(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(2)])
    params, model_state = model.init(random.key(0, backend="torch"))
    path = tmp_path / "m.keras"
    state_lib.save_model(path, model, params, model_state)

    def edited(change, name):
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        config = json.loads(members["config.json"])
        change(config["config"]["layers"][1]["config"])
        members["config.json"] = json.dumps(config).encode()
        out = tmp_path / name
        with zipfile.ZipFile(out, "w") as zf:
            for member, data in members.items():
                zf.writestr(member, data)
        return out

    cases = {
        "kernel_constraint": (lambda c: c.update(kernel_constraint={"module": "keras.constraints",
                                                                    "class_name": "NonNeg", "config": {}}),
                              "Keras option kernel_constraint="),
        "trainable": (lambda c: c.update(trainable=False), "trainable=False"),
        "lora": (lambda c: c.update(lora_rank=4), "Keras option lora_rank=4 has no purekeras equivalent"),
        "activation": (lambda c: c.update(activation="hard_tanh"), "the activation 'hard_tanh' has no purekeras"),
        "units": (lambda c: c.update(units="four"), "cannot build Dense"),
    }
    for name, (change, message) in cases.items():
        with pytest.raises(FileFormatError, match=message):
            state_lib.load_model(edited(change, f"{name}.keras"))


def test_keras_layers_without_an_equivalent_are_named_and_can_be_replaced(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(2)])
    params, model_state = model.init(random.key(0, backend="torch"))
    path = tmp_path / "m.keras"
    state_lib.save_model(path, model, params, model_state)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"].append({"module": "keras.layers", "class_name": "GaussianNoise",
                                       "config": {"name": "noise", "stddev": 0.1}})
    with zipfile.ZipFile(tmp_path / "noise.keras", "w") as zf:
        for name, data in {**members, "config.json": json.dumps(config).encode()}.items():
            zf.writestr(name, data)
    with pytest.raises(FileFormatError, match="'GaussianNoise' from module 'keras.layers', refused because "
                                              "purekeras has no built-in equivalent") as error:
        state_lib.load_model(tmp_path / "noise.keras")
    assert not isinstance(error.value, state_lib.UnsafeFileError)  # unsupported, not unsafe
    loaded = state_lib.load_model(tmp_path / "noise.keras", safe_mode=False,
                                  custom_objects={"GaussianNoise": nn.Identity()})
    assert loaded.model.layers[-1] == nn.Identity(name="noise")
