"""The metric contract: a frozen spec with explicit state.

``init(backend=) -> state``, ``update(state, y_true, y_pred, sample_weight=None) -> state``,
``result(state) -> array``, ``merge(state_a, state_b) -> state`` (for combining
shards, hosts or halves of a dataset: updating on two halves and merging equals
updating on the whole). State is a dict of arrays (Keras's variable names:
``total``, ``count``, ``true_positives``, ...).

>>> from purekeras import ops, train
>>> m = train.metrics.Mean()
>>> a = m.update(m.init(backend="jax"), ops.asarray([1.0, 3.0], backend="jax"))
>>> b = m.update(m.init(backend="jax"), ops.asarray([5.0], backend="jax"))
>>> float(m.result(m.merge(a, b)))
3.0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ... import ops
from ..losses._shapes import as_array_like, check_weight_shape, squeeze_or_expand_to_same_rank


@dataclass(frozen=True, kw_only=True)
class Metric:
    """Base of every metric spec: Keras's ``name`` and ``dtype`` (of the state and result)."""

    name: str | None = None
    dtype: str = "float32"

    direction: ClassVar[str | None] = None  # "up" / "down": which way is better (Keras's _direction)

    @property
    def display_name(self) -> str:
        """The key in logs: ``name`` if given, else Keras's default (snake-cased class)."""
        from ...nn._naming import snake_case

        return self.name or snake_case(type(self).__name__)

    def init(self, *, backend: str | None = None) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define init(backend=...).")

    def update(self, state: dict, y_true, y_pred, sample_weight=None) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define update(state, y_true, y_pred, sample_weight).")

    def result(self, state: dict):
        raise NotImplementedError(f"{type(self).__name__} must define result(state).")

    def merge(self, state_a: dict, state_b: dict) -> dict:
        """Combine two states of the same metric; default: add them leaf by leaf."""
        return {k: ops.add(state_a[k], state_b[k]) for k in state_a}

    def _zeros(self, shape, backend):
        return ops.zeros(tuple(shape), self.dtype, backend=backend)


def samplewise(values, sample_weight, reduce, dtype: str, owner: str = "Metric"):
    """Keras's ``reduce_to_samplewise_values``: weight ``values`` per example and
    reduce every axis after the batch axis with ``reduce`` (``ops.mean`` or ``ops.sum``).
    Returns ``(values, weights)``; ``weights`` is None without ``sample_weight``."""
    values = ops.cast(values, dtype)
    if sample_weight is not None:
        sample_weight = as_array_like(sample_weight, values, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = ops.ndim(sample_weight), ops.ndim(values)
        if v_ndim > w_ndim:
            values = reduce(values, axis=tuple(range(w_ndim, v_ndim)))
        check_weight_shape(owner, "sample_weight", sample_weight, values)
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
        values = ops.multiply(values, sample_weight)
        if w_ndim > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, w_ndim)))
    if ops.ndim(values) > 1:
        values = reduce(values, axis=tuple(range(1, ops.ndim(values))))
    return values, sample_weight


def accumulate_mean(state, values, sample_weight, dtype, owner: str = "Mean"):
    """Add ``values`` (weighted per example by ``sample_weight``) to a ``{total, count}``
    state, as Keras's ``Mean.update_state``: ``count`` grows by the number of
    examples, or by the sum of their weights."""
    values, weight = samplewise(values, sample_weight, ops.mean, dtype, owner)
    if weight is not None:
        count = ops.sum(weight)
    else:
        count = float(ops.shape(values)[0]) if ops.ndim(values) >= 1 else 1.0
    return {"total": ops.add(state["total"], ops.sum(values)), "count": ops.add(state["count"], count)}



@dataclass(frozen=True)
class Mean(Metric):
    """The weighted mean of the values given to ``update(state, values, sample_weight=None)``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Mean()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([1.0, 3.0, 5.0, 7.0], backend="jax"),
    ...              sample_weight=ops.asarray([1.0, 1.0, 0.0, 0.0], backend="jax"))
    >>> float(m.result(s))
    2.0
    """

    def init(self, *, backend: str | None = None) -> dict:
        return {"total": self._zeros((), backend), "count": self._zeros((), backend)}

    def update(self, state, values, sample_weight=None):
        values = as_array_like(values, state["total"])
        return accumulate_mean(state, values, sample_weight, self.dtype, type(self).__name__)

    def result(self, state):
        return ops.divide_no_nan(state["total"], state["count"])


@dataclass(frozen=True)
class Sum(Metric):
    """The weighted sum of the values given to ``update(state, values, sample_weight=None)``.

    >>> from purekeras import ops, train
    >>> m = train.metrics.Sum()
    >>> s = m.update(m.init(backend="jax"), ops.asarray([1.0, 3.0, 5.0, 7.0], backend="jax"))
    >>> float(m.result(s))
    16.0
    """

    def init(self, *, backend: str | None = None) -> dict:
        return {"total": self._zeros((), backend)}

    def update(self, state, values, sample_weight=None):
        values = as_array_like(values, state["total"])
        values, _ = samplewise(values, sample_weight, ops.sum, self.dtype, type(self).__name__)
        return {"total": ops.add(state["total"], ops.sum(values))}

    def result(self, state):
        return state["total"]


@dataclass(frozen=True, kw_only=True)
class MeanMetricWrapper(Metric):
    """A weighted mean of per-example values ``values(y_true, y_pred)``; state
    ``{"total", "count"}``. Subclasses define ``values``.

    >>> from dataclasses import dataclass
    >>> from purekeras import ops, train
    >>> @dataclass(frozen=True)
    ... class MeanError(train.metrics.MeanMetricWrapper):
    ...     def values(self, y_true, y_pred):
    ...         return ops.subtract(y_pred, y_true)
    >>> m = MeanError()
    >>> s = m.update(m.init(backend="jax"), ops.zeros((2,), backend="jax"), ops.ones((2,), backend="jax"))
    >>> float(m.result(s)), m.display_name
    (1.0, 'mean_error')
    """

    def values(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must define values(y_true, y_pred).")

    def init(self, *, backend: str | None = None) -> dict:
        return {"total": self._zeros((), backend), "count": self._zeros((), backend)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = as_array_like(y_pred, state["total"])
        values = self.values(as_array_like(y_true, y_pred), y_pred)
        return accumulate_mean(state, values, sample_weight, self.dtype, type(self).__name__)

    def result(self, state):
        return ops.divide_no_nan(state["total"], state["count"])
