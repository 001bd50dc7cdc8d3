"""``pk.jit``: compile a pure step with the backend's own compiler.

JAX: ``jax.jit`` with the train state (argument 0) donated, so its buffers are
reused in place. The backend is named, never guessed from a global switch.

>>> import purekeras as pk
>>> f = pk.jit(lambda ts, x: (ts, x * 2), backend="jax", donate_argnums=())
>>> f(0, 3)[1]
Array(6, dtype=int32, weak_type=True)
"""
from __future__ import annotations

from typing import Callable

from .backends import get_backend


def jit(fn: Callable, *, backend: str | None = None, donate_argnums: tuple[int, ...] = (0,),
        static_argnums: tuple[int, ...] = ()) -> Callable:
    """Compile ``fn`` for ``backend`` (default: the process default backend)."""
    return get_backend(backend).jit(fn, tuple(donate_argnums), tuple(static_argnums))
