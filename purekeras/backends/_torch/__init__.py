"""Pieces of the PyTorch backend (``purekeras.backends.torch_backend``), one job per file.

- ``_convert``: dtype names, NumPy/Python -> tensor conversion, JAX-style promotion.
- ``_math``: elementwise ops and reductions.
- ``_indexing``: NumPy-style indexing, gather/scatter, padding.
- ``_nn``: channels-last convolution and pooling.
- ``_transforms``: cond, scan, fori_loop, value_and_grad, vmap, jit.
- ``_threefry``: threefry2x32 random bits, bit-identical to ``jax.random``.
"""
