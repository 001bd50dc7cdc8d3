"""What every checkpoint records besides its arrays, and how arrays meet ``like``.

The description (``checkpoint.json`` in the portable format, the ``meta`` item
in orbax's) is JSON: the format and version, the storage, ``step``, ``epoch``,
``metrics`` (floats), the user's ``metadata``, the tree's ``structure`` (as
``save_tree`` describes it: dicts in order, lists, tuples, NamedTuples,
``None``) and ``arrays``: ``[path, shape, dtype]`` for every leaf in order. It is
stored with a CRC-32 of its canonical form, so a damaged description is refused
rather than read as other numbers.

>>> import numpy as np
>>> meta = build_meta({"w": np.zeros((2, 3), np.float32)}, storage="portable", step=4)
>>> meta["arrays"], decode(encode(meta), "x")["step"]
([['w', [2, 3], 'float32']], 4)
"""
from __future__ import annotations

import json
import numbers
import zlib
from typing import Any, NamedTuple

import numpy as np

from ._checkpoint_errors import CheckpointError
from ._portable import TreeFileError, _describe, build_tree
from ._tree import flatten_with_paths, map_with_paths

FORMAT = "purekeras.checkpoint"
VERSION = 1
META_FILE = "checkpoint.json"
STORAGES = ("portable", "orbax")
_MAX_META = 1 << 28  # bytes of a checkpoint description


class Restored(NamedTuple):
    """What ``load_checkpoint`` / ``CheckpointManager.restore`` return.

    >>> Restored._fields
    ('state', 'step', 'epoch', 'metrics', 'metadata')
    """

    state: Any  # the tree: in ``like``'s structure and backend, else NumPy in the saved nesting
    step: int | None  # the step it was saved under
    epoch: int | None  # the epoch given at save
    metrics: dict  # {name: float} given at save
    metadata: dict  # the user's JSON metadata given at save


def leaf_dtype(leaf) -> str:
    """The NumPy-style dtype name of any array leaf (framework arrays included)."""
    if isinstance(getattr(leaf, "dtype", None), np.dtype):  # NumPy and JAX arrays
        return leaf.dtype.name
    if isinstance(leaf, (bool, int, float)):
        return np.asarray(leaf).dtype.name
    from .. import ops

    return ops.dtype(leaf)


def leaf_shape(leaf) -> tuple[int, ...]:
    return tuple(int(d) for d in np.shape(leaf)) if isinstance(leaf, (np.ndarray, np.generic, int, float)) \
        else tuple(int(d) for d in leaf.shape)


def _json_value(value, what: str):
    try:
        return json.loads(json.dumps(value, allow_nan=True))
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_checkpoint: {what} must be JSON data (dicts, lists, str, numbers), "
                        f"got {value!r} ({error}).") from None


def _optional_int(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) and not _is_integer_array(value):
        raise TypeError(f"save_checkpoint: {what} must be an int or None, got {value!r}.")
    return int(value)


def _is_integer_array(value) -> bool:
    return hasattr(value, "shape") and tuple(value.shape) == () and "int" in leaf_dtype(value)


def build_meta(tree, *, storage: str, step=None, epoch=None, metrics=None, metadata=None) -> dict:
    """The description of ``tree`` saved with ``step``, ``epoch``, ``metrics``, ``metadata``."""
    metrics = {str(k): float(v) for k, v in (metrics or {}).items()}
    arrays = [[path, list(leaf_shape(leaf)), leaf_dtype(leaf)] for path, leaf in flatten_with_paths(tree)]
    return {
        "format": FORMAT, "version": VERSION, "storage": storage,
        "step": _optional_int(step, "step"), "epoch": _optional_int(epoch, "epoch"),
        "metrics": metrics, "metadata": _json_value(metadata or {}, "metadata"),
        "structure": _describe(tree, ()), "arrays": arrays,
    }


