"""The PyTorch backend: the Protocol's primitives on ``torch`` (CPU tensors).

Semantics are the JAX backend's, so the same layer gives the same numbers on
both: dtype names and promotion (``ops._dtypes``, Python scalars weak), int32
for Python ints and for index results, NumPy-style indexing, XLA's "same"
padding, and random bits equal bit for bit to ``jax.random``'s threefry2x32.
The pieces live in ``purekeras.backends._torch``.

>>> from purekeras.backends.torch_backend import BACKEND
>>> BACKEND.unary("rsqrt", BACKEND.asarray([4])).tolist()  # ints become float32
[0.5]
"""
from __future__ import annotations

import torch

from ._torch import _convert, _indexing, _math, _nn, _threefry, _transforms
from ._torch._convert import asarray, torch_dtype


class TorchBackend:
    """The ``Backend`` Protocol on PyTorch; get it with ``get_backend("torch")``.

    >>> from purekeras.backends import get_backend
    >>> get_backend("torch").dtype_name(get_backend("torch").ones((2,), "bfloat16"))
    'bfloat16'
    """

    name = "torch"

    # Conversion and metadata.
    def asarray(self, x, dtype=None):
        return asarray(x, dtype)

    def to_numpy(self, x):
        return _convert.to_numpy(x)

    def is_array(self, x):
        return isinstance(x, torch.Tensor)

    def dtype_name(self, x):
        if isinstance(x, torch.Tensor):
            return _convert.NAMES[x.dtype]
        return _convert.dtype_name(_convert.promote(x))

    def shape(self, x):
        return tuple(x.shape) if isinstance(x, torch.Tensor) else tuple(asarray(x).shape)

    def cast(self, x, dtype):
        return _convert.to_dtype(x, torch_dtype(dtype))

    # Creation.
    def zeros(self, shape, dtype):
        return torch.zeros(tuple(shape), dtype=torch_dtype(dtype))

    def ones(self, shape, dtype):
        return torch.ones(tuple(shape), dtype=torch_dtype(dtype))

    def full(self, shape, value, dtype):
        if isinstance(value, torch.Tensor):
            return torch.broadcast_to(value.to(torch_dtype(dtype)), tuple(shape)).clone()
        return torch.full(tuple(shape), value, dtype=torch_dtype(dtype))

    def arange(self, start, stop, step, dtype):
        if dtype is None:
            integral = all(isinstance(v, int) for v in (start, stop, step))
            dtype = "int32" if integral else "float32"
        return torch.arange(start, stop, step, dtype=torch_dtype(dtype))

    def eye(self, n, m, dtype):
        return torch.eye(n, n if m is None else m, dtype=torch_dtype(dtype))

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
        return torch.reshape(x, tuple(shape))

    def transpose(self, x, axes):
        return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))

    def broadcast_to(self, x, shape):
        return torch.broadcast_to(asarray(x), tuple(shape))

    def expand_dims(self, x, axis):
        return torch.unsqueeze(x, axis)

    def squeeze(self, x, axis):
        return torch.squeeze(x) if axis is None else torch.squeeze(x, axis)

    def concatenate(self, xs, axis):
        dtype = _convert.promote(*xs)
        return torch.cat([_convert.to_dtype(x, dtype) for x in xs], dim=axis)

    def stack(self, xs, axis):
        dtype = _convert.promote(*xs)
        return torch.stack([_convert.to_dtype(x, dtype) for x in xs], dim=axis)

    def split(self, x, indices_or_sections, axis):
        return _indexing.split(x, indices_or_sections, axis)

    def getitem(self, x, index):
        return _indexing.getitem(x, index)

    def take(self, x, indices, axis):
        return _indexing.take(asarray(x), indices, axis)

    def take_along_axis(self, x, indices, axis):
        return _indexing.take_along_axis(asarray(x), indices, axis)

    def scatter_add(self, x, indices, updates):
        return _indexing.scatter_add(asarray(x), indices, updates)

    def pad(self, x, pad_width, constant):
        return _indexing.pad(asarray(x), pad_width, constant)

    def tile(self, x, reps):
        return torch.tile(asarray(x), tuple(reps))

    def repeat(self, x, repeats, axis):
        return torch.repeat_interleave(asarray(x), repeats, dim=axis)

    def flip(self, x, axis):
        return _indexing.flip(asarray(x), axis)

    def tril(self, x, k):
        return torch.tril(x, diagonal=k)

    def triu(self, x, k):
        return torch.triu(x, diagonal=k)

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
        return _nn.pool(op, x, window, strides, padding)

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
        return _transforms.jit(fn, donate_argnums, static_argnums, compile)

    def compile_eager(self, fn, static_argnums):
        return fn  # eager PyTorch ops are cheap one by one: nothing to compile

    # Random bits.
    def random_split(self, key, num):
        return _threefry.random_split(key, num)

    def random_fold_in(self, key, data):
        return _threefry.random_fold_in(key, data)

    def random_bits(self, key, shape):
        return _threefry.random_bits(key, shape)


BACKEND = TorchBackend()
