"""The optimizer contract: a frozen spec, an explicit ``OptState``, a pure ``apply``.

``apply(grads, opt_state, params) -> (params, opt_state)`` does what Keras 3's
``optimizer.apply`` does, in Keras's order:

1. clip the gradients (``clipnorm``, ``clipvalue`` or ``global_clipnorm``);
2. decay the weights: ``p -= p * weight_decay * learning_rate``;
3. the optimizer's own update (``update``, defined by each subclass).

The learning rate lives in ``opt_state.learning_rate`` (the rate the next update
uses), so a callback can change it between steps through ``with_learning_rate``
without recompiling. With a schedule it is recomputed from
``opt_state.iterations`` each step, as Keras does.

>>> from purekeras import optim, ops
>>> opt = optim.SGD(learning_rate=0.5)
>>> state = opt.init({"w": ops.ones((2,), backend="jax")})
>>> float(state.learning_rate), int(state.iterations)
(0.5, 0)
>>> float(opt.with_learning_rate(state, 0.1).learning_rate)
0.10000000149011612
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import optree

from .. import ops
from ._clipping import clip_gradients


class OptState(NamedTuple):
    """Everything an optimizer changes from step to step.

    >>> from purekeras import optim, ops
    >>> optim.Adam().init({"w": ops.ones((2,), backend="jax")})._fields
    ('iterations', 'learning_rate', 'slots')
    """

    iterations: Any  # shape (), int32: updates applied so far
    learning_rate: Any  # shape (), float32: the rate of the next update
    slots: Any  # the optimizer's own state (moments, ...), a NamedTuple of pytrees


def tree_map(fn: Callable, *trees):
    """``optree.tree_map`` over the arrays of ``trees`` (``None`` is an empty node)."""
    return optree.tree_map(fn, *trees, none_is_leaf=False)


def first_leaf(tree):
    leaves = optree.tree_leaves(tree, none_is_leaf=False)
    if not leaves:
        raise ValueError("The optimizer was given params with no arrays; pass the "
                         "model's params pytree (nested dicts of arrays).")
    return leaves[0]


def is_torch(tree) -> bool:
    """Whether ``tree``'s arrays are PyTorch tensors (its first leaf's backend):
    optimizers then take the multi-tensor path of ``optim._foreach``."""
    leaves = optree.tree_leaves(tree, none_is_leaf=False)
    return bool(leaves) and ops.backend_name(leaves[0]) == "torch"


def check_same_structure(owner: str, grads, params) -> None:
    """Raise a clear error when ``grads`` and ``params`` are not the same tree."""
    grads_tree = optree.tree_structure(grads, none_is_leaf=False)
    params_tree = optree.tree_structure(params, none_is_leaf=False)
    if grads_tree != params_tree:
        raise ValueError(
            f"{owner}.apply: grads and params must have the same tree structure; received grads "
            f"{grads_tree} and params {params_tree}. Pass the gradients of the params pytree "
            "(e.g. from ops.value_and_grad(loss_fn)(params)).")


def _check_non_negative(owner: str, **values) -> None:
    for name, value in values.items():
        if value is not None and not value >= 0:
            raise ValueError(f"{owner}: `{name}` must be None or a number >= 0; received {name}={value!r}.")


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """Base of every optimizer: Keras's shared arguments and the update order.

    Subclasses are frozen dataclasses that add their hyperparameters as fields and
    define ``init_slots`` (their state, a NamedTuple) and ``update``; clipping,
    weight decay, the step counter and the learning rate come from this base.

    >>> from dataclasses import dataclass
    >>> import optree
    >>> from purekeras import optim, ops
    >>> @dataclass(frozen=True)
    ... class SignSGD(optim.Optimizer):
    ...     def update(self, grads, slots, params, learning_rate, step):
    ...         move = lambda p, g: ops.subtract(p, ops.multiply(ops.sign(g), learning_rate))
    ...         return optree.tree_map(move, params, grads), slots
    >>> opt = SignSGD(learning_rate=0.5, clipvalue=1.0)
    >>> params = {"w": ops.zeros((2,), backend="jax")}
    >>> params, state = opt.apply({"w": ops.asarray([3.0, -0.1], backend="jax")}, opt.init(params), params)
    >>> [float(v) for v in params["w"]]
    [-0.5, 0.5]
    >>> optim.SGD(clipnorm=1.0, clipvalue=1.0)
    Traceback (most recent call last):
    ...
    ValueError: SGD: set at most one of clipnorm, clipvalue and global_clipnorm; received clipnorm=1.0, clipvalue=1.0, global_clipnorm=None.
    """

    learning_rate: Any = 0.001  # a float, or a schedule: a callable of the step
    weight_decay: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    name: str | None = None

    def __post_init__(self):
        owner = type(self).__name__
        lr = self.learning_rate
        if not callable(lr) and (isinstance(lr, bool) or not isinstance(lr, numbers.Real)):
            raise ValueError(
                f"{owner}: `learning_rate` must be a float or a schedule (a callable of the "
                f"step, e.g. optim.schedules.ExponentialDecay); received learning_rate={lr!r}.")
        clips = {"clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                 "global_clipnorm": self.global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            received = ", ".join(f"{k}={v!r}" for k, v in clips.items())
            raise ValueError(f"{owner}: set at most one of clipnorm, clipvalue and "
                             f"global_clipnorm; received {received}.")
        _check_non_negative(owner, weight_decay=self.weight_decay, **clips)

    # -- to override -------------------------------------------------------------
    def init_slots(self, params) -> Any:
        """The optimizer's own state for ``params`` (a NamedTuple of pytrees)."""
        return ()

    def update(self, grads, slots, params, learning_rate, step):
        """One update: ``(new_params, new_slots)``.

        ``learning_rate`` is a float32 scalar, ``step`` the 1-based index of this
        update as a float32 scalar; cast both to each param's dtype, as Keras does.
        """
        raise TypeError(f"{type(self).__name__} must define `update` (it subclasses Optimizer).")

    # -- the contract --------------------------------------------------------------
    @property
    def has_schedule(self) -> bool:
        """Whether ``learning_rate`` is a schedule rather than a constant."""
        return callable(self.learning_rate)

    def _scheduled_rate(self, iterations):
        return ops.cast(ops.asarray(self.learning_rate(iterations)), "float32")

    def init(self, params) -> OptState:
        """The initial ``OptState`` for ``params`` (on the backend of the params)."""
        backend = ops.backend_name(first_leaf(params))
        iterations = ops.zeros((), "int32", backend=backend)
        if self.has_schedule:
            lr = self._scheduled_rate(iterations)
        else:
            lr = ops.full((), float(self.learning_rate), "float32", backend=backend)
        return OptState(iterations, lr, self.init_slots(params))

    def apply(self, grads, opt_state: OptState, params) -> tuple[Any, OptState]:
        """``(new_params, new_opt_state)`` after one update with ``grads``."""
        check_same_structure(type(self).__name__, grads, params)
        lr = opt_state.learning_rate
        if self.has_schedule:
            lr = self._scheduled_rate(opt_state.iterations)
        grads = clip_gradients(grads, self.clipnorm, self.clipvalue, self.global_clipnorm)
        if self.weight_decay is not None:
            params = tree_map(lambda p: self._decay(p, lr), params)
        iterations = ops.add(opt_state.iterations, 1)
        params, slots = self.update(grads, opt_state.slots, params, lr, ops.cast(iterations, "float32"))
        next_lr = self._scheduled_rate(iterations) if self.has_schedule else lr
        return params, OptState(iterations, next_lr, slots)

    def _decay(self, p, lr):
        # Keras: p - p * weight_decay * learning_rate, in the param's dtype.
        return ops.subtract(p, ops.multiply(ops.multiply(p, self.weight_decay), ops.cast(lr, ops.dtype(p))))

    def with_learning_rate(self, opt_state: OptState, value: float) -> OptState:
        """``opt_state`` with a new learning rate (for callbacks); no recompilation."""
        if self.has_schedule:
            raise ValueError(
                f"{type(self).__name__} uses the learning-rate schedule {self.learning_rate!r}; "
                "its rate follows opt_state.iterations and cannot be set by hand. Build the "
                "optimizer with a float learning_rate to let callbacks change it.")
        lr = ops.full((), float(value), "float32", backend=ops.backend_name(opt_state.learning_rate))
        return opt_state._replace(learning_rate=lr)
