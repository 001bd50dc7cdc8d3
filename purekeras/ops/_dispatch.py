"""How an op finds its backend: from its array arguments, else ``backend=``."""
from __future__ import annotations

from ..backends import get_backend
from ..backends._registry import _backend_name_for_type

_SEQUENCES = (list, tuple)


def dispatch(*values, backend: str | None = None):
    """The backend of the first framework array in ``values`` (recursing one level
    into lists and tuples), else the named ``backend`` or the process default.

    >>> import numpy as np
    >>> from purekeras import ops
    >>> dispatch(np.ones(2), [ops.ones((1,), backend="jax")]).name
    'jax'
    """
    # Called once per op: written for speed (no intermediate list, no helper calls
    # until an array is found).
    for value in values:
        if isinstance(value, _SEQUENCES):
            for item in value:
                name = _backend_name_for_type(type(item))
                if name is not None:
                    return get_backend(name)
            continue
        name = _backend_name_for_type(type(value))
        if name is not None:
            return get_backend(name)
    return get_backend(backend)
