"""Framework-free helpers the backends share: "same" padding and NumPy leaves.

>>> import numpy as np
>>> same_padding(7, 3, 2), same_padding(8, 3, 2)
((1, 1), (0, 1))
>>> numpy_leaves_to({"x": np.ones(2), "n": 3}, lambda a: a.tolist())
{'x': [1.0, 1.0], 'n': 3}
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import optree

NUMPY_TYPES = (np.ndarray, np.generic)


def same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's / XLA's "SAME" padding ``(before, after)`` of one spatial axis."""
    effective = (window - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def numpy_leaves_to(tree: Any, convert: Callable) -> Any:
    """``tree`` with ``convert`` applied to its NumPy leaves (other leaves untouched);
    ``tree`` itself when it has none (the common case: one C-level flatten)."""
    leaves, treedef = optree.tree_flatten(tree, none_is_leaf=False)
    if not any(isinstance(v, NUMPY_TYPES) for v in leaves):
        return tree
    return optree.tree_unflatten(treedef, [convert(v) if isinstance(v, NUMPY_TYPES) else v for v in leaves])
