"""A strict, fast reader of the ``.npz`` files ``save_tree`` writes.

``save_tree`` stores every array uncompressed (``ZIP_STORED``), so the file is
memory-mapped and each member becomes a read-only NumPy view of it (no copy, no
pickle), checked first: the member must be a plain ``.npy`` (no object dtype),
its declared shape and dtype must account for exactly the member's stored size
(a header that declares more than the file holds is refused, not allocated),
and the zip's CRC-32 of the member must match its bytes (checked by several
threads for a large file, with ISA-L's fast CRC-32 when ``isal`` is installed). Any damage ends in
``CheckpointError`` naming the file and the member.

>>> import os, tempfile, numpy as np
>>> from purekeras.state import save_tree
>>> path = os.path.join(tempfile.mkdtemp(), "t.npz")
>>> save_tree(path, {"w": np.arange(3.0)})
>>> arrays, header, crcs = read_npz(path)
>>> arrays["w"].tolist(), header["format"], crcs["w"] == member_crcs(path)["w"]
([0.0, 1.0, 2.0], 'purekeras.tree', True)
"""
from __future__ import annotations

import concurrent.futures
import json
import mmap
import os
import struct
import zipfile

import numpy as np

from ._checkpoint_errors import CheckpointError
from ._portable import STRUCTURE_KEY

try:  # ISA-L's CRC-32 (the zip polynomial, ~8x faster than zlib's), when installed
    from isal.isal_zlib import crc32
except ImportError:
    from zlib import crc32

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # the zip local file header: 30 bytes
_MAX_HEADER = 1 << 16  # an .npy header is a few hundred bytes
_MAX_STRUCTURE = 1 << 26  # the JSON structure entry
_PARALLEL_BYTES = 1 << 26  # files larger than this have their CRCs checked by several threads
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _data_offset(mapped, info: zipfile.ZipInfo, path: str) -> int:
    raw = bytes(mapped[info.header_offset:info.header_offset + _LOCAL_HEADER.size])
    if len(raw) != _LOCAL_HEADER.size:
        raise CheckpointError(f"{path!r} is truncated: member {info.filename!r} has no local header.")
    fields = _LOCAL_HEADER.unpack(raw)
    if fields[0] != zipfile.stringFileHeader:
        raise CheckpointError(f"{path!r} is damaged: bad local header for member {info.filename!r}.")
    return info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]


def _read_member(mapped, view: memoryview, info: zipfile.ZipInfo, path: str) -> tuple[np.ndarray, memoryview]:
    """The member's array (a read-only view of the mapped file, its header and size
    checked) and the member's bytes, for the CRC-32 check."""
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        raise CheckpointError(f"{path!r}: member {name!r} is compressed or encrypted; "
                              "purekeras writes only stored members.")
    start = _data_offset(mapped, info, path)
    if start + info.file_size > len(mapped):
        raise CheckpointError(f"{path!r} is truncated: member {name!r} needs bytes up to "
                              f"{start + info.file_size}, the file has {len(mapped)}.")
    head = bytes(mapped[start:start + min(_MAX_HEADER, info.file_size)])
    header_file = _Bytes(head)
    try:
        version = np.lib.format.read_magic(header_file)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f".npy format version {version} is not one purekeras writes")
        shape, fortran, dtype = read_header(header_file)
    except Exception as error:  # NumPy's header parser raises many kinds on damaged bytes
        raise CheckpointError(f"{path!r}: member {name!r} has no valid .npy header "
                              f"({type(error).__name__}: {error}).") from None
    if dtype.hasobject or dtype.kind not in "biufc":
        raise CheckpointError(f"{path!r}: member {name!r} has dtype {dtype}, which a state file never holds.")
    header_size = header_file.tell()
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if header_size + count * dtype.itemsize != info.file_size:
        raise CheckpointError(
            f"{path!r}: member {name!r} declares shape {shape} of {dtype} "
            f"({count * dtype.itemsize} bytes) but stores {info.file_size - header_size} bytes.")
    flat = np.frombuffer(mapped, dtype=dtype, count=count, offset=start + header_size)
    return flat.reshape(shape, order="F" if fortran else "C"), view[start:start + info.file_size]


def _verify(members: list, path: str) -> None:
    """Check each ``(info, bytes)`` against its CRC-32, in parallel threads for large
    files (the CRC functions release the GIL)."""
    def check(member) -> str | None:
        info, data = member
        return None if crc32(data) == info.CRC else info.filename

    total = sum(len(data) for _, data in members)
    workers = min(os.cpu_count() or 1, 8) if total > _PARALLEL_BYTES else 1
    if workers > 1:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            failed = [name for name in pool.map(check, members) if name is not None]
    else:
        failed = [name for name in map(check, members) if name is not None]
    if failed:
        raise CheckpointError(f"{path!r}: members {failed[:10]} fail their CRC-32 check: the file is damaged.")


class _Bytes:
    """The minimal file object ``np.lib.format`` header readers need, over bytes."""

    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position:end]
        self.position += len(chunk)
        return chunk

    def tell(self) -> int:
        return self.position


def member_crcs(path: str | os.PathLike) -> dict[str, int]:
    """``{key: CRC-32}`` of every array of a ``save_tree`` file, from its zip directory."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename[:-4]: info.CRC for info in zf.infolist() if info.filename != STRUCTURE_KEY + ".npy"}


def read_npz(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict, dict[str, int]]:
    """``({key: array}, header, {key: CRC-32})`` of a ``save_tree`` file, every member verified.

    ``header`` is the file's JSON description (``structure``, ``dtypes``); arrays
    come back with the stored dtypes (raw bits for ``bfloat16`` and the like), as
    read-only views of the memory-mapped file: copy them (placing them on a
    backend does) before the file is replaced. The file is read once for the
    checks; the copy reads it again from the page cache."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            zf = zipfile.ZipFile(f)
            infos = zf.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise CheckpointError(f"{path!r} holds a member name twice: the file is damaged.")
        arrays, crcs, members = {}, {}, []
        with memoryview(mapped) as view:
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise CheckpointError(f"{path!r}: unexpected member {info.filename!r}.")
                if info.file_size > len(mapped):
                    raise CheckpointError(f"{path!r} is truncated: member {info.filename!r} is "
                                          f"{info.file_size} bytes, the file {len(mapped)}.")
                arrays[info.filename[:-4]], data = _read_member(mapped, view, info, path)
                crcs[info.filename[:-4]] = info.CRC
                members.append((info, data))
            _verify(members, path)
            members.clear()  # release the views of the mapped file
    except CheckpointError:
        raise
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OverflowError,
            struct.error, MemoryError, UnicodeDecodeError, NotImplementedError) as error:
        raise CheckpointError(f"{path!r} is not a readable state file: {error}.") from None
    raw = arrays.pop(STRUCTURE_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_STRUCTURE:
        raise CheckpointError(f"{path!r} is not a purekeras state file (no valid {STRUCTURE_KEY!r} entry).")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"{path!r}: its structure entry is not valid JSON ({error}).") from None
    if not isinstance(header, dict) or header.get("format") != "purekeras.tree":
        raise CheckpointError(f"{path!r}: its structure entry is not a purekeras tree description.")
    crcs.pop(STRUCTURE_KEY, None)
    return arrays, header, crcs
