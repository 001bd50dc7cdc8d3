"""Pieces of the openvino backend (``purekeras.backends.openvino_backend``), one job per file.

- ``_tensor``: ``OVTensor`` (one output of a graph node), dtypes, constants, eager folding.
- ``_promote``: dtype promotion with ``ops._dtypes``' table.
- ``_math``: elementwise ops; ``_reduce``: reductions, sorting, cumulative ops, matmul;
  ``_einsum``: einsum lowered to one MatMul.
- ``_shape``: reshape, transpose, broadcast, join, split, pad, tile; ``_indexing``: getitem, gathers, scatters.
- ``_nn``: channels-last convolution and pooling.
- ``_transforms``: cond, scan, fori_loop, vmap (unrolled), jit; no gradients.
- ``_function``: ``OVFunction``, a function traced into an ``ov.Model`` and compiled per signature.
- ``_compile``: compiling for the CPU plugin in float32.
- ``_threefry``: threefry2x32 random bits on the host, bit-identical to ``jax.random``.
"""
