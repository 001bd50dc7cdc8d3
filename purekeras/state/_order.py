"""Keras's weight order: what ``get_weights`` lists and ``.weights.h5`` numbers.

Keras lists a layer's own trainable variables, then its non-trainable ones, then
each child layer's weights depth-first. Here a layer's own variables are the
non-dict entries of its params (insertion order, e.g. ``kernel`` before ``bias``),
then of its state (``moving_mean``, ``moving_variance``); its children are the
dict entries, in the order of the layer's ``named_layers`` when it has them.

Dicts that went through ``jax.jit`` come back with sorted keys (``bias`` before
``kernel``), so take the order from freshly initialised params (``weight_paths``)
and pass it as ``order=`` to ``get_weights`` / ``set_weights`` later.

>>> from purekeras import nn, random
>>> model = nn.Sequential([nn.Dense(3), nn.Dense(2)])
>>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
>>> ["/".join(path) for _, path in weight_paths(model, params, state)]
['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias']
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._tree import SEPARATOR, iter_with_paths, map_with_paths


def _own_leaves(tree: dict, prefix: tuple[str, ...]):
    for key, value in tree.items():
        if not isinstance(value, dict):
            yield from iter_with_paths(value, (*prefix, key))


def _child_names(layer: Any, params: dict, state: dict) -> list[str]:
    names = [name for name, _ in getattr(layer, "named_layers", ())]
    for tree in (params, state):
        names += [k for k, v in tree.items() if isinstance(v, dict) and k not in names]
    return [n for n in names if isinstance(params.get(n), dict) or isinstance(state.get(n), dict)]


def _walk(layer: Any, params: dict, state: dict, prefix: tuple[str, ...], out: list):
    out.extend(("params", path) for path, _ in _own_leaves(params, prefix))
    out.extend(("state", path) for path, _ in _own_leaves(state, prefix))
    children = dict(getattr(layer, "named_layers", ()))
    for name in _child_names(layer, params, state):
        _walk(children.get(name), params.get(name, {}), state.get(name, {}), (*prefix, name), out)


def weight_paths(model: Any, params: dict, state: dict) -> list[tuple[str, tuple[str, ...]]]:
    """``[("params" | "state", path_parts), ...]`` in Keras's weight order."""
    out: list = []
    _walk(model, params or {}, state or {}, (), out)
    return out


def _lookup(tree: dict, path: Sequence[str]):
    for part in path:
        tree = tree[int(part)] if isinstance(tree, (list, tuple)) else tree[part]
    return tree


def get_weights(model: Any, params: dict, state: dict, *, order: list | None = None) -> list[np.ndarray]:
    """NumPy copies of every weight, in Keras's order (or ``order`` from ``weight_paths``).

    >>> import numpy as np
    >>> params = {"dense": {"kernel": np.ones((2, 1)), "bias": np.zeros(1)}}
    >>> [w.shape for w in get_weights(None, params, {})]
    [(2, 1), (1,)]
    >>> new_params, _ = set_weights(None, params, {}, [np.full((2, 1), 3.0), np.ones(1)])
    >>> new_params["dense"]["kernel"].tolist()
    [[3.0], [3.0]]
    """
    from .. import ops

    trees = {"params": params, "state": state}
    order = weight_paths(model, params, state) if order is None else order
    return [np.array(ops.convert_to_numpy(_lookup(trees[which], path))) for which, path in order]


def set_weights(model: Any, params: dict, state: dict, weights: Sequence, *,
                order: list | None = None) -> tuple[dict, dict]:
    """New ``(params, state)`` holding ``weights`` (Keras's order, or ``order``), each cast
    to the dtype and backend of the weight it replaces. Raises on a wrong count or shape."""
    from .. import ops

    order = weight_paths(model, params, state) if order is None else order
    weights = list(weights)
    if len(weights) != len(order):
        names = [SEPARATOR.join(path) for _, path in order]
        raise ValueError(
            f"set_weights: the model has {len(order)} weights {names}, but {len(weights)} were given. "
            "Pass a list like the one get_weights() returns.")
    trees = {"params": params, "state": state}
    new_values: dict = {}
    for (which, path), value in zip(order, weights):
        old = _lookup(trees[which], path)
        shape = tuple(np.shape(value))
        if shape != tuple(ops.shape(old)):
            raise ValueError(
                f"set_weights: weight {len(new_values)} ({SEPARATOR.join(path)!r}) has shape {shape}, "
                f"expected {tuple(ops.shape(old))}.")
        array = np.asarray(ops.convert_to_numpy(value) if not isinstance(value, np.ndarray) else value)
        key = (which, SEPARATOR.join(path))
        if isinstance(old, np.ndarray):  # NumPy trees stay NumPy
            new_values[key] = array.astype(old.dtype)
        else:
            new_values[key] = ops.asarray(array, ops.dtype(old), backend=ops.backend_name(old))

    def rebuild(which, tree):
        return map_with_paths(lambda path, leaf: new_values.get((which, path), leaf), tree)

    return rebuild("params", params), rebuild("state", state)
