"""Training: losses, metrics, ``TrainState``, pure steps, the ``Model`` facade, callbacks.

>>> from purekeras import train
>>> train.TrainState._fields
('params', 'state', 'opt_state', 'metrics', 'rng', 'step')
"""
from . import losses, metrics
from ._state import TrainState, init_state, reset_metrics
from ._steps import logs_from, make_eval_step, make_multi_step, make_predict_step, make_train_step

__all__ = [
    "losses", "metrics", "TrainState", "init_state", "reset_metrics", "logs_from",
    "make_eval_step", "make_multi_step", "make_predict_step", "make_train_step",
]
