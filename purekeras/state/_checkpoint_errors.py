"""``CheckpointError``: a checkpoint cannot be read or does not fit what it is restored into."""
from __future__ import annotations

from ._portable import TreeFileError


class CheckpointError(TreeFileError):
    """A checkpoint is damaged, truncated, not a purekeras checkpoint, or does not
    match the state it is restored into. The message names the file and the fix.
    It is a ``FileFormatError`` (as for Keras files) and a ``TreeFileError``.

    >>> from purekeras import state
    >>> from purekeras.state._safe_errors import FileFormatError
    >>> issubclass(state.CheckpointError, FileFormatError), issubclass(state.CheckpointError, ValueError)
    (True, True)
    """
