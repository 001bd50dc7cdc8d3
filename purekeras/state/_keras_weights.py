"""``save_weights`` / ``load_weights``: Keras 3's ``.weights.h5`` files as pure functions.

Both take the model spec and its ``params`` / ``state`` pytrees (and, to carry
the optimizer's state, the optimizer spec and its ``OptState``); ``load_weights``
returns new pytrees with the file's values, each converted to the dtype and
backend of the value it replaces. Files written here load in Keras 3
(``model.load_weights``) and files Keras writes load here.

>>> import os, tempfile
>>> from purekeras import nn, optim, random, state
>>> model = nn.Sequential([nn.Input((4,)), nn.Dense(2)])
>>> params, model_state = model.init(random.key(0, backend="jax"))
>>> opt = optim.Adam()
>>> path = os.path.join(tempfile.mkdtemp(), "model.weights.h5")
>>> state.save_weights(path, model, params, model_state, optimizer=opt, opt_state=opt.init(params))
>>> _, _, opt_state = state.load_weights(path, model, params, model_state, optimizer=opt,
...                                      opt_state=opt.init(params))
>>> int(opt_state.iterations)
0
"""
from __future__ import annotations

import os
from typing import Any, BinaryIO

import numpy as np

from .. import ops
from ..nn._naming import snake_case
from . import _keras_h5 as kh
from . import _keras_walk as kw
from ._atomic import write_atomic
from ._keras_hdf5 import write_hdf5_file
from ._keras_layers import Var
from ._safe_errors import FileFormatError
from ._safe_h5 import read_hdf5
from ._tree import map_with_paths


def _leaf_var(tree: str, name: str, value) -> Var:
    return Var(tree, name, tuple(ops.shape(value)) if not isinstance(value, np.ndarray) else value.shape,
               value.dtype.name if isinstance(value, np.ndarray) else ops.dtype(value))


def params_fallback(params, state):
    """Variables of layers that are not built-in: their params then state leaves, in dict order."""

    def custom(layer, input_spec, tree_path):
        out = []
        for tree, values in (("params", kh._lookup(params, tree_path)), ("state", kh._lookup(state, tree_path))):
            for name, value in (values or {}).items():
                if isinstance(value, dict):
                    raise TypeError(f"Layer {type(layer).__name__} nests its variables; only flat custom layers "
                                    "can be written to Keras files.")
                out.append(_leaf_var(tree, name, value))
        return out

    return custom


def model_name(model) -> str:
    from ..nn import Functional

    return model.name or ("functional" if isinstance(model, Functional) else snake_case(type(model).__name__))


def keras_objects(model, input_spec, params=None, state=None) -> list:
    """The objects Keras saves for ``model``; custom layers' variables come from ``params``/``state``."""
    fallback = params_fallback(params or {}, state or {}) if params is not None else None
    try:
        return kw.model_objects(model, input_spec, model_name(model), fallback)
    except FileFormatError:
        raise
    except Exception as error:  # the model does not fit the input spec
        raise ValueError(f"Cannot list the weights of {type(model).__name__} for input {input_spec}: {error}. "
                         "Pass input_spec= (the model's input, batch axis first).") from error


def _check_suffix(filepath: str, suffix: str, what: str) -> str:
    filepath = os.fspath(filepath)
    if not filepath.endswith(suffix):
        raise ValueError(f"{what}: the filename must end in {suffix!r} (Keras's format), got {filepath!r}.")
    return filepath


def save_weights(filepath: str | os.PathLike, model, params, state, *, optimizer=None, opt_state=None,
                 input_spec=None) -> None:
    """Write ``params``/``state`` (and the optimizer's state) to a Keras ``.weights.h5`` file,
    atomically. ``input_spec`` is needed when the model does not know its input.

    >>> import os, tempfile
    >>> from purekeras import nn, random, state
    >>> model = nn.Sequential([nn.Dense(2)])
    >>> params, model_state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
    >>> state.save_weights(path, model, params, model_state, input_spec=nn.InputSpec((None, 3)))
    >>> os.path.getsize(path) > 0
    True
    """
    filepath = _check_suffix(filepath, ".weights.h5", "save_weights")
    objects = keras_objects(model, input_spec, params, state)
    root = kh.weights_tree(objects, params, state, optimizer=optimizer, opt_state=opt_state)
    write_atomic(filepath, lambda f: write_hdf5_file(root, f))


