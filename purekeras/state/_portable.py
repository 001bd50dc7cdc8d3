"""Portable state files: a ``.npz`` of arrays keyed by '/'-joined pytree paths.

The file holds one NumPy array per leaf (key ``"dense/kernel"``) plus a small
JSON description of the nesting (dicts in insertion order, lists, tuples,
NamedTuples, ``None``) under ``__purekeras_structure__``. It is read by the
strict reader of ``_checkpoint_npz`` (no pickle, every header checked against the
stored size, CRC-32s verified): no code runs on load, and a damaged file is a
``TreeFileError`` (the strict reader's ``CheckpointError`` is one). Writes are atomic: a temporary
file in the same directory, then ``os.replace``. Dtypes NumPy lacks
(``bfloat16``) are stored as raw bits and restored by name.

>>> import os, tempfile, numpy as np
>>> from purekeras import state
>>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
>>> state.save_tree(path, {"dense": {"kernel": np.ones((2, 3)), "bias": np.zeros(3)}})
>>> tree = state.load_tree(path)
>>> list(tree["dense"]), tree["dense"]["kernel"].shape
(['kernel', 'bias'], (2, 3))
"""
from __future__ import annotations

import collections
import errno
import json
import os
import zipfile
from typing import Any

import numpy as np

from ._atomic import write_atomic
from ._safe_errors import FileFormatError
from ._tree import SEPARATOR, children, flatten_with_paths, is_namedtuple

STRUCTURE_KEY = "__purekeras_structure__"
FORMAT_VERSION = 1


class TreeFileError(FileFormatError):
    """A state file is damaged or does not match what it is loaded into; the message
    names the file, or lists the paths that differ. A ``FileFormatError`` (and so a
    ``ValueError``), as for Keras files."""


