"""purekeras: a strictly functional deep-learning library with Keras's vocabulary.

Importing purekeras imports no framework; each backend is imported on first use.

>>> import purekeras as pk
>>> from purekeras import nn
>>> nn.Dense(3).units
3
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> (module, attribute or None for the module itself). Resolved lazily
# so that `import purekeras` stays free of JAX, PyTorch and TensorFlow.
_LAZY = {
    "backends": ("purekeras.backends", None),
    "ops": ("purekeras.ops", None),
    "random": ("purekeras.random", None),
    "nn": ("purekeras.nn", None),
    "optim": ("purekeras.optim", None),
    "train": ("purekeras.train", None),
    "state": ("purekeras.state", None),
    "callbacks": ("purekeras.train.callbacks", None),
    "jit": ("purekeras._jit", "jit"),
    "export": ("purekeras._export", "export"),
    "Model": ("purekeras.train._model", "Model"),
    "load_model": ("purekeras.train._model", "load_model"),
    "InputSpec": ("purekeras.nn._spec", "InputSpec"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'purekeras' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
