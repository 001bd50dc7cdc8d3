"""Pieces of the TensorFlow backend (``purekeras.backends.tensorflow_backend``), one job per file.

- ``_convert``: dtype names, NumPy/Python -> tensor conversion, JAX-style promotion.
- ``_math``: elementwise ops, reductions, sorting, matmul.
- ``_indexing``: NumPy-style indexing, gather/scatter, padding, triangles.
- ``_nn``: channels-last convolution and pooling.
- ``_transforms``: cond, scan, fori_loop, value_and_grad (GradientTape), vmap (vectorized_map).
- ``_jit``: ``tf.function(jit_compile=True)`` per fixed input signature, with a graph fallback.
- ``_threefry``: threefry2x32 random bits, bit-identical to ``jax.random``.
- ``_autograph``: AutoGraph does not rewrite purekeras code inside a user's ``tf.function``.
"""