# -- writing -----------------------------------------------------------------------
def _to_numpy(leaf) -> np.ndarray:
    if isinstance(leaf, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(leaf)
    from .. import ops

    return np.asarray(ops.convert_to_numpy(leaf))


def _describe(node, prefix: tuple[str, ...]) -> Any:
    if node is None:
        return {"none": None}
    items = children(node)
    if items is None:
        return {"array": SEPARATOR.join(prefix)}
    described = [_describe(child, (*prefix, key)) for key, child in items]
    if isinstance(node, dict):
        return {"dict": [[key, d] for (key, _), d in zip(items, described)]}
    if is_namedtuple(node):
        return {"namedtuple": type(node).__name__, "fields": list(type(node)._fields), "items": described}
    return {"list" if isinstance(node, list) else "tuple": described}


def _is_native(dtype: np.dtype) -> bool:
    return dtype.kind in "biufc" and dtype.type.__module__ == "numpy"


def save_tree(path: str | os.PathLike, tree: Any) -> None:
    """Write ``tree`` (nested dicts/lists/tuples/NamedTuples of arrays) to ``path`` atomically.

    The file is written exactly at ``path`` (no suffix is added)."""
    path = os.fspath(path)
    if isinstance(tree, dict) and STRUCTURE_KEY in tree:
        raise ValueError(f"save_tree: the key {STRUCTURE_KEY!r} is reserved for the file's structure.")
    arrays: dict[str, np.ndarray] = {}
    dtypes: dict[str, str] = {}
    for key, leaf in flatten_with_paths(tree):
        array = _to_numpy(leaf)
        if array.dtype == object:
            raise TypeError(f"save_tree: leaf {key!r} is not an array (got {type(leaf).__name__}).")
        if not _is_native(array.dtype):
            dtypes[key] = array.dtype.name
            array = array.view(np.dtype(f"u{array.dtype.itemsize}"))
        arrays[key] = array
    header = {"format": "purekeras.tree", "version": FORMAT_VERSION,
              "structure": _describe(tree, ()), "dtypes": dtypes}
    arrays[STRUCTURE_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key, array in arrays.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, np.asarray(array, order="C"), allow_pickle=False)

    write_atomic(path, write)


# -- reading -----------------------------------------------------------------------
def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype called ``name``: NumPy's own numeric ones, or an ``ml_dtypes``
    one (``bfloat16``, ``float8_*``); ``ValueError`` for anything else.

    >>> numpy_dtype("float32"), numpy_dtype("bfloat16")
    (dtype('float32'), dtype(bfloat16))
    """
    try:
        dtype = np.dtype(name)
    except TypeError:
        import ml_dtypes  # ships with JAX; knows bfloat16, float8_*, ...

        kind = getattr(ml_dtypes, name, None) if name.isidentifier() and not name.startswith("_") else None
        dtype = np.dtype(kind) if isinstance(kind, type) and issubclass(kind, np.generic) else None
    if dtype is None or not (_is_native(dtype) or dtype.type.__module__.partition(".")[0] == "ml_dtypes"):
        raise ValueError(f"{name!r} is not a numeric dtype NumPy or ml_dtypes knows.")
    return dtype


def _restore_dtype(array: np.ndarray, name: str) -> np.ndarray:
    """The raw bits ``save_tree`` stored for a dtype NumPy lacks, viewed as ``name``:
    only an ``ml_dtypes`` type of the stored item size."""
    try:
        dtype = numpy_dtype(name)
    except ValueError:
        dtype = None
    if dtype is None or _is_native(dtype) or array.dtype != np.dtype(f"u{dtype.itemsize}"):
        raise TreeFileError(f"the dtype table names {name!r} for raw {array.dtype} data: "
                            "not an ml_dtypes type of that size; the file is damaged.")
    return array.view(dtype)


def _build(description: dict, arrays: dict, used: set) -> Any:
    kind, value = next(iter(description.items()))
    if kind == "none":
        return None
    if kind == "array":
        if value not in arrays:
            raise TreeFileError(f"The file's structure names the array {value!r}, which it does not hold.")
        used.add(value)
        return arrays[value]
    if kind == "dict":
        if not all(isinstance(key, str) for key, _ in value):
            raise TreeFileError("The file's structure has a dict key that is not a string.")
        return {key: _build(d, arrays, used) for key, d in value}
    if kind == "namedtuple":
        cls = collections.namedtuple(value, description["fields"])
        return cls(*(_build(d, arrays, used) for d in description["items"]))
    items = [_build(d, arrays, used) for d in value]
    return items if kind == "list" else tuple(items)


def build_tree(description, arrays: dict, where: str) -> tuple[Any, set]:
    """The tree a file's structure ``description`` describes, over ``arrays``, and the
    keys it used; a ``TreeFileError`` naming ``where`` for a malformed description
    (it comes from a file: anything may be wrong with it)."""
    used: set = set()
    try:
        return _build(description, arrays, used), used
    except TreeFileError as error:
        raise TreeFileError(f"{where}: {error}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, StopIteration, RuntimeError) as error:
        raise TreeFileError(f"{where}: its structure description is malformed ({type(error).__name__}: "
                            f"{error}): the file is damaged.") from None


def read_tree(path: str | os.PathLike) -> Any:
    """The tree stored in ``path``, as NumPy arrays in its saved nesting.

    NamedTuples come back as NamedTuples of the same name and fields (built
    afresh: no class is imported from the file).

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "t.npz")
    >>> save_tree(path, {"steps": (np.int32(2), None)})
    >>> read_tree(path)
    {'steps': (array(2, dtype=int32), None)}
    """
    from ._checkpoint_npz import read_npz  # (it imports this module's names)

    path = os.fspath(path)
    if not os.path.isfile(path):  # the strict reader would call it a damaged state file
        raise FileNotFoundError(errno.ENOENT, "No such state file", path)
    views, header, _ = read_npz(path)
    arrays = {key: np.array(view) for key, view in views.items()}  # own copies, not views of the file
    del views
    dtypes = header.get("dtypes", {})
    if not isinstance(dtypes, dict) or not all(isinstance(v, str) and k in arrays for k, v in dtypes.items()):
        raise TreeFileError(f"{path!r}: its dtype table is malformed: the file is damaged.")
    try:
        for key, name in dtypes.items():
            arrays[key] = _restore_dtype(arrays[key], name)
    except TreeFileError as error:
        raise TreeFileError(f"{path!r}: {error}") from None
    tree, used = build_tree(header["structure"], arrays, repr(path))
    extra = sorted(set(arrays) - used)
    if extra:
        raise TreeFileError(f"{path!r} holds arrays its structure does not name: {extra}.")
    return tree


def match_tree(loaded: Any, like: Any, *, what: str = "the file") -> Any:
    """``loaded``'s arrays arranged as ``like`` (same paths and shapes), or a
    ``TreeFileError`` listing every missing key, unexpected key and shape mismatch.

    >>> import numpy as np
    >>> match_tree({"b": np.ones(1), "a": np.zeros(2)}, {"a": np.empty(2), "b": np.empty(1)})
    {'a': array([0., 0.]), 'b': array([1.])}
    """
    from ._tree import map_with_paths

    found = dict(flatten_with_paths(loaded))
    expected = dict(flatten_with_paths(like))
    missing = [k for k in expected if k not in found]
    extra = [k for k in found if k not in expected]
    mismatched = [f"{k}: {tuple(np.shape(found[k]))} in {what}, {tuple(np.shape(v))} expected"
                  for k, v in expected.items() if k in found and tuple(np.shape(found[k])) != tuple(np.shape(v))]
    if missing or extra or mismatched:
        lines = [f"{what} does not match the expected structure."]
        if missing:
            lines.append(f"Missing keys: {missing}.")
        if extra:
            lines.append(f"Unexpected keys: {extra}.")
        if mismatched:
            lines.append("Shape mismatches: " + "; ".join(mismatched) + ".")
        lines.append("Build the model with the same layers and input shape that wrote the file.")
        raise TreeFileError(" ".join(lines))
    return map_with_paths(lambda path, _: found[path], like)


def load_tree(path: str | os.PathLike, like: Any = None) -> Any:
    """The tree stored in ``path`` as NumPy arrays. With ``like``, check that the
    file has exactly ``like``'s paths and shapes and return it in ``like``'s structure.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "t.npz")
    >>> save_tree(path, {"w": np.ones(2)})
    >>> try:
    ...     load_tree(path, like={"w": np.zeros(3)})
    ... except TreeFileError as error:
    ...     print(str(error).split("Shape mismatches: ")[1][:5])
    w: (2
    """
    tree = read_tree(path)
    if like is None:
        return tree
    return match_tree(tree, like, what=repr(os.fspath(path)))
