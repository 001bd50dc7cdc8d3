"""Portable state files (purekeras.state): round trips, structure, safety, clear errors."""
from __future__ import annotations

import os
import zipfile
from typing import NamedTuple

import numpy as np
import pytest

from purekeras import ops, state
from purekeras.state._safe_errors import FileFormatError


class Slots(NamedTuple):
    m: dict
    v: tuple


def test_round_trip_keeps_structure_order_and_dtypes(tmp_path):
    import ml_dtypes

    tree = {
        "dense": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3), "bias": np.zeros(3, np.float16)},
        "empty": {},
        "steps": [np.int32(3), np.array([1, 2], np.int64)],
        "slots": Slots(m={"w": np.ones(2, ml_dtypes.bfloat16)}, v=(np.float64(0.5), None)),
        "device": ops.ones((2,), backend="jax"),
    }
    path = tmp_path / "tree.npz"
    state.save_tree(path, tree)
    loaded = state.load_tree(path)
    assert list(loaded) == ["dense", "empty", "steps", "slots", "device"]
    assert list(loaded["dense"]) == ["kernel", "bias"] and loaded["empty"] == {}
    assert loaded["dense"]["bias"].dtype == np.float16 and loaded["steps"][1].dtype == np.int64
    assert loaded["steps"][0].shape == () and int(loaded["steps"][0]) == 3
    assert loaded["slots"].m["w"].dtype == ml_dtypes.bfloat16 and loaded["slots"].v[1] is None
    assert type(loaded["slots"]).__name__ == "Slots" and loaded["slots"]._fields == ("m", "v")
    np.testing.assert_array_equal(loaded["dense"]["kernel"], tree["dense"]["kernel"])
    np.testing.assert_array_equal(loaded["device"], np.ones(2, np.float32))
    with zipfile.ZipFile(path) as zf:
        assert "dense/kernel.npy" in zf.namelist()
    with np.load(path, allow_pickle=False) as data:  # plain arrays: no pickle needed
        assert data["dense/kernel"].shape == (2, 3)


def test_write_is_atomic_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "w.npz"
    state.save_tree(path, {"a": np.ones(2)})
    state.save_tree(path, {"a": np.zeros(2)})
    assert os.listdir(tmp_path) == ["w.npz"]
    with pytest.raises(TypeError, match="not an array"):
        state.save_tree(path, {"a": object()})
    assert os.listdir(tmp_path) == ["w.npz"]  # a failed write leaves the old file alone
    assert state.load_tree(path)["a"].tolist() == [0.0, 0.0]


def test_load_into_like_reports_missing_extra_and_shape(tmp_path):
    path = tmp_path / "w.npz"
    state.save_tree(path, {"dense": {"kernel": np.ones((2, 3)), "extra": np.ones(1)}})
    like = {"dense": {"kernel": np.ones((2, 4)), "bias": np.ones(4)}}
    with pytest.raises(state.TreeFileError) as error:
        state.load_tree(path, like=like)
    message = str(error.value)
    assert "Missing keys: ['dense/bias']" in message and "Unexpected keys: ['dense/extra']" in message
    assert "dense/kernel: (2, 3)" in message and "(2, 4) expected" in message
    ok = state.load_tree(path, like={"dense": {"extra": np.zeros(1), "kernel": np.zeros((2, 3))}})
    assert list(ok["dense"]) == ["extra", "kernel"]


def test_bad_keys_and_foreign_files_raise(tmp_path):
    with pytest.raises(ValueError, match="separates path parts"):
        state.save_tree(tmp_path / "x.npz", {"a/b": np.ones(1)})
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.ones(1))
    with pytest.raises(state.TreeFileError, match="not a purekeras state file"):
        state.load_tree(foreign)


def test_paths_helpers():
    tree = {"b": {"y": 1, "x": 2}, "a": [3, (4,)]}
    assert [p for p, _ in state.flatten_with_paths(tree)] == ["b/y", "b/x", "a/0", "a/1/0"]
    doubled = state.map_with_paths(lambda path, leaf: leaf * 2, tree)
    assert doubled == {"b": {"y": 2, "x": 4}, "a": [6, (8,)]}


def _rewrite_member(path, name, transform):
    """A copy of the zip at ``path`` with member ``name``'s bytes transformed (CRCs recomputed)."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for filename, data in members:
            zf.writestr(filename, transform(data) if filename == name else data)


def test_damaged_files_raise_tree_file_errors(tmp_path):
    """The strict reader serves state files too: a header that declares more data than
    stored, a flipped byte, a truncated file and a malformed structure entry each end in
    a ``TreeFileError`` (a ``FileFormatError``) naming the file, never in a huge
    allocation or another exception."""
    import json

    tree = {"w": np.arange(8, dtype=np.float32)}
    cases = {}
    for name in ("huge_shape", "flipped", "truncated", "bad_structure", "bad_dtypes"):
        cases[name] = tmp_path / f"{name}.npz"
        state.save_tree(cases[name], tree)
    _rewrite_member(cases["huge_shape"], "w.npy", lambda d: d.replace(b"(8,)", b"(8000000000,)"))
    raw = bytearray(cases["flipped"].read_bytes())
    raw[raw.index(tree["w"].tobytes()) + 9] ^= 0xFF  # a byte of the array's data: only the CRC-32 can tell
    cases["flipped"].write_bytes(bytes(raw))
    cases["truncated"].write_bytes(cases["truncated"].read_bytes()[:200])

    def header_edit(edit):
        def transform(data):
            header = json.loads(np.lib.format.read_array(__import__("io").BytesIO(data)).tobytes())
            edit(header)
            buffer = __import__("io").BytesIO()
            np.save(buffer, np.frombuffer(json.dumps(header).encode(), np.uint8))
            return buffer.getvalue()
        return transform

    _rewrite_member(cases["bad_structure"], "__purekeras_structure__.npy",
                    header_edit(lambda h: h.update(structure={"dict": [["w", 3]]})))
    _rewrite_member(cases["bad_dtypes"], "__purekeras_structure__.npy",
                    header_edit(lambda h: h.update(dtypes={"w": "__loader__"})))
    for name, path in cases.items():
        with pytest.raises(state.TreeFileError, match=f"{name}.npz") as caught:
            state.load_tree(path)
        assert isinstance(caught.value, FileFormatError)
        assert ("CRC" in str(caught.value)) == (name == "flipped"), str(caught.value)
