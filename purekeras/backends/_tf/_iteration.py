"""Unpacking tensors while purekeras traces: ``k1, k2 = random.split(key)`` in a graph.

JAX arrays and PyTorch tensors unpack along their first axis everywhere;
TensorFlow refuses to iterate a symbolic tensor (in a ``tf.function`` graph or a
``tf.vectorized_map`` body), even with a static first dimension. Layer and step
code written once on ``purekeras.ops`` unpacks keys and small arrays, so while
purekeras itself traces (``pk.jit``, ``vmap``, and the graph branches of
``cond`` / ``scan`` / ``fori_loop``) a tensor with a static first dimension
unpacks as in NumPy (one ``tf.unstack``). Outside those blocks, and in other
threads, ``Tensor.__iter__`` behaves exactly as TensorFlow's own: the hook
installed on first use defers to it unless this thread is inside the block.

>>> import tensorflow as tf
>>> @tf.function(autograph=False)
... def first_of_two(x):
...     with iterable_tensors():
...         a, b = x
...     return a
>>> float(first_of_two(tf.constant([3.0, 4.0])))
3.0
"""
from __future__ import annotations

import contextlib
import threading

import tensorflow as tf

_ACTIVE = threading.local()  # .depth: how many iterable_tensors() blocks this thread is in
_INSTALL = threading.Lock()


def _unpack(tensor):
    shape = tensor.shape
    if shape.rank is None or shape.rank == 0 or shape[0] is None:
        raise TypeError(
            f"Cannot iterate over a tensor of shape {shape}: unpacking needs a static first dimension "
            "(index it with ops.getitem, or give the traced function static shapes).")
    return iter(tf.unstack(tensor, num=shape[0]))


def _install() -> None:
    """Put the hook on ``tf.Tensor.__iter__`` once (it keeps TensorFlow's own behaviour
    for every thread not inside ``iterable_tensors``)."""
    with _INSTALL:
        original = tf.Tensor.__dict__["__iter__"]
        if getattr(original, "_purekeras_hook", False):
            return

        def __iter__(self):
            if getattr(_ACTIVE, "depth", 0):
                return _unpack(self)
            return original(self)

        __iter__._purekeras_hook = True
        tf.Tensor.__iter__ = __iter__


@contextlib.contextmanager
def iterable_tensors():
    """Within the block (in this thread), tensors with a static first dimension unpack."""
    _install()
    _ACTIVE.depth = getattr(_ACTIVE, "depth", 0) + 1
    try:
        yield
    finally:
        _ACTIVE.depth -= 1
