"""Backends: one module per framework behind one Protocol, chosen per array.

>>> from purekeras import backends
>>> "jax" in backends.BACKEND_MODULES
True
"""
from ._protocol import Backend
from ._registry import (
    BACKEND_MODULES,
    BackendError,
    available_backends,
    backend_name_of,
    backend_of,
    default_backend_name,
    get_backend,
)

__all__ = [
    "Backend", "BACKEND_MODULES", "BackendError", "available_backends",
    "backend_name_of", "backend_of", "default_backend_name", "get_backend",
]
