"""State utilities: pytree paths, portable state files, Keras's weight order, and Keras 3's
own files (``save_model`` / ``load_model`` for ``.keras``, ``save_weights`` /
``load_weights`` for ``.weights.h5``), read safely (``FileFormatError``, ``UnsafeFileError``).

>>> import os, tempfile, numpy as np
>>> from purekeras import state
>>> path = os.path.join(tempfile.mkdtemp(), "tree.npz")
>>> state.save_tree(path, {"dense": {"kernel": np.ones((2, 2))}})
>>> state.load_tree(path)["dense"]["kernel"].sum()
np.float64(4.0)
"""
from ._checkpoint import SaveHandle, checkpoint_format, checkpoint_info, load_checkpoint, save_checkpoint
from ._checkpoint_errors import CheckpointError
from ._checkpoint_manager import CheckpointManager
from ._checkpoint_meta import Restored
from ._keras_archive import LoadedModel, load_model, save_model
from ._keras_weights import load_weights, save_weights
from ._order import get_weights, set_weights, weight_paths
from ._portable import TreeFileError, load_tree, match_tree, read_tree, save_tree
from ._safe_errors import FileFormatError, UnsafeFileError
from ._tree import flatten_with_paths, map_with_paths

__all__ = [
    "CheckpointError", "CheckpointManager", "Restored", "SaveHandle", "checkpoint_format",
    "checkpoint_info", "load_checkpoint", "save_checkpoint",
    "TreeFileError", "flatten_with_paths", "get_weights", "load_tree", "map_with_paths",
    "match_tree", "read_tree", "save_tree", "set_weights", "weight_paths",
    "FileFormatError", "UnsafeFileError", "LoadedModel", "load_model", "save_model", "load_weights",
    "save_weights",
]
