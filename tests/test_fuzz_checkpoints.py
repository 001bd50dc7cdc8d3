"""Fuzzing checkpoints: over a thousand damaged checkpoints per run (fixed seeds). Each
ends in ``CheckpointError`` (a ``FileFormatError``) or in a load whose arrays equal the
saved ones bit for bit: never another exception, a crash, or silently different numbers.

Mutations (``tests/fuzz_mutations.py``, shared with the Keras-file fuzzer, plus targeted
ones here): truncated and flipped bytes of ``state.npz`` and ``checkpoint.json``; edits of
the description re-signed with a valid CRC (so the checks behind the CRC are fuzzed
too) and broken JSON text; members of ``state.npz`` reshaped, recast, missing, extra,
swapped, declaring huge shapes, pickled or compressed, repacked into a valid zip; and
truncated, flipped or deleted files of an orbax checkpoint.
"""
from __future__ import annotations

import io
import json
import os
import random as pyrandom
import shutil
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import optree
import pytest

from purekeras import nn, ops, optim, random, state, train
from tests import fuzz_mutations as fm

MODEL = nn.Sequential([nn.Dense(5), nn.BatchNormalization(), nn.Dense(3)])


def _train_state():
    ts = train.init_state(MODEL, optim.Adam(), random.key(0, backend="jax"), nn.InputSpec((None, 4)),
                          metrics=[train.metrics.SparseCategoricalAccuracy()])
    return optree.tree_map(lambda a: np.array(ops.convert_to_numpy(a)), ts, none_is_leaf=False)


TS = _train_state()
EXPECTED = {path: leaf for path, leaf in state.flatten_with_paths(TS)}


def _check(directory) -> str:
    """``"error"`` or ``"loaded"`` (and then every array is exactly the saved one)."""
    outcomes = set()
    for like in (TS, None):
        try:
            restored = state.load_checkpoint(directory, like=like)
        except state.CheckpointError as error:
            assert str(error), "an error without a message"
            outcomes.add("error")
            continue
        got = dict(state.flatten_with_paths(restored.state))
        assert sorted(got) == sorted(EXPECTED)
        for path, value in got.items():
            value = np.asarray(value)
            assert value.dtype == EXPECTED[path].dtype and value.shape == EXPECTED[path].shape, path
            assert value.tobytes() == EXPECTED[path].tobytes(), f"{path} loaded with other numbers"
        outcomes.add("loaded")
    assert len(outcomes) == 1, outcomes  # like= only adds checks that a valid file passes
    return outcomes.pop()


def _truncations(data: bytes, count: int, rng) -> list[bytes]:
    cuts = sorted({0, 1, len(data) - 1, *(rng.randrange(len(data)) for _ in range(count))})
    return [data[:cut] for cut in cuts][:count]


def _flips(data: bytes, count: int, rng) -> list[bytes]:
    out = []
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 3))):
            position = rng.randrange(len(mutated))
            mutated[position] ^= 1 << rng.randrange(8)
        out.append(bytes(mutated))
    return out


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz") / "ckpt"
    state.save_checkpoint(directory, TS, epoch=1, metadata={"a": 1})
    assert _check(directory) == "loaded"
    files = {name: (directory / name).read_bytes() for name in ("state.npz", "checkpoint.json")}
    return directory, files


def _write_case(base, files: dict, name: str, data: bytes | None, case):
    directory = base.parent / f"case{case}"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    for other, content in files.items():
        if other != name:
            (directory / other).write_bytes(content)
    if data is not None:
        (directory / name).write_bytes(data)
    return directory


def _run_cases(base, files, cases) -> dict:
    counts = {"error": 0, "loaded": 0}
    for number, (name, data) in enumerate(cases):
        counts[_check(_write_case(base, files, name, data, number % 4))] += 1
    return counts


