"""``ModelCheckpoint``: save the model or its weights during training."""
from __future__ import annotations

import os

from ._base import logs_to_floats
from ._monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model every epoch (or every ``save_freq`` batches); the suffix picks the file.

    ``.keras``: the whole model (``Model.save``: config, weights, compile arguments,
    optimizer state); ``.weights.h5``: Keras 3's weights file (``Model.save_weights``);
    any other name (``.npz``): the portable weights format. ``filepath`` may hold
    ``str.format`` fields filled from the epoch (1-based), the batch (with an int
    ``save_freq``) and the logs: ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``.
    ``save_best_only`` keeps only the files where ``monitor`` improved (``mode``,
    ``initial_value_threshold`` as in Keras). ``save_weights_only=True`` refuses a
    ``.keras`` path, as Keras does.

    >>> import os, tempfile
    >>> from purekeras import callbacks
    >>> path = os.path.join(tempfile.mkdtemp(), "m-{epoch:02d}.keras")
    >>> callbacks.ModelCheckpoint(path, monitor="loss").filepath.endswith("m-{epoch:02d}.keras")
    True
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        if self.filepath.endswith(".h5") and not self.filepath.endswith(".weights.h5"):
            raise ValueError(
                f"ModelCheckpoint: {self.filepath!r} names the legacy Keras file format ('.h5'), which purekeras "
                "does not write. Use '.keras' (the whole model), '.weights.h5' (Keras's weights file) or "
                "'.npz' (portable weights).")
        if save_weights_only and self.filepath.endswith(".keras"):
            raise ValueError(
                f"ModelCheckpoint: save_weights_only=True writes weights, but {self.filepath!r} names a whole "
                "model ('.keras'). Use a '.weights.h5' path, or save_weights_only=False.")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}.")
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only, self.save_freq = save_weights_only, save_freq
        self._batches_since_save = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs_to_floats(logs))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _filepath(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError) as error:
            raise KeyError(
                f"ModelCheckpoint cannot format {self.filepath!r}: {error} is not among "
                f"{sorted(fields)}.") from error

    def _save(self, epoch: int, batch: int | None, logs: dict):
        path = self._filepath(epoch, batch, logs)
        if self.save_best_only:
            current = self._monitor_value(logs, "ModelCheckpoint(save_best_only=True)")
            if current is not None:
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                    return
                if self.verbose > 0:
                    previous = "None" if self.best is None else f"{self.best:.5f}"
                    print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                          f"{current:.5f}, saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if path.endswith(".keras"):
            self.model.save(path)
        else:
            self.model.save_weights(path)
