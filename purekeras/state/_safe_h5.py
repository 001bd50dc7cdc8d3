"""A safe HDF5 reader, in pure Python, for Keras's weight files.

The C library behind h5py crashes or hangs on some corrupted files, so
purekeras reads HDF5 itself: every offset is bounds-checked, every structure is
visited once (cycles and shared objects are refused), and only what h5py writes
for Keras is accepted. Refused with ``UnsafeFileError``: external links, soft
links, virtual datasets and external raw-data files (a file never makes
purekeras read another file). Refused with ``FileFormatError``: a dataset whose
declared shape needs more bytes than it stores, chunked/compressed data,
unknown required messages, and anything truncated or malformed.

The result is an ``H5Group`` tree of string attributes and NumPy arrays (views
of ``data`` when it is a ``bytearray``, so loading copies nothing).

>>> import numpy as np
>>> from ._keras_hdf5 import H5Group, write_hdf5
>>> data = write_hdf5(H5Group({}, {"vars": H5Group({"name": "dense"}, {"0": np.arange(3.0)})}))
>>> root = read_hdf5(bytearray(data), "w.weights.h5")
>>> root.members["vars"].attrs, root.members["vars"].members["0"].tolist()
({'name': 'dense'}, [0.0, 1.0, 2.0])
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _safe_h5_messages as msg
from ._keras_hdf5 import SIGNATURE, UNDEFINED, H5Group
from ._safe_errors import FileFormatError, UnsafeFileError

MAX_DEPTH = 64
MAX_OBJECTS = 1_000_000
MAX_CHUNKS = 256  # object header continuation blocks per object
IGNORED_MESSAGES = {0x00, 0x04, 0x05, 0x09, 0x0A, 0x0D, 0x0E, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18}


class _Message(NamedTuple):
    kind: int
    flags: int
    offset: int  # where its data starts
    size: int


class _Reader:
    def __init__(self, data, what: str):
        self.b = msg.Bytes(data, what)
        self.seen_headers: set[int] = set()
        self.seen_nodes: set[int] = set()
        self.collections: dict[int, dict[int, tuple[int, int]]] = {}
        self.objects = 0
        self.leaf_k = self.internal_k = 0

    # -- superblock and object headers ------------------------------------------------
    def superblock(self) -> tuple[int, int]:
        b = self.b
        if b.size < 8 or b.raw(0, 8) != SIGNATURE:
            raise b.error("not an HDF5 file (the signature is missing).")
        version = b.u8(8)
        if version not in (0, 1):
            raise b.error(f"HDF5 superblock version {version} (files written with libver='latest') is not "
                          "supported; Keras writes version 0.")
        offsets, lengths = b.unpack("<BB", 13)
        if (offsets, lengths) != (8, 8):
            raise b.error(f"{offsets}-byte offsets and {lengths}-byte lengths are not supported (only 8).")
        self.leaf_k, self.internal_k = b.unpack("<HH", 16)
        if not 0 < self.leaf_k <= 4096 or not 0 < self.internal_k <= 4096:
            raise b.error(f"implausible B-tree parameters K={self.leaf_k}/{self.internal_k}.")
        start = 24 if version == 0 else 28
        base = b.u64(start)
        if base != 0:
            raise b.error("HDF5 files with a user block (base address != 0) are not supported.")
        entry = start + 32
        return b.u64(entry + 8), b.u32(entry + 16)

    def messages(self, address: int) -> list[_Message]:
        b = self.b
        if address in self.seen_headers:
            raise b.error(f"the object at offset {address} is linked more than once (hard links or a "
                          "cycle); Keras's files link each object once.")
        self.seen_headers.add(address)
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise b.error(f"more than {MAX_OBJECTS} objects.")
        if b.raw(address, 4) == b"OHDR":
            raise b.error("version 2 object headers (libver='latest') are not supported.")
        version, _, count, _, size = b.unpack("<BBHII", address)
        if version != 1:
            raise b.error(f"object header version {version} at offset {address} is not supported.")
        chunks, out, seen_chunks = [(address + 16, size)], [], set()
        while chunks:
            start, length = chunks.pop(0)
            if start in seen_chunks or len(seen_chunks) >= MAX_CHUNKS:
                raise b.error(f"object header continuation loop at offset {start}.")
            seen_chunks.add(start)
            b.check(start, length)
            position, end = start, start + length
            while position + 8 <= end:
                kind, msize, flags = b.unpack("<HHB", position)
                data = position + 8
                if data + msize > end:
                    raise b.error(f"a header message at offset {position} runs past its block.")
                if kind == 0x10:
                    chunks.append(b.unpack("<QQ", data))
                else:
                    out.append(_Message(kind, flags, data, msize))
                    if len(out) > count + 4096:
                        raise b.error(f"the object at offset {address} holds more header messages than it declares.")
                position = data + msize
        return out

    # -- attributes and the global heap -------------------------------------------------
    def heap_object(self, address: int, index: int) -> tuple[int, int]:
        b = self.b
        if address not in self.collections:
            if b.raw(address, 4) != b"GCOL" or b.u8(address + 4) != 1:
                raise b.error(f"no global heap collection at offset {address}.")
            size = b.u64(address + 8)
            b.check(address, size)
            objects, position, end = {}, address + 16, address + size
            while position + 16 <= end:
                number, _, length = b.unpack("<HH4xQ", position)
                if number == 0:
                    break
                b.check(position + 16, length)
                objects[number] = (position + 16, length)
                position += 16 + length + (-length % 8)
            self.collections[address] = objects
        found = self.collections[address].get(index)
        if found is None:
            raise b.error(f"global heap object {index} at offset {address} does not exist.")
        return found

    def attribute(self, m: _Message) -> tuple[str, str | None]:
        b = self.b
        version, flags, name_size, type_size, space_size = b.unpack("<BBHHH", m.offset)
        if version == 1:
            pad = lambda n: n + (-n % 8)  # noqa: E731
            position = m.offset + 8
        elif version in (2, 3):
            if flags & 0x03:
                raise b.error("attributes with shared datatypes or dataspaces are not supported.")
            pad = lambda n: n  # noqa: E731
            position = m.offset + 8 + (version == 3)
        else:
            raise b.error(f"attribute message version {version} is not supported.")
        name = msg.decode_name(b, b.cstring(position, position + name_size))
        position += pad(name_size)
        dtype = msg.datatype(b, position, type_size)
        position += pad(type_size)
        shape = msg.dataspace(b, position)
        position += pad(space_size)
        if math.prod(shape) != 1 or dtype.kind not in ("string", "vlen_string"):
            return name, None  # not a string: purekeras has no use for it
        if position > m.offset + m.size:
            raise b.error(f"attribute {name!r} runs past its message.")
        if dtype.kind == "string":
            raw = b.raw(position, dtype.size).split(b"\0", 1)[0]
        else:
            length, address, index = b.unpack("<IQI", position)
            start, size = self.heap_object(address, index)
            if length > size:
                raise b.error(f"attribute {name!r} is longer than its heap object.")
            raw = b.raw(start, length)
        try:
            return name, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise b.error(f"attribute {name!r} is not valid UTF-8.") from None

    # -- groups --------------------------------------------------------------------------
    def symbol_table(self, btree: int, heap: int) -> list[tuple[str, int]]:
        b = self.b
        if b.raw(heap, 4) != b"HEAP" or b.u8(heap + 4) != 0:
            raise b.error(f"no local heap at offset {heap}.")
        heap_size, _, heap_data = b.unpack("<QQQ", heap + 8)
        b.check(heap_data, heap_size)
        links: list[tuple[str, int]] = []
        self.btree_node(btree, None, heap_data, heap_data + heap_size, links)
        return links

    def btree_node(self, address: int, level: int | None, heap: int, heap_end: int, links: list) -> None:
        b = self.b
        if address in self.seen_nodes:
            raise b.error(f"B-tree node at offset {address} is reached twice (a cycle).")
        self.seen_nodes.add(address)
        if b.raw(address, 4) != b"TREE":
            raise b.error(f"no B-tree node at offset {address}.")
        kind, node_level, used = b.unpack("<BBH", address + 4)
        if kind != 0 or used > 2 * self.internal_k or (level is not None and node_level != level):
            raise b.error(f"malformed group B-tree node at offset {address}.")
        for i in range(used):
            child = b.u64(address + 24 + 8 + 16 * i)
            if node_level > 0:
                self.btree_node(child, node_level - 1, heap, heap_end, links)
            else:
                self.symbol_node(child, heap, heap_end, links)

    def symbol_node(self, address: int, heap: int, heap_end: int, links: list) -> None:
        b = self.b
        if address in self.seen_nodes:
            raise b.error(f"symbol table node at offset {address} is reached twice.")
        self.seen_nodes.add(address)
        if b.raw(address, 4) != b"SNOD" or b.u8(address + 4) != 1:
            raise b.error(f"no symbol table node at offset {address}.")
        count = b.u16(address + 6)
        if count > 2 * self.leaf_k:
            raise b.error(f"symbol table node at offset {address} holds {count} entries (max {2 * self.leaf_k}).")
        for i in range(count):
            name_offset, header, cache = b.unpack("<QQI", address + 8 + 40 * i)
            if name_offset >= heap_end - heap:
                raise b.error(f"a link name offset {name_offset} lies outside its local heap.")
            name = msg.decode_name(b, b.cstring(heap + name_offset, heap_end))
            if cache == 2:
                raise UnsafeFileError(f"{b.what}: refused the soft link {name!r}: purekeras reads only plain "
                                      "groups and datasets (a soft link can point anywhere).")
            links.append((name, header))

    # -- objects -------------------------------------------------------------------------
    def read_object(self, address: int, depth: int, path: str):
        b = self.b
        if depth > MAX_DEPTH:
            raise b.error(f"groups nest deeper than {MAX_DEPTH} levels at {path!r}.")
        found: dict[int, _Message] = {}
        attrs: dict[str, str] = {}
        links: list[tuple[str, int]] = []
        for m in self.messages(address):
            if m.kind == 0x07:
                raise UnsafeFileError(f"{b.what}: refused dataset {path!r}: it keeps its data in external "
                                      "files, and a file never makes purekeras read another file.")
            if m.kind == 0x0B:
                raise b.error(f"dataset {path!r} is filtered (compressed); Keras writes plain datasets.")
            if m.flags & 0x02 and m.kind in (0x01, 0x03, 0x08):
                raise b.error(f"shared (committed) header messages in {path!r} are not supported.")
            if m.kind == 0x0C:
                name, value = self.attribute(m)
                if value is not None:
                    attrs[name] = value
            elif m.kind == 0x06:
                link = msg.link(b, m.offset, m.offset + m.size)
                links.append((link.name, link.address))
            elif m.kind == 0x02:
                msg.check_undefined(b, b.u64(m.offset + 2 + (8 if b.u8(m.offset + 1) & 1 else 0)), "a group's links")
            elif m.kind == 0x15:
                msg.check_undefined(b, b.u64(m.offset + 2 + (2 if b.u8(m.offset + 1) & 1 else 0)), "attributes")
            elif m.kind in (0x01, 0x03, 0x08, 0x11):
                found.setdefault(m.kind, m)
            elif m.kind not in IGNORED_MESSAGES and m.flags & 0x80:
                raise b.error(f"object {path!r} has header message type {m.kind:#x}, which must be "
                              "understood to read it.")
        if 0x08 in found:
            return self.dataset(found, attrs, path)
        if 0x11 in found:
            btree, heap = b.unpack("<QQ", found[0x11].offset)
            links = self.symbol_table(btree, heap) + links
        elif not links and 0x03 in found:
            raise b.error(f"{path!r} is a committed datatype, not a group or dataset.")
        members: dict = {}
        for name, child in links:
            if name in members:
                raise b.error(f"group {path!r} links the name {name!r} twice.")
            members[name] = self.read_object(child, depth + 1, f"{path}/{name}".lstrip("/"))
        return H5Group(attrs, members)

    def dataset(self, found: dict, attrs: dict, path: str) -> np.ndarray:
        b = self.b
        if 0x01 not in found or 0x03 not in found:
            raise b.error(f"dataset {path!r} lacks its dataspace or datatype message.")
        shape = msg.dataspace(b, found[0x01].offset)
        dtype = msg.datatype(b, found[0x03].offset, found[0x03].size)
        place = msg.layout(b, found[0x08].offset)
        if dtype.kind == "opaque" and dtype.size == 2 and attrs.get("dtype") == "bfloat16":
            import ml_dtypes  # ships with JAX and TensorFlow

            dtype = msg.DataType("array", np.dtype(ml_dtypes.bfloat16), 2)
        if dtype.kind != "array":
            raise b.error(f"dataset {path!r} holds {dtype.kind} data; weights must be numeric arrays.")
        count = math.prod(shape)
        needed = count * dtype.size
        if needed == 0:
            return np.zeros(shape, dtype.dtype)
        if place.address == UNDEFINED:
            raise b.error(f"dataset {path!r} declares shape {shape} ({needed} bytes) but stores no data.")
        if place.size != needed:
            raise b.error(f"dataset {path!r} declares shape {shape} of {dtype.dtype} ({needed} bytes) but "
                          f"stores {place.size} bytes.")
        b.check(place.address, needed)
        return np.frombuffer(b.data, dtype.dtype, count, place.address).reshape(shape)


def read_hdf5(data, what: str = "HDF5 file") -> H5Group:
    """The tree of groups, string attributes and arrays in ``data`` (a file's bytes;
    pass a ``bytearray`` to get writable arrays). ``what`` names the file in errors."""
    reader = _Reader(data, what)
    header, cache = reader.superblock()
    root = reader.read_object(header, 0, "")
    if not isinstance(root, H5Group):
        raise FileFormatError(f"{what}: the root object is a dataset, not a group.")
    return root
