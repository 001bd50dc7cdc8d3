"""The errors a model or weights file can raise while purekeras reads it.

Every problem with a file's bytes or contents ends in ``FileFormatError`` (a
``ValueError``); a file that asks for something purekeras never does (run code,
import a module, read another file or a URL) raises its subclass
``UnsafeFileError``.

>>> issubclass(UnsafeFileError, FileFormatError), issubclass(FileFormatError, ValueError)
(True, True)
"""
from __future__ import annotations


class FileFormatError(ValueError):
    """A ``.keras`` / ``.weights.h5`` file is malformed, truncated, corrupted, or does not
    fit the model it is loaded into; the message names the file part and what was expected.

    >>> try:
    ...     raise FileFormatError("model.weights.h5: truncated")
    ... except ValueError as error:
    ...     print(error)
    model.weights.h5: truncated
    """


class UnsafeFileError(FileFormatError):
    """A file asks purekeras to run code, import a module, or read another file or a URL.

    >>> isinstance(UnsafeFileError("Lambda layer refused"), FileFormatError)
    True
    """
