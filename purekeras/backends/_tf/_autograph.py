"""AutoGraph leaves purekeras alone, as it leaves TensorFlow and Keras alone.

A user's ``@tf.function`` (AutoGraph on, TensorFlow's default) rewrites every
Python function it calls, recursively, to turn tensor-dependent ``if`` /
``for`` into graph control flow. purekeras has none (it is written for
``jax.jit``: control flow on tensors goes through ``ops.cond`` / ``ops.scan``),
so the rewrite changes nothing but costs seconds on the first trace of a model
(about 9 s for a two-layer MLP on 2 cores, against 0.2 s without). Loading the
TensorFlow backend adds ``purekeras`` (and ``optree``) to AutoGraph's
do-not-convert rules, next to its own entries for ``tensorflow`` and ``keras``;
nothing else about AutoGraph changes.

>>> from tensorflow.python.autograph.core import config
>>> skip_purekeras()
>>> any(getattr(rule, "_prefix", None) == "purekeras" for rule in config.CONVERSION_RULES)
True
"""
from __future__ import annotations

_PACKAGES = ("purekeras", "optree")


def skip_purekeras() -> None:
    """Add do-not-convert rules for purekeras and optree (once; later calls do nothing)."""
    try:
        from tensorflow.python.autograph.core import config
    except ImportError:  # AutoGraph moved: it then converts purekeras, which only costs time
        return
    present = {getattr(rule, "_prefix", None) for rule in config.CONVERSION_RULES}
    missing = tuple(config.DoNotConvert(name) for name in _PACKAGES if name not in present)
    if missing:
        config.CONVERSION_RULES = missing + tuple(config.CONVERSION_RULES)
