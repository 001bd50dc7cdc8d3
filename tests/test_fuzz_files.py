"""Fuzzing Keras files: 2,400 mutated ``.keras`` and ``.weights.h5`` files per run
(fixed seed). Each must end in purekeras's ``FileFormatError`` or in a correct load (every
weight and optimizer variable equal to the original file's) — never another exception, a
hang, or a silently different model.

Mutations (``tests/fuzz_mutations.py``): truncated and flipped bytes of whole archives, of
the weights inside a valid archive and of bare weights files; edits of ``config.json``
(deleted keys, wrong types, huge or negative numbers, injected code objects) and broken
JSON text; wrong shapes, wrong dtypes, missing, extra and swapped variables. Files Keras
writes carry no checksum, so a flipped weight in one is a valid file with other values:
those (written here with h5py, as Keras writes them) are fuzzed for robustness alone.
"""
from __future__ import annotations

import io
import json
import random
import signal
import traceback

import h5py
import numpy as np

import purekeras as pk
from purekeras import nn, ops, optim
from purekeras import state as state_lib
from purekeras.state import FileFormatError
from purekeras.state._keras_h5 import optimizer_order
from purekeras.state._keras_hdf5 import H5Group, write_hdf5
from purekeras.state._keras_walk import trainable_variables
from purekeras.state._keras_weights import keras_objects
from purekeras.state._safe_h5 import read_hdf5
from tests import fuzz_mutations as fm

SEED = 20261122
CASES = {"keras_bytes": 400, "keras_config": 700, "keras_weights": 350, "weights_bytes": 450,
         "weights_arrays": 300, "h5py_bytes": 200}
TIME_LIMIT_S = 10


def _models():
    a, b = nn.Input((3,)), nn.Input((3,))
    shared = nn.Dense(4)
    graph = nn.Functional([a, b], nn.Dense(2)(nn.LayerNormalization()(nn.Add()([shared(a), shared(b)]))))
    seq = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="relu"), nn.BatchNormalization(), nn.Dense(2)])
    return {"seq": seq, "graph": graph}


def _keras_order_values(model, input_spec, params, model_state, optimizer=None, opt_state=None) -> list:
    """Every variable (then the optimizer's) as NumPy, in the order Keras files number them."""
    objects = keras_objects(model, input_spec)
    trees = {"params": params, "state": model_state}
    out = []
    for obj in objects:
        for var in obj.variables:
            node = trees[var.tree]
            for part in (*obj.tree_path, var.name):
                node = node[part]
            out.append(node)
    if optimizer is not None and opt_state is not None:
        for kind, path in optimizer_order(optimizer, trainable_variables(objects)):
            top = kind in ("iterations", "learning_rate")
            node = getattr(opt_state, kind) if top else getattr(opt_state.slots, kind)
            for part in path:
                node = node[part]
            out.append(node)
    return [np.asarray(ops.convert_to_numpy(v)) for v in out]


def _same(got: list, want: list) -> bool:
    """Equal shapes and values (dtypes may differ where the file's converted exactly)."""
    return len(got) == len(want) and all(
        a.shape == b.shape and np.array_equal(a.astype("float64"), b.astype("float64"), equal_nan=True)
        for a, b in zip(got, want))


class Base:
    """One model's original files and what a correct load must give back."""

    def __init__(self, name: str, model, tmp_path):
        m = pk.Model(model, input_spec=getattr(model, "input_spec", None), backend="torch", seed=3)
        if name == "seq":
            m.compile(optimizer=optim.Adam(0.01), loss="mse", metrics=["mae"])
            x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
            m.fit(x, x[:, :2], batch_size=4, epochs=1, verbose=0)
        self.model, self.m = model, m
        m.save(tmp_path / f"{name}.keras")
        m.save_weights(tmp_path / f"{name}.weights.h5")
        self.keras = (tmp_path / f"{name}.keras").read_bytes()
        self.weights = (tmp_path / f"{name}.weights.h5").read_bytes()
        ts = m.train_state
        self.expected = _keras_order_values(model, m.input_spec, ts.params, ts.state, m.optimizer, ts.opt_state)
        self.weights_only = _keras_order_values(model, m.input_spec, ts.params, ts.state)
        objects = keras_objects(model, m.input_spec)
        self.paths = [f"{o.path}/vars/{i}".lstrip("/") for o in objects for i in range(len(o.variables))]
        self.paths += [f"optimizer/vars/{i}" for i in range(len(self.expected) - len(self.paths))]

    def load_keras(self, path) -> None:
        loaded = state_lib.load_model(path, backend="torch")
        optimizer = loaded.compile_args.optimizer if loaded.compile_args else None
        got = _keras_order_values(loaded.model, loaded.input_spec, loaded.params, loaded.state, optimizer,
                                  loaded.opt_state)
        want = self.expected if loaded.opt_state is not None else self.weights_only
        assert _same(got, want), "loaded weights differ from the file's"

    def load_weights(self, path, arrays: dict | None = None) -> None:
        """Load ``path``; the values must be the original's, or ``arrays`` (the mutated file's)."""
        ts = self.m.train_state
        params, model_state, opt_state = state_lib.load_weights(
            path, self.model, ts.params, ts.state, optimizer=self.m.optimizer, opt_state=ts.opt_state,
            input_spec=self.m.input_spec)
        got = _keras_order_values(self.model, self.m.input_spec, params, model_state, self.m.optimizer, opt_state)
        want = self.expected if arrays is None else [arrays[p] for p in self.paths]
        assert _same(got, want), "loaded weights differ from the file's"


