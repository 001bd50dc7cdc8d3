"""``MonitorCallback``: watch one logged quantity and tell improvements apart."""
from __future__ import annotations

import warnings

from ._base import Callback

_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "r2", "top_k", "fbeta")
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "cosh")


def metric_direction(model, name: str) -> str | None:
    """``"up"``, ``"down"`` or ``None`` for the logged metric ``name`` (``val_`` removed).

    >>> metric_direction(None, "val_accuracy"), metric_direction(None, "loss"), metric_direction(None, "score")
    ('up', 'down', None)
    """
    name = name.removeprefix("val_")
    if name == "loss":
        return "down"
    for metric in getattr(model, "metrics", None) or ():
        if getattr(metric, "display_name", None) == name and getattr(metric, "direction", None):
            return metric.direction
    if any(part in name for part in _HIGHER_IS_BETTER):
        return "up"
    if any(part in name for part in _LOWER_IS_BETTER):
        return "down"
    return None


class MonitorCallback(Callback):
    """Base of callbacks that monitor ``monitor`` in the epoch logs.

    ``mode``: ``"min"``, ``"max"`` or ``"auto"`` (from the metric: the loss and
    errors go down, accuracies up). A value improves on ``best`` when it beats it
    by more than ``min_delta``.

    >>> from purekeras import callbacks
    >>> watch = callbacks.MonitorCallback(monitor="val_loss", min_delta=0.1)
    >>> watch._is_improvement(0.85, 1.0), watch._is_improvement(0.95, 1.0)
    (True, False)
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}.")
        self.monitor, self.mode = monitor, mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self._lower_is_better: bool | None = None

    def _resolve_mode(self) -> bool:
        if self._lower_is_better is None:
            if self.mode == "auto":
                direction = metric_direction(self.model, self.monitor)
                if direction is None:
                    raise ValueError(
                        f"{type(self).__name__} cannot tell whether {self.monitor!r} should go up or "
                        "down. Pass mode='max' or mode='min'.")
                self._lower_is_better = direction == "down"
            else:
                self._lower_is_better = self.mode == "min"
        return self._lower_is_better

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        lower_is_better = self._resolve_mode()
        if reference is None:
            return True
        if lower_is_better:
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def _monitor_value(self, logs: dict | None, what: str) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{what} is conditioned on {self.monitor!r}, which is not in the logs. "
                f"Available: {', '.join(logs or {}) or 'none'}.", stacklevel=3)
        return value
