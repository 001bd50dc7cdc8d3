"""Layer specs <-> Keras 3 layer configs (``module``, ``class_name``, ``config``, ``build_config``).

A layer's config holds Keras's common keys (``name``, ``trainable``, ``dtype``),
one key per spec field (Keras's argument names), and the Keras-only options
purekeras lacks at their neutral value (constraints ``None``, ``use_gate=False``,
...). Loading requires those neutral values: a Keras option that would change
the model refuses the file with an error naming it, rather than loading a
different model. A value equal to how a field's default is written loads as the
default, so specs round-trip exactly.

>>> from purekeras import nn
>>> from purekeras.state._safe_config import LoadContext
>>> entry = layer_entry(nn.Dense(4, activation="relu"), "dense", nn.InputSpec((None, 3)))
>>> entry["class_name"], entry["config"]["units"], entry["build_config"]
('Dense', 4, {'input_shape': [None, 3]})
>>> layer_from_entry(entry, "layer 'dense'", LoadContext({}, True, "config.json"))
Dense(name='dense', dtype=None, units=4, activation='relu', use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None)
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .. import nn
from ..nn._layer import Layer
from . import _keras_layers as kl
from . import _keras_objects as ko
from ._safe_config import LoadContext, custom, entry as parse_entry, is_keras, require

_COMMON = ("name", "dtype")


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in _COMMON}


def field_to_keras(key: str, value: Any) -> Any:
    if key == "activation":
        return ko.activation_to_keras(value)
    if key.endswith("_initializer"):
        return ko.initializer_to_keras(value)
    if key.endswith("_regularizer"):
        return ko.regularizer_to_keras(value)
    if key == "data_format" and value is None:
        return "channels_last"
    return ko.to_json(value)


def layer_config(layer: Layer, name: str) -> dict:
    """Keras's ``config`` dict for ``layer`` (named ``name`` in its model)."""
    config = {"name": name, "trainable": True, "dtype": ko.dtype_to_keras(layer.dtype)}
    for key in _fields(type(layer)):
        config[key] = field_to_keras(key, getattr(layer, key))
    if isinstance(layer, nn.MultiHeadAttention):
        config["value_dim"] = layer.value_dim or layer.key_dim
    if isinstance(layer, nn.LayerNormalization):
        config["axis"] = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    kind = kl.kind_of(layer)
    for key, value in (kind.neutral.items() if kind else ()):
        config.setdefault(key, value)
    return config


def _shape(spec) -> Any:
    if isinstance(spec, nn.InputSpec):
        return list(spec.shape)
    return [_shape(s) for s in spec]


def build_config(layer: Layer, input_spec) -> dict | None:
    kind = kl.kind_of(layer)
    if kind is not None and not kind.build_config:
        return None
    if isinstance(layer, nn.MultiHeadAttention):
        names = ("query_shape", "value_shape", "key_shape")
        return {"shapes_dict": {n: _shape(s) for n, s in zip(names, input_spec)}}
    return {"input_shape": _shape(input_spec)}


def layer_entry(layer: Layer, name: str, input_spec) -> dict:
    """The serialised layer, as Keras writes it in a model's ``layers`` list."""
    if isinstance(layer, (nn.Sequential, nn.Functional)):
        from ._keras_graph import model_entry

        return model_entry(layer, name, input_spec)
    kind = kl.kind_of(layer)
    config = layer_config(layer, name)
    out = ko.keras_object("keras.layers", kind.class_name, config) if kind else ko.custom_object(layer, config)
    built = build_config(layer, input_spec)
    if built is not None:
        out["build_config"] = built
    return out


def input_entry(spec: nn.InputSpec, name: str) -> dict:
    return ko.keras_object("keras.layers", "InputLayer", {
        "batch_shape": list(spec.shape), "dtype": spec.dtype, "sparse": False, "ragged": False,
        "name": name, "optional": False})


def input_from_entry(config: dict, where: str, ctx: LoadContext) -> tuple[str, nn.InputSpec]:
    """``(name, InputSpec)`` of an ``InputLayer`` config."""
    for key in ("sparse", "ragged", "optional"):
        if config.get(key, False) is not False:
            raise ctx.error(where, f"InputLayer option {key}={config[key]!r} has no purekeras equivalent.")
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    shape = require(shape, list, where, ctx, "InputLayer 'batch_shape'")
    for d in shape:
        if d is not None:
            require(d, int, where, ctx, "an InputLayer dimension")
            if d < 0:
                raise ctx.error(where, f"negative InputLayer dimension in {shape}.")
    dtype = config.get("dtype") or "float32"
    if isinstance(dtype, dict):
        dtype = ko.dtype_from_keras(dtype, where, ctx) or "float32"
    require(dtype, str, where, ctx, "InputLayer 'dtype'")
    if dtype not in ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
                     "uint8", "bool"):
        raise ctx.error(where, f"unsupported InputLayer dtype {dtype!r}.")
    return require(config.get("name"), str, where, ctx, "InputLayer 'name'"), nn.InputSpec(tuple(shape), dtype)