def _h5_arrays(group: H5Group, prefix: str = "") -> dict:
    out = {}
    for name, member in group.members.items():
        path = f"{prefix}/{name}".lstrip("/")
        out.update(_h5_arrays(member, path) if isinstance(member, H5Group) else {path: member})
    return out


def _h5_tree(arrays: dict) -> H5Group:
    root = H5Group({}, {})
    for path, array in arrays.items():
        *groups, leaf = path.split("/")
        node = root
        for part in groups:
            node = node.members.setdefault(part, H5Group({"name": part} if part == "vars" else {}, {}))
        node.members[leaf] = array
    return root


def _keras_style_weights(base: Base) -> bytes:
    """``base``'s weights written by h5py, the way Keras writes them (no checksum)."""
    arrays = _h5_arrays(read_hdf5(bytearray(base.weights), "base"))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for path, array in arrays.items():
            f[path] = array
            f[path.rsplit("/", 1)[0]].attrs["name"] = "x"
    return buffer.getvalue()


def _cases(bases: dict, rng: random.Random):
    """``(kind, base, suffix, data)`` for every fuzz case (``base`` is ``(base, arrays)`` where the
    file was rewritten with mutated ``arrays``: those are what a correct load returns)."""
    names = sorted(bases)
    h5py_files = {name: _keras_style_weights(bases[name]) for name in names}
    for _ in range(CASES["keras_bytes"]):
        base = bases[rng.choice(names)]
        kind, data = fm.mutate_bytes(base.keras, rng)
        yield f"keras bytes: {kind}", base, ".keras", data
    for _ in range(CASES["keras_config"]):
        base = bases[rng.choice(names)]
        members = fm.zip_members(base.keras)
        if rng.random() < 0.2:
            kind, text = fm.mutate_json_text(members["config.json"], rng)
        else:
            kind, value = fm.mutate_json(json.loads(members["config.json"]), rng)
            text = json.dumps(value).encode()
        yield f"config.json: {kind}", base, ".keras", fm.zip_bytes({**members, "config.json": text})
    for _ in range(CASES["keras_weights"]):
        base = bases[rng.choice(names)]
        members = fm.zip_members(base.keras)
        kind, data = fm.mutate_bytes(members["model.weights.h5"], rng)
        yield f"weights in .keras: {kind}", base, ".keras", fm.zip_bytes({**members, "model.weights.h5": data})
    for _ in range(CASES["weights_bytes"]):
        base = bases[rng.choice(names)]
        kind, data = fm.mutate_bytes(base.weights, rng)
        yield f"weights bytes: {kind}", base, ".weights.h5", data
    for _ in range(CASES["weights_arrays"]):
        base = bases[rng.choice(names)]
        kind, arrays = fm.mutate_arrays(_h5_arrays(read_hdf5(bytearray(base.weights), "base")), rng)
        yield f"weights arrays: {kind}", (base, arrays), ".weights.h5", write_hdf5(_h5_tree(arrays))
    for _ in range(CASES["h5py_bytes"]):
        name = rng.choice(names)
        kind, data = fm.mutate_bytes(h5py_files[name], rng)
        yield f"h5py weights bytes: {kind}", bases[name], "robust.weights.h5", data


def _timeout(signum, frame):
    raise TimeoutError(f"a load ran longer than {TIME_LIMIT_S} s")


def test_mutated_files_end_in_a_clear_error_or_a_correct_load(tmp_path):
    bases = {name: Base(name, model, tmp_path) for name, model in _models().items()}
    rng = random.Random(SEED)
    outcomes, failures = {"error": 0, "load": 0}, []
    previous = signal.signal(signal.SIGALRM, _timeout)
    try:
        for i, (kind, base, suffix, data) in enumerate(_cases(bases, rng)):
            path = io.BytesIO(data)  # loads read file objects too: no disk in the loop
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
            try:
                if suffix == ".keras":
                    base.load_keras(path)
                elif isinstance(base, tuple):  # rewritten arrays: a correct load gives them back
                    base[0].load_weights(path, base[1])
                elif suffix == ".weights.h5":
                    base.load_weights(path)
                else:  # no checksum: any values may load, but only cleanly
                    ts = base.m.train_state
                    state_lib.load_weights(path, base.model, ts.params, ts.state, input_spec=base.m.input_spec)
                outcomes["load"] += 1
            except FileFormatError:
                outcomes["error"] += 1
            except Exception:  # a crash, a hang or a wrong load: what this test exists to catch
                failures.append(f"case {i} ({kind}):\n{traceback.format_exc(limit=-4)}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    total = sum(outcomes.values()) + len(failures)
    assert total == sum(CASES.values()) >= 1000
    assert not failures, f"{len(failures)} of {total} cases failed:\n" + "\n".join(failures[:5])
    assert outcomes["error"] > total // 3 and outcomes["load"] > 20, outcomes  # both outcomes were exercised
