"""The portable checkpoint: a directory every backend reads.

``<directory>/state.npz`` holds the arrays (``save_tree``: one ``.npy`` per leaf,
no pickle) and ``<directory>/checkpoint.json`` the description
(``_checkpoint_meta``). Both are written in a temporary directory, fsynced, and
renamed into place (``_checkpoint_fs``). Reading verifies every array (its
header against its stored size, its CRC-32) and its agreement with the
description before anything is returned.

>>> import os, tempfile, numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "7")
>>> write(path, {"w": np.ones(2, np.float32)}, step=7)
>>> sorted(os.listdir(path)), read(path, like=None).state["w"].tolist()
(['checkpoint.json', 'state.npz'], [1.0, 1.0])
"""
from __future__ import annotations

import os

from . import _checkpoint_fs as fs
from ._checkpoint_errors import CheckpointError
from ._checkpoint_meta import (META_FILE, Restored, assemble, build_meta, check_array, check_like, encode,
                               read_meta_file, restored)
from ._checkpoint_npz import member_crcs, read_npz
from ._portable import _restore_dtype, save_tree

STATE_FILE = "state.npz"


def write(directory: str, tree, **fields) -> None:
    """Write ``tree`` and its description (``fields``: step, epoch, metrics, metadata)
    to the checkpoint ``directory`` atomically, replacing any checkpoint there."""
    directory = os.path.abspath(os.fspath(directory))
    meta = build_meta(tree, storage="portable", **fields)
    parent, name = os.path.split(directory)
    tmp = fs.make_temporary(parent, name)
    try:
        save_tree(os.path.join(tmp, STATE_FILE), tree)
        meta["crc32"] = member_crcs(os.path.join(tmp, STATE_FILE))  # binds each array's bytes to its path
        fs.write_file(os.path.join(tmp, META_FILE), encode(meta))
        fs.commit(tmp, directory)
    except BaseException:
        fs.remove_tree(tmp)
        raise


def read_meta(directory: str) -> dict:
    """The checked description of the portable checkpoint in ``directory``."""
    return read_meta_file(os.path.join(directory, META_FILE), directory)


def read(directory: str, like) -> Restored:
    """The checkpoint in ``directory``: in ``like``'s structure and backend, or NumPy."""
    directory = os.fspath(directory)
    meta = read_meta(directory)
    if meta["storage"] != "portable":
        raise CheckpointError(f"{directory!r} says it is an {meta['storage']!r} checkpoint, "
                              "but holds the portable checkpoint description.")
    where = repr(directory)
    if like is not None:
        check_like(meta, like, where)
    arrays, header, crcs = read_npz(os.path.join(directory, STATE_FILE))
    if meta.get("crc32") != crcs:
        raise CheckpointError(f"{where}: the arrays' CRC-32s differ from the description's: "
                              "the checkpoint is damaged or its files come from different saves.")
    dtypes = header.get("dtypes", {})
    if not isinstance(dtypes, dict):
        raise CheckpointError(f"{where}: the state file's dtype table is malformed.")
    entries = {entry[0]: entry for entry in meta["arrays"]}
    if set(arrays) != set(entries):
        missing, extra = sorted(set(entries) - set(arrays)), sorted(set(arrays) - set(entries))
        raise CheckpointError(f"{where}: the state file and the description disagree: missing arrays "
                              f"{missing[:20]}, unexpected arrays {extra[:20]}. The checkpoint is damaged.")
    for key, name in dtypes.items():
        if key not in arrays or name != entries[key][2]:
            raise CheckpointError(f"{where}: the state file's dtype table names {key!r} as {name!r}, "
                                  "which the description does not.")
        try:
            arrays[key] = _restore_dtype(arrays[key], name)
        except (TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"{where}: cannot restore {key!r} as {name!r} ({error}).") from None
    for key, array in arrays.items():
        check_array(key, array, entries[key], where)
    return restored(meta, assemble(meta, arrays, like, where))
