"""Run any optax ``GradientTransformation`` behind the purekeras optimizer contract.

JAX only. optax is imported inside the functions that need it, so importing
purekeras never imports JAX.

>>> import optax
>>> from purekeras import optim, ops
>>> opt = optim.from_optax(optax.sgd(0.5))
>>> params = {"w": ops.ones((2,), backend="jax")}
>>> state = opt.init(params)
>>> params, state = opt.apply({"w": ops.ones((2,), backend="jax")}, state, params)
>>> [float(v) for v in params["w"]], int(state.iterations)
([0.5, 0.5], 1)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optree

from .. import ops
from ._base import OptState, check_same_structure, first_leaf


def _is_injected(node) -> bool:
    # optax.inject_hyperparams's state (either generation): a NamedTuple with `hyperparams`.
    return isinstance(node, tuple) and hasattr(node, "hyperparams") and hasattr(node, "inner_state")


def _injected_states(state) -> list:
    return [node for node in optree.tree_leaves(state, is_leaf=_is_injected, none_is_leaf=False)
            if _is_injected(node) and "learning_rate" in node.hyperparams]


@dataclass(frozen=True)
class OptaxOptimizer:
    """An optax ``GradientTransformation`` with purekeras's ``init`` / ``apply``.

    ``opt_state.slots`` is optax's own state. ``opt_state.learning_rate`` is the
    ``learning_rate`` hyperparameter when the transformation was built with
    ``optax.inject_hyperparams`` (then ``with_learning_rate`` can change it without
    recompiling), else NaN: a plain optax transformation keeps its rate inside
    closures where nothing outside can read it.

    >>> import optax
    >>> from purekeras import optim, ops
    >>> opt = optim.from_optax(optax.inject_hyperparams(optax.adam)(learning_rate=0.1))
    >>> state = opt.init({"w": ops.ones((2,), backend="jax")})
    >>> round(float(opt.with_learning_rate(state, 0.01).learning_rate), 6)
    0.01
    """

    tx: Any  # an optax.GradientTransformation
    name: str | None = None

    def _check_backend(self, params) -> None:
        backend = ops.backend_name(first_leaf(params))
        if backend != "jax":
            raise ValueError(f"from_optax: optax runs on JAX arrays only, but the params are "
                             f"{backend} arrays. Use a purekeras optimizer (optim.Adam, ...) instead.")

    def _learning_rate(self, slots, like):
        injected = _injected_states(slots)
        if injected:
            return ops.cast(ops.asarray(injected[0].hyperparams["learning_rate"]), "float32")
        return ops.full((), float("nan"), "float32", backend=ops.backend_name(like))

    def init(self, params) -> OptState:
        """The initial ``OptState``: a step counter, the rate, and optax's state."""
        self._check_backend(params)
        slots = self.tx.init(params)
        iterations = ops.zeros((), "int32", backend="jax")
        return OptState(iterations, self._learning_rate(slots, iterations), slots)

    def apply(self, grads, opt_state: OptState, params) -> tuple[Any, OptState]:
        """``(new_params, new_opt_state)``: ``tx.update`` then ``optax.apply_updates``."""
        import optax

        check_same_structure("from_optax", grads, params)
        updates, slots = self.tx.update(grads, opt_state.slots, params)
        params = optax.apply_updates(params, updates)
        iterations = ops.add(opt_state.iterations, 1)
        return params, OptState(iterations, self._learning_rate(slots, iterations), slots)

    def with_learning_rate(self, opt_state: OptState, value: float) -> OptState:
        """``opt_state`` with the injected ``learning_rate`` hyperparameter set to ``value``."""
        if not _injected_states(opt_state.slots):
            raise ValueError(
                "from_optax: this optax transformation does not expose its learning rate, so it "
                "cannot be changed. Build it with optax.inject_hyperparams, e.g. "
                "optim.from_optax(optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)).")

        def replace(node):
            if not (_is_injected(node) and "learning_rate" in node.hyperparams):
                return node
            if "learning_rate" in getattr(node, "hyperparams_states", {}):
                raise ValueError("from_optax: the optax learning_rate is a schedule; its value "
                                 "follows the step count and cannot be set by hand.")
            old = node.hyperparams["learning_rate"]
            new = ops.full((), float(value), ops.dtype(old), backend="jax")
            return node._replace(hyperparams={**node.hyperparams, "learning_rate": new})

        slots = optree.tree_map(replace, opt_state.slots, is_leaf=_is_injected, none_is_leaf=False)
        return opt_state._replace(learning_rate=self._learning_rate(slots, opt_state.iterations), slots=slots)


def from_optax(tx: Any, *, name: str | None = None) -> OptaxOptimizer:
    """Wrap the optax ``GradientTransformation`` ``tx`` as a purekeras optimizer.

    The result has ``init(params) -> OptState`` and
    ``apply(grads, opt_state, params) -> (params, opt_state)`` like every
    purekeras optimizer, so it works with ``train.make_train_step`` and the facade.

    >>> import optax
    >>> from purekeras import optim, ops
    >>> opt = optim.from_optax(optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(1.0)))
    >>> params = {"w": ops.zeros((2,), backend="jax")}
    >>> params, _ = opt.apply({"w": ops.asarray([3.0, 4.0], backend="jax")}, opt.init(params), params)
    >>> [round(float(v), 4) for v in params["w"]]
    [-0.6, -0.8]
    """
    if callable(getattr(tx, "apply", None)):
        raise TypeError(f"from_optax: {type(tx).__name__} is already a purekeras optimizer "
                        "(it has `apply`); use it directly. from_optax expects an optax "
                        "GradientTransformation such as optax.adam(1e-3).")
    if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
        raise TypeError(f"from_optax: expected an optax GradientTransformation (with init and "
                        f"update), e.g. optax.adam(1e-3); received {tx!r}.")
    return OptaxOptimizer(tx, name=name)