def _canonical(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode(meta: dict) -> bytes:
    """``meta`` as JSON bytes with a CRC-32 of its canonical form."""
    return json.dumps({"checkpoint": meta, "crc32": zlib.crc32(_canonical(meta))}).encode("utf-8")


def wrap(meta: dict) -> dict:
    """``meta`` with its CRC-32, as the JSON object ``encode`` writes."""
    return json.loads(encode(meta))


DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
    "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz",
})  # the dtypes a checkpoint may declare


def _valid_dtype(name) -> bool:
    return isinstance(name, str) and name in DTYPES


def _check_arrays(arrays, where: str) -> None:
    if not isinstance(arrays, list):
        raise CheckpointError(f"{where}: 'arrays' must be a list.")
    seen = set()
    for entry in arrays:
        ok = (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
              and isinstance(entry[1], list) and len(entry[1]) <= 64
              and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**48 for d in entry[1])
              and _valid_dtype(entry[2]))
        if not ok:
            raise CheckpointError(f"{where}: malformed array entry {str(entry)[:200]}.")
        if entry[0] in seen:
            raise CheckpointError(f"{where}: the array {entry[0]!r} is listed twice.")
        seen.add(entry[0])


def read_meta_file(path: str, directory: str) -> dict:
    """The checked description in the file ``path`` of the checkpoint in ``directory``."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_META + 1)
    except OSError as error:
        raise CheckpointError(f"{directory!r} is not a readable checkpoint: {error}.") from None
    if len(raw) > _MAX_META:
        raise CheckpointError(f"{path!r} is too large to be a checkpoint description.")
    return decode(raw, repr(path))


def decode(raw: bytes, where: str) -> dict:
    """The description in ``raw``, checked (CRC-32, fields and types), or ``CheckpointError``."""
    try:
        wrapped = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"{where}: the checkpoint description is not valid JSON ({error}).") from None
    if not isinstance(wrapped, dict) or not isinstance(wrapped.get("checkpoint"), dict):
        raise CheckpointError(f"{where} is not a purekeras checkpoint description.")
    meta = wrapped["checkpoint"]
    if wrapped.get("crc32") != zlib.crc32(_canonical(meta)):
        raise CheckpointError(f"{where}: the checkpoint description fails its CRC-32 check: it is damaged.")
    if meta.get("format") != FORMAT or meta.get("storage") not in STORAGES:
        raise CheckpointError(f"{where} is not a purekeras checkpoint (format {meta.get('format')!r}).")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{where} has checkpoint version {meta.get('version')!r}; this purekeras "
                              f"reads version {VERSION}. Upgrade purekeras to read it.")
    for key, kind in (("step", int), ("epoch", int)):
        if meta.get(key) is not None and (not isinstance(meta[key], kind) or isinstance(meta[key], bool)):
            raise CheckpointError(f"{where}: {key!r} must be an int or null.")
    for key in ("metrics", "metadata", "structure"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"{where}: {key!r} must be a JSON object.")
    _check_arrays(meta.get("arrays"), where)
    _check_structure(meta, where)
    return meta


def _check_structure(meta: dict, where: str) -> None:
    """The structure must be well formed, and the tree it builds must have exactly the
    listed arrays, in order, at the paths they are listed under."""
    listed = [entry[0] for entry in meta["arrays"]]
    try:
        tree, _ = build_tree(meta["structure"], {path: path for path in listed}, where)
    except TreeFileError as error:
        raise CheckpointError(str(error)) from None
    try:
        found = flatten_with_paths(tree)
    except (TypeError, ValueError) as error:  # keys that are not path parts
        raise CheckpointError(f"{where}: the checkpoint's structure is malformed ({error}).") from None
    if [path for path, _ in found] != listed or any(path != leaf for path, leaf in found):
        raise CheckpointError(f"{where}: the structure does not match the list of arrays: the description "
                              "is damaged.")


def check_like(meta: dict, like, where: str) -> None:
    """Raise ``CheckpointError`` listing every difference between the checkpoint's
    arrays and ``like``'s (missing, unexpected, shape, dtype)."""
    saved = {path: (tuple(shape), dtype) for path, shape, dtype in meta["arrays"]}
    expected = {path: (leaf_shape(leaf), leaf_dtype(leaf)) for path, leaf in flatten_with_paths(like)}
    missing = [k for k in expected if k not in saved]
    extra = [k for k in saved if k not in expected]
    shapes = [f"{k}: {saved[k][0]} saved, {v[0]} expected" for k, v in expected.items()
              if k in saved and saved[k][0] != v[0]]
    dtypes = [f"{k}: {saved[k][1]} saved, {v[1]} expected" for k, v in expected.items()
              if k in saved and saved[k][1] != v[1]]
    if missing or extra or shapes or dtypes:
        lines = [f"{where} does not match the state it is restored into."]
        for title, items in (("Missing", missing), ("Unexpected", extra), ("Shape mismatches", shapes),
                             ("Dtype mismatches", dtypes)):
            if items:
                lines.append(f"{title}: {items[:20]}{' ...' if len(items) > 20 else ''}.")
        lines.append("Restore into a state built from the same model, optimizer and metrics "
                     "that wrote the checkpoint (or pass like=None to read it as NumPy).")
        raise CheckpointError(" ".join(lines))


