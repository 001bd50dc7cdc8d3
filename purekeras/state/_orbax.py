"""Orbax checkpoints on JAX: asynchronous saves, sharded arrays, verified restores.

A checkpoint is one orbax ``Composite`` save with two items: ``state`` (the
arrays, keyed ``a<i>`` by their index in the description) and ``meta`` (the
description of ``_checkpoint_meta``, with the CRC-32 of every array). Orbax
writes it in a temporary directory and renames it when complete, so a killed
save never leaves a half-written checkpoint under its final name.

``write`` returns at once: it dispatches an on-device copy of the JAX arrays
(``_orbax_checksums.snapshot``), and an ``OrbaxWriter`` thread computes the
checksums of the copies and writes them, so the live arrays may be donated to
the next train step right away. Restore recomputes every checksum: a damaged
file is refused rather than read as other numbers. Sharded arrays are saved
shard by shard and restored with the sharding of ``like``'s arrays (checksums
read the whole array: one host).

This module, ``_orbax_checksums`` and ``_orbax_writer`` are the only places of
``state`` that import JAX or orbax (lazily, inside functions).

>>> import os, tempfile
>>> from purekeras import ops
>>> path = os.path.join(tempfile.mkdtemp(), "1")
>>> writer = OrbaxWriter()
>>> write(path, {"w": ops.ones((3,), backend="jax")}, writer, step=1)
>>> writer.close()
>>> read(path, like=None).state["w"].tolist()
[1.0, 1.0, 1.0]
"""
from __future__ import annotations

import os

import numpy as np

from . import _orbax_checksums as sums
from ._checkpoint_errors import CheckpointError
from ._checkpoint_meta import (Restored, assemble, build_meta, check_array, check_like, read_meta_file, restored,
                               wrap)
from ._orbax_writer import OrbaxWriter, checkpointer, orbax
from ._portable import _to_numpy, numpy_dtype
from ._tree import flatten_with_paths

META_ITEM, STATE_ITEM, META_NAME = "meta", "state", "metadata"

__all__ = ["OrbaxWriter", "device_put_like", "is_orbax_checkpoint", "read", "read_meta", "write"]


def is_orbax_checkpoint(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, META_ITEM, META_NAME))


# -- save --------------------------------------------------------------------------
def write(directory: str, tree, writer: OrbaxWriter, **fields) -> None:
    """Start saving ``tree`` to ``directory`` (which must not exist) in the background;
    ``writer.wait_until_finished()`` waits for it."""
    meta = build_meta(tree, storage="orbax", **fields)
    items, device = {}, {}
    for index, (_, leaf) in enumerate(flatten_with_paths(tree)):
        if sums.on_device(leaf):
            if leaf.size:
                device[f"a{index}"] = leaf
            continue
        array = np.asarray(_to_numpy(leaf))
        if array.size:
            items[f"a{index}"] = np.array(array)  # a private copy: the caller's arrays may change
    spares = []  # (signature, copies) to keep once written
    for group in sums.by_devices(device):
        leaves = [device[key] for key in group]
        key = sums.signature(leaves)
        copies = sums.snapshot(leaves, writer.take_spare(key))
        items.update(zip(group, copies))
        if sums.on_cpu(leaves):
            spares.append((key, copies))
    if not items:
        items["a"] = np.zeros((1,), np.uint32)  # orbax needs one array
    path = os.path.abspath(directory)

    def work(checkpointer):
        meta["orbax_crc32"] = {key: sums.crc32(value) for key, value in items.items() if key != "a"}
        ocp = orbax()
        checkpointer.save(path, args=ocp.args.Composite(
            **{STATE_ITEM: ocp.args.PyTreeSave(items), META_ITEM: ocp.args.JsonSave(wrap(meta))}))
        for key, copies in spares[:1]:  # one spare: several device sets in one state are rare
            writer.keep_spare(key, copies)

    writer.start(work, path)


# -- restore -----------------------------------------------------------------------
def read_meta(directory: str) -> dict:
    """The checked description of the orbax checkpoint in ``directory``."""
    path = os.path.join(directory, META_ITEM, META_NAME)
    meta = read_meta_file(path, directory)
    crcs, count = meta.get("orbax_crc32"), len(meta["arrays"])
    ok = (meta["storage"] == "orbax" and isinstance(crcs, dict)
          and all(isinstance(k, str) and k[:1] == "a" and k[1:].isdigit() and int(k[1:]) < count
                  and isinstance(v, int) for k, v in crcs.items()))
    if not ok:
        raise CheckpointError(f"{path!r}: the orbax part of the checkpoint description is malformed.")
    return meta


