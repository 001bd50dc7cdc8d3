"""Deterministic file mutations for fuzz tests (shared by the Keras-file and checkpoint fuzzers).

Every helper takes a ``random.Random`` (seed it for a reproducible run) and returns
``(kind, mutated)`` so a failing case names what was done to the file:

- ``mutate_bytes``: truncation, flipped bytes or bits, overwritten blocks, inserted or
  deleted bytes; for any file format.
- ``mutate_json``: structural edits of a parsed JSON value (deleted keys, values of the
  wrong type, huge / negative / NaN numbers, emptied or reordered lists, injected code
  objects) and, with ``mutate_json_text``, broken JSON text.
- ``mutate_arrays``: a ``{path: ndarray}`` mapping with a wrong shape, a wrong dtype,
  a missing or an extra array, or two arrays swapped.
- ``zip_members`` / ``zip_bytes``: unpack and repack an archive, so a member can be
  mutated while the zip itself stays valid (CRCs recomputed).

>>> import random
>>> kind, data = mutate_bytes(b"0123456789", random.Random(0))
>>> isinstance(kind, str) and isinstance(data, bytes)
True
"""
from __future__ import annotations

import copy
import io
import math
import random
import zipfile

import numpy as np

INJECTED = [
    {"class_name": "__lambda__", "config": {"value": ["YWJj", None, None]}},
    {"module": "os", "class_name": "system", "config": {"command": "true"}},
    {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "eval"},
    {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "t", "filepath": "/tmp/x"}},
]


# -- bytes -------------------------------------------------------------------------------------
def mutate_bytes(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One random byte-level corruption of ``data``."""
    data = bytearray(data)
    kind = rng.choice(["truncate", "flip_bytes", "flip_bit", "overwrite_block", "insert", "delete", "zero_block"])
    n = len(data)
    if n == 0:
        return "empty", bytes(data)
    if kind == "truncate":
        data = data[:rng.randrange(n)]
    elif kind == "flip_bytes":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(n)] = rng.randrange(256)
    elif kind == "flip_bit":
        data[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif kind in ("overwrite_block", "zero_block"):
        start = rng.randrange(n)
        size = min(rng.choice([2, 4, 8, 16, 64]), n - start)
        data[start:start + size] = bytes(size) if kind == "zero_block" else rng.randbytes(size)
    elif kind == "insert":
        at = rng.randrange(n)
        data[at:at] = rng.randbytes(rng.randint(1, 16))
    else:
        at = rng.randrange(n)
        del data[at:at + rng.randint(1, 16)]
    return kind, bytes(data)


# -- JSON --------------------------------------------------------------------------------------
def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _replacement(old, rng: random.Random):
    choices = [None, True, False, 0, -1, 3, 10**12, 2.5, math.nan, -math.inf, "", "x" * rng.randint(1, 40),
               [], {}, [[[[]]]], rng.choice(INJECTED)]
    if isinstance(old, bool):
        choices += [not old]
    elif isinstance(old, (int, float)):
        choices += [old + 1, -old, old * 1000, float(old) + 0.5]
    elif isinstance(old, str):
        choices += [old + "_", old.upper(), old[::-1]]
    elif isinstance(old, list) and old:
        choices += [old[:-1], old + old[-1:], old[::-1]]
    return copy.deepcopy(rng.choice(choices))


def mutate_json(value, rng: random.Random) -> tuple[str, object]:
    """One random structural edit of a parsed JSON ``value`` (a deep copy is edited)."""
    value = copy.deepcopy(value)
    paths = [p for p in _paths(value) if p]
    if not paths:
        return "replace_root", _replacement(value, rng)
    path = rng.choice(paths)
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    kind = rng.choice(["replace", "replace", "delete", "insert_key", "duplicate"])
    if kind == "delete":
        del parent[key]
    elif kind == "insert_key" and isinstance(parent, dict):
        parent[rng.choice(["extra", "activity_regularizer", "trainable", "module", "lora_rank"])] = \
            _replacement(None, rng)
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    else:
        kind = "replace"
        parent[key] = _replacement(parent[key], rng)
    return f"{kind} {'/'.join(map(str, path))}", value


def mutate_json_text(text: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Broken JSON text: truncated, a flipped character, invalid UTF-8, or deep nesting."""
    kind = rng.choice(["truncate", "flip", "utf8", "nesting"])
    if kind == "truncate":
        return kind, text[:rng.randrange(max(len(text), 1))]
    if kind == "flip":
        data = bytearray(text)
        data[rng.randrange(len(data))] = rng.choice(b'{}[]",:0x\\')
        return kind, bytes(data)
    if kind == "utf8":
        at = rng.randrange(len(text))
        return kind, text[:at] + b"\xff\xfe" + text[at:]
    depth = rng.choice([500, 5000, 100000])
    return f"nesting {depth}", b"[" * depth + b"]" * depth


# -- arrays ------------------------------------------------------------------------------------
def mutate_arrays(arrays: dict, rng: random.Random) -> tuple[str, dict]:
    """``arrays`` (``{path: ndarray}``) with one array reshaped, recast, removed, added or swapped."""
    arrays = dict(arrays)
    path = rng.choice(sorted(arrays))
    value = arrays[path]
    kind = rng.choice(["shape", "dtype", "missing", "extra", "swap"])
    if kind == "shape":
        arrays[path] = rng.choice([value.reshape(-1), np.zeros((*value.shape, 1), value.dtype),
                                   np.zeros(value.shape[:-1] + (value.shape[-1] + 1,) if value.shape else (2,),
                                            value.dtype)])
    elif kind == "dtype":
        target = rng.choice(["float16", "float64", "int32", "int64", "uint8", "float32"])
        with np.errstate(all="ignore"):
            arrays[path] = value.astype(target)
    elif kind == "missing":
        del arrays[path]
    elif kind == "extra":
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        arrays[f"{parent}/{len(arrays) + 7}".lstrip("/")] = np.ones(rng.choice([(), (3,), (2, 2)]), "float32")
    else:
        other = rng.choice(sorted(arrays))
        arrays[path], arrays[other] = arrays[other], value
    return f"{kind} {path}", arrays


# -- zip archives ------------------------------------------------------------------------------
def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()
