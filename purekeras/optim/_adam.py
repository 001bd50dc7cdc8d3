"""Adam and AdamW, with Keras 3's update rule and argument names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops
from ._base import Optimizer, tree_map


class AdamSlots(NamedTuple):
    m: Any  # first moments, like params
    v: Any  # second moments, like params
    v_hat: Any  # running max of v (amsgrad), or () when amsgrad is off


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam, as Keras 3 computes it::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        var -= alpha * m / (sqrt(v) + epsilon)

    >>> from purekeras import optim, ops
    >>> opt = optim.Adam(learning_rate=0.1)
    >>> params = {"w": ops.ones((2,), backend="jax")}
    >>> state = opt.init(params)
    >>> params, state = opt.apply({"w": ops.ones((2,), backend="jax")}, state, params)
    >>> [round(float(v), 4) for v in params["w"]], int(state.iterations)
    ([0.9, 0.9], 1)
    """

    learning_rate: Any = 0.001
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    amsgrad: bool = False

    def init_slots(self, params):
        zeros = lambda p: ops.zeros_like(p)  # noqa: E731
        return AdamSlots(tree_map(zeros, params), tree_map(zeros, params),
                         tree_map(zeros, params) if self.amsgrad else ())

    def update(self, grads, slots, params, learning_rate, step):
        b1, b2 = self.beta_1, self.beta_2
        alpha = ops.divide(ops.multiply(learning_rate, ops.sqrt(ops.subtract(1.0, ops.power(b2, step)))),
                           ops.subtract(1.0, ops.power(b1, step)))
        m = tree_map(lambda m, g: ops.add(m, ops.multiply(ops.subtract(g, m), 1.0 - b1)), slots.m, grads)
        v = tree_map(lambda v, g: ops.add(v, ops.multiply(ops.subtract(ops.square(g), v), 1.0 - b2)), slots.v, grads)
        v_hat = slots.v_hat
        denominator_v = v
        if self.amsgrad:
            v_hat = tree_map(ops.maximum, slots.v_hat, v)
            denominator_v = v_hat

        def step_param(p, m, v):
            a = ops.cast(alpha, ops.dtype(p))
            return ops.subtract(p, ops.divide(ops.multiply(m, a), ops.add(ops.sqrt(v), self.epsilon)))

        return tree_map(step_param, params, m, denominator_v), AdamSlots(m, v, v_hat)


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's default ``weight_decay=0.004``)."""

    weight_decay: float | None = 0.004
