"""``Callback``: Keras's hook names; ``CallbackList`` calls them in order.

Epoch-level ``logs`` hold Python floats. Batch-level ``logs`` (the
``on_*_batch_end`` hooks) hold the backend's scalar arrays as the compiled step
returned them: converting them to floats would wait for the device on every step.
Call ``float(v)`` (or ``logs_to_floats``) only when you need the value.

>>> from purekeras import callbacks
>>> class Count(callbacks.Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print("epoch", epoch, "loss", logs["loss"])
>>> cbs = callbacks.CallbackList([Count()])
>>> cbs.on_epoch_end(0, {"loss": 0.5})
epoch 0 loss 0.5
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


def logs_to_floats(logs: dict | None) -> dict:
    """``logs`` with each scalar array converted to a Python float (waits for the device).

    >>> logs_to_floats({"loss": np.float32(0.5)})
    {'loss': 0.5}
    """
    return {k: float(np.asarray(v)) if not isinstance(v, (float, int, str)) else v
            for k, v in (logs or {}).items()}


def format_logs(logs: dict) -> str:
    """``"loss: 0.1234 - accuracy: 0.9000"``, as Keras prints them.

    >>> format_logs({"loss": 0.12345, "lr": 1e-4})
    'loss: 0.1235 - lr: 1.0000e-04'
    """
    parts = []
    for key, value in logs.items():
        if isinstance(value, str):
            parts.append(f"{key}: {value}")
        elif math.isfinite(value) and abs(value) < 1e-3 and value != 0:
            parts.append(f"{key}: {value:.4e}")
        else:
            parts.append(f"{key}: {value:.4f}")
    return " - ".join(parts)


class Callback:
    """Base class of callbacks: override any of Keras's hooks.

    ``self.model`` is the ``pk.Model`` being trained (set by ``set_model``) and
    ``self.params`` holds ``{"verbose", "epochs", "steps"}``. A callback stops
    training by setting ``self.model.stop_training = True``.
    """

    def __init__(self):
        self.params: dict = {}
        self.model: Any = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Keras's alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Keras's alias of ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """At the start of epoch ``epoch`` (0-based) of ``fit``."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """At the end of an epoch; ``logs`` has floats for the loss, metrics and ``val_`` ones."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a train step (or ``steps_per_execution`` steps); ``logs`` holds backend arrays."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before an evaluation step."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After an evaluation step; ``logs`` holds backend arrays."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before a predict step."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a predict step; ``logs["outputs"]`` holds the batch's outputs."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """At the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """At the end of ``fit``; ``logs`` are the last epoch's."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """At the start of ``evaluate`` (also for validation inside ``fit``)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """At the end of ``evaluate``, with its float results."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """At the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """At the end of ``predict``."""


def _overrides(callback: Callback, hook: str) -> bool:
    method = getattr(callback, hook)
    if getattr(method, "__func__", None) is not getattr(Callback, hook):
        return True
    alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
    return alias is not None and _overrides(callback, alias)


class CallbackList:
    """Calls each hook on every callback, in order. ``fit`` adds a ``History`` and
    (when verbose) a ``ProgbarLogger`` after the user's callbacks, as Keras does.
    Batch hooks go only to callbacks that override them, so an idle callback costs
    nothing per step.

    >>> from purekeras import callbacks
    >>> cbs = callbacks.CallbackList([], add_history=True, epochs=1, steps=2, verbose=0)
    >>> cbs.on_train_begin(); cbs.on_epoch_end(0, {"loss": 1.0})
    >>> cbs.history.history
    {'loss': [1.0]}
    """

    def __init__(self, callbacks: Sequence[Callback] | None = None, *, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        from ._history import History
        from ._progbar import ProgbarLogger

        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {callback!r}.")
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def set_model(self, model) -> None:
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict) -> None:
        for callback in self.callbacks:
            callback.set_params(dict(params))
        self._batch_hooks = {hook: [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)]
                             for hook in HOOKS if "batch" in hook}

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def _call_batch(self, hook: str, batch: int, logs) -> None:
        for method in self._batch_hooks[hook]:
            method(batch, logs)

    def reads_batch_logs(self, mode: str) -> bool:
        """Whether any callback is given the logs of ``mode`` ("train", "test", "predict")
        batches: ``fit`` leaves them out of the step otherwise."""
        return bool(self._batch_hooks[f"on_{mode}_batch_end"])

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)