def test_truncated_and_bit_flipped_portable_checkpoints(portable):
    base, files = portable
    rng = pyrandom.Random(0)
    cases = []
    for name, data in files.items():
        cases += [(name, d) for d in _truncations(data, 100, rng)]
        cases += [(name, d) for d in _flips(data, 150, rng)]
        cases += [(name, fm.mutate_bytes(data, rng)[1]) for _ in range(200)]
    cases += [(name, None) for name in files] + [(name, b"") for name in files]
    counts = _run_cases(base, files, cases)
    assert sum(counts.values()) == len(cases) >= 900
    assert counts["error"] > 0.9 * len(cases)


def _signed(meta: dict) -> bytes:
    """A description re-signed with a valid CRC: the checks behind the CRC are fuzzed too."""
    canonical = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    return json.dumps({"checkpoint": meta, "crc32": zlib.crc32(canonical)}).encode()


def _description_mutations(meta: dict, rng) -> list:
    def edit(fn):
        copy = json.loads(json.dumps(meta))
        fn(copy)
        return copy

    arrays = meta["arrays"]
    mutations = [
        edit(lambda m: m.update(version=2)), edit(lambda m: m.update(format="other")),
        edit(lambda m: m.update(storage="orbax")), edit(lambda m: m.update(step="3")),
        edit(lambda m: m.update(epoch=1.5)), edit(lambda m: m.update(metrics=[])),
        edit(lambda m: m.update(structure={"dict": 5})), edit(lambda m: m.update(structure={})),
        edit(lambda m: m.update(structure={"namedtuple": "1 bad", "fields": ["x"], "items": []})),
        edit(lambda m: m.update(arrays="all")), edit(lambda m: m["arrays"].append(m["arrays"][0])),
        edit(lambda m: m["arrays"].pop()), edit(lambda m: m["arrays"].append(["extra", [1], "float32"])),
        edit(lambda m: m.pop("structure")), edit(lambda m: m.update(metadata=None)),
    ]
    for _ in range(60):
        index = rng.randrange(len(arrays))
        kind = rng.choice(["shape", "dtype", "path", "rank", "negative", "huge"])
        def change(m, index=index, kind=kind):
            entry = m["arrays"][index]
            if kind == "shape":
                entry[1] = [d + 1 for d in entry[1]] or [2]
            elif kind == "dtype":
                entry[2] = rng.choice(["float64", "int32", "float16", "bfloat16", "object", "S4", "uint8"])
            elif kind == "path":
                entry[0] = entry[0] + "_x"
            elif kind == "rank":
                entry[1] = entry[1] + [1]
            elif kind == "negative":
                entry[1] = [-1]
            else:
                entry[1] = [2**40, 2**40]
        mutations.append(edit(change))
    return mutations


def _npy(array: np.ndarray, header_shape=None) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=True)
    data = out.getvalue()
    if header_shape is not None:
        data = data.replace(repr(array.shape).encode(), repr(header_shape).encode(), 1)
    return data


def _member_mutations(members: dict, rng) -> list[bytes]:
    names = [name for name in members if not name.startswith("__")]
    out = []
    for _ in range(40):
        name = rng.choice(names)
        array = np.load(io.BytesIO(members[name]))
        kind = rng.choice(["reshape", "retype", "drop", "extra", "huge", "pickle", "compress", "big", "swap"])
        changed = dict(members)
        if kind == "reshape" and array.size > 1:
            changed[name] = _npy(array.reshape(-1, 1) if array.ndim != 2 else array.reshape(-1))
        elif kind == "retype":
            changed[name] = _npy(array.view(np.int32) if array.dtype.itemsize == 4 else array.astype(np.float64))
        elif kind == "drop":
            del changed[name]
        elif kind == "extra":
            changed["extra/thing.npy"] = _npy(np.zeros(3, np.float32))
        elif kind == "huge":
            changed[name] = _npy(array, header_shape=(10**9, 10**6))
        elif kind == "pickle":
            changed[name] = _npy(np.array([{"a": 1}], dtype=object))
        elif kind == "big":
            changed[name] = _npy(np.zeros(array.size + 7, array.dtype))
        elif kind == "swap":
            other = rng.choice(names)
            changed[name], changed[other] = members[other], members[name]
        else:
            out.append(fm.zip_bytes(changed, zipfile.ZIP_DEFLATED))
            continue
        out.append(fm.zip_bytes(changed))
    return out


