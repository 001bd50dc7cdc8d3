"""``ModelCheckpoint``: save the weights during training."""
from __future__ import annotations

import os

from ._base import logs_to_floats
from ._monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model's weights every epoch (or every ``save_freq`` batches).

    ``filepath`` may hold ``str.format`` fields filled from the epoch (1-based) and
    the logs: ``"ckpt/{epoch:02d}-{val_loss:.2f}.npz"``. ``save_best_only`` keeps only
    the files where ``monitor`` improved (``mode``, ``initial_value_threshold`` as in
    Keras). Files use the portable weights format of ``Model.save_weights`` (a
    ``.npz``, read back with ``Model.load_weights``) whether or not
    ``save_weights_only`` is set: full-model ``.keras`` files and Keras's
    ``.weights.h5`` arrive with Keras file support.

    >>> import os, tempfile
    >>> from purekeras import callbacks
    >>> path = os.path.join(tempfile.mkdtemp(), "w-{epoch:02d}.npz")
    >>> callbacks.ModelCheckpoint(path, monitor="loss").filepath.endswith("w-{epoch:02d}.npz")
    True
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        if self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                f"ModelCheckpoint: {self.filepath!r} names a Keras file format, which purekeras does not "
                "write yet. Use a '.npz' path: checkpoints use the portable weights format for now.")
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
        self.model.save_weights(path)