def _committed(leaf) -> bool:
    """Whether ``leaf`` is a JAX array placed explicitly (restored with its sharding)."""
    import jax

    return isinstance(leaf, jax.Array) and leaf.committed


def _target(meta: dict, like):
    """``(items, restore_args)`` for orbax: JAX arrays with ``like``'s sharding where it
    is a committed JAX array, host arrays otherwise."""
    import jax

    ocp = orbax()
    like_leaves = dict(flatten_with_paths(like)) if like is not None else {}
    items, args = {}, {}
    for key in meta["orbax_crc32"]:
        path, shape, dtype = meta["arrays"][int(key[1:])]
        leaf, dtype = like_leaves.get(path), numpy_dtype(dtype)
        if _committed(leaf):
            items[key] = jax.ShapeDtypeStruct(tuple(shape), dtype, sharding=leaf.sharding)
            args[key] = ocp.ArrayRestoreArgs(sharding=leaf.sharding, global_shape=tuple(shape), dtype=dtype)
        else:  # to the host: NumPy, PyTorch, an uncommitted JAX array (placed as like's)
            items[key] = np.empty((0,), dtype)
            args[key] = ocp.RestoreArgs(restore_type=np.ndarray, dtype=dtype)
    if not items:
        items["a"], args["a"] = np.empty((0,), np.uint32), ocp.RestoreArgs(restore_type=np.ndarray)
    return items, args


def read(directory: str, like) -> Restored:
    """The orbax checkpoint in ``directory``: in ``like``'s structure, backend and
    sharding, or NumPy arrays in the saved structure; every array verified."""
    ocp = orbax()
    directory = os.path.abspath(os.fspath(directory))
    where = repr(directory)
    meta = read_meta(directory)
    if like is not None:
        check_like(meta, like, where)
    items, args = _target(meta, like)
    try:
        with checkpointer() as reader:
            loaded = reader.restore(directory, args=ocp.args.Composite(
                **{STATE_ITEM: ocp.args.PyTreeRestore(items, restore_args=args)}))[STATE_ITEM]
    except Exception as error:  # orbax and tensorstore raise many kinds on a damaged directory
        raise CheckpointError(f"{where}: orbax cannot restore the checkpoint ({type(error).__name__}: "
                              f"{str(error)[:300]}). The checkpoint is damaged or incomplete.") from error
    return restored(meta, assemble(meta, _checked(meta, loaded, where), like, where))


def _checked(meta: dict, items: dict, where: str) -> dict:
    """``{path: array}`` from orbax's items, each checked against the description
    (shape, dtype, CRC-32); zero-size arrays (which orbax does not store) made here."""
    if not isinstance(items, dict) or set(items) - set(meta["orbax_crc32"]) - {"a"}:
        raise CheckpointError(f"{where}: orbax returned items the description does not name.")
    arrays, bad = {}, []
    for index, (path, shape, dtype) in enumerate(meta["arrays"]):
        key = f"a{index}"
        if key in meta["orbax_crc32"]:
            if key not in items:
                raise CheckpointError(f"{where}: the array {path!r} is missing from the checkpoint.")
            arrays[path] = items[key]
        elif not int(np.prod(shape, dtype=object)):
            arrays[path] = np.zeros(tuple(shape), numpy_dtype(dtype))
        else:
            raise CheckpointError(f"{where}: the array {path!r} has no checksum: the checkpoint is damaged.")
        check_array(path, arrays[path], meta["arrays"][index], where)
        if key in meta["orbax_crc32"] and sums.crc32(arrays[path]) != meta["orbax_crc32"][key]:
            bad.append(path)
    if bad:
        raise CheckpointError(f"{where}: arrays {bad[:10]} fail their CRC-32 check: the checkpoint is damaged.")
    return arrays


def device_put_like(values: list, like_leaves: list) -> list:
    """``values`` (NumPy or JAX arrays) as JAX arrays placed as ``like_leaves``: with
    their sharding where they are committed (placed explicitly), else uncommitted on
    the default device, so that a compiled step sees the same placements as before
    and does not recompile. One batched ``jax.device_put`` per kind (a copy into
    buffers JAX owns, which can be donated)."""
    import jax

    out = [None] * len(values)
    committed = [i for i, leaf in enumerate(like_leaves) if leaf.committed]
    loose = [i for i, leaf in enumerate(like_leaves) if not leaf.committed]
    if committed:
        placed = jax.device_put([values[i] for i in committed], [like_leaves[i].sharding for i in committed])
        for i, value in zip(committed, placed):
            out[i] = value
    if loose:
        placed = jax.device_put([np.asarray(values[i]) for i in loose])
        for i, value in zip(loose, placed):
            out[i] = value
    return out
