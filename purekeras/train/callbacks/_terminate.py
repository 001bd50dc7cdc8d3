"""``TerminateOnNaN``: stop as soon as the loss is NaN or infinite."""
from __future__ import annotations

import math

import numpy as np

from ._base import Callback


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite. It reads the loss after
    every step, so it makes the host wait for the device each step.

    >>> from purekeras import callbacks
    >>> class FakeModel: stop_training = False
    >>> cb = callbacks.TerminateOnNaN(); cb.set_model(FakeModel())
    >>> cb.on_train_batch_end(3, {"loss": float("nan")})
    Batch 3: Invalid loss, terminating training
    >>> cb.model.stop_training
    True
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
