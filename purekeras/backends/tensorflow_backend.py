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

    def to_numpy(self, x):
        return _convert.to_numpy(x)

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
    def unary(self, op, x):
        return _math.unary(op, x)

    def binary(self, op, x, y):
        return _math.binary(op, x, y)

    def where(self, cond, x, y):
        return _math.where(cond, x, y)

    def clip(self, x, lo, hi):
        return _math.clip(x, lo, hi)

    # Reductions.
    def reduce(self, op, x, axis, keepdims):
        return _math.reduce(op, x, axis, keepdims)

    def argmax(self, x, axis):
        return _math.argmax(x, axis)

    def argmin(self, x, axis):
        return _math.argmin(x, axis)

    def cumsum(self, x, axis):
        return _math.cumsum(x, axis)

    def cumprod(self, x, axis):
        return _math.cumprod(x, axis)

    def sort(self, x, axis):
        return _math.sort(x, axis)

    def argsort(self, x, axis):
        return _math.argsort(x, axis)

    def top_k(self, x, k):
        return _math.top_k(x, k)

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

    def concatenate(self, xs, axis):
        return _indexing.concatenate(xs, axis)

    def stack(self, xs, axis):
        return _indexing.stack(xs, axis)

    def split(self, x, indices_or_sections, axis):
        return _indexing.split(x, indices_or_sections, axis)

    def getitem(self, x, index):
        return _indexing.getitem(x, index)

    def take(self, x, indices, axis):
        return _indexing.take(x, indices, axis)

    def take_along_axis(self, x, indices, axis):
        return _indexing.take_along_axis(x, indices, axis)

    def scatter_add(self, x, indices, updates):
        return _indexing.scatter_add(x, indices, updates)

    def pad(self, x, pad_width, constant):
        return _indexing.pad(x, pad_width, constant)

    def tile(self, x, reps):
        return tf.tile(tensor(x), list(reps))

    def repeat(self, x, repeats, axis):
        return tf.repeat(tensor(x), repeats, axis=axis)

    def flip(self, x, axis):
        return _indexing.flip(x, axis)

    def tril(self, x, k):
        return _indexing.tril(x, k)

    def triu(self, x, k):
        return _indexing.triu(x, k)

    # Linear algebra.
    def matmul(self, x, y):
        return _math.matmul(x, y)

    def einsum(self, subscripts, *operands):
        return _math.einsum(subscripts, *operands)

    def qr(self, x):
        return _math.qr(x)

    # Neural-network primitives (channels-last).
    def conv(self, x, kernel, strides, padding, dilation, groups):
        return _nn.conv(x, kernel, strides, padding, dilation, groups)

    def pool(self, op, x, window, strides, padding):
        return _nn.pool(op, tensor(x), window, strides, padding)

    # Control flow and autodiff.
    def cond(self, pred, true_fn, false_fn, *operands):
        return _transforms.cond(pred, true_fn, false_fn, *operands)

    def scan(self, fn, init, xs, length):
        return _transforms.scan(fn, init, xs, length)

    def fori_loop(self, lower, upper, body, init):
        return _transforms.fori_loop(lower, upper, body, init)

    def stop_gradient(self, x):
        return _transforms.stop_gradient(x)

    def value_and_grad(self, fn, argnums, has_aux):
        return _transforms.value_and_grad(fn, argnums, has_aux)

    def vmap(self, fn, in_axes, out_axes):
        return _transforms.vmap(fn, in_axes, out_axes)

    def jit(self, fn, donate_argnums, static_argnums, compile=None):
        return _jit.jit(fn, donate_argnums, static_argnums, compile)

    def compile_eager(self, fn, static_argnums):
        return fn  # a few hundred eager ops cost less than tracing a graph for each new shape

    # Random bits.
    def random_split(self, key, num):
        return _threefry.random_split(key, num)

    def random_fold_in(self, key, data):
        return _threefry.random_fold_in(key, data)

    def random_bits(self, key, shape):
        return _threefry.random_bits(key, shape)


BACKEND = TensorFlowBackend()
