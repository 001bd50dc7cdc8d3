"""Keras's serialisation of the small objects inside a layer config, both ways:
dtype policies, activations, initializers, regularizers, and plain JSON values.

Loading maps each Keras object back to the purekeras value that writes the same
config (a layer's default first), so ``"glorot_uniform"`` round-trips as itself.

>>> from purekeras.state._safe_config import LoadContext
>>> initializer_to_keras("he_normal")["class_name"]
'HeNormal'
>>> initializer_from_keras(initializer_to_keras("he_normal"), "x", LoadContext({}, True, "c"), "glorot_uniform")
'he_normal'
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from ..nn import _activations as activations
from ..nn import _initializers as initializers
from ..nn import _regularizers as regularizers
from ._safe_config import LoadContext, custom, entry, is_keras, require

POLICIES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


def keras_object(module: str, class_name: str, config: dict) -> dict:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def custom_object(value: Any, config: dict) -> dict:
    """The config of a user's own object: its module and class name, registered by class name."""
    target = value if isinstance(value, type) or inspect.isfunction(value) else type(value)
    name = target.__name__
    return {"module": target.__module__, "class_name": name, "config": config, "registered_name": name}


# -- plain values --------------------------------------------------------------------------
def to_json(value: Any) -> Any:
    """Tuples as lists, NumPy scalars as Python numbers; other JSON values as they are."""
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to a Keras config.")


def plain(value: Any, where: str, ctx: LoadContext) -> Any:
    """A JSON value made only of numbers, strings, booleans, null and lists (lists become
    tuples); serialised objects are refused."""
    if isinstance(value, list):
        return tuple(plain(v, where, ctx) for v in value)
    if isinstance(value, dict):
        entry(value, where, ctx)  # refuses lambdas and other code objects by name
        raise ctx.error(where, f"expected a plain value, got the object {value.get('class_name')!r}.")
    return value


# -- dtype policies ----------------------------------------------------------------------------
def dtype_to_keras(dtype: str | None) -> dict:
    return keras_object("keras", "DTypePolicy", {"name": dtype or "float32"})


def dtype_from_keras(value: Any, where: str, ctx: LoadContext) -> str | None:
    if isinstance(value, dict):
        module, class_name, config = entry(value, where, ctx)
        if class_name not in ("DTypePolicy", "FloatDTypePolicy") or not is_keras(module):
            raise ctx.error(where, f"the dtype policy {class_name!r} has no purekeras equivalent "
                                   "(quantized layers are not supported).")
        value = config.get("name")
    if value is None:
        return None
    if value not in POLICIES:
        raise ctx.error(where, f"unknown dtype policy {value!r}; purekeras supports {POLICIES}.")
    return None if value == "float32" else value


# -- activations -------------------------------------------------------------------------------
def activation_to_keras(value: Any) -> Any:
    if value is None:
        return "linear"
    if isinstance(value, str):
        activations.get(value)
        return value
    name = activations.name_of(value)
    if name in activations._BY_NAME:
        return name
    return custom_object(value, name)


def activation_from_keras(value: Any, where: str, ctx: LoadContext, default: Any) -> Any:
    if isinstance(value, dict):
        module, class_name, config = entry(value, where, ctx) if value.get("class_name") != "function" \
            else (value.get("module"), "function", value.get("config"))
        known = class_name == "function" and module in ("keras.activations", "keras.src.activations.activations")
        if not (known and isinstance(config, str) and config in activations._BY_NAME):
            function = dict(value, class_name=config if isinstance(config, str) else str(class_name), config={})
            return custom(function, where, ctx, "activation")
        value = config
    require(value, str, where, ctx, "an activation")
    if value not in activations._BY_NAME:
        raise ctx.error(where, f"the activation {value!r} has no purekeras equivalent; known: "
                               f"{sorted(activations._BY_NAME)}.")
    if activation_to_keras(default) == value:
        return default
    return None if value == "linear" else value


# -- initializers --------------------------------------------------------------------------------
_NAMED_SCALING = {  # Keras's VarianceScaling subclasses: (scale, mode, distribution)
    "GlorotUniform": (1.0, "fan_avg", "uniform"), "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"), "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"), "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}
_INITIALIZERS = {cls.__name__: cls for cls in (
    initializers.Zeros, initializers.Ones, initializers.Constant, initializers.RandomNormal,
    initializers.RandomUniform, initializers.TruncatedNormal, initializers.VarianceScaling,
    initializers.Orthogonal)}


