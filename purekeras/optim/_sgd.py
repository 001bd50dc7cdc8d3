"""SGD, with Keras 3's update rule and argument names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops
from ._base import Optimizer, tree_map


class SGDSlots(NamedTuple):
    """SGD's state in ``opt_state.slots``.

    >>> from purekeras import optim, ops
    >>> optim.SGD(momentum=0.9).init({"w": ops.ones((2,), backend="jax")}).slots.momentums["w"].shape
    (2,)
    """

    momentums: Any  # velocities, like params; () when momentum == 0


@dataclass(frozen=True)
class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as Keras 3 computes it::

        momentum == 0:  var -= lr * g
        otherwise:      m = momentum * m - lr * g
                        var += m                          (nesterov=False)
                        var += momentum * m - lr * g      (nesterov=True)

    >>> from purekeras import optim, ops
    >>> opt = optim.SGD(learning_rate=0.1, momentum=0.9)
    >>> params = {"w": ops.ones((2,), backend="jax")}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...     params, state = opt.apply({"w": ops.ones((2,), backend="jax")}, state, params)
    >>> [round(float(v), 4) for v in params["w"]]
    [0.71, 0.71]
    """

    learning_rate: Any = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.momentum, bool) or not 0 <= self.momentum <= 1:
            raise ValueError(f"SGD: `momentum` must be a float in [0, 1]; received momentum={self.momentum!r}.")

    def init_slots(self, params) -> SGDSlots:
        return SGDSlots(tree_map(ops.zeros_like, params) if self.momentum != 0 else ())

    def update(self, grads, slots, params, learning_rate, step):
        if self.momentum == 0:
            def plain(p, g):
                lr = ops.cast(learning_rate, ops.dtype(p))
                return ops.subtract(p, ops.multiply(ops.cast(g, ops.dtype(p)), lr))
            return tree_map(plain, params, grads), slots

        def velocity(m, p, g):
            lr = ops.cast(learning_rate, ops.dtype(p))
            return ops.subtract(ops.multiply(m, self.momentum), ops.multiply(ops.cast(g, ops.dtype(p)), lr))

        def step_param(p, m, g):
            if not self.nesterov:
                return ops.add(p, m)
            lr = ops.cast(learning_rate, ops.dtype(p))
            return ops.add(p, ops.subtract(ops.multiply(m, self.momentum),
                                           ops.multiply(ops.cast(g, ops.dtype(p)), lr)))

        momentums = tree_map(velocity, slots.momentums, params, grads)
        return tree_map(step_param, params, momentums, grads), SGDSlots(momentums)
