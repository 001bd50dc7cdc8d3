"""Learning-rate schedules: frozen specs, pure and traceable functions of the step.

A schedule is a callable ``schedule(step) -> float32 scalar`` with Keras 3's
class names, arguments and numerics. Pass one as an optimizer's
``learning_rate``; the optimizer evaluates it at ``opt_state.iterations`` each
step, so a compiled step never retraces as the rate changes.

>>> from purekeras import optim, ops
>>> schedule = optim.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(float(schedule(ops.asarray(20, backend="jax"))), 6)
0.025
>>> opt = optim.SGD(learning_rate=schedule)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from .. import ops

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "CosineDecay",
           "PiecewiseConstantDecay", "PolynomialDecay"]


def _float32(value, like):
    """``value`` as a float32 array on the backend of ``like``."""
    return ops.asarray(value, "float32", backend=ops.backend_name(like))


def _step(step):
    return ops.asarray(step)


@dataclass(frozen=True)
class LearningRateSchedule:
    """Base of the schedules: a frozen spec whose ``__call__(step)`` is pure.

    Subclass it (as a frozen dataclass) and define ``__call__`` with ``ops`` only,
    using ``ops.where`` rather than Python ``if`` on arrays.

    >>> from dataclasses import dataclass
    >>> from purekeras import ops
    >>> @dataclass(frozen=True)
    ... class Halving(LearningRateSchedule):
    ...     initial_learning_rate: float
    ...     def __call__(self, step):
    ...         step = ops.cast(ops.asarray(step), "float32")
    ...         return ops.multiply(self.initial_learning_rate, ops.power(0.5, step))
    >>> float(Halving(1.0)(3))
    0.125
    """

    def __call__(self, step):
        raise TypeError(f"{type(self).__name__} must define `__call__(self, step)`.")


def _check_decay_steps(owner: str, decay_steps) -> None:
    if not decay_steps > 0:
        raise ValueError(f"{owner}: `decay_steps` must be > 0; received decay_steps={decay_steps!r}.")


@dataclass(frozen=True)
class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops in steps.

    >>> from purekeras import optim
    >>> s = optim.schedules.ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> [float(s(step)) for step in (0, 1, 2, 3, 4)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False
    name: str = "ExponentialDecay"

    def __post_init__(self):
        _check_decay_steps(type(self).__name__, self.decay_steps)

    def __call__(self, step):
        step = _step(step)
        p = ops.divide(ops.cast(step, "float32"), _float32(self.decay_steps, step))
        if self.staircase:
            p = ops.floor(p)
        rate = ops.power(_float32(self.decay_rate, step), p)
        return ops.multiply(_float32(self.initial_learning_rate, step), rate)


@dataclass(frozen=True)
class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` the ratio ``step / decay_steps`` is floored.

    >>> from purekeras import optim
    >>> s = optim.schedules.InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    >>> [float(s(step)) for step in (0, 1, 3)]
    [1.0, 0.5, 0.25]
    """

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False
    name: str = "InverseTimeDecay"

    def __post_init__(self):
        _check_decay_steps(type(self).__name__, self.decay_steps)

    def __call__(self, step):
        step = _step(step)
        p = ops.divide(ops.cast(step, "float32"), _float32(self.decay_steps, step))
        if self.staircase:
            p = ops.floor(p)
        denominator = ops.add(_float32(1.0, step), ops.multiply(_float32(self.decay_rate, step), p))
        return ops.divide(_float32(self.initial_learning_rate, step), denominator)