def _field_from_keras(cls, key: str, value: Any, field: dataclasses.Field, where: str, ctx: LoadContext):
    default = field.default if field.default is not dataclasses.MISSING else None
    here = f"{where}, '{key}'"
    if key == "activation":
        return ko.activation_from_keras(value, here, ctx, default)
    if key.endswith("_initializer"):
        return ko.initializer_from_keras(value, here, ctx, default)
    if key.endswith("_regularizer"):
        return ko.regularizer_from_keras(value, here, ctx, default)
    value = ko.plain(value, here, ctx)
    if field.default is not dataclasses.MISSING:
        if field_to_keras(key, default) == ko.to_json(value):
            return default
        if isinstance(default, bool):
            require(value, bool, here, ctx, f"'{key}'")
        elif isinstance(default, (int, float)) and not isinstance(value, tuple) and value is not None:
            require(value, (int, float), here, ctx, f"'{key}'")
    return value


def _kwargs(cls, config: dict, where: str, ctx: LoadContext, neutral: dict) -> dict:
    fields = _fields(cls)
    kwargs = {}
    for key, value in config.items():
        if key in fields:
            kwargs[key] = _field_from_keras(cls, key, value, fields[key], where, ctx)
        elif key in ("name", "dtype", "trainable") or key in kl.IGNORED_KEYS:
            continue
        elif key in neutral:
            if value != neutral[key]:
                raise ctx.error(where, f"Keras option {key}={_short(value)} has no purekeras equivalent "
                                       f"(only {key}={neutral[key]!r} can be loaded).")
        elif value is not None and value is not False:
            raise ctx.error(where, f"Keras option {key}={_short(value)} has no purekeras equivalent.")
    return kwargs


def layer_from_entry(value: Any, where: str, ctx: LoadContext) -> Layer:
    """The purekeras layer spec for a serialised Keras layer (nested models included)."""
    module, class_name, config = parse_entry(value, where, ctx)
    name = config.get("name", value.get("name"))
    models = ("Sequential", "Functional", "Model")
    builtin = is_keras(module) and (class_name in kl.BY_CLASS_NAME or class_name in models)
    registered = None if builtin else custom(value, where, ctx, "layer", extra_names=(name,))
    name = require(name, str, where, ctx, "the layer 'name'")
    where = f"layer {name!r} ({class_name})"
    if config.get("trainable", True) is not True:
        raise ctx.error(where, "trainable=False (frozen layers) has no purekeras equivalent; unfreeze it "
                               "before saving, or load its weights with load_weights.")
    if builtin and class_name in models:
        from ._keras_graph import model_from_entry

        return model_from_entry(value, where, ctx)[0]
    dtype = ko.dtype_from_keras(config.get("dtype"), f"{where}, 'dtype'", ctx)
    if builtin:
        cls = kl.BY_CLASS_NAME[class_name]
        kwargs = _kwargs(cls, config, where, ctx, kl.KINDS[cls].neutral)
        if cls is nn.MultiHeadAttention and kwargs.get("value_dim") == kwargs.get("key_dim"):
            kwargs["value_dim"] = None
        if cls is nn.LayerNormalization and isinstance(kwargs.get("axis"), tuple) and len(kwargs["axis"]) == 1:
            kwargs["axis"] = kwargs["axis"][0]
    else:
        if isinstance(registered, Layer):
            return dataclasses.replace(registered, name=name)
        if not (isinstance(registered, type) and issubclass(registered, Layer)):
            raise ctx.error(where, f"custom_objects maps it to {registered!r}, which is not a purekeras Layer.")
        cls, kwargs = registered, _kwargs(registered, config, where, ctx, {})
    try:
        return cls(**kwargs, name=name, dtype=dtype)
    except Exception as error:  # the file's arguments do not fit the spec
        raise ctx.error(where, f"cannot build {cls.__name__} from the file's config: {error}") from error


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
