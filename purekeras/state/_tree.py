"""Pytree paths in insertion order: ``{"dense": {"kernel": k}}`` -> ``"dense/kernel"``.

Dicts keep their insertion order here (optree would sort their keys), so the
order of a flattened tree is the order in which a model created its variables.

>>> import numpy as np
>>> tree = {"dense": {"kernel": np.zeros((2, 3)), "bias": np.zeros(3)}, "steps": (np.int32(1),)}
>>> [path for path, _ in flatten_with_paths(tree)]
['dense/kernel', 'dense/bias', 'steps/0']
"""
from __future__ import annotations

from typing import Any, Iterator

SEPARATOR = "/"


def is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def children(node: Any) -> list[tuple[str, Any]] | None:
    """``[(key, child), ...]`` of a container node, ``None`` for a leaf.

    Containers are dicts (insertion order), NamedTuples (field order), tuples and
    lists (index order). ``None`` values are empty subtrees, as in optree.
    """
    if isinstance(node, dict):
        for key in node:
            if not isinstance(key, str):
                raise TypeError(f"Tree paths need string dict keys, got {key!r} ({type(key).__name__}).")
            if SEPARATOR in key:
                raise ValueError(f"Dict key {key!r} contains {SEPARATOR!r}, which separates path parts.")
        return list(node.items())
    if is_namedtuple(node):
        return list(zip(type(node)._fields, node))
    if isinstance(node, (tuple, list)):
        return [(str(i), v) for i, v in enumerate(node)]
    return None


def iter_with_paths(tree: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``(path_parts, leaf)`` for every leaf of ``tree`` in insertion order."""
    if tree is None:
        return
    items = children(tree)
    if items is None:
        yield prefix, tree
        return
    for key, child in items:
        yield from iter_with_paths(child, (*prefix, key))


def flatten_with_paths(tree: Any) -> list[tuple[str, Any]]:
    """``[("a/b", leaf), ...]`` in insertion order."""
    return [(SEPARATOR.join(parts), leaf) for parts, leaf in iter_with_paths(tree)]


def map_with_paths(fn, tree: Any, prefix: tuple[str, ...] = ()) -> Any:
    """A tree of the same structure with each leaf replaced by ``fn(path, leaf)``
    (``path`` is the '/'-joined string). NamedTuples keep their class.

    >>> map_with_paths(lambda path, leaf: path, {"a": [1, 2], "b": {"c": 3}})
    {'a': ['a/0', 'a/1'], 'b': {'c': 'b/c'}}
    """
    if tree is None:
        return None
    items = children(tree)
    if items is None:
        return fn(SEPARATOR.join(prefix), tree)
    mapped = [map_with_paths(fn, child, (*prefix, key)) for key, child in items]
    if isinstance(tree, dict):
        return dict(zip(tree.keys(), mapped))
    if is_namedtuple(tree):
        return type(tree)(*mapped)
    return type(tree)(mapped)