@dataclass(frozen=True)
class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or ``warmup_target``), with
    optional linear warmup. With ``s = min(step, decay_steps)`` and no warmup::

        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)

    With ``warmup_target``, the rate first rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    decays from ``warmup_target`` over ``decay_steps``.

    >>> from purekeras import optim
    >>> s = optim.schedules.CosineDecay(0.0, decay_steps=2, warmup_target=1.0, warmup_steps=2)
    >>> [round(float(s(step)), 4) for step in (0, 1, 2, 3, 4, 9)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    initial_learning_rate: float
    decay_steps: int
    alpha: float = 0.0
    name: str = "CosineDecay"
    warmup_target: float | None = None
    warmup_steps: int = 0

    def __post_init__(self):
        _check_decay_steps(type(self).__name__, self.decay_steps)

    def _decay(self, step, decay_steps, decay_from):
        fraction = ops.divide(step, decay_steps)
        cosine = ops.multiply(0.5, ops.add(1.0, ops.cos(ops.multiply(_float32(math.pi, step), fraction))))
        return ops.multiply(decay_from, ops.add(ops.multiply(1 - self.alpha, cosine), self.alpha))

    def __call__(self, step):
        step = _step(step)
        initial = _float32(self.initial_learning_rate, step)
        decay_steps = _float32(self.decay_steps, step)
        step = ops.cast(step, "float32")
        if self.warmup_target is None:
            return self._decay(ops.minimum(step, decay_steps), decay_steps, initial)
        target = _float32(self.warmup_target, step)
        warmup_steps = _float32(self.warmup_steps, step)
        step = ops.minimum(step, ops.add(decay_steps, warmup_steps))
        warming = ops.less(step, warmup_steps)
        # Divide by 1 where not warming up, so warmup_steps=0 makes no NaN.
        fraction = ops.divide(step, ops.where(warming, warmup_steps, _float32(1.0, step)))
        warmup = ops.add(ops.multiply(ops.subtract(target, initial), fraction), initial)
        decay = self._decay(ops.subtract(step, warmup_steps), decay_steps, target)
        return ops.where(warming, warmup, decay)


@dataclass(frozen=True)
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    >>> from purekeras import optim
    >>> s = optim.schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    >>> [float(s(step)) for step in (0, 2, 3, 4, 5)]
    [1.0, 1.0, 0.5, 0.5, 0.10000000149011612]
    """

    boundaries: Sequence[Any]
    values: Sequence[float]
    name: str = "PiecewiseConstant"

    def __post_init__(self):
        # Tuples keep the spec hashable (a static argument of a compiled step).
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        object.__setattr__(self, "values", tuple(self.values))
        if len(self.boundaries) != len(self.values) - 1 or not self.boundaries:
            raise ValueError(
                "PiecewiseConstantDecay: `boundaries` must be non-empty and one shorter than "
                f"`values`; received boundaries={list(self.boundaries)} (length "
                f"{len(self.boundaries)}) and values={list(self.values)} (length {len(self.values)}).")
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError("PiecewiseConstantDecay: `boundaries` must be strictly increasing; "
                             f"received boundaries={list(self.boundaries)}.")

    def __call__(self, step):
        step = _step(step)
        # Boundaries compare in the step's dtype, as Keras casts them.
        result = _float32(self.values[-1], step)
        for boundary, value in reversed(list(zip(self.boundaries, self.values[:-1]))):
            at_or_before = ops.less_equal(step, ops.cast(ops.asarray(boundary, backend=ops.backend_name(step)),
                                                         ops.dtype(step)))
            result = ops.where(at_or_before, _float32(value, step), result)
        return result


@dataclass(frozen=True)
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``::

        s = min(step, decay_steps)
        lr = (initial - end) * (1 - s / decay_steps) ** power + end

    With ``cycle=True`` the decay restarts: ``decay_steps`` is multiplied by
    ``ceil(step / decay_steps)`` (1 at step 0) and ``step`` is not clamped.

    >>> from purekeras import optim
    >>> s = optim.schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    >>> [float(s(step)) for step in (0, 1, 2, 4, 8)]
    [1.0, 0.75, 0.5, 0.0, 0.0]
    """

    initial_learning_rate: float
    decay_steps: int
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False
    name: str = "PolynomialDecay"

    def __post_init__(self):
        _check_decay_steps(type(self).__name__, self.decay_steps)

    def __call__(self, step):
        step = _step(step)
        initial = _float32(self.initial_learning_rate, step)
        end = _float32(self.end_learning_rate, step)
        decay_steps = _float32(self.decay_steps, step)
        step = ops.cast(step, "float32")
        if self.cycle:
            multiplier = ops.where(ops.equal(step, 0), _float32(1.0, step),
                                   ops.ceil(ops.divide(step, self.decay_steps)))
            decay_steps = ops.multiply(decay_steps, multiplier)
        else:
            step = ops.minimum(step, decay_steps)
        p = ops.divide(step, decay_steps)
        decayed = ops.power(ops.subtract(1, p), _float32(self.power, step))
        return ops.add(ops.multiply(ops.subtract(initial, end), decayed), end)
