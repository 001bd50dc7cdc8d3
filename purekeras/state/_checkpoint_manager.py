"""``CheckpointManager``: numbered checkpoints in one directory, the last N and the best kept.

>>> import os, tempfile
>>> from purekeras import nn, optim, random, state, train
>>> ts = train.init_state(nn.Dense(2), optim.SGD(), random.key(0, backend="jax"), nn.InputSpec((None, 3)))
>>> manager = state.CheckpointManager(tempfile.mkdtemp(), max_to_keep=2, best_metric="val_loss")
>>> for step, loss in [(1, 0.9), (2, 0.3), (3, 0.5), (4, 0.6)]:
...     _ = manager.save(ts, step=step, metrics={"val_loss": loss})
>>> manager.all_steps(), manager.latest_step(), manager.best_step()
([2, 3, 4], 4, 2)
>>> int(manager.restore(like=ts).state.step), manager.restore(step=2, like=ts).metrics
(0, {'val_loss': 0.3})
"""
from __future__ import annotations

import math
import os
import sys

from . import _checkpoint_fs as fs
from ._checkpoint import FORMATS, SaveHandle, checkpoint_info, load_checkpoint, save_checkpoint
from ._checkpoint_errors import CheckpointError
from ._checkpoint_meta import Restored


class CheckpointManager:
    """Checkpoints ``<directory>/<step>``, written atomically, old ones deleted.

    ``max_to_keep``: how many of the most recent steps to keep (``None``: all).
    ``best_metric``: a key of the ``metrics`` given to ``save``; the best step by it
    (``mode="min"`` or ``"max"``) is kept as well, even when older than the last N.
    ``format``: ``"portable"`` (every backend; synchronous) or ``"orbax"`` (JAX;
    ``save`` returns while the files are written: ``wait_until_finished()``).
    Opening a manager finishes what a killed save left behind (temporaries are
    removed; a checkpoint set aside for replacement is put back). One process
    writes a directory at a time.
    """

    def __init__(self, directory: str | os.PathLike, max_to_keep: int | None = None,
                 best_metric: str | None = None, mode: str = "min", format: str = "portable"):
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError(f"CheckpointManager: max_to_keep must be a positive int or None, got {max_to_keep!r}.")
        if mode not in ("min", "max"):
            raise ValueError(f"CheckpointManager: mode must be 'min' or 'max', got {mode!r}.")
        if format not in FORMATS:
            raise ValueError(f"CheckpointManager: format must be one of {FORMATS}, got {format!r}.")
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_to_keep, self.best_metric, self.mode, self.format = max_to_keep, best_metric, mode, format
        self._writer = None  # the OrbaxWriter, made on the first orbax save
        self._pending: SaveHandle | None = None
        self._metrics: dict[int, dict] = {}  # step -> metrics, read lazily from the descriptions
        if "orbax" in sys.modules:  # finish this process's saves in flight there before cleaning up
            from ._orbax_writer import join_saves_under

            join_saves_under(self.directory)
        fs.recover(self.directory)

    # -- listing ----------------------------------------------------------------------
    def all_steps(self) -> list[int]:
        """The saved steps, ascending (a save in flight counts once it is committed)."""
        if not os.path.isdir(self.directory):
            return []
        return sorted(int(name) for name in os.listdir(self.directory)
                      if name.isdigit() and os.path.isdir(os.path.join(self.directory, name)))

    def latest_step(self) -> int | None:
        """The highest saved step, or ``None``."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def step_directory(self, step: int) -> str:
        return os.path.join(self.directory, str(int(step)))

    def _step_metrics(self, step: int) -> dict:
        if step not in self._metrics:
            try:
                self._metrics[step] = checkpoint_info(self.step_directory(step))["metrics"]
            except CheckpointError:
                self._metrics[step] = {}
        return self._metrics[step]

    def _score(self, step: int) -> float | None:
        value = self._step_metrics(step).get(self.best_metric)
        if value is None or math.isnan(value):
            return None
        return value if self.mode == "min" else -value

    def best_step(self) -> int | None:
        """The step with the best ``best_metric`` (the latest among equals), or ``None``."""
        if self.best_metric is None:
            return None
        scored = [(score, -step, step) for step in self.all_steps() if (score := self._score(step)) is not None]
        return min(scored)[2] if scored else None

    # -- saving -----------------------------------------------------------------------
    def save(self, tree, *, step: int | None = None, epoch: int | None = None, metrics: dict | None = None,
             metadata: dict | None = None) -> SaveHandle:
        """Save ``tree`` as ``step`` (default ``tree.step`` for a ``TrainState``), then
        delete the checkpoints beyond the last ``max_to_keep`` and the best.
        With ``format="orbax"`` it returns while the files are written; the
        previous save is finished first, and old steps go once the new one is
        committed."""
        self.wait_until_finished()
        if step is None:
            step = getattr(tree, "step", None)
            if step is None:
                raise ValueError("CheckpointManager.save: pass step=... (the tree has no 'step' field).")
        step = int(step)
        if step < 0:
            raise ValueError(f"CheckpointManager.save: step must be >= 0, got {step}.")
        if self.best_metric is not None and self.best_metric not in (metrics or {}):
            raise KeyError(f"CheckpointManager.save: best_metric {self.best_metric!r} is not among the metrics "
                           f"given ({sorted(metrics or {})}); pass metrics={{{self.best_metric!r}: value}}.")
        if self.format == "orbax" and self._writer is None:
            from ._orbax_writer import OrbaxWriter

            self._writer = OrbaxWriter()
        self._metrics[step] = {str(k): float(v) for k, v in (metrics or {}).items()}
        handle = save_checkpoint(self.step_directory(step), tree, step=step, epoch=epoch, metrics=metrics,
                                 metadata=metadata, format=self.format, writer=self._writer)
        if handle.done() and self.format == "portable":
            self._prune()
        else:
            self._pending = handle
        return handle

    def wait_until_finished(self) -> None:
        """Block until the save in flight (orbax) is on disk, then delete old steps."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.wait_until_finished()
            self._prune()

    def _prune(self) -> None:
        steps = self.all_steps()
        keep = set(steps if self.max_to_keep is None else steps[-self.max_to_keep:])
        best = self.best_step()
        if best is not None:
            keep.add(best)
        for step in steps:
            if step not in keep:
                self.delete(step)

    def delete(self, step: int) -> None:
        """Delete the checkpoint of ``step`` (renamed aside first, so never half deleted;
        with ``format="orbax"`` the files are removed by a background thread)."""
        fs.discard(self.step_directory(step), background=self.format == "orbax")
        self._metrics.pop(int(step), None)

    # -- restoring --------------------------------------------------------------------
    def restore(self, step: int | None = None, like=None) -> Restored:
        """The checkpoint of ``step`` (default: the latest), as ``load_checkpoint`` gives
        it: ``Restored(state, step, epoch, metrics, metadata)``; ``like`` (a state of
        the same structure) gives its backend, classes and sharding."""
        self.wait_until_finished()
        if step is None:
            step = self.latest_step()
            if step is None:
                raise CheckpointError(f"CheckpointManager.restore: {self.directory!r} holds no checkpoint.")
        return load_checkpoint(self.step_directory(step), like=like)

    def close(self) -> None:
        """Finish the save in flight and release orbax's threads."""
        self.wait_until_finished()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "CheckpointManager":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"CheckpointManager({self.directory!r}, max_to_keep={self.max_to_keep}, "
                f"best_metric={self.best_metric!r}, mode={self.mode!r}, format={self.format!r})")
