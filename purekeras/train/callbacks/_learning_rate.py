"""Learning-rate callbacks: they set ``model.learning_rate``, which replaces the rate
in the held optimizer state (``optimizer.with_learning_rate``): no recompilation."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import Callback
from ._monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` once ``monitor`` has not improved for
    ``patience`` epochs; then wait ``cooldown`` epochs; never go below ``min_lr``.
    Adds ``learning_rate`` to the epoch logs.

    >>> from purekeras import callbacks
    >>> class FakeModel: learning_rate = 0.1
    >>> reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> reduce.set_model(FakeModel()); reduce.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 1.0]):
    ...     reduce.on_epoch_end(epoch, {"loss": loss})
    >>> reduce.model.learning_rate
    0.05
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got factor={factor}.")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.learning_rate)
        current = self._monitor_value(logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.learning_rate)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    self.model.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """At each epoch's start, set the learning rate to ``schedule(epoch, lr)``
    (or ``schedule(epoch)``). Adds ``learning_rate`` to the epoch logs.

    >>> from purekeras import callbacks
    >>> class FakeModel: learning_rate = 0.1
    >>> sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)
    >>> sched.set_model(FakeModel()); sched.on_epoch_begin(0)
    >>> sched.model.learning_rate
    0.05
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        current = float(self.model.learning_rate)
        try:
            value = self.schedule(epoch, current)
        except TypeError:  # a one-argument schedule(epoch)
            value = self.schedule(epoch)
        if not isinstance(value, (float, int, np.floating, np.integer)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {value!r}")
        self.model.learning_rate = float(value)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(value)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.learning_rate)