def test_mutated_descriptions_and_members_behind_valid_checksums(portable):
    base, files = portable
    rng = pyrandom.Random(1)
    meta = json.loads(files["checkpoint.json"])["checkpoint"]
    cases = [("checkpoint.json", _signed(m)) for m in _description_mutations(meta, rng)]
    cases += [("checkpoint.json", _signed(fm.mutate_json(meta, rng)[1])) for _ in range(120)]
    cases += [("checkpoint.json", fm.mutate_json_text(files["checkpoint.json"], rng)[1]) for _ in range(30)]
    cases += [("checkpoint.json", data) for data in (b"{", b"[]", b'{"checkpoint": 1}', b"\xff\xfe", b"null",
                                                     b'{"checkpoint": {}, "crc32": 0}', b"1e999999")]
    members = fm.zip_members(files["state.npz"])
    cases += [("state.npz", data) for data in _member_mutations(members, rng)]
    cases += [("state.npz", _repacked(members, rng)) for _ in range(60)]
    cases += [("state.npz", fm.zip_bytes({}))]
    counts = _run_cases(base, files, cases)
    assert sum(counts.values()) == len(cases) >= 300
    assert counts["error"] >= 0.8 * len(cases)  # the rest: harmless edits (epoch, metadata) or no-op recasts


def _repacked(members: dict, rng) -> bytes:
    """``state.npz`` with its arrays edited by ``fm.mutate_arrays`` (reshaped, recast, missing,
    extra, swapped) and written back as valid ``.npy`` members of a valid zip."""
    arrays = {name[:-4]: np.load(io.BytesIO(data)) for name, data in members.items()
              if not name.startswith("__")}
    _, edited = fm.mutate_arrays(arrays, rng)
    out = {name: data for name, data in members.items() if name.startswith("__")}
    out.update((f"{path}.npy", _npy(np.asarray(value))) for path, value in edited.items())
    return fm.zip_bytes(out)


def damaged_orbax_cases(directory, count: int = 90) -> dict:
    """Damage copies of an orbax checkpoint ``count`` times (truncate, flip, delete a
    file) and check each; returns the counts of outcomes."""
    original = directory / "orbax"
    state.save_checkpoint(original, TS, step=0, format="orbax").wait_until_finished()
    files = sorted(os.path.relpath(os.path.join(root, name), original)
                   for root, _, names in os.walk(original) for name in names)
    rng = pyrandom.Random(2)
    counts = {"error": 0, "loaded": 0}
    for number in range(count):
        case = directory / f"case{number % 3}"
        if case.exists():
            shutil.rmtree(case)
        shutil.copytree(original, case)
        target = case / rng.choice(files)
        data = target.read_bytes()
        action = rng.choice(["truncate", "flip", "flip", "delete"])
        if action == "delete":
            target.unlink()
        elif action == "truncate" and data:
            target.write_bytes(_truncations(data, 1, rng)[-1])
        elif data:
            target.write_bytes(_flips(data, 1, rng)[0])
        counts[_check(case)] += 1
    return counts


def test_damaged_orbax_checkpoints(tmp_path):
    """In a subprocess: when one read fails, orbax closes its event loop while
    TensorStore's other reads still complete, and their callbacks print "Event loop
    is closed" / "Task exception was never retrieved" after purekeras has raised its
    own error. The child keeps that noise out of this process."""
    code = ("import json, pathlib, sys; from tests.test_fuzz_checkpoints import damaged_orbax_cases; "
            "print('counts', json.dumps(damaged_orbax_cases(pathlib.Path(sys.argv[1]), 60)), flush=True)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=root,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    counts = json.loads(out.stdout.split("counts", 1)[1])
    assert counts["error"] >= 10 and sum(counts.values()) == 60
