"""The metric contract: a frozen spec with explicit state.

``init() -> state``, ``update(state, y_true, y_pred, sample_weight=None) -> state``,
``result(state) -> scalar``, ``merge(state_a, state_b) -> state`` (for combining
shards or hosts). State is a dict of arrays; ``init(backend=...)`` picks its backend.
"""
from __future__ import annotations

from dataclasses import dataclass

from ... import ops


@dataclass(frozen=True, kw_only=True)
class Metric:
    name: str | None = None
    dtype: str = "float32"

    @property
    def display_name(self) -> str:
        from ...nn._naming import snake_case

        return self.name or snake_case(type(self).__name__)

    def init(self, *, backend: str | None = None) -> dict:
        raise NotImplementedError

    def update(self, state: dict, y_true, y_pred, sample_weight=None) -> dict:
        raise NotImplementedError

    def result(self, state: dict):
        raise NotImplementedError

    def merge(self, state_a: dict, state_b: dict) -> dict:
        """Combine two states of the same metric; default: add them leaf by leaf."""
        return {k: ops.add(state_a[k], state_b[k]) for k in state_a}


@dataclass(frozen=True, kw_only=True)
class MeanMetricWrapper(Metric):
    """A weighted mean of per-example values ``values(y_true, y_pred)``; state
    ``{"total", "count"}``. Subclasses define ``values``."""

    def values(self, y_true, y_pred):
        raise NotImplementedError

    def init(self, *, backend: str | None = None) -> dict:
        return {"total": ops.zeros((), self.dtype, backend=backend),
                "count": ops.zeros((), self.dtype, backend=backend)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        values = ops.cast(self.values(y_true, y_pred), self.dtype)
        return accumulate_mean(state, values, sample_weight, self.dtype)

    def result(self, state):
        return ops.divide_no_nan(state["total"], state["count"])


def accumulate_mean(state, values, sample_weight, dtype):
    """Add ``values`` (weighted by ``sample_weight`` per example) to a mean state."""
    if sample_weight is None:
        return {"total": ops.add(state["total"], ops.sum(values)),
                "count": ops.add(state["count"], ops.cast(ops.size(values), dtype))}
    weight = ops.cast(sample_weight, dtype)
    while ops.ndim(weight) < ops.ndim(values):
        weight = ops.expand_dims(weight, -1)
    weight = ops.broadcast_to(weight, ops.shape(values))
    return {"total": ops.add(state["total"], ops.sum(ops.multiply(values, weight))),
            "count": ops.add(state["count"], ops.sum(weight))}


@dataclass(frozen=True)
class Mean(Metric):
    """The weighted mean of the values given to ``update(state, values, sample_weight=None)``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Mean()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([1.0, 3.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    def init(self, *, backend: str | None = None) -> dict:
        return {"total": ops.zeros((), self.dtype, backend=backend),
                "count": ops.zeros((), self.dtype, backend=backend)}

    def update(self, state, values, sample_weight=None):
        return accumulate_mean(state, ops.cast(values, self.dtype), sample_weight, self.dtype)

    def result(self, state):
        return ops.divide_no_nan(state["total"], state["count"])
