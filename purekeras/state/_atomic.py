"""One way to write a file so that a crash never leaves it half-written.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
>>> write_atomic(path, lambda f: f.write(b"done"))
>>> with open(path, "rb") as f:
...     f.read()
b'done'
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Callable


def write_atomic(filepath: str, write: Callable[[BinaryIO], object]) -> None:
    """``write(f)`` into a temporary file (seekable, ``w+b``) beside ``filepath``, fsync,
    then ``os.replace``: readers see the old file or the whole new one, never a part."""
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(filepath)[-16:])
    try:
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
