"""A model's ``compile_config`` both ways: optimizer, schedules, loss and metrics by Keras names.

Keras's ``compile_config`` records the arguments of ``compile``: the optimizer
(serialised, with its learning rate or schedule), the loss and the metrics
(Keras names such as ``"mse"`` / ``"accuracy"``, or serialised objects), and
``steps_per_execution``. Loading maps each to purekeras's own class of the same
name; Keras options purekeras lacks (``use_ema``, ``loss_weights``, ...) must be
off, or the file is refused with an error naming the option.

>>> from purekeras import optim
>>> from purekeras.state._safe_config import LoadContext
>>> config = compile_config_to_keras(optim.Adam(learning_rate=0.01), "mse", ["mae"])
>>> config["optimizer"]["class_name"], config["loss"], config["metrics"]
('Adam', 'mse', ['mae'])
>>> loaded = compile_config_from_keras(config, LoadContext({}, True, "config.json"))
>>> loaded.optimizer, loaded.loss
(Adam(learning_rate=0.01, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False), 'mse')
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from .. import optim
from ..nn._naming import snake_case
from ..optim import schedules
from ..train import losses as losses_lib
from ..train import metrics as metrics_lib
from . import _keras_objects as ko
from ._safe_config import LoadContext, custom, entry, is_keras, require

OPTIMIZERS = {cls.__name__: cls for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad)}
SCHEDULES = {name: getattr(schedules, name) for name in schedules.__all__ if name != "LearningRateSchedule"}
_OPTIMIZER_NEUTRAL = {"use_ema": False, "ema_overwrite_frequency": None, "loss_scale_factor": None,
                      "gradient_accumulation_steps": None}


class CompileArgs(NamedTuple):
    """What ``compile`` was given: pass ``**loaded._asdict()`` back to ``Model.compile``."""

    optimizer: Any  # an optimizer spec
    loss: Any  # a Keras name or a loss spec (None: no loss)
    metrics: tuple  # Keras names or metric specs
    steps_per_execution: int = 1


def _fields(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def _from_config(cls, config: dict, where: str, ctx: LoadContext, ignore=(), neutral=None, convert=None):
    """``cls(**config)`` with Keras-only keys checked; each value through ``convert(key, value)``."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in config.items():
        if key in names:
            kwargs[key] = convert(key, value) if convert else ko.plain(value, f"{where}, '{key}'", ctx)
        elif key in ignore:
            continue
        elif key in (neutral or {}) and value == neutral[key] or value is None:
            continue
        else:
            raise ctx.error(where, f"the {cls.__name__} option {key}={str(value)[:60]} has no purekeras equivalent.")
    try:
        return cls(**kwargs)
    except Exception as error:  # the file's arguments do not fit the class
        raise ctx.error(where, f"cannot build {cls.__name__} from the file's config: {error}") from error


# -- optimizers and schedules ----------------------------------------------------------------
def schedule_to_keras(schedule) -> dict:
    config = {k: ko.to_json(v) for k, v in _fields(schedule).items()}
    if type(schedule).__name__ in SCHEDULES:
        return ko.keras_object("keras.optimizers.schedules", type(schedule).__name__, config)
    return ko.custom_object(schedule, config)


def optimizer_to_keras(optimizer) -> dict:
    if not dataclasses.is_dataclass(optimizer) or not isinstance(optimizer, optim.Optimizer):
        raise TypeError(f"{type(optimizer).__name__} has no Keras equivalent (optax optimizers cannot be "
                        "written to a .keras file); save the weights alone instead.")
    config = {}
    for key, value in _fields(optimizer).items():
        if key == "learning_rate":
            value = schedule_to_keras(value) if callable(value) else float(value)
        elif key == "name":
            value = value or snake_case(type(optimizer).__name__)
        else:
            value = ko.to_json(value)
        config[key] = value
    config.update({**_OPTIMIZER_NEUTRAL, "ema_momentum": 0.99})
    if type(optimizer).__name__ in OPTIMIZERS:
        return ko.keras_object("keras.optimizers", type(optimizer).__name__, config)
    return ko.custom_object(optimizer, config)


def optimizer_from_keras(value: Any, where: str, ctx: LoadContext):
    if isinstance(value, str):
        try:
            return optim.get(value)
        except ValueError as error:
            raise ctx.error(where, str(error)) from None
    module, class_name, config = entry(value, where, ctx)
    cls = OPTIMIZERS.get(class_name) if is_keras(module) else None
    if cls is None:
        cls = custom(value, where, ctx, "optimizer")

    def convert(key, item):
        if key == "learning_rate" and isinstance(item, dict):
            return _schedule_from_keras(item, f"{where}, 'learning_rate'", ctx)
        item = ko.plain(item, f"{where}, '{key}'", ctx)
        if key == "name" and item == snake_case(class_name):
            return None
        return item

    if not isinstance(cls, type):
        return cls
    return _from_config(cls, config, where, ctx, ignore=("ema_momentum",), neutral=_OPTIMIZER_NEUTRAL,
                        convert=convert)


