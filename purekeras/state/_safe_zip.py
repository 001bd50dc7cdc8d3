"""Reading a ``.keras`` zip archive safely: only the members named, never extracted to disk.

Refused: member names that could escape a directory (``..``, absolute paths,
backslashes, drive letters), duplicate names, encrypted members, compression
other than stored/deflate, members purekeras does not read, missing members,
and decompression bombs (a member declaring far more bytes than it stores).
Every zip or zlib error becomes a ``FileFormatError``; the CRC of every member
is checked, so a corrupted archive is an error, not a different model.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as zf:
...     zf.writestr("../evil.json", "{}")
>>> try:
...     read_members(io.BytesIO(buffer.getvalue()), "m.keras", required=("config.json",))
... except FileFormatError as error:
...     print(str(error)[:52])
m.keras: refused the archive member '../evil.json': 
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from typing import BinaryIO

from ._safe_errors import FileFormatError, UnsafeFileError

MAX_MEMBERS = 64
BOMB_FLOOR = 16 << 20  # bytes a member may always declare
BOMB_RATIO = 200  # beyond the floor, declared / stored bytes may not exceed this
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
              struct.error, OverflowError, KeyError, RuntimeError, UnicodeError, OSError)


def _check_name(name: str, what: str) -> None:
    bad = (name.startswith(("/", "\\")) or "\\" in name or "\0" in name or ":" in name
           or any(part in ("..", ".") for part in name.split("/")))
    if bad:
        raise UnsafeFileError(f"{what}: refused the archive member {name!r}: its name could point outside "
                              "the archive (path traversal).")


def _check_info(info: zipfile.ZipInfo, what: str, limit: int | None) -> None:
    if info.flag_bits & 0x1:
        raise FileFormatError(f"{what}: the member {info.filename!r} is encrypted.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FileFormatError(f"{what}: the member {info.filename!r} uses compression method "
                              f"{info.compress_type}; only stored and deflate are read.")
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise FileFormatError(f"{what}: the stored member {info.filename!r} declares {info.file_size} bytes "
                              f"but holds {info.compress_size}.")
    if info.file_size > BOMB_FLOOR and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        raise UnsafeFileError(f"{what}: refused the member {info.filename!r}: it declares {info.file_size} "
                              f"bytes but stores {info.compress_size} (a decompression bomb).")
    if limit is not None and info.file_size > limit:
        raise FileFormatError(f"{what}: the member {info.filename!r} declares {info.file_size} bytes, more "
                              f"than the {limit} allowed for it.")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    size = info.file_size
    data = bytearray(size)
    view, position = memoryview(data), 0
    with zf.open(info) as member:
        while position < size:
            chunk = member.read(min(1 << 24, size - position))
            if not chunk:
                break
            view[position:position + len(chunk)] = chunk
            position += len(chunk)
        if position != size or member.read(1):
            raise zipfile.BadZipFile(f"member {info.filename!r} does not hold the {size} bytes it declares")
    return data


def read_members(file: BinaryIO, what: str, required: tuple[str, ...], limits: dict | None = None,
                 refuse: dict | None = None) -> dict[str, bytearray]:
    """The ``required`` members of the zip in ``file`` (every other member is refused;
    ``refuse`` maps known-but-unsupported names to the reason)."""
    limits, refuse = limits or {}, refuse or {}
    try:
        with zipfile.ZipFile(file, "r") as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise FileFormatError(f"{what}: the archive has {len(infos)} members (at most {MAX_MEMBERS}).")
            seen: set = set()
            for info in infos:
                _check_name(info.filename, what)
                if info.filename in seen:
                    raise FileFormatError(f"{what}: the archive holds {info.filename!r} twice.")
                seen.add(info.filename)
                if info.filename in refuse:
                    raise FileFormatError(f"{what}: {refuse[info.filename]}")
                if info.filename not in required:
                    raise FileFormatError(f"{what}: the archive holds {info.filename!r}, which purekeras does not "
                                          f"read (a Keras model archive holds {', '.join(required)}).")
            missing = [name for name in required if name not in seen]
            if missing:
                raise FileFormatError(f"{what}: the archive lacks {missing}; it is not a complete Keras model file.")
            out = {}
            for name in required:
                info = zf.getinfo(name)
                _check_info(info, what, limits.get(name))
                out[name] = _read(zf, info)
            return out
    except FileFormatError:
        raise
    except ZIP_ERRORS as error:
        raise FileFormatError(f"{what}: not a valid zip archive ({type(error).__name__}: {error}).") from error
