"""``CSVLogger``: one CSV row per epoch."""
from __future__ import annotations

import csv
import os

from ._base import Callback


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file: an ``epoch`` column then the logged
    names in sorted order (``val_`` columns are added, filled with ``NA``, when there
    is no validation), as Keras writes it.

    >>> import os, tempfile
    >>> from purekeras import callbacks
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> logger = callbacks.CSVLogger(path)
    >>> logger.on_train_begin(); logger.on_epoch_end(0, {"loss": 0.5}); logger.on_train_end()
    >>> import pathlib; pathlib.Path(path).read_text().splitlines()
    ['epoch,loss,val_loss', '0,0.5,NA']
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self._write_header = not f.readline()
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self.keys = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.sep, lineterminator="\n")
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None
