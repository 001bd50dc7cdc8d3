"""Which backends exist, which is the default, and which one owns an array.

Nothing here imports a framework until a backend is asked for by name or an
array of that framework is seen (and an array can only exist once its
framework is imported). A loaded backend is kept by name in a plain dict, which
``torch.compile`` traces as a lookup (so load the backend, e.g. by ``init``,
before compiling: tracing into the import itself breaks the graph).
"""
from __future__ import annotations

import importlib
import importlib.util
import os

from ._protocol import Backend

# name -> (module implementing the backend, the framework package it needs)
BACKEND_MODULES: dict[str, tuple[str, str]] = {
    "jax": ("purekeras.backends.jax_backend", "jax"),
    "torch": ("purekeras.backends.torch_backend", "torch"),
    "tensorflow": ("purekeras.backends.tensorflow_backend", "tensorflow"),
    "openvino": ("purekeras.backends.openvino_backend", "openvino"),  # inference only
}
# Top-level module of an array's type -> backend name.
_ARRAY_MODULES = {"jax": "jax", "jaxlib": "jax", "torch": "torch", "tensorflow": "tensorflow"}
# Array types that purekeras defines itself, by full module name -> backend name.
_OWN_ARRAY_MODULES = {"purekeras.backends._openvino._tensor": "openvino"}
_PREFERENCE = ("jax", "torch", "tensorflow")
_PYTHON_SCALARS = (bool, int, float, complex)


class BackendError(RuntimeError):
    """A backend was asked for that is unknown, not installed, or cannot do the job."""


def available_backends() -> tuple[str, ...]:
    """Names of the backends whose framework is installed (nothing is imported).

    >>> "jax" in available_backends()
    True
    """
    return tuple(
        name for name, (_, package) in BACKEND_MODULES.items()
        if importlib.util.find_spec(package) is not None
    )


def default_backend_name() -> str:
    """``$PUREKERAS_BACKEND`` if set, else the first installed of jax, torch, tensorflow.

    >>> default_backend_name() in BACKEND_MODULES
    True
    """
    chosen = os.environ.get("PUREKERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    installed = available_backends()
    for name in _PREFERENCE:
        if name in installed:
            return name
    raise BackendError(
        "No backend is installed. Install one, e.g. `pip install purekeras[jax]`."
    )


def get_backend(name: str | None = None) -> Backend:
    """The backend object for ``name`` (default: ``default_backend_name()``).

    >>> get_backend("jax").name
    'jax'
    """
    # The default is resolved on every call (``$PUREKERAS_BACKEND`` may change);
    # only the name -> module lookup is cached.
    if name is None:
        name = default_backend_name()
    if not isinstance(name, str):
        raise BackendError(f"backend must be a name like 'jax', got {name!r}.")
    loaded = _LOADED.get(name)
    return loaded if loaded is not None else _load_backend(name)


# name -> backend object, filled once per name on first use and never changed. A
# plain dict rather than lru_cache: torch.compile traces the lookup (lru_cache it
# traces through, into the import machinery, and breaks the graph).
_LOADED: dict[str, Backend] = {}


def _load_backend(name: str) -> Backend:
    if name not in BACKEND_MODULES:
        raise BackendError(
            f"Unknown backend {name!r}; known backends: {sorted(BACKEND_MODULES)}."
        )
    module_name, package = BACKEND_MODULES[name]
    if importlib.util.find_spec(package) is None:
        raise BackendError(
            f"Backend {name!r} needs the package {package!r}, which is not installed. "
            f"Install it with `pip install purekeras[{name}]`."
        )
    backend = importlib.import_module(module_name).BACKEND
    _LOADED[name] = backend
    return backend


def _backend_name_for_type(tp: type) -> str | None:
    if tp in _PYTHON_SCALARS:  # never decide; and torch.compile cannot trace float.__module__
        return None
    module = tp.__module__
    return _ARRAY_MODULES.get(module.partition(".")[0]) or _OWN_ARRAY_MODULES.get(module)


def backend_of(*values, default: str | None = None) -> Backend:
    """The backend owning the first framework array among ``values``.

    NumPy arrays and Python scalars do not decide; if nothing does, ``default``
    (or the process default) is used.

    >>> import numpy as np
    >>> backend_of(np.ones(2), 1.0, default="jax").name
    'jax'
    """
    for value in values:
        name = _backend_name_for_type(type(value))
        if name is not None:
            return get_backend(name)
    return get_backend(default)


def backend_name_of(*values, default: str | None = None) -> str:
    """The name of ``backend_of(*values, default=default)``.

    >>> backend_name_of(get_backend("jax").zeros((1,), "float32"))
    'jax'
    """
    return backend_of(*values, default=default).name
