"""The one dtype-promotion table: a lattice, agreeing with JAX's promotion."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from purekeras.ops._dtypes import result_type

STRONG = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "bfloat16", "float16", "float32", "float64", "complex64", "complex128"]
WEAK = [int, float, complex]
ALL = STRONG + WEAK


@pytest.mark.parametrize(("inputs", "expected"), [
    (("float16", float), "float16"),
    (("bfloat16", 2.0), "bfloat16"),
    (("int8", 1), "int8"),
    (("uint8", "int8"), "int16"),
    (("uint32", "int32"), "int64"),
    (("uint64", "int64"), "float32"),  # no integer holds both: the (weak) default float
    (("int32", 1.5), "float32"),
    (("int64", "float16"), "float16"),
    (("bfloat16", "float16"), "float32"),
    (("bool", True), "bool"),
    (("bool", 1), "int32"),
    ((int,), "int32"),
    ((int, float), "float32"),
    ((float, complex), "complex64"),
    (("float64", "complex64"), "complex128"),
    ((np.dtype("float32"), np.dtype("int16")), "float32"),
])
def test_known_promotions(inputs, expected):
    assert result_type(*inputs) == expected


def test_is_a_join_independent_of_order():
    for a in ALL:
        assert result_type(a, a) == result_type(a)
    for a, b, c in itertools.product(ALL, repeat=3):
        joined = result_type(a, b, c)
        assert joined == result_type(c, a, b) == result_type(b, c, a) == result_type(c, b, a)


def test_agrees_with_jax_for_32_bit_types():
    """JAX (64-bit types disabled) is the reference: compare where no input is 64-bit."""
    import jax.numpy as jnp

    narrow = [t for t in STRONG if "64" not in t or t == "complex64"] + [1, 1.0, 1j]  # JAX: values are weak
    canonical = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}
    for a, b in itertools.product(narrow, repeat=2):
        ours = result_type(a, b)
        with warnings.catch_warnings():  # weak complex -> complex128, which JAX truncates (and warns)
            warnings.simplefilter("ignore", UserWarning)
            theirs = jnp.result_type(a, b).name
        assert canonical.get(ours, ours) == theirs, (a, b)


def test_unknown_dtype_is_a_clear_error():
    with pytest.raises(TypeError, match="unsupported dtype 'float8'"):
        result_type("float32", "float8")
    with pytest.raises(TypeError, match="at least one dtype"):
        result_type()
