"""``TrainState``: everything that changes during training, as one pytree."""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import optree

from .. import ops, random
from ..nn import InputSpec
from . import metrics as metrics_lib


class TrainState(NamedTuple):
    """Everything a training run changes, as one pytree the caller owns.

    It can be a ``jax.jit`` argument (donated), sharded, checkpointed, or moved
    between backends leaf by leaf. Build it with ``train.init_state``.

    >>> TrainState._fields
    ('params', 'state', 'opt_state', 'metrics', 'rng', 'step')
    """

    params: Any  # {layer_name: {var_name: array}}
    state: Any  # layer state (batch-norm statistics, ...), same nesting
    opt_state: Any  # optim.OptState
    metrics: Any  # tuple of metric states: the loss tracker first, then each metric
    rng: Any  # uint32[2] key; split once per step
    step: Any  # shape (), int32: train steps taken


def loss_tracker() -> metrics_lib.Mean:
    return metrics_lib.Mean(name="loss")


def init_metric_states(metrics: Sequence, backend: str) -> tuple:
    """Fresh states for the loss tracker and ``metrics``, in that order."""
    return tuple(m.init(backend=backend) for m in (loss_tracker(), *metrics))


def init_state(model, optimizer, key, input_spec: InputSpec | Any = None, *, metrics: Sequence = ()) -> TrainState:
    """Initialise params, layer state, optimizer state and metric states from ``key``.

    >>> from purekeras import nn, optim, random, train
    >>> model = nn.Sequential([nn.Dense(2)])
    >>> ts = train.init_state(model, optim.Adam(), random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> int(ts.step), sorted(ts.params)
    (0, ['dense'])
    """
    backend = ops.backend_name(key)
    keys = random.split(key)
    init_key, rng = keys[0], keys[1]
    params, state = model.init(init_key, input_spec) if input_spec is not None else model.init(init_key)
    opt_state = optimizer.init(params)
    return TrainState(
        params=params, state=state, opt_state=opt_state,
        metrics=init_metric_states(metrics, backend), rng=rng,
        step=ops.zeros((), "int32", backend=backend),
    )


def reset_metrics(ts: TrainState, metrics: Sequence) -> TrainState:
    """``ts`` with fresh states for the loss tracker and ``metrics`` (e.g. at each epoch).

    >>> from purekeras import nn, optim, random, train
    >>> ts = train.init_state(nn.Dense(2), optim.SGD(), random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> len(train.reset_metrics(ts, []).metrics)
    1
    """
    backend = ops.backend_name(ts.rng)
    return ts._replace(metrics=init_metric_states(metrics, backend))


def tree_size(tree) -> int:
    return sum(ops.size(leaf) for leaf in optree.tree_leaves(tree))
