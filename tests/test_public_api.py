"""The public API surface is pinned: adding or removing a public name is a deliberate
change to ``tests/public_api.txt`` (regenerate it with this file's ``_surface()``)."""
from __future__ import annotations

import importlib
from pathlib import Path

MODULES = (
    "purekeras", "purekeras.nn", "purekeras.optim", "purekeras.optim.schedules",
    "purekeras.train", "purekeras.train.losses", "purekeras.train.metrics",
    "purekeras.callbacks", "purekeras.state", "purekeras.random", "purekeras.ops",
)


def _module(name):
    if name == "purekeras.callbacks":
        return importlib.import_module("purekeras").callbacks
    return importlib.import_module(name)


def _surface() -> list[str]:
    return [f"{name}.{attr}" for name in MODULES for attr in sorted(_module(name).__all__)]


def test_public_api_is_pinned():
    pinned = (Path(__file__).parent / "public_api.txt").read_text().split()
    current = _surface()
    added, removed = sorted(set(current) - set(pinned)), sorted(set(pinned) - set(current))
    assert not added and not removed, f"public API changed: added {added}, removed {removed}"


def test_every_public_name_resolves_and_is_documented():
    for qualified in _surface():
        module_name, _, attr = qualified.rpartition(".")
        obj = getattr(_module(module_name), attr)
        if callable(obj) or isinstance(obj, type):
            doc = obj.__doc__ or ""
            generated = doc.startswith(f"{getattr(obj, '__name__', '')}(")  # dataclass/NamedTuple default
            assert doc and not generated, f"{qualified} has no docstring of its own"


def test_ops_has_the_promised_breadth():
    assert len(_module("purekeras.ops").__all__) >= 80
