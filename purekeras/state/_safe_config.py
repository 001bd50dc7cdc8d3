"""The safety rules for reading ``config.json``: nothing in a file is executed or imported.

Every object a config names (``module``, ``class_name``) is looked up in
purekeras's own tables, never imported. What purekeras does not know is
refused, unless the caller passes ``safe_mode=False`` *and* registers the object
in ``custom_objects`` (a dict from Keras class / registered name to a purekeras
object). Python bytecode (``__lambda__``, Keras's ``Lambda`` layer) is never
decoded; a ``Lambda`` or ``TFSMLayer`` layer can only be replaced by a
registered purekeras layer. Every refusal is an ``UnsafeFileError`` that names
the object and says why.

>>> ctx = LoadContext({}, True, "config.json")
>>> try:
...     custom({"module": "os", "class_name": "system", "config": {}}, "layer 0", ctx, "layer")
... except UnsafeFileError as error:
...     print(str(error)[:75])
config.json: layer 0 is the layer 'system' from module 'os', refused becaus
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from ._safe_errors import FileFormatError, UnsafeFileError

KERAS_MODULES = frozenset({
    "keras", "keras.layers", "keras.models", "keras.initializers", "keras.regularizers",
    "keras.optimizers", "keras.optimizers.schedules", "keras.losses", "keras.metrics",
    "keras.activations", "keras.dtype_policies", "keras.src.models.functional",
    "keras.src.models.sequential", "keras.src.models.model",
})
# Keras layers that run code or read files: named in refusals.
CODE_LAYERS = {
    "Lambda": "it holds Python bytecode (the code injection of CVE-2024-3660)",
    "TFSMLayer": "it loads an external TensorFlow SavedModel (CVE-2026-1462), and a file never makes "
                 "purekeras read another file or a URL",
}
SPECIAL = {"__lambda__", "__typespec__", "__bytes__", "__numpy__", "__tensor__", "__slice__",
           "__ellipsis__", "__keras_tensor__", "function"}


class LoadContext(NamedTuple):
    custom_objects: Mapping[str, Any]
    safe_mode: bool
    what: str  # the file part named in errors ("m.keras: config.json")

    def error(self, where: str, message: str) -> FileFormatError:
        return FileFormatError(f"{self.what}: {where}: {message}")


def require(value, types, where: str, ctx: LoadContext, what: str):
    """``value`` if it is an instance of ``types``, else a ``FileFormatError``."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ctx.error(where, f"{what} must not be a boolean, got {value!r}.")
    if not isinstance(value, types):
        raise ctx.error(where, f"{what} must be {_type_names(types)}, got {type(value).__name__} {_short(value)}.")
    return value


def _type_names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join({dict: "an object", list: "a list", str: "a string", int: "an int", float: "a number",
                        bool: "a boolean", type(None): "null"}.get(t, t.__name__) for t in types)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def entry(value, where: str, ctx: LoadContext) -> tuple[str | None, str, dict]:
    """``(module, class_name, config)`` of a serialised Keras object."""
    require(value, dict, where, ctx, "a serialised object")
    module = require(value.get("module"), (str, type(None)), where, ctx, "'module'")
    class_name = require(value.get("class_name"), str, where, ctx, "'class_name'")
    if class_name == "__lambda__":
        raise UnsafeFileError(f"{ctx.what}: {where} holds a Python lambda (marshalled bytecode); purekeras "
                              "never runs code from a file (the code injection of CVE-2024-3660).")
    if class_name in SPECIAL:
        raise UnsafeFileError(f"{ctx.what}: {where} holds a {class_name!r} object, which purekeras does not "
                              "decode where a Keras object is expected.")
    config = value.get("config", {})
    config = {} if config is None else require(config, dict, where, ctx, "'config'")
    return module, class_name, config


def is_keras(module: str | None) -> bool:
    """Whether ``module`` is one of the Keras modules whose objects purekeras maps itself."""
    return module in KERAS_MODULES


def custom(value, where: str, ctx: LoadContext, kind: str, extra_names: tuple = ()):
    """The registered object standing for an unknown ``value`` (looked up by its registered
    name, class name, then ``extra_names``), or an ``UnsafeFileError``."""
    module, class_name, _ = entry(value, where, ctx)
    registered = value.get("registered_name")
    names = [n for n in (registered, class_name, *extra_names) if isinstance(n, str)]
    source = f"{class_name!r}" + (f" from module {module!r}" if module else "")
    if class_name in CODE_LAYERS:
        reason = CODE_LAYERS[class_name]
    elif module is not None and not is_keras(module):
        reason = (f"{module!r} is not a Keras module, and purekeras never imports a module named in a file "
                  "(the safe_mode bypass of CVE-2025-1550)")
    else:
        reason = "purekeras has no built-in equivalent"
    if ctx.safe_mode:
        # A Keras class purekeras lacks is merely unsupported; code and foreign modules are unsafe.
        error = UnsafeFileError if class_name in CODE_LAYERS or not is_keras(module) else FileFormatError
        raise error(
            f"{ctx.what}: {where} is the {kind} {source}, refused because {reason}; purekeras never "
            "imports a module or runs code named in a file. If you trust the file and have a purekeras "
            f"equivalent, pass safe_mode=False and custom_objects={{'{class_name}': ...}}.")
    for name in names:
        if name in ctx.custom_objects:
            return ctx.custom_objects[name]
    raise UnsafeFileError(
        f"{ctx.what}: {where} is the {kind} {source}, which is not registered: with safe_mode=False, pass "
        f"custom_objects={{'{class_name}': ...}} (purekeras never imports it).")
