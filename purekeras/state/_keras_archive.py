"""Keras 3's ``.keras`` archive: ``save_model`` / ``load_model`` as pure functions.

The archive is a zip of ``metadata.json``, ``config.json`` (the model's Keras
serialisation, with its ``compile_config``) and ``model.weights.h5`` (Keras's
weights layout, optimizer state included). ``load_model`` returns the model
spec, its input spec, the weights as arrays of the chosen backend, the
``compile`` arguments and the optimizer state: everything a training run needs
to go on. Loading never runs code or imports a module named in the file.

>>> import os, tempfile
>>> from purekeras import nn, optim, random, state
>>> model = nn.Sequential([nn.Input((4,)), nn.Dense(2)])
>>> params, model_state = model.init(random.key(0, backend="jax"))
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> state.save_model(path, model, params, model_state, optimizer=optim.SGD(), loss="mse")
>>> loaded = state.load_model(path, backend="jax")
>>> loaded.model == model, loaded.compile_args.loss, int(loaded.opt_state.iterations)
(True, 'mse', 0)
"""
from __future__ import annotations

import datetime
import json
import os
import zipfile
from typing import Any, BinaryIO, Mapping, NamedTuple

from .. import backends, nn, ops, random
from . import _keras_h5 as kh
from . import _keras_weights as kwts
from ._atomic import write_atomic
from ._keras_compile import CompileArgs, compile_config_from_keras, compile_config_to_keras
from ._keras_graph import model_entry, model_from_entry
from ._keras_hdf5 import write_hdf5
from ._keras_walk import model_objects
from ._safe_config import LoadContext, entry, is_keras
from ._safe_errors import FileFormatError
from ._safe_h5 import read_hdf5
from ._safe_zip import read_members

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras release whose format these files follow
LIMITS = {CONFIG: 64 << 20, METADATA: 1 << 20}


class KerasArchive(NamedTuple):
    config: dict  # config.json
    metadata: dict  # metadata.json
    weights: bytearray  # model.weights.h5


class LoadedModel(NamedTuple):
    """What ``load_model`` returns; ``pk.load_model`` wraps it in a ``pk.Model``."""

    model: Any  # the Sequential / Functional spec
    input_spec: Any  # the Sequential's input spec (None for Functional: it knows its inputs)
    params: dict
    state: dict
    compile_args: CompileArgs | None  # None when the file has no compile_config (or compile=False)
    opt_state: Any  # the optimizer's state (an OptState), or None


def _json(data: bytes, what: str) -> dict:
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FileFormatError(f"{what}: not valid JSON ({type(error).__name__}: {str(error)[:80]}).") from None
    if not isinstance(value, dict):
        raise FileFormatError(f"{what}: expected a JSON object, got {type(value).__name__}.")
    return value


def file_name(file) -> str:
    """How errors name ``file`` (a path, or a binary file object)."""
    return str(getattr(file, "name", "<file object>")) if hasattr(file, "read") else os.fspath(file)


def read_archive(file: str | os.PathLike | BinaryIO) -> KerasArchive:
    """The three members of a ``.keras`` file (a path or a binary file object), checked
    (``_safe_zip``) and parsed."""
    name = file_name(file)
    refuse = {"model.weights.npz": "weights stored as .npz inside a .keras file are not supported; save them "
                                   "with weights_format='h5'."}
    if hasattr(file, "read"):
        members = read_members(file, name, (METADATA, CONFIG, WEIGHTS), LIMITS, refuse=refuse)
    else:
        with open(name, "rb") as f:
            members = read_members(f, name, (METADATA, CONFIG, WEIGHTS), LIMITS, refuse=refuse)
    return KerasArchive(_json(members[CONFIG], f"{name}: {CONFIG}"),
                        _json(members[METADATA], f"{name}: {METADATA}"), members[WEIGHTS])


