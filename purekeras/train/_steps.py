"""Pure steps: ``(train_state, batch) -> (train_state, logs)``.

A batch is ``(x, y)``, ``(x, y, sample_weight)`` or ``(x, y, sample_weight, mask)``;
``mask`` marks real rows (0 for padding), so a padded last batch gives the same
loss and metrics as the unpadded one and the step never retraces.

>>> import numpy as np
>>> from purekeras import nn, optim, random, train, ops
>>> model = nn.Sequential([nn.Dense(3)])
>>> loss = train.losses.SparseCategoricalCrossentropy(from_logits=True)
>>> acc = train.metrics.SparseCategoricalAccuracy()
>>> opt = optim.Adam()
>>> ts = train.init_state(model, opt, random.key(0, backend="jax"), nn.InputSpec((None, 4)), metrics=[acc])
>>> step = train.make_train_step(model, loss, opt, metrics=[acc])
>>> x = ops.ones((8, 4), backend="jax"); y = ops.zeros((8,), "int32", backend="jax")
>>> ts, logs = step(ts, (x, y))
>>> sorted(logs)
['loss', 'sparse_categorical_accuracy']
"""
from __future__ import annotations

from typing import Callable, Sequence

import optree

from .. import ops, random
from ._state import TrainState, loss_tracker


def _unpack(batch):
    if not isinstance(batch, (tuple, list)) or not 1 <= len(batch) <= 4:
        raise ValueError(
            "A batch must be (x,), (x, y), (x, y, sample_weight) or (x, y, sample_weight, mask); "
            f"got {type(batch).__name__} of length {len(batch) if isinstance(batch, (tuple, list)) else '?'}."
        )
    x, y, sample_weight, mask = (*batch, None, None, None)[:4]
    return x, y, sample_weight, mask


def _combined_weight(sample_weight, mask):
    if mask is None:
        return sample_weight
    if sample_weight is None:
        return mask
    return ops.multiply(ops.cast(sample_weight, "float32"), ops.cast(mask, "float32"))


def _rows(x, mask):
    """The loss tracker's weight for a batch: its real rows, as Keras weighs it (the
    first input's batch size without a mask; 1 for inputs without a batch axis)."""
    if mask is not None:
        return ops.sum(ops.cast(mask, "float32"))
    first = next((leaf for leaf in optree.tree_leaves(x, none_is_leaf=False) if ops.ndim(leaf)), None)
    return None if first is None else float(ops.shape(first)[0])


def _update_metrics(metric_states, metrics, loss_value, x, y, y_pred, sample_weight, mask):
    tracker = loss_tracker()
    weight = _combined_weight(sample_weight, mask)
    loss_state = tracker.update(metric_states[0], loss_value, _rows(x, mask))
    states = [loss_state]
    for metric, state in zip(metrics, metric_states[1:]):
        states.append(metric.update(state, y, y_pred, weight))
    return tuple(states)


def logs_from(metric_states, metrics) -> dict:
    """``{"loss": ..., metric_name: ...}`` from the metric states."""
    logs = {"loss": loss_tracker().result(metric_states[0])}
    for metric, state in zip(metrics, metric_states[1:]):
        logs[metric.display_name] = metric.result(state)
    return logs


def make_train_step(model, loss: Callable, optimizer, *, metrics: Sequence = ()) -> Callable:
    """A pure train step for ``model``: forward, loss (+ regularization), gradients,
    optimizer update, metric update. Compile it with ``pk.jit``."""
    metrics = tuple(metrics)

    def train_step(ts: TrainState, batch):
        x, y, sample_weight, mask = _unpack(batch)
        # The key advances only for a model that draws randomness: a deterministic
        # model's step skips a threefry (costly on eager backends).
        if model.uses_rng:
            keys = random.split(ts.rng)  # indexed, not unpacked: TF graphs cannot iterate tensors
            rng, step_rng = keys[0], keys[1]
        else:
            rng, step_rng = ts.rng, None

        def loss_fn(params):
            y_pred, new_state = model.apply(params, ts.state, x, training=True, rng=step_rng)
            value = _reduce_loss(loss, y, y_pred, sample_weight, mask)
            reg = model.regularization_loss(params)
            if reg is not None:
                value = ops.add(value, ops.cast(reg, ops.dtype(value)))
            return value, (y_pred, new_state)

        grad_fn = ops.value_and_grad(loss_fn, has_aux=True, backend=ops.backend_name(ts.rng))
        (loss_value, (y_pred, new_state)), grads = grad_fn(ts.params)
        params, opt_state = optimizer.apply(grads, ts.opt_state, ts.params)
        metric_states = _update_metrics(ts.metrics, metrics, loss_value, x, y, y_pred, sample_weight, mask)
        new_ts = TrainState(params, new_state, opt_state, metric_states, rng, ops.add(ts.step, 1))
        return new_ts, logs_from(metric_states, metrics)

    return train_step


def make_eval_step(model, loss: Callable | None, *, metrics: Sequence = ()) -> Callable:
    """A pure evaluation step: forward in inference mode, loss and metric updates."""
    metrics = tuple(metrics)

    def eval_step(ts: TrainState, batch):
        x, y, sample_weight, mask = _unpack(batch)
        y_pred, _ = model.apply(ts.params, ts.state, x, training=False)
        loss_value = _reduce_loss(loss, y, y_pred, sample_weight, mask) if loss is not None else ops.zeros((), backend=ops.backend_name(ts.rng))
        reg = model.regularization_loss(ts.params)
        if reg is not None:
            loss_value = ops.add(loss_value, ops.cast(reg, ops.dtype(loss_value)))
        metric_states = _update_metrics(ts.metrics, metrics, loss_value, x, y, y_pred, sample_weight, mask)
        return ts._replace(metrics=metric_states), logs_from(metric_states, metrics)

    return eval_step


def make_predict_step(model) -> Callable:
    """A pure predict step: ``(train_state, x) -> y_pred`` in inference mode."""

    def predict_step(ts: TrainState, x):
        y_pred, _ = model.apply(ts.params, ts.state, x, training=False)
        return y_pred

    return predict_step


def make_multi_step(step: Callable, num_steps: int, *, unroll: bool = True) -> Callable:
    """``num_steps`` applications of ``step`` in one call; the batch carries a leading
    axis of size ``num_steps``. ``unroll=True`` traces the steps one after another
    (fastest for convolutions on XLA:CPU); ``unroll=False`` uses ``ops.scan``.
    Returns the logs of the last step."""

    def multi_step(ts, batches):
        if unroll:
            logs = None
            for i in range(num_steps):
                ts, logs = step(ts, _index(batches, i))
            return ts, logs

        def body(carry, batch):
            carry, logs = step(carry, batch)
            return carry, logs

        ts, all_logs = ops.scan(body, ts, batches, length=num_steps)
        return ts, {k: v[-1] for k, v in all_logs.items()}

    return multi_step


def _index(batches, i):
    return optree.tree_map(lambda b: b[i], batches)


def _reduce_loss(loss, y, y_pred, sample_weight, mask):
    if hasattr(loss, "per_example") and hasattr(loss, "reduce"):
        # A Loss spec: __call__ adds the loss's own mask (ignore_class) to the padding mask.
        return loss(y, y_pred, sample_weight, mask=mask)
    # A plain callable loss(y_true, y_pred, sample_weight) -> scalar.
    return loss(y, y_pred, _combined_weight(sample_weight, mask))
