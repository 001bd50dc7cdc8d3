"""Shared fixtures: every installed backend, crossed with the registries."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras 3 is the oracle on JAX. `import tensorflow` (the tensorflow backend, loaded
# below) imports keras too, which fixes its backend then: choose it first.
os.environ.setdefault("KERAS_BACKEND", "jax")

import pytest

from purekeras import backends

def _usable(name: str) -> bool:
    try:
        backends.get_backend(name)
        return True
    except (backends.BackendError, ImportError):  # framework or backend module absent
        return False


TRAINING_BACKENDS = [name for name in ("jax", "torch", "tensorflow")
                     if name in backends.available_backends() and _usable(name)]


@pytest.fixture(params=TRAINING_BACKENDS)
def backend(request) -> str:
    """Each installed training backend in turn."""
    return request.param
