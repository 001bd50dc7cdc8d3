"""Adagrad, with Keras 3's update rule and argument names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops
from ._base import Optimizer, tree_map


class AdagradSlots(NamedTuple):
    """Adagrad's state in ``opt_state.slots``.

    >>> from purekeras import optim, ops
    >>> float(optim.Adagrad().init({"w": ops.ones((2,), backend="jax")}).slots.accumulators["w"][0])
    0.10000000149011612
    """

    accumulators: Any  # running sum of g**2, like params (starts at initial_accumulator_value)


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Adagrad, as Keras 3 computes it::

        accumulator += g**2
        var -= lr * g / sqrt(accumulator + epsilon)

    >>> from purekeras import optim, ops
    >>> opt = optim.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> params = {"w": ops.ones((1,), backend="jax")}
    >>> params, state = opt.apply({"w": ops.full((1,), 2.0, backend="jax")}, opt.init(params), params)
    >>> round(float(params["w"][0]), 4), float(state.slots.accumulators["w"][0])
    (0.9, 4.0)
    """

    learning_rate: Any = 0.001
    initial_accumulator_value: float = 0.1
    epsilon: float = 1e-7

    def __post_init__(self):
        super().__post_init__()
        if not self.initial_accumulator_value >= 0:
            raise ValueError("Adagrad: `initial_accumulator_value` must be >= 0; received "
                             f"initial_accumulator_value={self.initial_accumulator_value!r}.")

    def init_slots(self, params) -> AdagradSlots:
        return AdagradSlots(tree_map(lambda p: ops.full_like(p, self.initial_accumulator_value), params))

    def update(self, grads, slots, params, learning_rate, step):
        grads = tree_map(lambda g, p: ops.cast(g, ops.dtype(p)), grads, params)
        accumulators = tree_map(lambda a, g: ops.add(a, ops.square(g)), slots.accumulators, grads)

        def step_param(p, g, a):
            lr = ops.cast(learning_rate, ops.dtype(p))
            return ops.subtract(p, ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(a, self.epsilon))))

        return tree_map(step_param, params, grads, accumulators), AdagradSlots(accumulators)
