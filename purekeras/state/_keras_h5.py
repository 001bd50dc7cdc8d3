"""Keras 3's ``.weights.h5`` layout: model weights and optimizer state <-> HDF5 groups.

Each object Keras saves (``_keras_walk``) owns ``<path>/vars`` with a ``name``
attribute and datasets ``0..n-1``; the optimizer owns ``optimizer/vars``:
``iteration``, ``learning_rate`` (absent with a schedule), then its slot
variables in Keras's order (Adam: ``m`` and ``v`` of each trainable variable in
turn, then every ``v_hat`` with amsgrad). Files purekeras writes also carry a
SHA-256 of their datasets in a root attribute, checked on load, so a flipped
byte in the weights is an error rather than a silently different model.
Writing goes through h5py (``_keras_hdf5``); reading through ``_safe_h5``.

>>> import os, tempfile
>>> from purekeras import nn, random, state
>>> model = nn.Sequential([nn.Dense(3), nn.BatchNormalization()])
>>> spec = nn.InputSpec((None, 4))
>>> params, model_state = model.init(random.key(0, backend="jax"), spec)
>>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
>>> state.save_weights(path, model, params, model_state, input_spec=spec)
>>> new_params, new_state, _ = state.load_weights(path, model, params, model_state, input_spec=spec)
>>> bool((new_params["dense"]["kernel"] == params["dense"]["kernel"]).all())
True
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .. import ops
from ..nn._naming import snake_case
from . import _keras_walk as kw
from ._keras_hdf5 import H5Group
from ._keras_layers import Var
from ._portable import numpy_dtype
from ._safe_errors import FileFormatError

DIGEST = "purekeras_sha256"


def _lookup(tree: Any, path: tuple):
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _numpy(value) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else np.asarray(ops.convert_to_numpy(value))


def digest(root: H5Group) -> str:
    """SHA-256 over every dataset's path, dtype, shape and bytes, in path order."""
    sha = hashlib.sha256()

    def visit(group: H5Group, prefix: str):
        for name in sorted(group.members):
            member, path = group.members[name], f"{prefix}/{name}"
            if isinstance(member, H5Group):
                visit(member, path)
            else:
                array = member if member.flags.c_contiguous else member.copy(order="C")
                sha.update(f"{path}\0{array.dtype.name}\0{array.shape}\0".encode())
                sha.update(memoryview(array.reshape(-1).view(np.uint8)))

    visit(root, "")
    return sha.hexdigest()


def _group(root: H5Group, path: str) -> H5Group:
    group = root
    for part in [p for p in path.split("/") if p]:
        group = group.members.setdefault(part, H5Group({}, {}))
    return group


# -- optimizer order -------------------------------------------------------------------------
def slot_blocks(optimizer) -> list[tuple[str, ...]]:
    """Keras's slot variables: blocks of ``OptState.slots`` fields, interleaved per variable."""
    name = type(optimizer).__name__
    if name in ("Adam", "AdamW"):
        return [("m", "v")] + ([("v_hat",)] if optimizer.amsgrad else [])
    if name == "SGD":
        return [("momentums",)] if optimizer.momentum != 0 else []
    if name == "RMSprop":
        return ([("velocities",)] + ([("momentums",)] if optimizer.momentum > 0 else [])
                + ([("average_gradients",)] if optimizer.centered else []))
    if name == "Adagrad":
        return [("accumulators",)]
    raise TypeError(f"{name} has no Keras equivalent, so its state has no place in a Keras weights file.")


def optimizer_order(optimizer, trainable: list) -> list[tuple[str, tuple]]:
    """``[(kind, path)]`` of ``optimizer/vars/0..n-1``: ``("iterations", ())``,
    ``("learning_rate", ())`` unless a schedule, then ``(slot field, tree path)``."""
    order = [("iterations", ())] + ([] if optimizer.has_schedule else [("learning_rate", ())])
    for block in slot_blocks(optimizer):
        order += [(field, (*tree_path, var)) for tree_path, var in trainable for field in block]
    return order


# -- writing -----------------------------------------------------------------------------------
def weights_tree(objects: list, params, state, *, optimizer=None, opt_state=None) -> H5Group:
    """The HDF5 tree of a model's weights (and optimizer state) in Keras's layout."""
    root = H5Group({}, {})
    trees = {"params": params, "state": state}
    for obj in objects:
        values = {}
        for i, var in enumerate(obj.variables):
            value = _lookup(trees[var.tree], (*obj.tree_path, var.name))
            if value is None:
                raise ValueError(f"{var.tree}[{'/'.join((*obj.tree_path, var.name))!r}] is missing: the "
                                 "params and state do not belong to this model.")
            values[str(i)] = _numpy(value)
        _group(root, obj.path).members["vars"] = H5Group({"name": obj.name}, values)
    if optimizer is not None and opt_state is not None:
        slots, values = opt_state.slots, {}
        for i, (kind, path) in enumerate(optimizer_order(optimizer, kw.trainable_variables(objects))):
            if kind == "iterations":
                value = np.asarray(_numpy(opt_state.iterations), np.int32)
            elif kind == "learning_rate":
                value = np.asarray(_numpy(opt_state.learning_rate), np.float32)
            else:
                value = _numpy(_lookup(getattr(slots, kind), path))
            values[str(i)] = value
        root.members["optimizer"] = H5Group({}, {"vars": H5Group(
            {"name": optimizer.name or snake_case(type(optimizer).__name__)}, values)})
    root.attrs[DIGEST] = digest(root)
    return root


