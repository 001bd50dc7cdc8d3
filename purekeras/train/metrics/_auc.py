"""AUC: the area under the ROC or precision-recall curve, from confusion counts at
``num_thresholds`` thresholds (Keras's ``keras.metrics.AUC``, same numerics)."""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops
from ..losses._shapes import EPSILON, as_array_like
from ._base import Metric
from ._confusion import KEYS, confusion_counts, is_evenly_distributed

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@dataclass(frozen=True)
class AUC(Metric):
    """Approximate area under a curve from confusion counts at thresholds in [0, 1].

    ``curve``: ``"ROC"`` (true-positive rate against false-positive rate), ``"PR"``
    (precision against recall) or ``"PRGAIN"``. ``summation_method``:
    ``"interpolation"`` (trapezoids; for PR, Davis & Goadrich's interpolation),
    ``"minoring"`` or ``"majoring"``. ``thresholds`` replaces the ``num_thresholds``
    evenly spaced ones; ``-1e-7`` and ``1 + 1e-7`` are always added at the ends.
    ``multi_label=True`` keeps one curve per label (``num_labels`` columns of
    ``y_pred``) and averages the AUCs (weighted by ``label_weights``); otherwise every
    label-prediction pair is one data point. ``from_logits`` applies a sigmoid first.

    >>> from purekeras import ops, train
    >>> m = train.metrics.AUC(num_thresholds=3)
    >>> s = m.update(m.init(backend="jax"), ops.asarray([0, 0, 1, 1], backend="jax"),
    ...              ops.asarray([0.0, 0.5, 0.3, 0.9], backend="jax"))
    >>> float(m.result(s))
    0.75
    """

    direction = "up"

    num_thresholds: int = 200
    curve: str = "ROC"
    summation_method: str = "interpolation"
    thresholds: tuple[float, ...] | None = None
    multi_label: bool = False
    num_labels: int | None = None
    label_weights: tuple[float, ...] | None = None
    from_logits: bool = False

    def __post_init__(self):
        name = type(self).__name__
        if str(self.curve).lower() not in _CURVES:
            raise ValueError(f"{name}: curve must be one of 'ROC', 'PR', 'PRGAIN', got {self.curve!r}.")
        if str(self.summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f"{name}: summation_method must be one of {_SUMMATIONS}, got {self.summation_method!r}.")
        for field in ("thresholds", "label_weights"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, field, tuple(float(v) for v in value))
        if self.thresholds is None and self.num_thresholds <= 1:
            raise ValueError(f"{name}: num_thresholds must be an integer > 1, got {self.num_thresholds}.")
        if self.thresholds is not None and any(not 0.0 <= t <= 1.0 for t in self.thresholds):
            raise ValueError(f"{name}: thresholds must be in [0, 1], got {self.thresholds}.")
        if self.multi_label and not self.num_labels:
            raise ValueError(
                f"{name}: multi_label=True needs num_labels (the number of columns of y_pred), "
                "because the state's shape is fixed at init."
            )
        if not self.multi_label and self.num_labels:
            raise ValueError(f"{name}: num_labels is only used with multi_label=True.")

    # -- thresholds --------------------------------------------------------------
    def _inner_thresholds(self) -> list[float]:
        if self.thresholds is not None:
            return sorted(self.thresholds)
        n = self.num_thresholds
        return [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]

    @property
    def all_thresholds(self) -> tuple[float, ...]:
        """Every threshold used, with the ``-1e-7`` and ``1 + 1e-7`` endpoints."""
        return (0.0 - EPSILON, *self._inner_thresholds(), 1.0 + EPSILON)

    def _evenly(self) -> bool:
        if self.thresholds is None:
            return True
        return is_evenly_distributed([0.0, *self._inner_thresholds(), 1.0])

    # -- the contract --------------------------------------------------------------
    def init(self, *, backend: str | None = None) -> dict:
        shape = (len(self.all_thresholds),) + ((self.num_labels,) if self.multi_label else ())
        return {k: self._zeros(shape, backend) for k in KEYS}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = as_array_like(y_pred, state["true_positives"])
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        if self.multi_label and ops.shape(y_pred)[-1] != self.num_labels:
            raise ValueError(
                f"{type(self).__name__}: num_labels={self.num_labels} but y_pred has shape "
                f"{ops.shape(y_pred)}; its last axis must have num_labels entries."
            )
        counts = confusion_counts(
            y_true, y_pred, self.all_thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label, label_weights=None if self.multi_label else self.label_weights,
            evenly=self._evenly(), dtype=self.dtype, owner=type(self).__name__,
        )
        return {k: ops.add(state[k], counts[k]) for k in KEYS}

    def result(self, state):
        curve = _CURVES[str(self.curve).lower()]
        summation = str(self.summation_method).lower()
        tp, fp = state["true_positives"], state["false_positives"]
        tn, fn = state["true_negatives"], state["false_negatives"]
        if curve == "PR" and summation == "interpolation":
            return self._average(_interpolated_pr_terms(tp, fp, fn))
        recall = ops.divide_no_nan(tp, ops.add(tp, fn))
        if curve == "ROC":
            x, y = ops.divide_no_nan(fp, ops.add(fp, tn)), recall
        elif curve == "PR":
            x, y = recall, ops.divide_no_nan(tp, ops.add(tp, fp))
        else:
            x, y = _pr_gain(tp, fp, tn, fn)
        left, right = _head(y), _tail(y)
        if summation == "interpolation":
            heights = ops.divide(ops.add(left, right), 2.0)
        elif summation == "minoring":
            heights = ops.minimum(left, right)
        else:
            heights = ops.maximum(left, right)
        return self._average(ops.multiply(ops.subtract(_head(x), _tail(x)), heights))

    def _average(self, terms):
        """Sum the Riemann terms; with multi_label, average the per-label areas."""
        if not self.multi_label:
            return ops.sum(terms)
        by_label = ops.sum(terms, axis=0)
        if self.label_weights is None:
            return ops.mean(by_label)
        weights = ops.asarray(list(self.label_weights), self.dtype, backend=ops.backend_name(by_label))
        return ops.divide_no_nan(ops.sum(ops.multiply(by_label, weights)), ops.sum(weights))


