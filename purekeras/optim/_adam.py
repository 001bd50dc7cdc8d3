"""Adam and AdamW, with Keras 3's update rule and argument names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops
from ._base import Optimizer, is_torch, tree_map


class AdamSlots(NamedTuple):
    """Adam's (and AdamW's) state in ``opt_state.slots``.

    >>> from purekeras import optim, ops
    >>> optim.Adam().init({"w": ops.ones((2,), backend="jax")}).slots._fields
    ('m', 'v', 'v_hat')
    """

    m: Any  # first moments, like params
    v: Any  # second moments, like params
    v_hat: Any  # running max of v (amsgrad), like params; () when amsgrad is off


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam, as Keras 3 computes it (``t`` counts updates from 1)::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                              (amsgrad only)
        var -= m * alpha / (sqrt(v or v_hat) + epsilon)

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

    def init_slots(self, params) -> AdamSlots:
        def zeros():
            return tree_map(ops.zeros_like, params)
        return AdamSlots(zeros(), zeros(), zeros() if self.amsgrad else ())

    def update(self, grads, slots, params, learning_rate, step):
        b1, b2 = self.beta_1, self.beta_2

        def first_moment(m, g):
            return ops.add(m, ops.multiply(ops.subtract(ops.cast(g, ops.dtype(m)), m), 1 - b1))

        def second_moment(v, g):
            return ops.add(v, ops.multiply(ops.subtract(ops.square(ops.cast(g, ops.dtype(v))), v), 1 - b2))

        # The step size in float32 (Keras's own numerics for float32 params; for
        # float16/bfloat16 params Keras would round beta_2 = 0.999 to 1 and never move).
        alpha = ops.divide(ops.multiply(learning_rate, ops.sqrt(ops.subtract(1, ops.power(b2, step)))),
                           ops.subtract(1, ops.power(b1, step)))
        # On PyTorch: one torch._foreach_* call per line of the math, not one op per leaf.
        fast = self._update_multi_tensor(grads, slots, params, alpha) if is_torch(params) else None
        if fast is not None:
            return fast

        def step_param(p, m, v):
            a = ops.cast(alpha, ops.dtype(p))
            return ops.subtract(p, ops.divide(ops.multiply(m, a), ops.add(ops.sqrt(v), self.epsilon)))

        m = tree_map(first_moment, slots.m, grads)
        v = tree_map(second_moment, slots.v, grads)
        v_hat = tree_map(ops.maximum, slots.v_hat, v) if self.amsgrad else ()
        return tree_map(step_param, params, m, v_hat if self.amsgrad else v), AdamSlots(m, v, v_hat)

    def _update_multi_tensor(self, grads, slots, params, alpha):
        """The same update with ``torch._foreach_*`` (``optim._foreach``); ``None``
        where that path cannot run (tensors inside a ``torch.func`` transform)."""
        from . import _foreach

        leaves, treedef = _foreach.flatten(params)
        if not _foreach.multi_tensor(leaves):
            return None
        parts = [leaves] + [_foreach.flatten(t)[0] for t in (grads, slots.m, slots.v)]
        v_hat = _foreach.flatten(slots.v_hat)[0] if self.amsgrad else None
        p, m, v, v_hat = _foreach.adam(*parts, v_hat, alpha, self.beta_1, self.beta_2, self.epsilon)
        tree = lambda values: _foreach.unflatten(treedef, values)  # noqa: E731
        return tree(p), AdamSlots(tree(m), tree(v), tree(v_hat) if self.amsgrad else ())


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay, Keras's ``AdamW`` (``weight_decay=0.004``).

    Each step first decays the weights, ``var -= var * weight_decay * lr``, then
    applies Adam's update.

    >>> from purekeras import optim, ops
    >>> opt = optim.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> params = {"w": ops.ones((1,), backend="jax")}
    >>> params, _ = opt.apply({"w": ops.zeros((1,), backend="jax")}, opt.init(params), params)
    >>> round(float(params["w"][0]), 4)
    0.95
    """

    weight_decay: float | None = 0.004

    def __post_init__(self):
        super().__post_init__()
        if self.weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float (default 0.004); received None. "
                             "Use optim.Adam for no weight decay.")
