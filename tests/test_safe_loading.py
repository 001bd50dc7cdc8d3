"""Safe loading: no file is executed, no module it names is imported, no other file or URL
is read. Each known Keras attack is replayed against purekeras (CVE-2024-3660 Lambda code
injection, CVE-2025-1550 modules named in config.json, CVE-2026-1462 TFSMLayer), and
crafted HDF5 files and zip archives try external links, soft links, virtual datasets,
declared shapes larger than the stored bytes, path traversal and decompression bombs."""
from __future__ import annotations

import base64
import builtins
import io
import json
import marshal
import struct
import sys
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from purekeras import nn, random
from purekeras import state as state_lib
from purekeras.state import FileFormatError, UnsafeFileError
from purekeras.state._keras_hdf5 import H5Group, write_hdf5

MODEL = nn.Sequential([nn.Input((2,)), nn.Dense(2)])


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, bytes]:
    """The members of a valid ``.keras`` file."""
    params, model_state = MODEL.init(random.key(0, backend="torch"))
    path = tmp_path_factory.mktemp("safe") / "m.keras"
    state_lib.save_model(path, MODEL, params, model_state)
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _archive(path, members: dict, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _with_layer(tmp_path, valid, layer: dict, name: str = "m.keras"):
    """A ``.keras`` file whose model gains ``layer`` after its Dense layer."""
    config = json.loads(valid["config.json"])
    config["config"]["layers"].append(layer)
    return _archive(tmp_path / name, {**valid, "config.json": json.dumps(config).encode()})


def _payload(sentinel) -> list:
    """Marshalled bytecode that creates ``sentinel`` if anything ever runs it."""
    code = compile(f"open({str(sentinel)!r}, 'w').write('pwned')", "<payload>", "exec")
    return [base64.b64encode(marshal.dumps(code)).decode("ascii"), None, None]


def _opened_files(monkeypatch) -> list:
    opened = []
    real_open = builtins.open

    def recording_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    return opened


# -- CVE-2024-3660: code injection through Lambda layers ------------------------------------
def test_lambda_layers_are_refused_and_never_run(tmp_path, valid):
    sentinel = tmp_path / "pwned"
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "lambda", "trainable": True, "function": {
               "class_name": "__lambda__", "config": {"value": _payload(sentinel)}},
               "arguments": {}, "output_shape": None}}
    path = _with_layer(tmp_path, valid, lam)
    with pytest.raises(UnsafeFileError, match=r"'Lambda'.*Python bytecode.*CVE-2024-3660"):
        state_lib.load_model(path)
    with pytest.raises(UnsafeFileError, match="not registered"):
        state_lib.load_model(path, safe_mode=False)
    loaded = state_lib.load_model(path, safe_mode=False, custom_objects={"Lambda": nn.Identity()})
    assert isinstance(loaded.model.layers[-1], nn.Identity)  # replaced by the registered layer
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "dense_9", "units": 2, "activation": {"class_name": "__lambda__",
                                                       "config": {"value": _payload(sentinel)}}}}
    for safe_mode in (True, False):
        with pytest.raises(UnsafeFileError, match="Python lambda"):
            state_lib.load_model(_with_layer(tmp_path, valid, dense, "act.keras"), safe_mode=safe_mode)
    assert not sentinel.exists()


# -- CVE-2025-1550: modules named in config.json ------------------------------------------------
@pytest.mark.parametrize("layer", [
    {"module": "os", "class_name": "system", "config": {"name": "x", "command": "touch pwned"}},
    {"module": "builtins", "class_name": "exec", "config": {"name": "x"}},
    {"module": "purekeras_evil_module", "class_name": "Dense", "config": {"name": "x", "units": 2}},
    {"module": "keras.utils", "class_name": "get_file", "config": {"origin": "https://example.com/x"}},
    {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "x", "units": 2, "activation": {"module": "builtins", "class_name": "function",
                                                "config": "eval", "registered_name": "eval"}}},
    {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "x", "units": 2, "kernel_initializer": {"module": "subprocess", "class_name": "Popen",
                                                        "config": {"args": ["touch", "pwned"]}}}},
], ids=["os.system", "builtins.exec", "unknown module", "keras.utils.get_file", "builtins eval activation",
        "subprocess initializer"])
