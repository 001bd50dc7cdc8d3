"""Writing Keras's weight files with h5py, and the ``H5Group`` tree both directions share.

``write_hdf5_file(root, file)`` writes an ``H5Group`` tree (groups with string
attributes, NumPy arrays as datasets) with h5py's defaults, as Keras does:
``libver="earliest"`` (symbol-table groups), contiguous uncompressed datasets,
string attributes as variable-length UTF-8. ``bfloat16`` arrays are stored as
Keras stores them: h5py's opaque 2-byte data with a ``dtype="bfloat16"``
attribute. Writing is trusted input, so it uses the C library; reading untrusted
files does not (``_safe_h5``, which shares ``H5Group`` and the constants below).
h5py is imported when a file is written, never by ``import purekeras``.

>>> import numpy as np
>>> data = write_hdf5(H5Group({}, {"vars": H5Group({"name": "dense"}, {"0": np.ones(2, "float32")})}))
>>> data[:8] == SIGNATURE
True
"""
from __future__ import annotations

import io
from typing import BinaryIO, NamedTuple

import numpy as np

UNDEFINED = 0xFFFFFFFFFFFFFFFF  # HDF5's undefined address
SIGNATURE = b"\x89HDF\r\n\x1a\n"
FLOAT_LAYOUT = {  # the float types _safe_h5 accepts: (sign bit, exponent location and size, mantissa size, bias)
    "float16": (15, 10, 5, 10, 15), "bfloat16": (15, 7, 8, 7, 127),
    "float32": (31, 23, 8, 23, 127), "float64": (63, 52, 11, 52, 1023),
}


class H5Group(NamedTuple):
    """A group of an HDF5 file: string ``attrs`` and ``members`` (sub-groups or arrays).

    >>> import numpy as np
    >>> H5Group({"name": "dense"}, {"0": np.zeros(3)}).members["0"].shape
    (3,)
    """

    attrs: dict  # attribute name -> str
    members: dict  # link name -> H5Group | np.ndarray


def _set_attrs(target, attrs: dict) -> None:
    for key, value in attrs.items():
        if not isinstance(value, str):
            raise TypeError(f"write_hdf5 stores string attributes only, got {key}={value!r}.")
        target.attrs[key] = value  # h5py: a scalar variable-length UTF-8 string


def _fill(target, group: H5Group) -> None:
    _set_attrs(target, group.attrs)
    for name, member in group.members.items():
        if not isinstance(name, str) or not name or "/" in name or name == ".":
            raise ValueError(f"write_hdf5: invalid link name {name!r}.")
        if isinstance(member, H5Group):
            _fill(target.create_group(name, track_order=False), member)
            continue
        array = np.asarray(member)
        if array.dtype.name not in FLOAT_LAYOUT and array.dtype.kind not in "iu":
            raise TypeError(f"write_hdf5 stores float16/bfloat16/float32/float64 and integer arrays, "
                            f"got {array.dtype} at {name!r}.")
        dataset = target.create_dataset(name, data=array)
        if array.dtype.name == "bfloat16":
            dataset.attrs["dtype"] = "bfloat16"


def write_hdf5_file(root: H5Group, file: str | BinaryIO) -> None:
    """Write ``root`` to ``file`` (a path, or a seekable binary file object) with h5py.

    >>> import io, numpy as np
    >>> buffer = io.BytesIO()
    >>> write_hdf5_file(H5Group({"note": "x"}, {"w": np.arange(3)}), buffer)
    >>> buffer.getvalue()[:8] == SIGNATURE
    True
    """
    import h5py

    with h5py.File(file, "w", libver="earliest", track_order=False) as f:
        _fill(f, root)


def write_hdf5(root: H5Group) -> bytes:
    """The bytes of an HDF5 file holding ``root`` (see the module docstring)."""
    buffer = io.BytesIO()
    write_hdf5_file(root, buffer)
    return buffer.getvalue()
