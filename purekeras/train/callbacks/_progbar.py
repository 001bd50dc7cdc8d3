"""``ProgbarLogger``: the progress bar of ``fit`` / ``evaluate`` / ``predict`` (tqdm)."""
from __future__ import annotations

import sys
import time

from tqdm import tqdm

from ._base import Callback, format_logs, logs_to_floats

REFRESH_SECONDS = 0.1  # at most ten refreshes (and device syncs) per second
BAR_FORMAT = "{n_fmt}/{total_fmt} |{bar:30}| {elapsed}<{remaining}, {rate_fmt}{postfix}"


class _Bar(tqdm):
    monitor_interval = 0  # no tqdm monitor thread


class ProgbarLogger(Callback):
    """Prints progress to stdout, as Keras does.

    ``verbose`` (from ``fit``/``evaluate``/``predict``): 1 shows a progress bar
    refreshed at most ten times a second (only then are batch logs converted to
    floats); 2 prints one line per epoch: steps, time, loss, metrics and ``val_``
    metrics. ``fit(verbose=1|2)`` adds one automatically.

    >>> from purekeras import callbacks
    >>> bar = callbacks.ProgbarLogger()
    >>> bar.set_params({"verbose": 2, "epochs": 1, "steps": 4})
    >>> bar.on_epoch_begin(0)
    Epoch 1/1
    >>> for step in range(4):
    ...     bar.on_train_batch_end(step, {"loss": 0.25})
    >>> bar.on_epoch_end(0, {"loss": 0.25})  # doctest: +ELLIPSIS
    4/4 - 0s - ...ms/step - loss: 0.2500
    """

    def __init__(self):
        super().__init__()
        self._bar = None
        self._in_fit = False
        self._seen = 0
        self._last_refresh = 0.0
        self._start = 0.0

    @property
    def verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    # -- the bar ----------------------------------------------------------------------
    def _open(self, total):
        self._seen, self._start = 0, time.monotonic()
        self._last_refresh = self._start
        if self.verbose == 1:
            self._bar = _Bar(total=total, file=sys.stdout, unit="step", leave=True, mininterval=0,
                             bar_format=BAR_FORMAT if total else "{n_fmt} [{elapsed}, {rate_fmt}]{postfix}")

    def _step(self, batch: int, logs):
        self._seen = batch + 1
        if self._bar is None:
            return
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(logs_to_floats(_scalars(logs))), refresh=False)
            self._bar.update(self._seen - self._bar.n)

    def _close(self, logs):
        logs = _scalars(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs_to_floats(logs)), refresh=False)
            self._bar.n = self._seen  # close() draws the final state once
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            elapsed = time.monotonic() - self._start
            per_step = 1000 * elapsed / max(self._seen, 1)
            line = f"{self._seen}/{self.params.get('steps') or self._seen} - {elapsed:.0f}s - {per_step:.0f}ms/step"
            text = format_logs(logs_to_floats(logs))
            print(line + (f" - {text}" if text else ""), file=sys.stdout, flush=True)

    # -- fit ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}", file=sys.stdout, flush=True)
        self._open(self.params.get("steps"))

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose:
            self._close(logs)

    # -- evaluate and predict (inside fit, validation stays quiet) ----------------------
    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._open(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit and self.verbose:
            self._close(logs)

    def on_predict_begin(self, logs=None):
        self._open(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch, None)

    def on_predict_end(self, logs=None):
        if self.verbose:
            self._close(None)


def _scalars(logs) -> dict:
    return {k: v for k, v in (logs or {}).items() if k != "outputs"}
