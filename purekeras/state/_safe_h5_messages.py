"""Bounds-checked decoding of HDF5 header messages (for ``_safe_h5``).

Every read goes through ``Bytes``, which raises ``FileFormatError`` instead of
reading past the end of the file; every decoder accepts only the message
versions and datatypes that h5py writes for Keras's weight files and names
what it refuses.

>>> b = Bytes(bytes([1, 0, 2, 0]), "t.h5")
>>> b.u16(2)
2
>>> try:
...     b.u64(0)
... except FileFormatError as error:
...     print(str(error)[:36])
t.h5: truncated or corrupted HDF5 fi
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from ._keras_hdf5 import FLOAT_LAYOUT, UNDEFINED
from ._safe_errors import FileFormatError, UnsafeFileError

MAX_RANK = 32


class Bytes:
    """A file's bytes with bounds-checked little-endian reads."""

    def __init__(self, data, what: str):
        self.data = data
        self.what = what
        self.size = len(data)

    def error(self, message: str) -> FileFormatError:
        return FileFormatError(f"{self.what}: {message}")

    def check(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise self.error(
                f"truncated or corrupted HDF5 file: {length} bytes at offset {offset} lie beyond the "
                f"end of the file ({self.size} bytes).")

    def raw(self, offset: int, length: int) -> bytes:
        self.check(offset, length)
        return bytes(self.data[offset:offset + length])

    def unpack(self, fmt: str, offset: int) -> tuple:
        size = struct.calcsize(fmt)
        self.check(offset, size)
        return struct.unpack_from(fmt, self.data, offset)

    def u8(self, offset: int) -> int:
        return self.unpack("<B", offset)[0]

    def u16(self, offset: int) -> int:
        return self.unpack("<H", offset)[0]

    def u32(self, offset: int) -> int:
        return self.unpack("<I", offset)[0]

    def u64(self, offset: int) -> int:
        return self.unpack("<Q", offset)[0]

    def cstring(self, offset: int, end: int) -> bytes:
        """The NUL-terminated bytes at ``offset`` (at most 64 KiB), which must end before ``end``."""
        self.check(offset, 0)
        end = min(end, self.size, offset + (1 << 16))
        stop = self.data.find(b"\0", offset, end)
        if stop < 0:
            raise self.error(f"a name at offset {offset} is not NUL-terminated within its block.")
        return bytes(self.data[offset:stop])


class DataType(NamedTuple):
    kind: str  # "array", "string", "vlen_string", "opaque"
    dtype: np.dtype | None  # NumPy dtype of "array" types
    size: int  # bytes per element


def _float_dtype(b: Bytes, offset: int, bits: tuple, size: int) -> np.dtype:
    order = bits[0] & 0x41
    if order not in (0, 1):
        raise b.error("VAX-order floating-point data is not supported.")
    bit_offset, precision, exp_loc, exp_size, mant_loc, mant_size, bias = b.unpack("<HHBBBBI", offset)
    layout = (bits[1], exp_loc, exp_size, mant_size, bias)
    for name, expected in FLOAT_LAYOUT.items():
        if expected == layout and bit_offset == 0 and mant_loc == 0 and precision == size * 8:
            if name == "bfloat16":
                import ml_dtypes  # ships with JAX and TensorFlow

                return np.dtype(ml_dtypes.bfloat16)
            return np.dtype(name).newbyteorder(">" if order else "<")
    raise b.error(f"unsupported floating-point layout (size {size}, sign bit {bits[1]}, exponent "
                  f"{exp_loc}/{exp_size}, mantissa {mant_loc}/{mant_size}, bias {bias}).")


def datatype(b: Bytes, offset: int, length: int) -> DataType:
    b.check(offset, min(length, 8))
    if length < 8:
        raise b.error(f"a datatype message of {length} bytes is too short.")
    head = b.u8(offset)
    version, cls = head >> 4, head & 0x0F
    bits = b.unpack("<3B", offset + 1)
    size = b.u32(offset + 4)
    if version not in (1, 2, 3):
        raise b.error(f"datatype message version {version} is not supported.")
    if cls == 0:
        if size not in (1, 2, 4, 8) or bits[0] & 0x06:
            raise b.error(f"unsupported integer datatype (size {size}, flags {bits[0]:#x}).")
        bit_offset, precision = b.unpack("<HH", offset + 8)
        if bit_offset != 0 or precision != size * 8:
            raise b.error(f"bit-packed integers (offset {bit_offset}, precision {precision}) are not supported.")
        kind = "i" if bits[0] & 0x08 else "u"
        return DataType("array", np.dtype(f"{'>' if bits[0] & 1 else '<'}{kind}{size}"), size)
    if cls == 1:
        if size not in (2, 4, 8):
            raise b.error(f"floating-point datatype of {size} bytes is not supported.")
        return DataType("array", _float_dtype(b, offset + 8, bits, size), size)
    if cls == 3:
        return DataType("string", None, size)
    if cls == 5:
        return DataType("opaque", None, size)
    if cls == 9:
        if bits[0] & 0x0F != 1:
            raise b.error("variable-length sequence datatypes are not supported (only strings).")
        return DataType("vlen_string", None, size)
    names = {2: "time", 4: "bitfield", 6: "compound", 7: "reference", 8: "enum", 10: "array"}
    raise b.error(f"HDF5 datatype class {cls} ({names.get(cls, 'unknown')}) is not supported; weights "
                  "must be integer or floating-point arrays.")


def dataspace(b: Bytes, offset: int) -> tuple[int, ...]:
    """The shape; ``()`` for a scalar. Null dataspaces and permutations are refused."""
    version, rank, flags = b.unpack("<BBB", offset)
    if version == 1:
        if flags & 0x02:
            raise b.error("dataspace permutation indices are not supported.")
        start = offset + 8
    elif version == 2:
        if b.u8(offset + 3) == 2:
            raise b.error("null dataspaces (no data at all) are not supported.")
        start = offset + 4
    else:
        raise b.error(f"dataspace message version {version} is not supported.")
    if rank > MAX_RANK:
        raise b.error(f"a dataset of rank {rank} exceeds the limit of {MAX_RANK} axes.")
    shape = b.unpack(f"<{rank}Q", start) if rank else ()
    if any(d >= 1 << 48 for d in shape):
        raise b.error(f"dataset shape {shape} is implausibly large.")
    return tuple(shape)


class Layout(NamedTuple):
    address: int  # where the data starts (UNDEFINED when none was written)
    size: int  # bytes stored


def layout(b: Bytes, offset: int) -> Layout:
    version, cls = b.unpack("<BB", offset)
    if version not in (3, 4):
        raise b.error(f"data layout message version {version} is not supported (files written by "
                      "HDF5 1.6 or older).")
    if cls == 0:
        size = b.u16(offset + 2)
        return Layout(offset + 4, size)
    if cls == 1:
        address, size = b.unpack("<QQ", offset + 2)
        return Layout(address, size)
    if cls == 2:
        raise b.error("chunked (possibly compressed) datasets are not supported; Keras writes "
                      "contiguous datasets.")
    if cls == 3:
        raise UnsafeFileError(f"{b.what}: refused a virtual dataset: its data would come from other "
                              "files, and purekeras never reads a file a file names.")
    raise b.error(f"data layout class {cls} is not supported.")


class Link(NamedTuple):
    name: str
    kind: int  # 0 hard, 1 soft, 64 external
    address: int  # the object's header (hard links only)


def link(b: Bytes, offset: int, end: int) -> Link:
    version, flags = b.unpack("<BB", offset)
    if version != 1:
        raise b.error(f"link message version {version} is not supported.")
    position = offset + 2
    kind = 0
    if flags & 0x08:
        kind = b.u8(position)
        position += 1
    if flags & 0x04:
        position += 8
    if flags & 0x10:
        position += 1
    width = 1 << (flags & 0x03)
    length = int.from_bytes(b.raw(position, width), "little")
    position += width
    if position + length > end:
        raise b.error("a link name runs past the end of its message.")
    name = decode_name(b, b.raw(position, length))
    position += length
    if kind == 1:
        raise UnsafeFileError(f"{b.what}: refused the soft link {name!r}: purekeras reads only plain "
                              "groups and datasets (a soft link can point anywhere).")
    if kind == 64:
        raise UnsafeFileError(f"{b.what}: refused the external link {name!r}: it names another file, "
                              "and a file never makes purekeras read another file.")
    if kind != 0:
        raise UnsafeFileError(f"{b.what}: refused the user-defined link {name!r} (type {kind}).")
    return Link(name, kind, b.u64(position))


def decode_name(b: Bytes, raw: bytes) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise b.error(f"a link name is not valid UTF-8: {raw[:40]!r}.") from None
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise b.error(f"invalid link name {name!r}.")
    return name


def check_undefined(b: Bytes, address: int, what: str) -> None:
    if address != UNDEFINED:
        raise b.error(f"{what} (dense storage in a fractal heap) is not supported; Keras's files "
                      "keep links and attributes in the object header.")
