"""Atomic checkpoint directories: write aside, fsync, rename into place.

A checkpoint directory is complete or absent, never half written:

- a new checkpoint is written under ``.tmp-<name>-*`` (orbax: its own
  ``<name>.orbax-checkpoint-tmp-*``), every file fsynced, then renamed to
  ``<name>`` and the parent directory fsynced;
- replacing an existing ``<name>`` first renames it to ``.old-<name>-*``; the old
  one is deleted only once the new one is in place.

``recover(parent)`` finishes what a killed process left: temporaries and
``.del-*`` (deletions in progress) are deleted, and an ``.old-<name>-*`` whose
``<name>`` is missing is renamed back.

>>> import os, tempfile
>>> parent = tempfile.mkdtemp()
>>> tmp = make_temporary(parent, "5")
>>> write_file(os.path.join(tmp, "a.txt"), b"x")
>>> commit(tmp, os.path.join(parent, "5"))
>>> os.listdir(parent), os.listdir(os.path.join(parent, "5"))
(['5'], ['a.txt'])
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid

_OLD = re.compile(r"^\.old-(?P<name>.+)-[0-9a-f]{32}$")
_TEMPORARY = re.compile(r"^(\.tmp-.+|\.del-.+|.+\.orbax-checkpoint-tmp.*)$")


def fsync_path(path: str) -> None:
    """Flush a file's or a directory's (its entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` and fsync it."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def make_temporary(parent: str, name: str) -> str:
    """A fresh temporary directory in ``parent`` for checkpoint ``name``."""
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(dir=parent, prefix=f".tmp-{name}-")


def set_aside(final: str) -> str | None:
    """Rename an existing ``final`` to ``.old-<name>-<id>`` (recoverable); its new path."""
    if not os.path.exists(final):
        return None
    parent, name = os.path.split(os.path.abspath(final))
    old = os.path.join(parent, f".old-{name}-{uuid.uuid4().hex}")
    os.replace(final, old)
    fsync_path(parent)
    return old


def commit(tmp: str, final: str) -> None:
    """Move the complete directory ``tmp`` to ``final`` (replacing it) atomically."""
    fsync_path(tmp)
    old = set_aside(final)
    os.replace(tmp, final)
    fsync_path(os.path.dirname(os.path.abspath(final)))
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover(parent: str) -> None:
    """Delete temporaries a killed save left in ``parent``; rename back a set-aside
    checkpoint whose replacement never arrived."""
    if not os.path.isdir(parent):
        return
    for entry in sorted(os.listdir(parent)):
        path = os.path.join(parent, entry)
        old = _OLD.match(entry)
        if old is not None:
            final = os.path.join(parent, old["name"])
            if os.path.exists(final):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.replace(path, final)
        elif _TEMPORARY.match(entry):
            shutil.rmtree(path, ignore_errors=True)


def discard(path: str, *, background: bool = False) -> None:
    """Delete the directory ``path``: renamed to ``.del-<name>-<id>`` first (so it is
    gone from its name at once, and ``recover`` finishes a deletion a kill cut
    short), then removed, in a background thread when asked."""
    if not os.path.exists(path):
        return
    parent, name = os.path.split(os.path.abspath(path))
    doomed = os.path.join(parent, f".del-{name}-{uuid.uuid4().hex}")
    os.replace(path, doomed)
    if background:
        threading.Thread(target=shutil.rmtree, args=(doomed, True), daemon=True).start()
    else:
        shutil.rmtree(doomed, ignore_errors=True)


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def remove_old(final: str) -> None:
    """Delete every ``.old-<name>-*`` copy of ``final`` (once ``final`` is committed)."""
    parent, name = os.path.split(os.path.abspath(final))
    if not os.path.isdir(parent):
        return
    for entry in os.listdir(parent):
        match = _OLD.match(entry)
        if match is not None and match["name"] == name:
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
