"""Ops: NumPy-style and neural-network functions over any backend's arrays.

Each op dispatches on the type of its array arguments; creation ops take
``backend=``. See ``_core`` (NumPy-style), ``_nn`` (activations, conv, pooling,
normalisation) and ``_control`` (cond, scan, value_and_grad, vmap).

>>> import numpy as np
>>> from purekeras import ops
>>> x = ops.ones((2, 3), backend="jax")
>>> ops.shape(ops.matmul(x, ops.transpose(x)))
(2, 2)
"""
from ._control import cond, fori_loop, grad, scan, value_and_grad, vmap
from ._core import (  # the NumPy-style op set
    backend_name,
    asarray, convert_to_numpy, shape, ndim, size, dtype, cast, is_floating, zeros,
    ones, full, zeros_like, ones_like, full_like, arange, eye, abs, negative, sign,
    exp, expm1, log, log1p, sqrt, rsqrt, square, sin, cos, tan, tanh, sinh, cosh,
    arcsin, arccos, arctan, arctanh, erf, erfinv, floor, ceil, round, reciprocal,
    logical_not, isnan, isinf, isfinite, add, subtract, multiply, divide, floor_divide,
    mod, power, maximum, minimum, equal, not_equal, less, less_equal, greater,
    greater_equal, logical_and, logical_or, logical_xor, arctan2, logaddexp, nextafter, where,
    stop_gradient, clip, divide_no_nan, sum, mean, max, min, prod, any, all, var, std,
    logsumexp, argmax, argmin, cumsum, cumprod, sort, argsort, top_k, norm, reshape,
    transpose, swapaxes, broadcast_to, expand_dims, squeeze, flatten, concatenate,
    stack, split, getitem, take, take_along_axis, scatter_add, pad, tile, repeat, flip,
    tril, triu, moveaxis, matmul, dot, einsum, qr, outer,
)
from ._core import __all__ as _core_all
from ._nn import (
    average_pool, batch_normalization, conv, elu, exponential, gelu, hard_sigmoid,
    hard_silu, hard_swish, l2_normalize, leaky_relu, linear, log_softmax, max_pool,
    mish, moments, one_hot, relu, relu6, selu, sigmoid, silu, softmax, softplus,
    softsign, swish,
)

__all__ = sorted(set(_core_all) | {
    "cond", "fori_loop", "grad", "scan", "value_and_grad", "vmap",
    "average_pool", "batch_normalization", "conv", "elu", "exponential", "gelu",
    "hard_sigmoid", "hard_silu", "hard_swish", "l2_normalize", "leaky_relu", "linear",
    "log_softmax", "max_pool", "mish", "moments", "one_hot", "relu", "relu6", "selu",
    "sigmoid", "silu", "softmax", "softplus", "softsign", "swish",
})
