"""``OpCase``: one op call, its inputs and its NumPy reference, plus input factories.

A case's ``fn`` receives the arguments made by ``args_factory`` with every NumPy
array turned into a backend array; ``numpy_reference`` receives the same
arguments as NumPy (floats widened to float64) and returns the expected outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class OpCase:
    id: str  # "<op>/<variant>"; the part before "/" is the op it covers
    fn: Callable  # fn(*args) -> outputs (a tree), args as backend arrays
    args_factory: Callable  # args_factory(rng) -> tuple of args (NumPy arrays, lists of them, scalars)
    numpy_reference: Callable | None  # numpy_reference(*args) -> expected outputs
    check: Callable | None = None  # check(outputs, args) asserting properties (no unique reference)
    rtol: float = 1e-5
    atol: float = 1e-6
    needs_backend: bool = False  # fn is called with backend=<name> (creation ops)
    jit: bool = True  # False where the op returns Python values (str) a compiled fn cannot
    low_precision: bool = True  # run float16/bfloat16 when the case has float inputs
    grad: bool = False  # check gradients against finite differences of the reference

    @property
    def op(self) -> str:
        return self.id.split("/")[0]

    def make_args(self, seed: int = 0) -> tuple:
        return tuple(self.args_factory(np.random.default_rng(seed)))


# ----------------------------------------------------------------------------
# Input factories: each takes the rng and returns one argument.


def U(shape, lo=-1.0, hi=1.0):
    return lambda rng: rng.uniform(lo, hi, shape).astype("float32")


def N(shape):
    return lambda rng: rng.standard_normal(shape).astype("float32")


def I(shape, lo=-5, hi=6, dtype="int32"):  # noqa: E743  (I for integer)
    return lambda rng: rng.integers(lo, hi, shape).astype(dtype)


def B(shape):
    return lambda rng: rng.random(shape) < 0.5


def AWAY(shape, lo=0.5, hi=2.0):
    """Floats with |x| in [lo, hi): safe divisors."""
    return lambda rng: (rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)).astype("float32")


def C(value, dtype="float32"):
    return lambda rng: np.asarray(value, dtype)


def args(*factories):
    return lambda rng: tuple(f(rng) if callable(f) else f for f in factories)


def case(id, fn, factories, reference=None, **kw) -> OpCase:
    return OpCase(id, fn, args(*factories), reference, **kw)


