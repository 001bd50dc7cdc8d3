"""Callbacks for ``pk.Model.fit`` / ``evaluate`` / ``predict``, with Keras's names and hooks.

Epoch-level logs hold Python floats; batch-level logs hold the backend's scalar
arrays (convert with ``float(v)`` only when needed: it waits for the device).

>>> import purekeras as pk
>>> stop = pk.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
>>> stop.patience
2
"""
from ._backup import BackupAndRestore
from ._base import Callback, CallbackList, format_logs, logs_to_floats
from ._checkpoint import ModelCheckpoint
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping
from ._history import History
from ._lambda import LambdaCallback
from ._learning_rate import LearningRateScheduler, ReduceLROnPlateau
from ._monitor import MonitorCallback
from ._progbar import ProgbarLogger
from ._terminate import TerminateOnNaN

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback", "ProgbarLogger",
    "ReduceLROnPlateau", "TerminateOnNaN", "format_logs", "logs_to_floats",
]
