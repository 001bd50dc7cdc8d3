"""Metrics built on confusion counts at thresholds: Precision, Recall and the raw
counts (TruePositives, FalsePositives, TrueNegatives, FalseNegatives).

State holds Keras's variables (``true_positives``, ``false_positives``, ...), one
entry per threshold; ``merge`` adds them. With a single threshold ``result`` is a
scalar, with several a vector (one value per threshold).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ... import ops
from ..losses._shapes import as_array_like
from ._base import Metric
from ._confusion import NEG_INF, confusion_counts, is_evenly_distributed, parse_thresholds


@dataclass(frozen=True, kw_only=True)
class _ThresholdMetric(Metric):
    keys: ClassVar[tuple[str, ...]] = ()

    def _thresholds(self) -> tuple[float, ...]:
        top_k = getattr(self, "top_k", None)
        default = 0.5 if top_k is None else NEG_INF
        return parse_thresholds(type(self).__name__, getattr(self, "thresholds"), default)

    def __post_init__(self):
        thresholds = getattr(self, "thresholds")
        if isinstance(thresholds, list):  # keep the spec hashable
            object.__setattr__(self, "thresholds", tuple(thresholds))
        self._thresholds()  # validates

    def init(self, *, backend: str | None = None) -> dict:
        n = len(self._thresholds())
        return {k: self._zeros((n,), backend) for k in self.keys}

    def update(self, state, y_true, y_pred, sample_weight=None):
        thresholds = self._thresholds()
        y_pred = as_array_like(y_pred, state[self.keys[0]])
        counts = confusion_counts(
            y_true, y_pred, thresholds, keys=self.keys, top_k=getattr(self, "top_k", None),
            class_id=getattr(self, "class_id", None), sample_weight=sample_weight,
            evenly=is_evenly_distributed(thresholds), dtype=self.dtype, owner=type(self).__name__,
        )
        return {k: ops.add(state[k], counts[k]) for k in self.keys}

    def _squeeze(self, value):
        return ops.getitem(value, 0) if len(self._thresholds()) == 1 else value


@dataclass(frozen=True)
class Precision(_ThresholdMetric):
    """``true_positives / (true_positives + false_positives)``; a prediction is
    positive when above ``thresholds`` (default 0.5). ``top_k`` counts only each
    row's k highest scores as positive; ``class_id`` scores one class column.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Precision()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 1, 1], backend="jax"),
    ...              ops.asarray([1.0, 1.0, 1.0, 0.0], backend="jax"))
    >>> round(float(m.result(s)), 4)
    0.6667
    """

    direction = "up"

    thresholds: float | tuple[float, ...] | None = None
    top_k: int | None = None
    class_id: int | None = None

    keys = ("true_positives", "false_positives")

    def result(self, state):
        tp = state["true_positives"]
        return self._squeeze(ops.divide_no_nan(tp, ops.add(tp, state["false_positives"])))


@dataclass(frozen=True)
class Recall(_ThresholdMetric):
    """``true_positives / (true_positives + false_negatives)``; arguments as ``Precision``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Recall()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 1, 1], backend="jax"),
    ...              ops.asarray([1.0, 0.0, 1.0, 1.0], backend="jax"))
    >>> round(float(m.result(s)), 4)
    0.6667
    """

    direction = "up"

    thresholds: float | tuple[float, ...] | None = None
    top_k: int | None = None
    class_id: int | None = None

    keys = ("true_positives", "false_negatives")

    def result(self, state):
        tp = state["true_positives"]
        return self._squeeze(ops.divide_no_nan(tp, ops.add(tp, state["false_negatives"])))


@dataclass(frozen=True)
class _Count(_ThresholdMetric):
    thresholds: float | tuple[float, ...] | None = None

    def result(self, state):
        return self._squeeze(state[self.keys[0]])


@dataclass(frozen=True)
class TruePositives(_Count):
    """The weighted number of positive labels predicted above ``thresholds`` (default 0.5).

    >>> from purekeras import ops, train
    >>> m = train.metrics.TruePositives()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 1, 1], backend="jax"),
    ...              ops.asarray([1.0, 0.0, 1.0, 1.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    keys = ("true_positives",)


@dataclass(frozen=True)
class FalsePositives(_Count):
    """The weighted number of negative labels predicted above ``thresholds`` (default 0.5).

    >>> from purekeras import ops, train
    >>> m = train.metrics.FalsePositives()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 0, 0], backend="jax"),
    ...              ops.asarray([0.0, 0.0, 1.0, 1.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    keys = ("false_positives",)


@dataclass(frozen=True)
class TrueNegatives(_Count):
    """The weighted number of negative labels predicted at or below ``thresholds``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.TrueNegatives()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 0, 0], backend="jax"),
    ...              ops.asarray([1.0, 1.0, 0.0, 0.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    keys = ("true_negatives",)


@dataclass(frozen=True)
class FalseNegatives(_Count):
    """The weighted number of positive labels predicted at or below ``thresholds``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.FalseNegatives()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 1, 1, 1], backend="jax"),
    ...              ops.asarray([0.0, 1.0, 0.0, 0.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    keys = ("false_negatives",)
