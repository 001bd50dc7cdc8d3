"""Weight regularizers: frozen specs called on a variable, returning a scalar penalty.

>>> from purekeras import nn, ops
>>> float(nn.regularizers.L2(0.5)(ops.ones((2,), backend="jax")))
1.0
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import ops


@dataclass(frozen=True)
class Regularizer:
    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(x) -> scalar penalty.")


@dataclass(frozen=True)
class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    l1: float = 0.0
    l2: float = 0.0

    def __call__(self, x):
        total = ops.zeros((), ops.dtype(x), backend=ops.backend_name(x))
        if self.l1:
            total = ops.add(total, ops.multiply(self.l1, ops.sum(ops.abs(x))))
        if self.l2:
            total = ops.add(total, ops.multiply(self.l2, ops.sum(ops.square(x))))
        return total


def L1(l1: float = 0.01) -> L1L2:
    return L1L2(l1=l1)


def L2(l2: float = 0.01) -> L1L2:
    return L1L2(l2=l2)


def get(identifier):
    """A regularizer from ``None``, ``"l1"``, ``"l2"``, ``"l1_l2"``, or a callable."""
    if identifier is None or callable(identifier):
        return identifier
    names = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01)}
    if isinstance(identifier, str) and identifier in names:
        return names[identifier]()
    raise ValueError(f"Unknown regularizer {identifier!r}; use one of {sorted(names)} or a callable.")
