"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped."""
from __future__ import annotations

import os

from ._base import Callback


class BackupAndRestore(Callback):
    """Back up the whole training state so that an interrupted ``fit`` resumes.

    Keras's arguments: ``backup_dir`` (a directory for this run only),
    ``save_freq`` (``"epoch"``: at the end of every epoch; an int ``N``: every N
    batches), ``double_checkpoint`` (keep the previous backup too, and fall back
    to it when the latest cannot be read), ``delete_checkpoint`` (delete the
    backup when ``fit`` ends normally). ``format``: ``"portable"`` (default; every
    backend reads it) or ``"orbax"`` (JAX; written in the background).

    Unlike Keras's (which saves the weights and the epoch), a backup holds the
    whole ``TrainState`` (params, layer state, optimizer state, metric states, RNG
    key, step), the epoch, the position inside the epoch and the model's seed
    (which orders the shuffled batches). On ``on_train_begin`` the latest backup
    is restored and ``fit`` restarts at that epoch and batch: a ``fit`` killed at
    any step and rerun with the same command ends with params bitwise identical
    to an uninterrupted run on the same backend. Writes are atomic (a kill during
    a save leaves the previous backup intact).

    >>> import tempfile, numpy as np
    >>> import purekeras as pk
    >>> from purekeras import nn
    >>> m = pk.Model(nn.Sequential([nn.Dense(1)]), input_shape=(2,), seed=0).compile("sgd", loss="mse")
    >>> backup = pk.callbacks.BackupAndRestore(tempfile.mkdtemp(), save_freq=2, delete_checkpoint=False)
    >>> x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
    >>> _ = m.fit(x, y, batch_size=2, epochs=1, callbacks=[backup], verbose=0)
    >>> backup.manager.restore().metadata["position"]
    [0, 4]
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True, *, format: str = "portable"):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is empty; pass a directory for this run's backups.")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int, got {save_freq!r}.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint = save_freq, bool(double_checkpoint)
        self.delete_checkpoint, self.format = bool(delete_checkpoint), format
        self._epoch = 0
        self._last_batch = -1
        self._since_save = 0
        self._manager = None

    @property
    def manager(self):
        """The ``state.CheckpointManager`` over ``backup_dir`` (one or two backups kept)."""
        if self._manager is None:
            from ...state import CheckpointManager

            self._manager = CheckpointManager(self.backup_dir, max_to_keep=2 if self.double_checkpoint else 1,
                                              format=self.format)
        return self._manager

    # -- restoring --------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        from ...state import CheckpointError

        model = self.model
        self._epoch, self._last_batch, self._since_save = 0, -1, 0
        steps = self.manager.all_steps()
        if not steps:
            return
        like = model.train_state
        if like.opt_state is None:
            raise ValueError("BackupAndRestore: the model is not compiled; call compile() before fit.")
        errors = []
        for step in reversed(steps):
            try:
                restored = self.manager.restore(step, like=like)
                break
            except CheckpointError as error:
                errors.append(error)
                if not self.double_checkpoint:
                    raise
        else:
            raise errors[0]
        position, seed = restored.metadata.get("position"), restored.metadata.get("seed")
        if not (isinstance(position, list) and len(position) == 2 and all(isinstance(p, int) for p in position)):
            raise CheckpointError(f"BackupAndRestore: the backup in {self.backup_dir!r} has no valid position "
                                  "(epoch, batch); it was not written by BackupAndRestore.")
        if seed != model.seed:
            raise ValueError(
                f"BackupAndRestore: the backup in {self.backup_dir!r} comes from a model with seed={seed}, "
                f"this one has seed={model.seed}; the order of the batches would differ. Build the model "
                "with the same seed, or delete the backup directory to start over.")
        model.train_state = restored.state
        model._resume_at = (position[0], position[1])
        self._epoch, self._last_batch = position[0], position[1] - 1

    # -- saving -----------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._since_save += batch - self._last_batch if batch > self._last_batch else batch + 1
        self._last_batch = batch
        if self._since_save >= self.save_freq:
            self._since_save = 0
            self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._last_batch = -1
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def _save(self, epoch: int, batch: int) -> None:
        model = self.model
        self.manager.save(model.train_state, epoch=epoch,
                          metadata={"position": [epoch, batch], "seed": model.seed, "backend": model.backend})

    def on_train_end(self, logs=None):
        manager = self.manager
        manager.wait_until_finished()
        if self.delete_checkpoint:
            for step in manager.all_steps():
                manager.delete(step)
            if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
                os.rmdir(self.backup_dir)
        manager.close()
        self._manager = None
