"""Train-state checkpoints: save and restore a whole ``TrainState`` (or any pytree).

Two formats, one description (``_checkpoint_meta``):

- ``"portable"``: a directory with ``state.npz`` (``save_tree``: no pickle) and
  ``checkpoint.json``. Every backend reads it: a run checkpointed on JAX resumes
  on PyTorch. Saving is synchronous.
- ``"orbax"``: orbax-checkpoint on JAX. Saving is asynchronous (the training loop
  goes on while the files are written; ``wait_until_finished()`` waits) and
  sharded arrays are saved and restored shard by shard.

Both are atomic: a process killed during a save leaves the previous checkpoint
intact and loadable. Restoring with ``like=`` (a state of the same structure,
e.g. a freshly initialised ``TrainState``) checks every path, shape and dtype
and returns arrays on ``like``'s backend (and, on JAX, with its sharding); a
damaged or mismatching checkpoint raises ``CheckpointError``.

>>> import os, tempfile
>>> from purekeras import nn, optim, random, state, train
>>> model, spec = nn.Sequential([nn.Dense(2)]), nn.InputSpec((None, 3))
>>> ts = train.init_state(model, optim.Adam(), random.key(0, backend="jax"), spec)
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt")
>>> state.save_checkpoint(path, ts, epoch=3, metadata={"note": "first"}).wait_until_finished()
>>> like = train.init_state(model, optim.Adam(), random.key(1, backend="torch"), spec)
>>> restored = state.load_checkpoint(path, like=like)
>>> type(restored.state.params["dense"]["kernel"]).__name__, restored.epoch, restored.metadata
('Tensor', 3, {'note': 'first'})
"""
from __future__ import annotations

import os
from typing import Any

from . import _checkpoint_fs as fs
from . import _checkpoint_portable as portable
from ._checkpoint_errors import CheckpointError
from ._checkpoint_meta import Restored

FORMATS = ("portable", "orbax")


class SaveHandle:
    """A save in progress. ``wait_until_finished()`` returns once it is on disk
    (at once for a portable save); ``done()`` says whether it is.

    >>> SaveHandle(None).done()
    True
    """

    def __init__(self, writer, *, owned: bool = False, after=None):
        self._writer = writer  # an OrbaxWriter with the save in flight, or None when already done
        self._owned = owned  # close the writer when finished
        self._after = after  # called once the save is committed

    def done(self) -> bool:
        return self._writer is None or not self._writer.is_save_in_progress()

    def wait_until_finished(self) -> None:
        """Block until the save is on disk; raise its error if it failed."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.wait_until_finished()
        finally:
            if self._owned:
                writer.close()
        if self._after is not None:
            self._after()


def _default_step(tree) -> Any:
    return getattr(tree, "step", None) if isinstance(tree, tuple) and hasattr(type(tree), "_fields") else None


def save_checkpoint(directory: str | os.PathLike, tree, *, step: int | None = None, epoch: int | None = None,
                    metrics: dict | None = None, metadata: dict | None = None, format: str = "portable",
                    writer=None) -> SaveHandle:
    """Save ``tree`` (a ``TrainState`` or any pytree of arrays) to the checkpoint
    directory ``directory``, replacing any checkpoint there, atomically.

    ``step`` defaults to ``tree.step`` for a ``TrainState``; ``epoch``, ``metrics``
    (``{name: float}``) and ``metadata`` (JSON data) are stored with it and come back
    from ``load_checkpoint``. ``format="orbax"`` saves asynchronously: call
    ``wait_until_finished()`` on the returned handle before reading the files
    (``writer``: the ``OrbaxWriter`` to reuse, as ``CheckpointManager`` does;
    without one a fresh one is made and closed). The JAX arrays are copied on
    their devices before it returns, so they may be donated to the next step.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "c")
    >>> save_checkpoint(path, {"w": np.zeros(2)}, step=5).done()
    True
    """
    if format not in FORMATS:
        raise ValueError(f"save_checkpoint: format must be one of {FORMATS}, got {format!r}.")
    directory = os.path.abspath(os.fspath(directory))
    fields = dict(step=_default_step(tree) if step is None else step, epoch=epoch, metrics=metrics,
                  metadata=metadata)
    if format == "portable":
        portable.write(directory, tree, **fields)
        return SaveHandle(None)
    from . import _orbax

    owned = writer is None
    writer = _orbax.OrbaxWriter() if owned else writer
    writer.wait_until_finished()  # one save at a time: the previous one must be committed
    old = fs.set_aside(directory)
    try:
        _orbax.write(directory, tree, writer, **fields)
    except BaseException:
        if old is not None and not os.path.exists(directory):
            os.replace(old, directory)
        if owned:
            writer.close()
        raise
    return SaveHandle(writer, owned=owned, after=lambda: fs.remove_old(directory))


def checkpoint_format(directory: str | os.PathLike) -> str:
    """``"portable"`` or ``"orbax"``: the format of the checkpoint in ``directory``.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "c")
    >>> _ = save_checkpoint(path, {"w": np.zeros(2)})
    >>> checkpoint_format(path)
    'portable'
    """
    from . import _orbax

    directory = os.fspath(directory)
    if os.path.isfile(os.path.join(directory, portable.META_FILE)):
        return "portable"
    if _orbax.is_orbax_checkpoint(directory):
        return "orbax"
    if not os.path.isdir(directory):
        raise CheckpointError(f"No checkpoint at {directory!r}: the directory does not exist.")
    raise CheckpointError(f"{directory!r} holds no purekeras checkpoint (neither {portable.META_FILE!r} "
                          "nor an orbax 'meta' item).")


def checkpoint_info(directory: str | os.PathLike) -> dict:
    """A checkpoint's description without its arrays: ``format``, ``step``, ``epoch``,
    ``metrics``, ``metadata`` and ``arrays`` (``[path, shape, dtype]`` each).

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "c")
    >>> _ = save_checkpoint(path, {"w": np.zeros(2, np.float32)}, step=2, metrics={"loss": 0.5})
    >>> info = checkpoint_info(path)
    >>> info["step"], info["metrics"], info["arrays"]
    (2, {'loss': 0.5}, [['w', [2], 'float32']])
    """
    kind = checkpoint_format(directory)
    if kind == "portable":
        meta = portable.read_meta(os.fspath(directory))
    else:
        from . import _orbax

        meta = _orbax.read_meta(os.fspath(directory))
    keys = ("step", "epoch", "metrics", "metadata", "arrays")
    return {"format": kind, **{k: meta[k] for k in keys}}


def load_checkpoint(directory: str | os.PathLike, like=None) -> Restored:
    """Restore the checkpoint in ``directory`` (either format, detected).

    With ``like`` (a pytree of the same paths, shapes and dtypes, e.g. a fresh
    ``TrainState``) the arrays come back in ``like``'s structure and NamedTuple
    classes, on its backend, and on JAX with its sharding. Without, they come back
    as NumPy arrays in the saved nesting. Returns ``Restored(state, step, epoch,
    metrics, metadata)``; raises ``CheckpointError`` on a damaged, truncated or
    mismatching checkpoint.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "c")
    >>> _ = save_checkpoint(path, {"w": np.arange(2.0)}, epoch=1)
    >>> r = load_checkpoint(path)
    >>> r.state["w"].tolist(), r.epoch
    ([0.0, 1.0], 1)
    """
    directory = os.fspath(directory)
    if checkpoint_format(directory) == "portable":
        return portable.read(directory, like)
    from . import _orbax

    return _orbax.read(directory, like)