def save_model(filepath: str | os.PathLike, model, params, state, *, input_spec=None, optimizer=None,
               opt_state=None, loss=None, metrics=(), steps_per_execution: int = 1) -> None:
    """Write a Keras 3 ``.keras`` archive of ``model`` (a Sequential or Functional spec) and
    its weights, atomically; with ``optimizer``, also its ``compile_config`` (``loss``,
    ``metrics``) and, with ``opt_state``, the optimizer's state.

    >>> import os, tempfile, zipfile
    >>> from purekeras import nn, random, state
    >>> model = nn.Sequential([nn.Input((3,)), nn.Dense(2)])
    >>> params, model_state = model.init(random.key(0, backend="jax"))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> state.save_model(path, model, params, model_state)
    >>> sorted(zipfile.ZipFile(path).namelist())
    ['config.json', 'metadata.json', 'model.weights.h5']
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"save_model: the filename must end in '.keras', got {filepath!r}.")
    if not isinstance(model, (nn.Sequential, nn.Functional)):
        raise TypeError(f"save_model: a .keras file holds a Sequential or Functional model, got "
                        f"{type(model).__name__}; wrap it: nn.Sequential([layer]).")
    config = model_entry(model, None, input_spec)
    if optimizer is not None:
        config["compile_config"] = compile_config_to_keras(optimizer, loss, metrics, steps_per_execution)
    objects = kwts.keras_objects(model, input_spec, params, state)
    root = kh.weights_tree(objects, params, state, optimizer=optimizer, opt_state=opt_state)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(METADATA, json.dumps(metadata))
            zf.writestr(CONFIG, json.dumps(config))
            with zf.open(WEIGHTS, "w", force_zip64=True) as out:
                out.write(write_hdf5(root))  # h5py needs a seekable file: written in memory first

    write_atomic(filepath, write)


def _init_fallback(backend: str):
    """Variables of registered custom layers, from initialising the layer alone."""

    def custom(layer, input_spec, tree_path):
        params, state = layer.init(random.key(0, backend=backend), input_spec)
        return kwts.params_fallback({"x": params}, {"x": state})(layer, input_spec, ("x",))

    return custom


def _tree(found: dict, objects: list, which: str, backend: str) -> dict:
    tree: dict = {}
    for obj in objects:
        for var in obj.variables:
            if var.tree != which:
                continue
            node = tree
            for part in obj.tree_path:
                node = node.setdefault(part, {})
            node[var.name] = ops.asarray(found[(*obj.tree_path, var.name)], var.dtype, backend=backend)
    return tree


def load_model(filepath: str | os.PathLike | BinaryIO, *, backend: str | None = None,
               custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True,
               compile: bool = True) -> LoadedModel:
    """Read a Keras 3 ``.keras`` file (a path or a binary file object): the model spec, its
    weights on ``backend`` and, with ``compile``, its compile arguments and optimizer
    state (``LoadedModel``).

    Only Keras's own layers, optimizers, losses and metrics are mapped, by name;
    anything else is refused unless ``safe_mode=False`` and ``custom_objects``
    registers a purekeras object for it (nothing is ever imported from the file).

    >>> import os, tempfile
    >>> from purekeras import nn, random, state
    >>> model = nn.Sequential([nn.Input((3,)), nn.BatchNormalization()])
    >>> params, model_state = model.init(random.key(0, backend="jax"))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> state.save_model(path, model, params, model_state)
    >>> loaded = state.load_model(path, backend="torch")
    >>> loaded.model == model, sorted(loaded.state["batch_normalization"])
    (True, ['moving_mean', 'moving_variance'])
    """
    backend = backends.get_backend(backend).name
    archive = read_archive(filepath)
    filepath = file_name(filepath)
    ctx = LoadContext(dict(custom_objects or {}), safe_mode, f"{filepath}: {CONFIG}")
    module, class_name, _ = entry(archive.config, "the model", ctx)
    if not (is_keras(module) and class_name in ("Sequential", "Functional", "Model")):
        raise FileFormatError(f"{ctx.what}: the top-level object is {class_name!r} from {module!r}; purekeras "
                              "loads Sequential and Functional models (subclassed models have no config to map).")
    try:
        model, input_spec = model_from_entry(archive.config, "the model", ctx)
    except RecursionError:
        raise FileFormatError(f"{ctx.what}: the config nests too deeply to be a model.") from None
    try:
        objects = model_objects(model, input_spec, kwts.model_name(model), _init_fallback(backend))
    except Exception as error:  # a config whose layers do not fit its inputs
        raise FileFormatError(f"{ctx.what}: cannot list the model's variables: {error}") from error
    what = f"{filepath}: {WEIGHTS}"
    root = read_hdf5(archive.weights, what)
    found_params, found_state = kh.read_weights(root, objects, what)
    params, state = _tree(found_params, objects, "params", backend), _tree(found_state, objects, "state", backend)
    compile_config = archive.config.get("compile_config") if compile else None
    if not compile_config:
        return LoadedModel(model, input_spec, params, state, None, None)
    try:
        args = compile_config_from_keras(compile_config, ctx)
    except RecursionError:
        raise FileFormatError(f"{ctx.what}: the compile_config nests too deeply.") from None
    opt_state = None
    if params:
        opt_state = args.optimizer.init(params)
        arrays = kh.read_optimizer(root, args.optimizer, objects, what)
        opt_state = kwts.fill_opt_state(args.optimizer, opt_state, arrays)
    return LoadedModel(model, input_spec, params, state, args, opt_state)

