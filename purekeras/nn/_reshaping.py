"""Reshaping layers: Flatten and Reshape (the batch axis is kept)."""
from __future__ import annotations

from typing import ClassVar

import math
from dataclasses import dataclass

from .. import ops
from ._core_layers import check_data_format, check_single, float_spec
from ._layer import Layer


@dataclass(frozen=True)
class Flatten(Layer):
    """Flattens every axis but the batch: ``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``.

    A rank-1 input ``(batch,)`` becomes ``(batch, 1)``, as in Keras. Only
    ``data_format="channels_last"`` (or ``None``) is supported.

    >>> from purekeras import nn, ops
    >>> nn.Flatten().output_spec(nn.InputSpec((None, 10, 64))).shape
    (None, 640)
    >>> nn.Flatten().apply({}, {}, ops.ones((2, 3, 4), backend="jax"))[0].shape
    (2, 12)
    """

    uses_rng: ClassVar[bool] = False

    data_format: str | None = None

    def __post_init__(self):
        check_data_format(self, self.data_format)

    def apply(self, params, state, x, *, training=False, rng=None):
        shape = ops.shape(x)
        return ops.reshape(self.cast_input(x), (shape[0], math.prod(shape[1:]))), state

    def output_spec(self, input_spec):
        spec = check_single(self, input_spec)
        if spec.rank < 1:
            raise self.error(f"expected an input with a batch axis, got shape {spec.shape}.")
        rest = spec.shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return float_spec(self, spec.with_shape((spec.shape[0], flat)))


@dataclass(frozen=True)
class Reshape(Layer):
    """Reshapes every axis but the batch to ``target_shape``; one entry may be
    ``-1``, inferred from the input's size.

    >>> from purekeras import nn, ops
    >>> nn.Reshape((-1, 2)).output_spec(nn.InputSpec((None, 3, 4))).shape
    (None, 6, 2)
    >>> nn.Reshape((4, 3)).apply({}, {}, ops.ones((2, 3, 4), backend="jax"))[0].shape
    (2, 4, 3)
    """

    uses_rng: ClassVar[bool] = False

    target_shape: tuple

    def __post_init__(self):
        try:
            target = tuple(self.target_shape)
        except TypeError:
            raise self.error(f"target_shape must be a tuple of ints, got {self.target_shape!r}.") from None
        if any(isinstance(d, bool) or not isinstance(d, int) or (d <= 0 and d != -1) for d in target):
            raise self.error(
                f"target_shape must hold positive ints and at most one -1, got {target}.")
        if target.count(-1) > 1:
            raise self.error(f"target_shape may hold at most one -1, got {target}.")
        object.__setattr__(self, "target_shape", target)

    def _resolve(self, input_shape) -> tuple:
        """The per-example output shape for per-example ``input_shape`` (None if unknown)."""
        target = self.target_shape
        if any(d is None for d in input_shape):
            return tuple(None if d == -1 else d for d in target)
        total = math.prod(input_shape)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if known == 0 or total % known:
                raise self.error(
                    f"cannot reshape an input of shape (batch, *{tuple(input_shape)}) "
                    f"({total} values per example) to (batch, *{target}): {total} is not a "
                    f"multiple of {known}. Choose a target_shape whose known sizes divide {total}."
                )
            return tuple(total // known if d == -1 else d for d in target)
        if known != total:
            raise self.error(
                f"cannot reshape an input of shape (batch, *{tuple(input_shape)}) "
                f"({total} values per example) to (batch, *{target}) ({known} values). "
                "Use a target_shape with the same number of values, or -1 for one axis."
            )
        return target

    def apply(self, params, state, x, *, training=False, rng=None):
        shape = ops.shape(x)
        return ops.reshape(self.cast_input(x), (shape[0], *self._resolve(shape[1:]))), state

    def output_spec(self, input_spec):
        spec = check_single(self, input_spec)
        if spec.rank < 1:
            raise self.error(f"expected an input with a batch axis, got shape {spec.shape}.")
        return float_spec(self, spec.with_shape((spec.shape[0], *self._resolve(spec.shape[1:]))))
