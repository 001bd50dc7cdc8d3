"""The TensorFlow backend: the Protocol's primitives on ``tensorflow`` (CPU or GPU tensors).

Semantics are the JAX backend's, so the same layer gives the same numbers on
all backends: dtype names and promotion (``ops._dtypes``, Python scalars weak;
TensorFlow itself never promotes), int32 for Python ints and for index
results, NumPy-style indexing, XLA's "same" padding, and random bits equal bit
for bit to ``jax.random``'s threefry2x32. ``jit`` is ``tf.function`` with
``jit_compile=True`` over one fixed input signature per argument shape. The
pieces live in ``purekeras.backends._tf``.

>>> from purekeras.backends.tensorflow_backend import BACKEND
>>> BACKEND.unary("rsqrt", BACKEND.asarray([4])).numpy().tolist()  # ints become float32
[0.5]
"""
from __future__ import annotations

import tensorflow as tf

from ._tf import _autograph, _convert, _indexing, _jit, _math, _nn, _threefry, _transforms
from ._tf._convert import asarray, tensor, tf_dtype

_autograph.skip_purekeras()  # a user's @tf.function traces purekeras as it is (no AutoGraph rewrite)


class TensorFlowBackend:
    """The ``Backend`` Protocol on TensorFlow; get it with ``get_backend("tensorflow")``.

    >>> from purekeras.backends import get_backend
    >>> b = get_backend("tensorflow")
    >>> b.dtype_name(b.ones((2,), "bfloat16"))
    'bfloat16'
    """

    name = "tensorflow"

    # Conversion and metadata.
    def asarray(self, x, dtype=None):
        return asarray(x, dtype)

    to_numpy = staticmethod(_convert.to_numpy)

    def is_array(self, x):
        return isinstance(x, _convert.TENSOR_TYPES)

    def dtype_name(self, x):
        if isinstance(x, _convert.TENSOR_TYPES):
            return _convert.NAMES[x.dtype]
        return _convert.dtype_name(_convert.promote(x))

    def shape(self, x):
        return _convert.static_shape(tensor(x))

    def cast(self, x, dtype):
        return _convert.to_dtype(x, tf_dtype(dtype))

    # Creation.
    def zeros(self, shape, dtype):
        return tf.zeros(tuple(shape), tf_dtype(dtype))

    def ones(self, shape, dtype):
        return tf.ones(tuple(shape), tf_dtype(dtype))

    def full(self, shape, value, dtype):
        if isinstance(value, _convert.TENSOR_TYPES):
            return tf.broadcast_to(tf.cast(value, tf_dtype(dtype)), tuple(shape))
        return tf.fill(tuple(shape), asarray(value, dtype))

    def arange(self, start, stop, step, dtype):
        if dtype is None:
            integral = all(isinstance(v, int) for v in (start, stop, step))
            dtype = "int32" if integral else "float32"
        return tf.range(start, stop, step, dtype=tf_dtype(dtype))

    def eye(self, n, m, dtype):
        return tf.eye(n, m, dtype=tf_dtype(dtype))

    # Elementwise.
    unary = staticmethod(_math.unary)
    binary = staticmethod(_math.binary)
    where = staticmethod(_math.where)
    clip = staticmethod(_math.clip)

    def softmax(self, x, axis):
        return tf.nn.softmax(x, axis=axis)

    def log_softmax(self, x, axis):
        return tf.nn.log_softmax(x, axis=axis)

    # Reductions.
    reduce = staticmethod(_math.reduce)
    argmax = staticmethod(_math.argmax)
    argmin = staticmethod(_math.argmin)
    cumsum = staticmethod(_math.cumsum)
    cumprod = staticmethod(_math.cumprod)
    sort = staticmethod(_math.sort)
    argsort = staticmethod(_math.argsort)
    top_k = staticmethod(_math.top_k)

    # Shape and indexing.
    def reshape(self, x, shape):
        return tf.reshape(x, tuple(shape))

    def transpose(self, x, axes):
        return tf.transpose(x, None if axes is None else list(axes))

    def broadcast_to(self, x, shape):
        return tf.broadcast_to(tensor(x), tuple(shape))

    def expand_dims(self, x, axis):
        return tf.expand_dims(x, axis)

    def squeeze(self, x, axis):
        return tf.squeeze(x, None if axis is None else axis)

    concatenate = staticmethod(_indexing.concatenate)
    stack = staticmethod(_indexing.stack)
    split = staticmethod(_indexing.split)
    getitem = staticmethod(_indexing.getitem)
    take = staticmethod(_indexing.take)
    take_along_axis = staticmethod(_indexing.take_along_axis)
    scatter_add = staticmethod(_indexing.scatter_add)
    pad = staticmethod(_indexing.pad)

    def tile(self, x, reps):
        return tf.tile(tensor(x), list(reps))

    def repeat(self, x, repeats, axis):
        return tf.repeat(tensor(x), repeats, axis=axis)

    flip = staticmethod(_indexing.flip)
    tril = staticmethod(_indexing.tril)
    triu = staticmethod(_indexing.triu)

    # Linear algebra.
    matmul = staticmethod(_math.matmul)
    einsum = staticmethod(_math.einsum)
    qr = staticmethod(_math.qr)

    # Neural-network primitives (channels-last).
    conv = staticmethod(_nn.conv)

    def pool(self, op, x, window, strides, padding):
        return _nn.pool(op, tensor(x), window, strides, padding)

    # Control flow and autodiff.
    cond = staticmethod(_transforms.cond)
    scan = staticmethod(_transforms.scan)
    fori_loop = staticmethod(_transforms.fori_loop)
    stop_gradient = staticmethod(_transforms.stop_gradient)
    value_and_grad = staticmethod(_transforms.value_and_grad)
    vmap = staticmethod(_transforms.vmap)

    def jit(self, fn, donate_argnums, static_argnums, compile=None):
        return _jit.jit(fn, donate_argnums, static_argnums, compile)

    def compile_eager(self, fn, static_argnums):
        return fn  # a few hundred eager ops cost less than tracing a graph for each new shape

    # Random bits.
    random_split = staticmethod(_threefry.random_split)
    random_fold_in = staticmethod(_threefry.random_fold_in)
    random_bits = staticmethod(_threefry.random_bits)


BACKEND = TensorFlowBackend()