def test_modules_named_in_the_config_are_never_imported(tmp_path, valid, layer):
    state_lib.load_model(_archive(tmp_path / "ok.keras", valid))  # warm up every import loading needs
    before = set(sys.modules)
    path = _with_layer(tmp_path, valid, layer)
    for safe_mode in (True, False):
        with pytest.raises(UnsafeFileError, match="never imports"):
            state_lib.load_model(path, safe_mode=safe_mode)
    assert set(sys.modules) == before and "purekeras_evil_module" not in sys.modules


def test_a_foreign_top_level_object_is_refused(tmp_path, valid):
    config = {"module": "os", "class_name": "system", "config": {"command": "id"}}
    path = _archive(tmp_path / "m.keras", {**valid, "config.json": json.dumps(config).encode()})
    with pytest.raises(FileFormatError, match="the top-level object is 'system' from 'os'"):
        state_lib.load_model(path)


# -- CVE-2026-1462: TFSMLayer loading an external SavedModel --------------------------------------
def test_tfsm_layers_are_refused_and_nothing_else_is_read(tmp_path, valid, monkeypatch):
    layer = {"module": "keras.layers", "class_name": "TFSMLayer", "registered_name": None,
             "config": {"name": "tfsm", "filepath": str(tmp_path / "attacker_savedmodel"),
                        "call_endpoint": "serve", "trainable": True}}
    path = _with_layer(tmp_path, valid, layer)
    opened = _opened_files(monkeypatch)
    with pytest.raises(UnsafeFileError, match=r"TFSMLayer.*CVE-2026-1462"):
        state_lib.load_model(path)
    with pytest.raises(UnsafeFileError, match="not registered"):
        state_lib.load_model(path, safe_mode=False)
    assert opened == [str(path), str(path)]  # the archive itself, once per load, and nothing else


def test_unknown_classes_need_safe_mode_off_and_registration(tmp_path):
    from dataclasses import dataclass

    from purekeras import ops

    @dataclass(frozen=True)
    class Scale(nn.Layer):
        factor: float = 2.0

        def init(self, key, input_spec):
            return {"alpha": ops.full((input_spec.shape[-1],), self.factor, backend=ops.backend_name(key))}, {}

        def apply(self, params, state, x, *, training=False, rng=None):
            return ops.multiply(x, params["alpha"]), state

        def output_spec(self, input_spec):
            return input_spec

    model = nn.Sequential([nn.Input((3,)), nn.Dense(3), Scale(3.0)])
    params, model_state = model.init(random.key(0, backend="torch"))
    path = tmp_path / "custom.keras"
    state_lib.save_model(path, model, params, model_state)
    with pytest.raises(UnsafeFileError, match="'Scale' from module"):
        state_lib.load_model(path)
    with pytest.raises(UnsafeFileError, match="not registered"):
        state_lib.load_model(path, safe_mode=False)
    loaded = state_lib.load_model(path, backend="torch", safe_mode=False, custom_objects={"Scale": Scale})
    assert loaded.model == model
    assert ops.convert_to_numpy(loaded.params["scale"]["alpha"]).tolist() == [3.0, 3.0, 3.0]


# -- HDF5: links, virtual datasets, external storage, declared sizes ------------------------------
def _weights_file(tmp_path, edit) -> str:
    """A valid weights file of ``MODEL`` written by h5py, then changed by ``edit(h5py.File)``."""
    path = tmp_path / "m.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("vars").attrs["name"] = "sequential"
        group = f.create_group("layers/dense/vars")
        group.attrs["name"] = "dense"
        group["0"] = np.ones((2, 2), "float32")
        group["1"] = np.zeros(2, "float32")
        edit(f)
    return path


def _load(path):
    params, model_state = MODEL.init(random.key(0, backend="torch"))
    return state_lib.load_weights(path, MODEL, params, model_state)


def test_a_valid_h5py_file_loads(tmp_path):
    params, _, _ = _load(_weights_file(tmp_path, lambda f: None))
    assert params["dense"]["kernel"].tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("edit, error, message", [
    (lambda f: f.__setitem__("layers/extra", h5py.ExternalLink("/etc/passwd", "/x")), UnsafeFileError,
     "external link 'extra'"),
    (lambda f: f.__setitem__("alias", h5py.SoftLink("/layers")), UnsafeFileError, "soft link 'alias'"),
    (lambda f: f.create_dataset("layers/dense/raw", shape=(4,), dtype="f4", external=[("/dev/zero", 0, 16)]),
     UnsafeFileError, "external files"),
    (lambda f: f.create_dataset("layers/dense/vars/2", shape=(10**9,), dtype="f4"), FileFormatError,
     r"declares shape \(1000000000,\) \(4000000000 bytes\) but stores no data"),
    (lambda f: f.create_dataset("layers/dense/z", data=np.ones(64, "f4"), compression="gzip"), FileFormatError,
     "compressed"),
    (lambda f: f.__setitem__("layers/loop", f["layers"]), FileFormatError, "linked more than once"),
], ids=["external link", "soft link", "external raw data", "no data", "compressed", "hard-link cycle"])
def test_unsafe_hdf5_structures_are_refused(tmp_path, edit, error, message):
    with pytest.raises(error, match=message):
        _load(_weights_file(tmp_path, edit))


