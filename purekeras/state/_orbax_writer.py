"""``OrbaxWriter``: one orbax save at a time, written by a background thread.

Orbax's own asynchronous save blocks its caller until every array is copied to
the host. Here the caller only dispatches an on-device snapshot (copies and
checksums, ``_orbax_checksums.snapshot``) and hands it to a thread that runs
orbax's synchronous ``Checkpointer`` (which writes into a temporary directory
and renames it when complete). The training loop goes on at once; the snapshot
copies, not the live arrays, are written, so the live ones may be donated. On
CPU the writer keeps the last copies (one copy of the saved arrays, in host
memory) and the next snapshot writes into their buffers: fresh buffers would
cost page faults, and the next train step waits for the copy.

>>> writer = OrbaxWriter()
>>> writer.is_save_in_progress()
False
>>> writer.close()
"""
from __future__ import annotations

import os
import threading
from typing import Callable


_THREAD = "purekeras-orbax-save:"


def join_saves_under(directory: str) -> None:
    """Wait for every save thread of this process writing under ``directory`` (a
    manager opened on a directory must not clean up a save in flight, e.g. of a
    run interrupted by an exception and restarted in the same process)."""
    prefix = _THREAD + os.path.join(os.path.abspath(directory), "")
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread is not threading.current_thread():
            thread.join()


def orbax():
    """The ``orbax.checkpoint`` module, or an ImportError that says how to install it."""
    try:
        import orbax.checkpoint as ocp
    except ImportError as error:
        raise ImportError(
            "format='orbax' needs orbax-checkpoint: pip install orbax-checkpoint "
            "(or purekeras[jax]); format='portable' needs nothing more.") from error
    return ocp


def checkpointer():
    """A synchronous orbax checkpointer of purekeras's two items: ``state`` (arrays,
    uncompressed: float weights do not compress) and ``meta`` (JSON)."""
    ocp = orbax()
    return ocp.Checkpointer(ocp.CompositeCheckpointHandler(
        state=ocp.PyTreeCheckpointHandler(use_compression=False), meta=ocp.JsonCheckpointHandler()))


class OrbaxWriter:
    """Runs ``save()`` calls one at a time in a background thread; errors come back
    from ``wait_until_finished()``."""

    def __init__(self):
        self._checkpointer = None  # made on the first save (imports orbax)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._spares: dict = {}  # signature -> the last written snapshot copies (CPU only)

    def take_spare(self, key):
        """The copies of an earlier snapshot with signature ``key``, to be reused (once)."""
        return self._spares.pop(key, None)

    def keep_spare(self, key, copies) -> None:
        """Keep ``copies`` (written) so that the next snapshot reuses their buffers."""
        self._spares = {key: copies}

    def start(self, work: Callable[[object], None], path: str = "") -> None:
        """Run ``work(checkpointer)`` in the background, after the previous save;
        ``path``: the checkpoint it writes (names the thread, see ``join_saves_under``)."""
        self.wait_until_finished()
        if self._checkpointer is None:
            self._checkpointer = checkpointer()

        def run():
            try:
                work(self._checkpointer)
            except BaseException as error:  # handed to the caller by wait_until_finished
                self._error = error

        # Not a daemon: a program that ends right after save() still finishes writing.
        self._thread = threading.Thread(target=run, name=_THREAD + path, daemon=False)
        self._thread.start()

    def is_save_in_progress(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_until_finished(self) -> None:
        """Block until the save in flight is on disk; raise its error if it failed."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        """Finish the save in flight and release orbax's checkpointer and the spare copies."""
        try:
            self.wait_until_finished()
        finally:
            self._spares = {}
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
