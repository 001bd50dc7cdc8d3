"""Threading params / state / rng through named children, with no magic.

A composite layer (Sequential, Functional, MultiHeadAttention, your own) keeps
its children in fields, names them, and calls them through these helpers. Each
child's key is derived from the parent's key and the child's name, so adding a
child never changes the others' initial values or dropout masks.

>>> from purekeras import nn, random
>>> k = random.key(0, backend="jax")
>>> a, b = child_key(k, "dense"), child_key(k, "dense_1")
>>> bool((a != b).any())
True
"""
from __future__ import annotations

from .. import random


def _crc32_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC32_TABLE = _crc32_table()


def name_hash(name: str) -> int:
    """zlib's CRC-32 of the UTF-8 ``name``, in pure Python so that ``torch.compile``
    can trace it (``zlib.crc32`` is a C builtin it cannot see into).

    >>> import zlib
    >>> name_hash("dense_1") == zlib.crc32(b"dense_1")
    True
    """
    crc = 0xFFFFFFFF
    for byte in name.encode("utf-8"):
        crc = _CRC32_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def child_key(key, name: str):
    """The key for the child called ``name`` (``None`` stays ``None``)."""
    if key is None:
        return None
    return random.fold_in(key, name_hash(name))


def child_rng(layer, rng, name: str):
    """The ``rng`` to hand child ``name`` in ``apply``: its own key if it uses one, else None."""
    return child_key(rng, name) if layer.uses_rng else None


def any_uses_rng(layers) -> bool:
    """A composite uses an rng when any of its children does."""
    return any(layer.uses_rng for layer in layers)


def init_child(layer, name: str, key, input_spec, params: dict, state: dict):
    """Init ``layer`` as child ``name``; store its non-empty params/state under ``name``."""
    child_params, child_state = layer.init(child_key(key, name), input_spec)
    if child_params:
        params[name] = child_params
    if child_state:
        state[name] = child_state
    return layer.output_spec(input_spec)


def apply_child(layer, name: str, params: dict, state: dict, x, *, training: bool, rng,
                new_state: dict):
    """Apply child ``name``; record its new state in ``new_state`` and return its output."""
    y, child_state = layer.apply(
        params.get(name, {}), state.get(name, {}), x,
        training=training, rng=child_rng(layer, rng, name),
    )
    if child_state:
        new_state[name] = child_state
    return y


def children_regularization_loss(named_layers, params: dict):
    """Sum of the children's regularization losses (``None`` if there are none)."""
    from .. import ops

    total = None
    for name, layer in named_layers:
        loss = layer.regularization_loss(params.get(name, {}))
        if loss is not None:
            total = loss if total is None else ops.add(total, loss)
    return total
