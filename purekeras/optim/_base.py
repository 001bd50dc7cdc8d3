"""The optimizer contract: a frozen spec, an explicit ``OptState``, pure ``apply``.

``apply(grads, opt_state, params) -> (params, opt_state)`` does what Keras 3's
``optimizer.apply`` does, in Keras's order: clip gradients (``clipnorm``,
``clipvalue``, ``global_clipnorm``), decay weights (``weight_decay``), then the
optimizer's own update. The learning rate lives in ``opt_state.learning_rate``,
so a callback can change it between steps without recompiling; with a schedule
it is recomputed from ``opt_state.iterations`` each step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import optree

from .. import ops
from ._clipping import clip_gradients


class OptState(NamedTuple):
    iterations: Any  # shape (), int32: updates applied so far
    learning_rate: Any  # shape (), float32: the rate of the next update
    slots: Any  # the optimizer's own state (moments, ...), a NamedTuple of pytrees


def tree_map(fn, *trees):
    return optree.tree_map(fn, *trees, none_is_leaf=False)


def first_leaf(tree):
    leaves = optree.tree_leaves(tree)
    if not leaves:
        raise ValueError("The optimizer was given params with no arrays.")
    return leaves[0]


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """Base of every optimizer: Keras's shared arguments and the update order."""

    learning_rate: Any = 0.001  # a float or a schedule (callable of the step)
    weight_decay: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    name: str | None = None

    def __post_init__(self):
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(
                f"{type(self).__name__}: set clipnorm or global_clipnorm, not both."
            )

    # -- to override -------------------------------------------------------------
    def init_slots(self, params) -> Any:
        """The optimizer's own state for ``params``."""
        return ()

    def update(self, grads, slots, params, learning_rate, step):
        """One update: new params and slots. ``step`` counts from 1 (float32)."""
        raise NotImplementedError

    # -- the contract --------------------------------------------------------------
    @property
    def has_schedule(self) -> bool:
        return callable(self.learning_rate)

    def current_learning_rate(self, iterations):
        if self.has_schedule:
            return ops.cast(self.learning_rate(iterations), "float32")
        return None

    def init(self, params) -> OptState:
        """The initial ``OptState`` for ``params`` (same backend as the params)."""
        backend = ops.backend_name(first_leaf(params))
        iterations = ops.zeros((), "int32", backend=backend)
        if self.has_schedule:
            lr = self.current_learning_rate(iterations)
        else:
            lr = ops.full((), float(self.learning_rate), "float32", backend=backend)
        return OptState(iterations, lr, self.init_slots(params))

    def apply(self, grads, opt_state: OptState, params):
        """``(new_params, new_opt_state)`` after one update with ``grads``."""
        grads = clip_gradients(grads, self.clipnorm, self.clipvalue, self.global_clipnorm)
        lr = opt_state.learning_rate
        if self.has_schedule:
            lr = self.current_learning_rate(opt_state.iterations)
        if self.weight_decay:
            decay = ops.multiply(lr, self.weight_decay)
            params = tree_map(
                lambda p: ops.subtract(p, ops.multiply(p, ops.cast(decay, ops.dtype(p)))), params)
        step = ops.cast(ops.add(opt_state.iterations, 1), "float32")
        params, slots = self.update(grads, opt_state.slots, params, lr, step)
        return params, OptState(ops.add(opt_state.iterations, 1), lr, slots)

    def with_learning_rate(self, opt_state: OptState, value: float) -> OptState:
        """``opt_state`` with a new learning rate (for callbacks); no recompilation."""
        if self.has_schedule:
            raise ValueError(
                f"{type(self).__name__} uses a learning-rate schedule; its rate cannot be "
                "set by hand. Use a constant learning_rate to let callbacks change it."
            )
        lr = ops.full((), float(value), "float32", backend=ops.backend_name(opt_state.learning_rate))
        return opt_state._replace(learning_rate=lr)
