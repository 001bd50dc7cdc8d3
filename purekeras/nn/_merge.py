"""Merge layers: Add, Multiply, Concatenate. Each takes a list of inputs."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

from .. import ops
from ._layer import Layer
from ._spec import InputSpec


@dataclass(frozen=True)
class _Merge(Layer):
    """Base of the merge layers: checks a list of inputs and combines them."""

    uses_rng: ClassVar[bool] = False

    def _check_list(self, inputs, what: str = "inputs") -> list:
        if not isinstance(inputs, (list, tuple)) or len(inputs) == 0:
            raise self.error(
                f"expected a non-empty list of {what}, got {inputs!r}. Call it on a list, "
                f"e.g. nn.{type(self).__name__}()([a, b])."
            )
        return list(inputs)

    def _check_specs(self, input_spec) -> list[InputSpec]:
        specs = self._check_list(input_spec, "InputSpecs")
        for spec in specs:
            if not isinstance(spec, InputSpec) or spec.rank < 1:
                raise self.error(f"expected InputSpecs with a batch axis, got {spec!r}.")
        batch = {s.shape[0] for s in specs} - {None}
        if len(batch) > 1:
            raise self.error(
                f"cannot merge inputs with different batch sizes; got shapes "
                f"{[s.shape for s in specs]}."
            )
        return specs

    def _output_dtype(self, specs) -> str:
        if any(ops.is_floating(s.dtype) for s in specs):
            return self.compute_dtype
        return specs[0].dtype

    def _cast_all(self, xs) -> list:
        return [self.cast_input(x) for x in self._check_list(xs)]


def _broadcast(layer: Layer, shapes) -> tuple:
    """NumPy broadcasting of per-example shapes, ``None`` meaning unknown."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        dims = [s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0]
        sizes = set(dims) - {1, None}
        if len(sizes) > 1:
            raise layer.error(
                f"inputs have incompatible shapes {[('batch', *s) for s in shapes]}: per-example "
                "axes must be equal or 1 (aligned from the right). Reshape the inputs to match."
            )
        if sizes:
            out.append(sizes.pop())
        else:  # all 1, or some unknown that may be larger
            out.append(None if None in dims else 1)
    return tuple(out)


@dataclass(frozen=True)
class _ElementwiseMerge(_Merge):
    """Combines inputs elementwise with broadcasting. Inputs of lower rank get
    new axes after the batch axis, as in Keras."""

    _op: ClassVar[str]  # the name of the binary op in purekeras.ops

    def apply(self, params, state, x, *, training=False, rng=None):
        xs = self._cast_all(x)
        rank = max(ops.ndim(v) for v in xs)
        aligned = []
        for v in xs:
            for _ in range(rank - ops.ndim(v)):
                v = ops.expand_dims(v, 1)
            aligned.append(v)
        return functools.reduce(getattr(ops, self._op), aligned), state

    def output_spec(self, input_spec):
        specs = self._check_specs(input_spec)
        per_example = _broadcast(self, [s.shape[1:] for s in specs])
        batch = next((s.shape[0] for s in specs if s.shape[0] is not None), None)
        return InputSpec((batch, *per_example), self._output_dtype(specs))


@dataclass(frozen=True)
class Add(_ElementwiseMerge):
    """Elementwise sum of a list of inputs of the same (or broadcastable) shape.

    >>> from purekeras import nn, ops
    >>> a, b = ops.ones((1, 2), backend="jax"), ops.full((1, 2), 2.0, backend="jax")
    >>> nn.Add().apply({}, {}, [a, b])[0].tolist()
    [[3.0, 3.0]]
    """

    _op: ClassVar[str] = "add"


@dataclass(frozen=True)
class Multiply(_ElementwiseMerge):
    """Elementwise product of a list of inputs of the same (or broadcastable) shape.

    >>> from purekeras import nn, ops
    >>> a, b = ops.full((1, 2), 3.0, backend="jax"), ops.full((1, 2), 2.0, backend="jax")
    >>> nn.Multiply().apply({}, {}, [a, b])[0].tolist()
    [[6.0, 6.0]]
    """

    _op: ClassVar[str] = "multiply"


@dataclass(frozen=True)
class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``; every other axis must match.

    >>> from purekeras import nn
    >>> nn.Concatenate().output_spec([nn.InputSpec((None, 3)), nn.InputSpec((None, 5))]).shape
    (None, 8)
    """

    axis: int = -1

    def apply(self, params, state, x, *, training=False, rng=None):
        return ops.concatenate(self._cast_all(x), axis=self.axis), state

    def output_spec(self, input_spec):
        specs = self._check_specs(input_spec)
        shapes = [s.shape for s in specs]
        rank = specs[0].rank
        if any(s.rank != rank for s in specs):
            raise self.error(
                f"inputs must all have the same rank to concatenate, got shapes {shapes}.")
        if not -rank <= self.axis < rank:
            raise self.error(f"axis={self.axis} is out of range for inputs of rank {rank} "
                             f"(shapes {shapes}).")
        axis = self.axis % rank
        out = []
        for i in range(rank):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = set(dims) - {None}
            if len(known) > 1:
                raise self.error(
                    f"inputs must have matching shapes except along the concatenation "
                    f"axis {self.axis}; got shapes {shapes} (axis {i} differs)."
                )
            out.append(known.pop() if known else None)
        return InputSpec(tuple(out), self._output_dtype(specs))