def test_virtual_datasets_are_refused(tmp_path):
    def virtual(f):
        layout = h5py.VirtualLayout(shape=(2,), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "elsewhere.h5"), "data", shape=(2,))
        f.create_virtual_dataset("layers/dense/virtual", layout)

    with pytest.raises(UnsafeFileError, match="virtual dataset"):
        _load(_weights_file(tmp_path, virtual))


def test_a_declared_shape_larger_than_the_stored_bytes_is_refused(tmp_path):
    data = bytearray(write_hdf5(H5Group({}, {"w": np.ones((3, 7), "float32")})))
    dims = struct.pack("<QQ", 3, 7)
    where = data.find(dims + dims)  # the dataspace's dims and max dims
    data[where:where + 32] = struct.pack("<QQQQ", 3, 7 * 10**9, 3, 7 * 10**9)
    from purekeras.state._safe_h5 import read_hdf5

    with pytest.raises(FileFormatError, match=r"declares shape \(3, 7000000000\) of float32 .* but stores 84 bytes"):
        read_hdf5(data, "crafted.h5")


# -- zip archives ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escape.json", "/etc/passwd", "assets\\..\\x", "C:/x"])
def test_path_traversal_members_are_refused(tmp_path, valid, name):
    with pytest.raises(UnsafeFileError, match="path traversal"):
        state_lib.load_model(_archive(tmp_path / "m.keras", {**valid, name: b"x"}))


def test_decompression_bombs_are_refused_before_reading(tmp_path, valid):
    bomb = _archive(tmp_path / "bomb.keras", {**valid, "model.weights.h5": bytes(64 << 20)}, zipfile.ZIP_DEFLATED)
    with pytest.raises(UnsafeFileError, match="decompression bomb"):
        state_lib.load_model(bomb)
    data = bytearray(_archive(tmp_path / "small.keras", valid, zipfile.ZIP_DEFLATED).read_bytes())
    entry = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)  # the second central directory entry
    data[entry + 24:entry + 28] = struct.pack("<I", 0xFFFF0000)  # declares ~4 GiB uncompressed
    (tmp_path / "lying.keras").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="config.json"):
        state_lib.load_model(tmp_path / "lying.keras")


def test_incomplete_or_padded_archives_are_refused(tmp_path, valid):
    missing = {k: v for k, v in valid.items() if k != "model.weights.h5"}
    with pytest.raises(FileFormatError, match=r"lacks \['model.weights.h5'\]"):
        state_lib.load_model(_archive(tmp_path / "missing.keras", missing))
    with pytest.raises(FileFormatError, match="'assets/evil.bin', which purekeras does not read"):
        state_lib.load_model(_archive(tmp_path / "extra.keras", {**valid, "assets/evil.bin": b"x"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
        path = _archive(tmp_path / "twice.keras", valid)
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("config.json", b"{}")
    with pytest.raises(FileFormatError, match="holds 'config.json' twice"):
        state_lib.load_model(path)
    data = _archive(tmp_path / "whole.keras", valid).read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="not a valid zip archive"):
        state_lib.load_model(tmp_path / "cut.keras")


def test_malformed_json_is_refused(tmp_path, valid):
    for name, text in {"bad.keras": b"{not json", "deep.keras": b"[" * 100000 + b"]" * 100000,
                       "list.keras": b"[1, 2]"}.items():
        with pytest.raises(FileFormatError, match="config.json"):
            state_lib.load_model(_archive(tmp_path / name, {**valid, "config.json": text}))


def test_only_stored_and_deflated_members_are_read(tmp_path, valid):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf:
        for name, data in valid.items():
            zf.writestr(name, data)
    (tmp_path / "bz2.keras").write_bytes(buffer.getvalue())
    with pytest.raises(FileFormatError, match="compression method 12"):
        state_lib.load_model(tmp_path / "bz2.keras")
