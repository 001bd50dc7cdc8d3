"""How an op finds its backend: from its array arguments, else ``backend=``."""
from __future__ import annotations

from ..backends import backend_of


def dispatch(*values, backend: str | None = None):
    """The backend of the first framework array in ``values`` (recursing one level
    into lists and tuples), else the named ``backend`` or the process default.

    >>> import numpy as np
    >>> from purekeras import ops
    >>> dispatch(np.ones(2), [ops.ones((1,), backend="jax")]).name
    'jax'
    """
    flat = []
    for value in values:
        if isinstance(value, (list, tuple)):
            flat.extend(value)
        else:
            flat.append(value)
    return backend_of(*flat, default=backend)
