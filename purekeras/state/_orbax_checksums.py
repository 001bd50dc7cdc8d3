"""Snapshots and checksums of the arrays of an orbax checkpoint.

``snapshot`` copies JAX arrays on their devices in one jitted call, dispatched
asynchronously, so the copies can be written while the originals are donated to
the next train step. With ``spare`` (an earlier snapshot's copies, written and
no longer needed) the copies take over its buffers: fresh host buffers would
cost a page fault per 4 KiB, and the next step waits for the copy.

``crc32`` is the CRC-32 of an array's bytes in C order, computed on the host
(from the snapshot, by the writer thread; on restore, from the arrays read).

>>> import numpy as np, zlib
>>> crc32(np.array([1, 2], np.uint8)) == zlib.crc32(bytes([1, 2]))
True
"""
from __future__ import annotations

import functools

import numpy as np

from ._checkpoint_npz import crc32 as _crc32


def crc32(array) -> int:
    """The CRC-32 of ``array``'s bytes in C order (a JAX array is read on the host)."""
    host = np.ascontiguousarray(np.asarray(array))
    return _crc32(host.reshape(-1).view(np.uint8))


def on_device(leaf) -> bool:
    """Whether ``leaf`` is a JAX array (saved from its devices); 64-bit and complex
    arrays go through the host."""
    import jax

    return isinstance(leaf, jax.Array) and leaf.dtype.itemsize <= 4 and leaf.dtype.kind != "c"


@functools.lru_cache(maxsize=64)
def _snapshot_fn(shardings: tuple, reuse: bool):
    import jax
    import jax.numpy as jnp

    def snapshot(leaves, spare):
        del spare  # donated: its buffers hold the copies
        return [jnp.copy(x) for x in leaves]

    return jax.jit(snapshot, out_shardings=list(shardings), donate_argnums=(1,) if reuse else (),
                   keep_unused=True)


def snapshot(leaves: list, spare: list | None = None) -> list:
    """Copies of JAX arrays (of the same devices), dispatched asynchronously: it
    returns at once, and the copies keep their shardings. ``spare``: arrays of the
    same shapes, dtypes and shardings whose buffers the copies take over (donated)."""
    return _snapshot_fn(tuple(leaf.sharding for leaf in leaves), spare is not None)(leaves, spare or [])


def signature(leaves: list) -> tuple:
    """What makes one snapshot's copies reusable as another's spare."""
    return tuple((tuple(leaf.shape), leaf.dtype.name, leaf.sharding) for leaf in leaves)


def on_cpu(leaves: list) -> bool:
    """Whether every array lives on CPU devices (where a spare copy costs host memory,
    not accelerator memory)."""
    return all(device.platform == "cpu" for leaf in leaves for device in leaf.sharding.device_set)


def by_devices(leaves: dict) -> list[list]:
    """The keys of ``leaves`` grouped by the devices their arrays live on (one jitted
    snapshot per group)."""
    groups: dict = {}
    for key, leaf in leaves.items():
        groups.setdefault(frozenset(d.id for d in leaf.sharding.device_set), []).append(key)
    return list(groups.values())