def check_array(path: str, array, meta_entry: list, where: str) -> None:
    """Raise ``CheckpointError`` when a read array disagrees with its description."""
    shape, dtype = tuple(meta_entry[1]), meta_entry[2]
    if leaf_shape(array) != shape or leaf_dtype(array) != dtype:
        raise CheckpointError(f"{where}: the array {path!r} holds {leaf_shape(array)} {leaf_dtype(array)}, "
                              f"its description says {shape} {dtype}: the checkpoint is damaged.")


def _is_jax(leaf) -> bool:
    return type(leaf).__module__.partition(".")[0] in ("jax", "jaxlib")


def place(value, like_leaf):
    """``value`` (NumPy or a JAX array) as an array like ``like_leaf``: same backend,
    and for JAX the same sharding (or none, when ``like_leaf`` has none)."""
    if isinstance(like_leaf, (np.ndarray, np.generic, int, float)):
        return _owned(value)
    if _is_jax(like_leaf):
        from ._orbax import device_put_like

        return device_put_like([value], [like_leaf])[0]
    from .. import ops

    return ops.asarray(np.asarray(value), leaf_dtype(like_leaf), backend=ops.backend_name(like_leaf))


def assemble(meta: dict, arrays: dict, like, where: str):
    """The restored tree: ``arrays`` (by path) in ``like``'s structure and backend, or,
    without ``like``, in the saved structure as NumPy arrays."""
    if like is not None:
        like_leaves = flatten_with_paths(like)
        on_jax = [(path, leaf) for path, leaf in like_leaves if _is_jax(leaf)]
        placed = {}
        if on_jax:  # one batched transfer
            from ._orbax import device_put_like

            values = device_put_like([arrays[path] for path, _ in on_jax], [leaf for _, leaf in on_jax])
            placed = {path: value for (path, _), value in zip(on_jax, values)}
        return map_with_paths(lambda path, leaf: placed[path] if path in placed else place(arrays[path], leaf),
                              like)
    return build_tree(meta["structure"], {path: _owned(value) for path, value in arrays.items()}, where)[0]


def _owned(value) -> np.ndarray:
    """``value`` as a writable NumPy array of its own (not a view of a mapped file)."""
    value = np.asarray(value)
    return value if value.flags.writeable and value.flags.owndata else np.array(value)


def restored(meta: dict, tree) -> Restored:
    return Restored(tree, meta["step"], meta["epoch"], dict(meta["metrics"]), dict(meta["metadata"]))