def initializer_to_keras(value: Any) -> dict:
    init = initializers.get(value)
    if isinstance(init, initializers.VarianceScaling):
        for class_name, args in _NAMED_SCALING.items():
            if (init.scale, init.mode, init.distribution) == args:
                return keras_object("keras.initializers", class_name, {"seed": init.seed})
    config = {f.name: to_json(getattr(init, f.name)) for f in dataclasses.fields(init)} \
        if dataclasses.is_dataclass(init) else {}
    if type(init).__name__ in _INITIALIZERS and type(init) is _INITIALIZERS[type(init).__name__]:
        return keras_object("keras.initializers", type(init).__name__, config)
    return custom_object(init, config)


def initializer_from_keras(value: Any, where: str, ctx: LoadContext, default: Any) -> Any:
    if isinstance(value, str):
        try:
            initializers.get(value)
        except ValueError as error:
            raise ctx.error(where, str(error)) from None
        init = value
    else:
        module, class_name, config = entry(value, where, ctx)
        config = {k: v for k, v in config.items() if not (k in ("input_axes", "output_axes") and v is None)}
        if not is_keras(module) or (class_name not in _NAMED_SCALING and class_name not in _INITIALIZERS):
            return _build(custom(value, where, ctx, "initializer"), config, where, ctx)
        if class_name in _NAMED_SCALING:
            init = initializers.VarianceScaling(*_NAMED_SCALING[class_name], seed=config.pop("seed", None))
            if config:
                raise ctx.error(where, f"unexpected {class_name} arguments {sorted(config)}.")
        else:
            init = _build(_INITIALIZERS[class_name], {k: plain(v, where, ctx) for k, v in config.items()}, where, ctx)
    written = initializer_to_keras(init)
    for candidate in (default, *initializers._BY_NAME):
        if isinstance(candidate, str) and initializer_to_keras(candidate) == written:
            return candidate
    return init


def _build(factory: Any, config: dict, where: str, ctx: LoadContext) -> Any:
    """``factory(**config)`` for a registered class or function; a registered instance as it is."""
    if not (isinstance(factory, type) or inspect.isfunction(factory)):
        return factory
    try:
        return factory(**config)
    except Exception as error:  # the file's arguments do not fit the class
        name = getattr(factory, "__name__", factory)
        raise ctx.error(where, f"cannot build {name!r} from {config}: {error}") from error


# -- regularizers ---------------------------------------------------------------------------------
def regularizer_to_keras(value: Any) -> dict | None:
    reg = regularizers.get(value)
    if reg is None:
        return None
    if type(reg) is regularizers.L1L2:
        if reg.l2 == 0:
            return keras_object("keras.regularizers", "L1", {"l1": float(reg.l1)})
        if reg.l1 == 0:
            return keras_object("keras.regularizers", "L2", {"l2": float(reg.l2)})
        return keras_object("keras.regularizers", "L1L2", {"l1": float(reg.l1), "l2": float(reg.l2)})
    config = {f.name: to_json(getattr(reg, f.name)) for f in dataclasses.fields(reg)} \
        if dataclasses.is_dataclass(reg) else {}
    return custom_object(reg, config)


def regularizer_from_keras(value: Any, where: str, ctx: LoadContext, default: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        require(value, str, where, ctx, "a regularizer")
        if value not in ("l1", "l2", "l1_l2"):
            raise ctx.error(where, f"unknown regularizer {value!r}.")
        return value
    module, class_name, config = entry(value, where, ctx)
    if not is_keras(module) or class_name not in ("L1", "L2", "L1L2"):
        return _build(custom(value, where, ctx, "regularizer"), config, where, ctx)
    args = {k: require(plain(v, where, ctx), (int, float), where, ctx, k) for k, v in config.items()}
    if set(args) - {"l1", "l2"}:
        raise ctx.error(where, f"unexpected {class_name} arguments {sorted(set(args) - {'l1', 'l2'})}.")
    reg = regularizers.L1L2(**args)
    written = regularizer_to_keras(reg)
    for candidate in (default, "l1", "l2", "l1_l2"):
        if isinstance(candidate, str) and regularizer_to_keras(candidate) == written:
            return candidate
    return reg
