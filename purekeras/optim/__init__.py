"""Optimizers: frozen specs with explicit state, Keras's names and numerics.

>>> from purekeras import optim, ops
>>> opt = optim.Adam(learning_rate=1e-3)
>>> params = {"w": ops.zeros((3,), backend="jax")}
>>> opt_state = opt.init(params)
>>> params, opt_state = opt.apply({"w": ops.ones((3,), backend="jax")}, opt_state, params)
"""
from ._adam import Adam, AdamW
from ._base import Optimizer, OptState
from ._clipping import clip_gradients, global_norm

__all__ = ["Adam", "AdamW", "Optimizer", "OptState", "clip_gradients", "global_norm", "get"]


def get(identifier) -> Optimizer:
    """An optimizer from a Keras name (``"adam"``) or an optimizer spec."""
    if isinstance(identifier, Optimizer) or hasattr(identifier, "apply") and hasattr(identifier, "init"):
        return identifier
    names = {name.lower(): obj for name, obj in globals().items()
             if isinstance(obj, type) and issubclass(obj, Optimizer) and obj is not Optimizer}
    if isinstance(identifier, str) and identifier.lower() in names:
        return names[identifier.lower()]()
    raise ValueError(f"Unknown optimizer {identifier!r}; known: {sorted(names)}.")
