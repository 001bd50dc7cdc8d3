"""Optimizers: frozen specs with explicit state, Keras's names and numerics.

Every optimizer has ``init(params) -> OptState`` and
``apply(grads, opt_state, params) -> (params, opt_state)``; ``optim.schedules``
holds learning-rate schedules and ``optim.from_optax`` wraps any optax
transformation (JAX only).

>>> from purekeras import optim, ops
>>> opt = optim.Adam(learning_rate=1e-3)
>>> params = {"w": ops.zeros((3,), backend="jax")}
>>> opt_state = opt.init(params)
>>> params, opt_state = opt.apply({"w": ops.ones((3,), backend="jax")}, opt_state, params)
"""
from . import schedules
from ._adagrad import Adagrad, AdagradSlots
from ._adam import Adam, AdamSlots, AdamW
from ._base import Optimizer, OptState
from ._clipping import clip_gradients, global_norm
from ._optax import OptaxOptimizer, from_optax
from ._rmsprop import RMSprop, RMSpropSlots
from ._sgd import SGD, SGDSlots

__all__ = [
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
    "SGDSlots", "AdamSlots", "RMSpropSlots", "AdagradSlots",
    "Optimizer", "OptState", "OptaxOptimizer", "from_optax",
    "clip_gradients", "global_norm", "schedules", "get",
]

# Keras's string identifiers (``optimizer="adam"``), lower case.
_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier) -> Optimizer:
    """An optimizer from a Keras name (``"adam"``, ``"sgd"``, ...) or an optimizer object.

    A name gives the optimizer with Keras's defaults; an object with ``init`` and
    ``apply`` is returned as it is.

    >>> from purekeras import optim
    >>> opt = optim.get("RMSprop")
    >>> type(opt).__name__, opt.learning_rate, opt.rho
    ('RMSprop', 0.001, 0.9)
    >>> optim.get("ada")
    Traceback (most recent call last):
    ...
    ValueError: Unknown optimizer 'ada'; known names: adagrad, adam, adamw, rmsprop, sgd. Or pass an optimizer object such as optim.Adam(learning_rate=1e-3).
    """
    if callable(getattr(identifier, "init", None)) and callable(getattr(identifier, "apply", None)):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"Unknown optimizer {identifier!r}; known names: {', '.join(sorted(_BY_NAME))}. "
                     "Or pass an optimizer object such as optim.Adam(learning_rate=1e-3).")
