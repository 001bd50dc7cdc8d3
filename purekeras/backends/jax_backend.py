"""The JAX backend: the Protocol's primitives on ``jax.numpy`` and ``jax.lax``.

>>> from purekeras.backends.jax_backend import BACKEND
>>> BACKEND.unary("rsqrt", BACKEND.asarray([4])).tolist()  # ints become float32
[0.5]
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

def _inexact(fn):
    """``fn`` on floats; integer and bool inputs are computed in float32 (as ``jnp.sqrt``)."""

    def wrapped(x):
        x = jnp.asarray(x)
        return fn(x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype("float32"))

    return wrapped


_UNARY = {
    "abs": jnp.abs, "negative": jnp.negative, "sign": jnp.sign, "exp": jnp.exp,
    "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p, "sqrt": jnp.sqrt,
    "rsqrt": _inexact(lax.rsqrt), "square": jnp.square, "sin": jnp.sin, "cos": jnp.cos,
    "tan": jnp.tan, "tanh": jnp.tanh, "sigmoid": _inexact(jax.nn.sigmoid), "erf": jax.scipy.special.erf,
    "erfinv": jax.scipy.special.erfinv, "floor": jnp.floor, "ceil": jnp.ceil,
    "round": jnp.round, "logical_not": jnp.logical_not, "isnan": jnp.isnan,
    "isinf": jnp.isinf, "isfinite": jnp.isfinite, "reciprocal": jnp.reciprocal,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan,
    "sinh": jnp.sinh, "cosh": jnp.cosh, "arctanh": jnp.arctanh,
    "softplus": jax.nn.softplus, "relu": jax.nn.relu,
}
_BINARY = {
    "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply,
    "divide": jnp.divide, "floor_divide": jnp.floor_divide, "mod": jnp.mod,
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum,
    "equal": jnp.equal, "not_equal": jnp.not_equal, "less": jnp.less,
    "less_equal": jnp.less_equal, "greater": jnp.greater,
    "greater_equal": jnp.greater_equal, "logical_and": jnp.logical_and,
    "logical_or": jnp.logical_or, "logical_xor": jnp.logical_xor,
    "arctan2": jnp.arctan2, "logaddexp": jnp.logaddexp, "nextafter": jnp.nextafter,
}
# Jitted so that an eager call compiles one program, not one per primitive.
_REDUCE = {
    name: jax.jit(fn, static_argnames=("axis", "keepdims")) for name, fn in {
        "sum": jnp.sum, "mean": jnp.mean, "max": jnp.max, "min": jnp.min,
        "prod": jnp.prod, "any": jnp.any, "all": jnp.all, "var": jnp.var, "std": jnp.std,
        "logsumexp": jax.scipy.special.logsumexp,
    }.items()
}


@functools.lru_cache(maxsize=None)
def _cached_jit(fn, static_argnums):
    """One ``jax.jit`` wrapper per function, so its compile cache is reused."""
    return jax.jit(fn, static_argnums=static_argnums)


def _dtype(name):
    return None if name is None else jnp.dtype(name)


class JaxBackend:
    """The ``Backend`` Protocol on JAX; get it with ``get_backend("jax")``.

    >>> from purekeras.backends import get_backend
    >>> get_backend("jax").dtype_name(get_backend("jax").ones((2,), "bfloat16"))
    'bfloat16'
    """

    name = "jax"

    # Conversion and metadata.
    def asarray(self, x, dtype=None):
        return jnp.asarray(x, dtype=_dtype(dtype))

    def to_numpy(self, x):
        return np.asarray(x)

    def is_array(self, x):
        return isinstance(x, (jax.Array, jax.core.Tracer))

    def dtype_name(self, x):
        return jnp.result_type(x).name

    def shape(self, x):
        return tuple(jnp.shape(x))

    def cast(self, x, dtype):
        return jnp.asarray(x).astype(dtype)

    # Creation.
    def zeros(self, shape, dtype):
        return jnp.zeros(tuple(shape), dtype)

    def ones(self, shape, dtype):
        return jnp.ones(tuple(shape), dtype)

    def full(self, shape, value, dtype):
        return jnp.full(tuple(shape), value, dtype)

    def arange(self, start, stop, step, dtype):
        return jnp.arange(start, stop, step, dtype=_dtype(dtype))

    def eye(self, n, m, dtype):
        return jnp.eye(n, m, dtype=dtype)

    # Elementwise.
    def unary(self, op, x):
        return _UNARY[op](x)

    def binary(self, op, x, y):
        return _BINARY[op](x, y)

    def where(self, cond, x, y):
        return jnp.where(cond, x, y)

    def clip(self, x, lo, hi):
        return jnp.clip(x, lo, hi)

    def softmax(self, x, axis):
        return jax.nn.softmax(x, axis=axis)

    def log_softmax(self, x, axis):
        return jax.nn.log_softmax(x, axis=axis)

    # Reductions.
    def reduce(self, op, x, axis, keepdims):
        axis = tuple(axis) if isinstance(axis, list) else axis
        return _REDUCE[op](x, axis=axis, keepdims=keepdims)

    def argmax(self, x, axis):
        return jnp.argmax(x, axis=axis).astype("int32")

    def argmin(self, x, axis):
        return jnp.argmin(x, axis=axis).astype("int32")

    def cumsum(self, x, axis):
        return jnp.cumsum(x, axis=axis)

    def cumprod(self, x, axis):
        return jnp.cumprod(x, axis=axis)

    def sort(self, x, axis):
        return jnp.sort(x, axis=axis)

    def argsort(self, x, axis):
        return jnp.argsort(x, axis=axis).astype("int32")

    def top_k(self, x, k):
        values, indices = lax.top_k(x, k)
        return values, indices.astype("int32")

    # Shape and indexing.
    def reshape(self, x, shape):
        return jnp.reshape(x, tuple(shape))

    def transpose(self, x, axes):
        return jnp.transpose(x, axes)

    def broadcast_to(self, x, shape):
        return jnp.broadcast_to(x, tuple(shape))

    def expand_dims(self, x, axis):
        return jnp.expand_dims(x, axis)

    def squeeze(self, x, axis):
        return jnp.squeeze(x, axis)

    def concatenate(self, xs, axis):
        return jnp.concatenate(xs, axis=axis)

    def stack(self, xs, axis):
        return jnp.stack(xs, axis=axis)

    def split(self, x, indices_or_sections, axis):
        return jnp.split(x, indices_or_sections, axis=axis)

    def getitem(self, x, index):
        return x[index]

    def take(self, x, indices, axis):
        return jnp.take(x, indices, axis=axis)

    def take_along_axis(self, x, indices, axis):
        return jnp.take_along_axis(x, indices, axis=axis)

    def scatter_add(self, x, indices, updates):
        return x.at[indices].add(updates)

    def pad(self, x, pad_width, constant):
        return jnp.pad(x, pad_width, constant_values=constant)

    def tile(self, x, reps):
        return jnp.tile(x, reps)

    def repeat(self, x, repeats, axis):
        return jnp.repeat(x, repeats, axis=axis)

    def flip(self, x, axis):
        return jnp.flip(x, axis)

    def tril(self, x, k):
        return jnp.tril(x, k)

    def triu(self, x, k):
        return jnp.triu(x, k)

    # Linear algebra.
    def matmul(self, x, y):
        return jnp.matmul(x, y)

    def einsum(self, subscripts, *operands):
        return jnp.einsum(subscripts, *operands)

    def qr(self, x):
        return jnp.linalg.qr(x)

    # Neural-network primitives.
    def conv(self, x, kernel, strides, padding, dilation, groups):
        spatial = "HWD"[: x.ndim - 2]
        dims = ("N" + spatial + "C", spatial + "IO", "N" + spatial + "C")
        return lax.conv_general_dilated(
            x, kernel, window_strides=tuple(strides), padding=padding.upper(),
            rhs_dilation=tuple(dilation), dimension_numbers=dims,
            feature_group_count=groups,
        )

    def pool(self, op, x, window, strides, padding):
        window = (1, *window, 1)
        strides = (1, *strides, 1)
        padding = padding.upper()
        # Init values are Python scalars so that JAX recognises the max / sum
        # monoids and uses its differentiable reduce_window_{max,sum} primitives.
        if op == "max":
            init = -float("inf") if jnp.issubdtype(x.dtype, jnp.floating) else int(jnp.iinfo(x.dtype).min)
            return lax.reduce_window(x, init, lax.max, window, strides, padding)
        summed = lax.reduce_window(x, 0, lax.add, window, strides, padding)
        if padding == "VALID":
            return summed / np.prod(window)
        # Keras's "same" average excludes the padded positions from the count.
        counts = lax.reduce_window(
            np.ones(x.shape[1:-1], x.dtype), 0, lax.add, window[1:-1], strides[1:-1], padding,
        )
        return summed / counts[None, ..., None]

    # Control flow and autodiff.
    def cond(self, pred, true_fn, false_fn, *operands):
        return lax.cond(pred, true_fn, false_fn, *operands)

    def scan(self, fn, init, xs, length):
        return lax.scan(fn, init, xs, length=length)

    def fori_loop(self, lower, upper, body, init):
        return lax.fori_loop(lower, upper, body, init)

    def stop_gradient(self, x):
        return lax.stop_gradient(x)

    def value_and_grad(self, fn, argnums, has_aux):
        return jax.value_and_grad(fn, argnums=argnums, has_aux=has_aux)

    def vmap(self, fn, in_axes, out_axes):
        return jax.vmap(fn, in_axes=in_axes, out_axes=out_axes)

    def jit(self, fn, donate_argnums, static_argnums, compile=None):
        if compile is False:  # eager, for debugging: every op runs on its own
            return fn
        return jax.jit(fn, donate_argnums=donate_argnums, static_argnums=static_argnums)

    def compile_eager(self, fn, static_argnums):
        return _cached_jit(fn, tuple(static_argnums))

    # Random bits.
    def _wrap(self, key):
        return jax.random.wrap_key_data(key, impl="threefry2x32")

    def random_split(self, key, num):
        return jax.random.key_data(jax.random.split(self._wrap(key), num))

    def random_fold_in(self, key, data):
        return jax.random.key_data(jax.random.fold_in(self._wrap(key), data))

    def random_bits(self, key, shape):
        return jax.random.bits(self._wrap(key), tuple(shape), dtype="uint32")


BACKEND = JaxBackend()
