"""Dtype promotion: ONE table for every backend (JAX's type lattice, weak Python scalars).

Each dtype lists the dtypes directly above it. Combining dtypes gives their
least upper bound in this lattice. Python scalars (``int``, ``float``,
``complex``) are *weak*: they sit below every dtype of their kind, so
``float16 array + 1.0`` stays float16 and ``int8 array + 1`` stays int8. A result
that is still weak (only Python scalars, or ``int32 + 1.5``) takes the default
dtype of its kind: int32, float32, complex64.

>>> from purekeras.ops._dtypes import result_type
>>> result_type("float16", float), result_type("int8", "uint8"), result_type("int32", 1.5)
('float16', 'int16', 'float32')
"""
from __future__ import annotations

from typing import Any

# dtype -> the dtypes directly above it. "int*", "float*", "complex*" are the weak
# kinds of Python scalars.
_ABOVE: dict[str, tuple[str, ...]] = {
    "bool": ("int*",),
    "int*": ("uint8", "int8"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float*",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float*",),
    "float*": ("bfloat16", "float16", "complex*"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex*": ("complex64",),
    "complex64": ("complex128",),
    "complex128": (),
}
_WEAK_DEFAULT = {"int*": "int32", "float*": "float32", "complex*": "complex64"}
_PYTHON_KINDS = {bool: "bool", int: "int*", float: "float*", complex: "complex*"}


def _upper_sets() -> dict[str, frozenset[str]]:
    """Every dtype -> itself and everything above it (the lattice is small: a fixpoint)."""
    upper = {t: frozenset({t}) for t in _ABOVE}
    changed = True
    while changed:
        changed = False
        for t, parents in _ABOVE.items():
            grown = upper[t].union(*(upper[p] for p in parents))
            if grown != upper[t]:
                upper[t], changed = grown, True
    return upper


_UPPER = _upper_sets()


def _lattice_name(value: Any) -> str:
    if isinstance(value, type) and value in _PYTHON_KINDS:
        return _PYTHON_KINDS[value]
    if type(value) in _PYTHON_KINDS:  # a Python scalar value
        return _PYTHON_KINDS[type(value)]
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if name not in _UPPER or name in _WEAK_DEFAULT:
        raise TypeError(
            f"result_type: unsupported dtype {value!r}; expected one of "
            f"{sorted(n for n in _UPPER if n not in _WEAK_DEFAULT)}, or a Python bool/int/float/complex."
        )
    return name


def result_type(*dtypes: Any) -> str:
    """The dtype an op on arrays of ``dtypes`` returns, as a NumPy-style name.

    Each argument is a dtype name (``"bfloat16"``), an object with a ``.name``
    (a NumPy dtype), a Python scalar type (``int``, ``float``...) or a Python
    scalar value; Python ints, floats and complexes are weak.

    >>> result_type("bfloat16", "float16")
    'float32'
    >>> result_type(int, float), result_type("bool", True), result_type("uint32", "int32")
    ('float32', 'bool', 'int64')
    """
    if not dtypes:
        raise TypeError("result_type needs at least one dtype.")
    names = [_lattice_name(d) for d in dtypes]
    bounds = frozenset.intersection(*(_UPPER[n] for n in names))
    (least,) = [t for t in bounds if _UPPER[t] == bounds]
    return _WEAK_DEFAULT.get(least, least)