def _schedule_from_keras(value: Any, where: str, ctx: LoadContext):
    module, class_name, config = entry(value, where, ctx)
    cls = SCHEDULES.get(class_name) if module == "keras.optimizers.schedules" else None
    if cls is None:
        cls = custom(value, where, ctx, "learning-rate schedule")
        if not isinstance(cls, type):
            return cls
    return _from_config(cls, config, where, ctx)


# -- losses and metrics -------------------------------------------------------------------------
def _named_object_to_keras(obj, module: str, known: dict) -> Any:
    """A loss / metric: its Keras name when it has its default arguments, else its config."""
    if isinstance(obj, str):
        return obj
    cls = type(obj)
    if not dataclasses.is_dataclass(obj):
        raise TypeError(f"{obj!r} cannot be written to a Keras config: pass a Keras name or a spec.")
    try:
        plain = cls()
    except TypeError:
        plain = None
    if plain == obj and known.get(cls.__name__) is cls:
        return getattr(cls, "keras_name", None) or snake_case(cls.__name__)
    config = {k: ko.to_json(v) for k, v in _fields(obj).items()}
    config["name"] = config.get("name") or obj.display_name
    if known.get(cls.__name__) is cls:
        return ko.keras_object(module, cls.__name__, config)
    return ko.custom_object(obj, config)


def _named_object_from_keras(value: Any, module_name: str, known: dict, where: str, ctx: LoadContext, what: str):
    if isinstance(value, str):
        getter = losses_lib.get if what == "loss" else metrics_lib.get
        return _check_name(value, getter, where, ctx, what)
    module, class_name, config = entry(value, where, ctx)
    cls = known.get(class_name) if module == module_name else None
    if cls is None:
        cls = custom(value, where, ctx, what)
        if not isinstance(cls, type):
            return cls
    config = dict(config)
    try:
        default_name = cls().display_name
    except TypeError:
        default_name = None
    if config.get("name") == default_name:
        config.pop("name")
    return _from_config(cls, config, where, ctx, ignore=("fn",))


_BASES = ("Loss", "Metric", "MeanMetricWrapper")


def _known(module) -> dict:
    return {name: getattr(module, name) for name in module.__all__
            if isinstance(getattr(module, name), type) and name not in _BASES}


def _check_name(value: str, getter, where: str, ctx: LoadContext, what: str) -> str:
    try:
        getter(value)
    except (ValueError, TypeError) as error:
        raise ctx.error(where, f"the {what} {value!r} has no purekeras equivalent: {error}") from None
    return value


def compile_config_to_keras(optimizer, loss=None, metrics=(), steps_per_execution: int = 1) -> dict:
    """Keras's ``compile_config`` for these ``compile`` arguments."""
    return {
        "optimizer": optimizer_to_keras(optim.get(optimizer)),
        "loss": None if loss is None else _named_object_to_keras(loss, "keras.losses", _known(losses_lib)),
        "loss_weights": None,
        "metrics": [_named_object_to_keras(m, "keras.metrics", _known(metrics_lib)) for m in metrics] or None,
        "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": steps_per_execution,
        "jit_compile": True,
    }


def compile_config_from_keras(config: Any, ctx: LoadContext) -> CompileArgs:
    where = "compile_config"
    require(config, dict, where, ctx, "compile_config")
    for key in ("loss_weights", "weighted_metrics"):
        if config.get(key):
            raise ctx.error(where, f"{key}={str(config[key])[:60]} has no purekeras equivalent.")
    metrics = config.get("metrics") or []
    if isinstance(metrics, (str, dict)):
        metrics = [metrics]
    require(metrics, list, where, ctx, "'metrics'")
    loss = config.get("loss")
    if isinstance(loss, (list, dict)) and not (isinstance(loss, dict) and "class_name" in loss):
        raise ctx.error(where, "one loss per output (a list or dict of losses) is not supported.")
    steps = config.get("steps_per_execution", 1)
    require(steps, int, where, ctx, "'steps_per_execution'")
    return CompileArgs(
        optimizer=optimizer_from_keras(config.get("optimizer", "rmsprop"), f"{where}, optimizer", ctx),
        loss=None if loss is None else _named_object_from_keras(
            loss, "keras.losses", _known(losses_lib), f"{where}, loss", ctx, "loss"),
        metrics=tuple(_named_object_from_keras(m, "keras.metrics", _known(metrics_lib), f"{where}, metric {i}",
                                               ctx, "metric") for i, m in enumerate(metrics)),
        steps_per_execution=max(1, steps),
    )