def read_file(filepath: str) -> bytearray:
    """The file's bytes (a ``bytearray``: arrays read from it are writable views)."""
    with open(filepath, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = bytearray(size)
        if f.readinto(data) != size:
            raise FileFormatError(f"{filepath!r} changed size while being read.")
    return data


def to_backend(array: np.ndarray, like) -> Any:
    if like is None or isinstance(like, np.ndarray):
        return array if like is None else array.astype(like.dtype, copy=False)
    return ops.asarray(array, ops.dtype(like), backend=ops.backend_name(like))


def fill_tree(tree, found: dict, what: str, which: str):
    """``tree`` with each leaf replaced by ``found[path]``, converted like the leaf it replaces."""
    missing = []

    def replace(path: str, leaf):
        key = tuple(path.split("/"))
        if key not in found:
            missing.append(path)
            return leaf
        return to_backend(found[key], leaf)

    out = map_with_paths(replace, tree)
    if missing:
        raise FileFormatError(f"{what}: the file has no values for {which} {missing[:8]}.")
    return out


def fill_opt_state(optimizer, opt_state, arrays: dict | None):
    """``opt_state`` with the values read from ``optimizer/vars`` (``read_optimizer``)."""
    if arrays is None:
        return opt_state
    slots = opt_state.slots
    updates = {}
    for (kind, path), array in arrays.items():
        if kind in ("iterations", "learning_rate"):
            updates[kind] = to_backend(array, getattr(opt_state, kind))
        else:
            updates.setdefault(kind, {})[path] = array
    fields = {}
    for field, values in ((k, v) for k, v in updates.items() if isinstance(v, dict)):
        fields[field] = map_with_paths(
            lambda p, leaf, values=values: to_backend(values[tuple(p.split("/"))], leaf), getattr(slots, field))
    new = opt_state._replace(slots=slots._replace(**fields) if fields else slots,
                             **{k: v for k, v in updates.items() if not isinstance(v, dict)})
    if optimizer.has_schedule and "iterations" in updates:
        new = new._replace(learning_rate=optimizer._scheduled_rate(new.iterations))
    return new


def load_weights(filepath: str | os.PathLike | BinaryIO, model, params, state, *, optimizer=None,
                 opt_state=None, input_spec=None) -> tuple:
    """``(params, state, opt_state)`` read from a Keras ``.weights.h5`` file or a ``.keras``
    archive's weights (a path, or a binary file object of either). Every variable's group,
    count and shape must match the model; ``opt_state`` is updated when the file holds
    the optimizer's variables.

    >>> import os, tempfile
    >>> from purekeras import nn, random, state
    >>> model = nn.Sequential([nn.Input((3,)), nn.Dense(2)])
    >>> params, model_state = model.init(random.key(0, backend="jax"))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
    >>> state.save_weights(path, model, params, model_state)
    >>> other, _ = model.init(random.key(1, backend="torch"))
    >>> loaded, _, _ = state.load_weights(path, model, other, {})  # JAX's values, as PyTorch tensors
    >>> kernel = loaded["dense"]["kernel"]
    >>> type(kernel).__name__, bool((kernel.numpy() == params["dense"]["kernel"]).all())
    ('Tensor', True)
    """
    from ._keras_archive import file_name, read_archive

    what = file_name(filepath)
    if hasattr(filepath, "read"):
        data = bytearray(filepath.read())
        if data[:4] == b"PK\x03\x04":  # a zip: a .keras archive
            import io

            data = read_archive(io.BytesIO(data)).weights
    elif what.endswith(".keras"):
        data = read_archive(what).weights
    else:
        data = read_file(_check_suffix(what, ".weights.h5", "load_weights"))
    return load_weights_bytes(data, what, model, params, state, optimizer=optimizer, opt_state=opt_state,
                              input_spec=input_spec)


def load_weights_bytes(data, what: str, model, params, state, *, optimizer=None, opt_state=None,
                       input_spec=None) -> tuple:
    objects = keras_objects(model, input_spec, params, state)
    root = read_hdf5(data, what)
    found_params, found_state = kh.read_weights(root, objects, what)
    new_params = fill_tree(params, found_params, what, "params")
    new_state = fill_tree(state, found_state, what, "state")
    if optimizer is not None and opt_state is not None:
        opt_state = fill_opt_state(optimizer, opt_state, kh.read_optimizer(root, optimizer, objects, what))
    return new_params, new_state, opt_state
