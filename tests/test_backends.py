"""The backend registry: names, the default, dispatch by array type, lazy imports."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import purekeras as pk
from purekeras import backends, ops
from purekeras.backends import _protocol, _registry

FRAMEWORKS = ("jax", "jaxlib", "torch", "tensorflow", "openvino", "keras")


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(backends.BackendError, match=r"Unknown backend 'jaxx'; known backends: \['jax'"):
        backends.get_backend("jaxx")
    with pytest.raises(backends.BackendError, match="backend must be a name like 'jax', got 3"):
        backends.get_backend(3)


def test_missing_framework_says_how_to_install(monkeypatch):
    monkeypatch.setitem(_registry.BACKEND_MODULES, "fakeflow",
                        ("purekeras.backends.fakeflow_backend", "fakeflow_not_installed"))
    with pytest.raises(backends.BackendError, match=r"needs the package 'fakeflow_not_installed'.*pip install"):
        backends.get_backend("fakeflow")
    assert "fakeflow" not in backends.available_backends()


def test_default_backend_honours_environment(monkeypatch, backend):
    monkeypatch.setenv("PUREKERAS_BACKEND", backend)
    assert backends.default_backend_name() == backend
    assert backends.get_backend().name == backend
    monkeypatch.setenv("PUREKERAS_BACKEND", "nope")
    assert backends.default_backend_name() == "nope"
    with pytest.raises(backends.BackendError, match="Unknown backend 'nope'"):
        backends.get_backend()  # the default is not cached across environment changes
    monkeypatch.delenv("PUREKERAS_BACKEND")
    installed = backends.available_backends()
    assert backends.default_backend_name() == next(n for n in ("jax", "torch", "tensorflow") if n in installed)


def test_backend_of_arrays_numpy_and_scalars(backend, monkeypatch):
    x = ops.ones((2,), backend=backend)
    assert backends.backend_of(x).name == backend
    assert backends.backend_of(np.ones(2), 1.0, x).name == backend  # the first framework array decides
    monkeypatch.setenv("PUREKERAS_BACKEND", backend)
    assert backends.backend_of(np.ones(2), 3).name == backend  # nothing decides: the default
    assert backends.backend_of(np.ones(2), default=backend).name == backend


def test_backend_of_tracers(backend):
    """Inside jit, grad and vmap the traced values still name their backend."""
    seen = []

    def f(x):
        seen.append(backends.backend_name_of(x))
        return ops.sum(ops.square(x))

    x = ops.ones((3,), backend=backend)
    pk.jit(f, backend=backend, donate_argnums=())(x)
    ops.grad(f, backend=backend)(x)
    ops.vmap(f, backend=backend)(ops.ones((2, 3), backend=backend))
    assert seen == [backend] * 3


def test_backend_implements_the_protocol(backend):
    b = backends.get_backend(backend)
    protocol_methods = {n for n in vars(_protocol.Backend) if not n.startswith("_")} - {"name"}
    assert not {n for n in protocol_methods if not callable(getattr(b, n, None))}
    assert b.name == backend
    # Every named elementwise / reduction primitive is a public op, so the op
    # registry (tests/test_ops.py) runs each of them on every backend.
    named = {*_protocol.UNARY_OPS, *_protocol.BINARY_OPS, *_protocol.REDUCE_OPS}
    assert named <= set(ops.__all__), sorted(named - set(ops.__all__))


def _imported_after(statement: str) -> list[str]:
    code = (f"import sys; {statement}; "
            f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_purekeras_imports_no_framework():
    assert _imported_after("import purekeras") == []
    # Layers, optimizers and training code are written on ops: NumPy and optree only.
    assert _imported_after("import purekeras; from purekeras import nn, optim, train, ops, random") == []
