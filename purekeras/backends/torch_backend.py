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

    to_numpy = staticmethod(_convert.to_numpy)

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
    unary = staticmethod(_math.unary)
    binary = staticmethod(_math.binary)
    where = staticmethod(_math.where)
    clip = staticmethod(_math.clip)

    def softmax(self, x, axis):
        return torch.softmax(x, axis)

    def log_softmax(self, x, axis):
        return torch.log_softmax(x, axis)

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

    split = staticmethod(_indexing.split)
    getitem = staticmethod(_indexing.getitem)

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
    matmul = staticmethod(_math.matmul)
    einsum = staticmethod(_math.einsum)
    qr = staticmethod(_math.qr)

    # Neural-network primitives (channels-last).
    conv = staticmethod(_nn.conv)
    pool = staticmethod(_nn.pool)

    # Control flow and autodiff.
    cond = staticmethod(_transforms.cond)
    scan = staticmethod(_transforms.scan)
    fori_loop = staticmethod(_transforms.fori_loop)
    stop_gradient = staticmethod(_transforms.stop_gradient)
    value_and_grad = staticmethod(_transforms.value_and_grad)
    vmap = staticmethod(_transforms.vmap)

    def jit(self, fn, donate_argnums, static_argnums, compile=None):
        return _transforms.jit(fn, donate_argnums, static_argnums, compile)

    def compile_eager(self, fn, static_argnums):
        return fn  # eager PyTorch ops are cheap one by one: nothing to compile

    # Random bits.
    random_split = staticmethod(_threefry.random_split)
    random_fold_in = staticmethod(_threefry.random_fold_in)
    random_bits = staticmethod(_threefry.random_bits)


BACKEND = TorchBackend()
