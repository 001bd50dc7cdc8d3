"""Ops: NumPy-style and neural-network functions over any backend's arrays.

Each op dispatches on the type of its array arguments; creation ops take
``backend=``. See ``_core`` (conversion, creation, shape, indexing, linear
algebra), ``_math`` (elementwise, reductions, sorting), ``_nn`` (activations,
conv, pooling, normalisation) and ``_control`` (cond, scan, value_and_grad, vmap).
Dtype promotion follows one table: ``_dtypes.result_type``.

>>> from purekeras import ops
>>> x = ops.ones((2, 3), backend="jax")
>>> ops.shape(ops.matmul(x, ops.transpose(x)))
(2, 2)
"""
from ._control import cond, fori_loop, grad, scan, value_and_grad, vmap
from ._core import (
    arange, asarray, backend_name, broadcast_to, cast, concatenate, convert_to_numpy, dot,
    dtype, einsum, expand_dims, eye, flatten, flip, full, full_like, getitem, is_floating,
    matmul, moveaxis, ndim, ones, ones_like, outer, pad, qr, repeat, reshape, scatter_add,
    shape, size, split, squeeze, stack, swapaxes, take, take_along_axis, tile, transpose,
    tril, triu, zeros, zeros_like,
)
from ._core import __all__ as _core_all
from ._math import (  # noqa: A004  (abs, max, min, round, sum, any, all: NumPy's names)
    abs, add, all, any, arccos, arcsin, arctan, arctan2, arctanh, argmax, argmin, argsort,
    ceil, clip, cos, cosh, cumprod, cumsum, divide, divide_no_nan, equal, erf, erfinv, exp,
    expm1, floor, floor_divide, greater, greater_equal, isfinite, isinf, isnan, less,
    less_equal, log, log1p, logaddexp, logical_and, logical_not, logical_or, logical_xor,
    logsumexp, max, maximum, mean, min, minimum, mod, multiply, negative, nextafter, norm,
    not_equal, power, prod, reciprocal, round, rsqrt, sign, sin, sinh, sort, sqrt, square,
    std, stop_gradient, subtract, sum, tan, tanh, top_k, var, where,
)
from ._math import __all__ as _math_all
from ._nn import (
    average_pool, batch_normalization, conv, elu, exponential, gelu, hard_sigmoid,
    hard_silu, hard_swish, l2_normalize, leaky_relu, linear, log_softmax, max_pool,
    mish, moments, one_hot, relu, relu6, selu, sigmoid, silu, softmax, softplus,
    softsign, swish,
)
from ._nn import __all__ as _nn_all

__all__ = sorted({
    *_core_all, *_math_all, *_nn_all,
    "cond", "fori_loop", "grad", "scan", "value_and_grad", "vmap",
})