def _head(x):
    return ops.getitem(x, slice(None, -1))


def _tail(x):
    return ops.getitem(x, slice(1, None))


def _interpolated_pr_terms(tp, fp, fn):
    """Davis & Goadrich (2006): true and false positives vary linearly between
    thresholds, so precision is integrated in closed form on each interval."""
    dtp = ops.subtract(_head(tp), _tail(tp))
    p = ops.add(tp, fp)
    dp = ops.subtract(_head(p), _tail(p))
    slope = ops.divide_no_nan(dtp, ops.maximum(dp, 0.0))
    intercept = ops.subtract(_tail(tp), ops.multiply(slope, _tail(p)))
    both_positive = ops.logical_and(ops.greater(_head(p), 0.0), ops.greater(_tail(p), 0.0))
    ratio = ops.where(both_positive, ops.divide_no_nan(_head(p), ops.maximum(_tail(p), 0.0)), ops.ones_like(_tail(p)))
    area = ops.multiply(slope, ops.add(dtp, ops.multiply(intercept, ops.log(ratio))))
    return ops.divide_no_nan(area, ops.maximum(ops.add(_tail(tp), _tail(fn)), 0.0))


def _pr_gain(tp, fp, tn, fn):
    scale = ops.divide_no_nan(ops.add(tp, fn), ops.add(tn, fp))
    recall_gain = ops.subtract(1.0, ops.multiply(scale, ops.divide_no_nan(fn, tp)))
    precision_gain = ops.subtract(1.0, ops.multiply(scale, ops.divide_no_nan(fp, tp)))
    no_tp = ops.equal(tp, 0.0)
    recall_gain = ops.maximum(ops.where(no_tp, ops.zeros_like(recall_gain), recall_gain), 0.0)
    precision_gain = ops.where(no_tp, ops.ones_like(precision_gain), precision_gain)
    return recall_gain, precision_gain
