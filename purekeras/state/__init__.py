"""State utilities: pytree paths, portable state files, Keras's weight order.

>>> import os, tempfile, numpy as np
>>> from purekeras import state
>>> path = os.path.join(tempfile.mkdtemp(), "tree.npz")
>>> state.save_tree(path, {"dense": {"kernel": np.ones((2, 2))}})
>>> state.load_tree(path)["dense"]["kernel"].sum()
np.float64(4.0)
"""
from ._order import get_weights, set_weights, weight_paths
from ._portable import TreeFileError, load_tree, match_tree, read_tree, save_tree
from ._tree import flatten_with_paths, map_with_paths

__all__ = [
    "TreeFileError", "flatten_with_paths", "get_weights", "load_tree", "map_with_paths",
    "match_tree", "read_tree", "save_tree", "set_weights", "weight_paths",
]