# -- reading -----------------------------------------------------------------------------------
def fit_dtype(array: np.ndarray, dtype: str, where: str) -> np.ndarray:
    """``array`` as ``dtype`` when the values survive exactly; else a ``FileFormatError``."""
    if array.dtype.name == dtype:
        return array
    target = numpy_dtype(dtype)
    source_float = array.dtype.kind == "f" or array.dtype.name == "bfloat16"
    target_float = target.kind == "f" or target.name == "bfloat16"
    if source_float == target_float:
        with np.errstate(all="ignore"):
            cast = array.astype(target)
            if np.array_equal(cast.astype(array.dtype), array, equal_nan=source_float):
                return cast
    raise FileFormatError(f"{where} holds {array.dtype.name} values that do not convert exactly to the "
                          f"model's {dtype}; save the weights from a model of the same dtype.")


def _check_digest(root: H5Group, what: str) -> None:
    stored = root.attrs.get(DIGEST)
    if stored is not None:
        attrs = dict(root.attrs)
        del attrs[DIGEST]
        if digest(H5Group(attrs, root.members)) != stored:
            raise FileFormatError(f"{what}: the weights do not match the file's SHA-256: the file is corrupted.")


def _datasets(group: H5Group | None, path: str, what: str) -> dict:
    if group is None:
        return {}
    if not isinstance(group, H5Group):
        raise FileFormatError(f"{what}: {path!r} is a dataset where a group is expected.")
    return group.members


def read_object(root: H5Group, obj: kw.KerasObject, what: str, used: set) -> list[np.ndarray]:
    """The arrays of one object's ``vars`` group, checked against its variables."""
    path = f"{obj.path}/vars".lstrip("/")
    group = root
    for part in path.split("/"):
        group = _datasets(group, path, what).get(part) if group is not None else None
    members = _datasets(group, path, what)
    expected = [str(i) for i in range(len(obj.variables))]
    described = ", ".join(f"{v.name} {v.shape}" for v in obj.variables) or "none"
    if sorted(members) != sorted(expected) or any(isinstance(m, H5Group) for m in members.values()):
        raise FileFormatError(
            f"{what}: {path!r} holds {sorted(members)}, but '{obj.name}' has {len(expected)} "
            f"variable(s) ({described}). The file was saved from a different model.")
    arrays = []
    for key, var in zip(expected, obj.variables):
        array, where = members[key], f"{what}: {path}/{key} ({obj.name}.{var.name})"
        if tuple(array.shape) != tuple(var.shape):
            raise FileFormatError(f"{where} has shape {tuple(array.shape)}, but the model expects {var.shape}.")
        arrays.append(fit_dtype(array, var.dtype, where))
        used.add(f"{path}/{key}")
    return arrays


def _all_datasets(group: H5Group, prefix: str = ""):
    for name, member in group.members.items():
        path = f"{prefix}/{name}".lstrip("/")
        if isinstance(member, H5Group):
            yield from _all_datasets(member, path)
        else:
            yield path


def read_weights(root: H5Group, objects: list, what: str) -> tuple[dict, dict]:
    """``{"params" | "state": {tree path: array}}`` for every variable of ``objects``;
    datasets outside the model's groups (but ``optimizer/``) are an error."""
    _check_digest(root, what)
    used: set = set()
    found: dict = {"params": {}, "state": {}}
    for obj in objects:
        for var, array in zip(obj.variables, read_object(root, obj, what, used)):
            found[var.tree][(*obj.tree_path, var.name)] = array
    extra = [p for p in _all_datasets(root) if p not in used and not p.startswith("optimizer/")]
    if extra:
        raise FileFormatError(f"{what}: holds variables the model does not have: {extra[:8]}"
                              f"{' ...' if len(extra) > 8 else ''}. The file was saved from a different model.")
    return found["params"], found["state"]


def read_optimizer(root: H5Group, optimizer, objects: list, what: str) -> dict | None:
    """``{(kind, path): array}`` from ``optimizer/vars``; ``None`` if the file has none.
    A file whose optimizer was never built (only iteration and learning rate) gives those."""
    group = _datasets(root.members.get("optimizer"), "optimizer", what).get("vars")
    members = _datasets(group, "optimizer/vars", what)
    if not members:
        return None
    trainable = kw.trainable_variables(objects)
    order = optimizer_order(optimizer, trainable)
    shapes = {(*o.tree_path, v.name): v for o in objects for v in o.variables}
    head = 1 if optimizer.has_schedule else 2
    count = len(order) if len(members) == len(order) else head if len(members) == head else None
    if count is None:
        raise FileFormatError(
            f"{what}: 'optimizer/vars' holds {len(members)} variables, but {type(optimizer).__name__} on this "
            f"model has {len(order)}. Compile the model with the optimizer that saved the file.")
    obj = kw.KerasObject("optimizer", "optimizer", (), tuple(
        Var("", kind, (), "int32") if kind == "iterations" else
        Var("", kind, (), "float32") if kind == "learning_rate" else
        Var("", kind, shapes[path].shape, shapes[path].dtype) for kind, path in order[:count]))
    arrays = read_object(root, obj, what, set())
    return {key: array for key, array in zip(order, arrays)}
