"""The layer contract: a frozen dataclass of hyperparameters with three verbs.

- ``init(key, input_spec) -> (params, state)``: pure function of a key and the input spec.
- ``apply(params, state, x, *, training=False, rng=None) -> (y, state)``: pure forward pass.
- ``output_spec(input_spec) -> spec``: shape/dtype inference, no compute.

Params and state are plain nested dicts of arrays, keyed by Keras's variable
names. Calling a layer on symbolic ``nn.Input`` tensors builds a functional graph.

>>> from dataclasses import dataclass
>>> from purekeras import nn, ops, random
>>> @dataclass(frozen=True)
... class Scale(nn.Layer):
...     factor: float = 2.0
...     def apply(self, params, state, x, *, training=False, rng=None):
...         return ops.multiply(x, self.factor), state
...     def output_spec(self, input_spec):
...         return input_spec
>>> layer = Scale(3.0)
>>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 2)))
>>> y, _ = layer.apply(params, state, ops.ones((1, 2), backend="jax"))
>>> y.tolist()
[[3.0, 3.0]]
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import optree

from .. import ops
from . import _regularizers as regularizers
from ._dtype_policy import variable_and_compute_dtype
from ._naming import snake_case
from ._spec import InputSpec

Params = dict
State = dict


class LayerError(ValueError):
    """A layer was given input it cannot take; the message names layer, shapes and fix."""


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Base of every layer spec. Subclasses add hyperparameter fields and override
    ``init`` (if they have variables), ``apply`` and ``output_spec``."""

    name: str | None = None
    dtype: str | None = None  # Keras dtype policy: None, "bfloat16", "mixed_bfloat16", ...

    # -- the three verbs -----------------------------------------------------
    def init(self, key, input_spec) -> tuple[Params, State]:
        """Params and state for inputs like ``input_spec``. Default: none."""
        self.output_spec(input_spec)  # validates the input
        return {}, {}

    def apply(self, params: Params, state: State, x, *, training: bool = False, rng=None):
        raise NotImplementedError(f"{type(self).__name__} must define apply().")

    def output_spec(self, input_spec):
        raise NotImplementedError(f"{type(self).__name__} must define output_spec().")

    # -- shared helpers --------------------------------------------------------
    @property
    def uses_rng(self) -> bool:
        """Whether ``apply`` may draw on ``rng``. Composites derive a key only for
        children that do (a ``fold_in`` per child costs real time on eager
        backends). True unless a layer says otherwise, so a custom stochastic
        layer needs nothing; deterministic layers set ``uses_rng = False``.

        >>> from purekeras import nn
        >>> nn.Dense(2).uses_rng, nn.Dropout(0.5).uses_rng
        (False, True)
        >>> nn.Sequential([nn.Dense(2), nn.Dropout(0.5)]).uses_rng
        True
        """
        return True

    @property
    def variable_dtype(self) -> str:
        return variable_and_compute_dtype(self.dtype)[0]

    @property
    def compute_dtype(self) -> str:
        return variable_and_compute_dtype(self.dtype)[1]

    @property
    def display_name(self) -> str:
        return self.name or snake_case(type(self).__name__)

    def cast_input(self, x):
        """Floating inputs are cast to the compute dtype, as Keras autocasts."""
        if ops.is_floating(ops.dtype(x)):
            return ops.cast(x, self.compute_dtype)
        return x

    def cast_param(self, value):
        """A variable in the compute dtype (a no-op without mixed precision)."""
        return ops.cast(value, self.compute_dtype)

    def error(self, message: str) -> LayerError:
        """A ``LayerError`` whose message starts with this layer's name and class."""
        return LayerError(f"Layer '{self.display_name}' ({type(self).__name__}): {message}")

    def check_rank(self, input_spec, ranks, what: str = "input") -> InputSpec:
        """Raise a clear error unless ``input_spec`` is an InputSpec of one of ``ranks``."""
        ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
        if not isinstance(input_spec, InputSpec):
            raise self.error(f"expected one {what} (an InputSpec), got {input_spec!r}.")
        if input_spec.rank not in ranks:
            expect = " or ".join(str(r) for r in ranks)
            raise self.error(
                f"expected {what} of rank {expect}, got shape {input_spec.shape} "
                f"(rank {input_spec.rank}). Reshape the input or use a layer for that rank."
            )
        return input_spec

    def regularization_loss(self, params: Params):
        """Sum of the penalties of every ``<var>_regularizer`` field on ``params[<var>]``."""
        total = None
        for field in dataclasses.fields(self):
            if not field.name.endswith("_regularizer"):
                continue
            regularizer = regularizers.get(getattr(self, field.name))
            variable = field.name.removesuffix("_regularizer")
            if regularizer is None or variable not in params:
                continue
            penalty = regularizer(params[variable])
            total = penalty if total is None else ops.add(total, penalty)
        return total

    # -- convenience -----------------------------------------------------------
    def __call__(self, *inputs, **kwargs):
        """On symbolic tensors (from ``nn.Input``): a node of a functional graph."""
        from ._functional import call_symbolic, is_symbolic

        if inputs and all(is_symbolic(leaf) for leaf in optree.tree_leaves(inputs)):
            return call_symbolic(self, inputs[0] if len(inputs) == 1 else inputs, kwargs)
        raise TypeError(
            f"{type(self).__name__} is a spec and holds no weights: use "
            "`params, state = layer.init(key, input_spec)` then "
            "`y, state = layer.apply(params, state, x)`, or call it on `nn.Input` "
            "tensors to build a functional model."
        )

    def count_params(self, params: Params) -> int:
        return sum(ops.size(leaf) for leaf in optree.tree_leaves(params))


def require_rng(layer: Layer, rng: Any):
    """Raise a clear error when a stochastic layer trains without an ``rng``."""
    if rng is None:
        raise layer.error(
            "needs an rng in training mode. Pass `rng=key` (from `purekeras.random.key`) "
            "to apply(), or call it with training=False."
        )
    return rng
