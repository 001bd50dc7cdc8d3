"""``LambdaCallback``: a callback from plain functions."""
from __future__ import annotations

from typing import Callable

from ._base import HOOKS, Callback


class LambdaCallback(Callback):
    """Each argument is a function for the hook of the same name: ``on_epoch_begin(epoch,
    logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``; any
    other Keras hook can be given by keyword (``on_test_end=...``).

    >>> from purekeras import callbacks
    >>> cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print("done", epoch))
    >>> cb.on_epoch_end(0, {})
    done 0
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs: Callable):
        super().__init__()
        unknown = sorted(set(kwargs) - set(HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {unknown}; known: {list(HOOKS)}.")
        given = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end)
        for hook, fn in given.items():
            if fn is not None:
                setattr(self, hook, fn)  # an instance attribute shadows the no-op method
