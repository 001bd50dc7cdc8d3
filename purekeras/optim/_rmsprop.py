"""RMSprop, with Keras 3's update rule and argument names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops
from ._base import Optimizer, tree_map


class RMSpropSlots(NamedTuple):
    """RMSprop's state in ``opt_state.slots``.

    >>> from purekeras import optim, ops
    >>> optim.RMSprop().init({"w": ops.ones((2,), backend="jax")}).slots.momentums
    ()
    """

    velocities: Any  # moving average of g**2, like params
    momentums: Any  # accumulated increments, like params; () when momentum == 0
    average_gradients: Any  # moving average of g (centered), like params; () otherwise


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """RMSprop, as Keras 3 computes it::

        velocity = rho * velocity + (1 - rho) * g**2
        average  = rho * average + (1 - rho) * g             (centered only)
        denominator = velocity - average**2 + epsilon          (centered)
                    = velocity + epsilon                        (otherwise)
        increment = lr * g / sqrt(denominator)
        momentum == 0:  var -= increment
        otherwise:      mom = momentum * mom + increment;  var -= mom

    >>> from purekeras import optim, ops
    >>> opt = optim.RMSprop(learning_rate=0.1)
    >>> params = {"w": ops.full((1,), 10.0, backend="jax")}
    >>> params, _ = opt.apply({"w": params["w"]}, opt.init(params), params)
    >>> round(float(params["w"][0]), 4)
    9.6838
    """

    learning_rate: Any = 0.001
    rho: float = 0.9
    momentum: float = 0.0
    epsilon: float = 1e-7
    centered: bool = False

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.momentum, bool) or not self.momentum >= 0:
            raise ValueError(f"RMSprop: `momentum` must be a float >= 0; received momentum={self.momentum!r}.")

    def init_slots(self, params) -> RMSpropSlots:
        def zeros():
            return tree_map(ops.zeros_like, params)
        return RMSpropSlots(zeros(), zeros() if self.momentum > 0 else (), zeros() if self.centered else ())

    def update(self, grads, slots, params, learning_rate, step):
        rho = self.rho
        grads = tree_map(lambda g, p: ops.cast(g, ops.dtype(p)), grads, params)

        def moving_average(avg, value):
            return ops.add(ops.multiply(rho, avg), ops.multiply(1 - rho, value))

        velocities = tree_map(lambda v, g: moving_average(v, ops.square(g)), slots.velocities, grads)
        average_gradients = slots.average_gradients
        if self.centered:
            average_gradients = tree_map(moving_average, slots.average_gradients, grads)
            denominators = tree_map(lambda v, a: ops.add(ops.subtract(v, ops.square(a)), self.epsilon),
                                    velocities, average_gradients)
        else:
            denominators = tree_map(lambda v: ops.add(v, self.epsilon), velocities)

        def increment(g, d):
            return ops.divide(ops.multiply(ops.cast(learning_rate, ops.dtype(g)), g), ops.sqrt(d))

        increments = tree_map(increment, grads, denominators)
        momentums = slots.momentums
        if self.momentum > 0:
            momentums = tree_map(lambda m, i: ops.add(ops.multiply(self.momentum, m), i), slots.momentums, increments)
            increments = momentums
        params = tree_map(ops.subtract, params, increments)
        return params, RMSpropSlots(velocities, momentums, average_gradients)
