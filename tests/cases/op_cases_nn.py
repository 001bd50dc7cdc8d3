"""Op cases for the neural-network ops: activations, softmax family, one_hot,
convolution, pooling and normalisation. Conv/pool references are the direct
loops of ``numpy_nn``."""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from purekeras import ops

from . import numpy_nn
from .op_case import C, I, N, U, case

S = (2, 3, 4)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _hard_sigmoid(x):
    return np.clip((x + 3.0) / 6.0, 0.0, 1.0)


def _gelu(x):
    return 0.5 * x * (1.0 + special.erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

ACTIVATIONS = [
    case("relu/float", ops.relu, [N(S)], lambda x: np.maximum(x, 0.0)),
    case("relu/int", ops.relu, [I(S)], lambda x: np.maximum(x, 0)),
    case("relu6/float", ops.relu6, [U(S, -8.0, 8.0)], lambda x: np.clip(x, 0.0, 6.0)),
    case("sigmoid/float", ops.sigmoid, [U(S, -6.0, 6.0)], _sigmoid),
    case("sigmoid/int", ops.sigmoid, [I(S)], _sigmoid),
    case("softplus/float", ops.softplus, [U(S, -6.0, 6.0)], _softplus),
    case("softplus/int", ops.softplus, [I(S)], _softplus),
    case("softsign/float", ops.softsign, [N(S)], lambda x: x / (1.0 + np.abs(x))),
    case("silu/float", ops.silu, [U(S, -5.0, 5.0)], lambda x: x * _sigmoid(x)),
    case("swish/float", ops.swish, [U(S, -5.0, 5.0)], lambda x: x * _sigmoid(x)),
    case("gelu/exact", ops.gelu, [U(S, -4.0, 4.0)], _gelu, grad=True),
    case("gelu/tanh", lambda x: ops.gelu(x, approximate=True), [U(S, -4.0, 4.0)], _gelu_tanh, grad=True),
    case("elu/default", ops.elu, [U(S, -3.0, 3.0)], _elu),
    case("elu/alpha", lambda x: ops.elu(x, 0.5), [U(S, -3.0, 3.0)], lambda x: _elu(x, 0.5)),
    case("selu/float", ops.selu, [U(S, -3.0, 3.0)], lambda x: SELU_SCALE * _elu(x, SELU_ALPHA)),
    case("leaky_relu/default", ops.leaky_relu, [N(S)], lambda x: np.where(x >= 0, x, 0.2 * x)),
    case("leaky_relu/slope", lambda x: ops.leaky_relu(x, 0.01), [N(S)], lambda x: np.where(x >= 0, x, 0.01 * x)),
    case("mish/float", ops.mish, [U(S, -5.0, 5.0)], lambda x: x * np.tanh(_softplus(x))),
    case("hard_sigmoid/float", ops.hard_sigmoid, [U(S, -5.0, 5.0)], _hard_sigmoid),
    case("hard_silu/float", ops.hard_silu, [U(S, -5.0, 5.0)], lambda x: x * _hard_sigmoid(x)),
    case("hard_swish/float", ops.hard_swish, [U(S, -5.0, 5.0)], lambda x: x * _hard_sigmoid(x)),
    case("exponential/float", ops.exponential, [U(S, -3.0, 3.0)], np.exp),
    case("linear/float", ops.linear, [N(S)], lambda x: x),
    case("softmax/last", ops.softmax, [N(S)], _softmax, grad=True),
    case("softmax/axis0_large", lambda x: ops.softmax(x, axis=0), [U(S, 50.0, 90.0)],
         lambda x: _softmax(x, 0)),
    case("log_softmax/last", ops.log_softmax, [N(S)], _log_softmax, grad=True),
    case("log_softmax/axis1_large", lambda x: ops.log_softmax(x, axis=1), [U(S, -90.0, 90.0)],
         lambda x: _log_softmax(x, 1), rtol=2e-5),  # log-probabilities of ~-100: ~1 ulp of 128 after the shift
    case("softmax/two_axes", lambda x: ops.softmax(x, axis=(0, -1)), [N(S)], lambda x: _softmax(x, (0, -1)),
         grad=True),
    case("softmax/int", ops.softmax, [I(S)], lambda x: _softmax(x.astype("float32"))),
    case("log_softmax/two_axes", lambda x: ops.log_softmax(x, axis=(1, 0)), [N(S)],
         lambda x: _log_softmax(x, (0, 1)), grad=True),
]


def _one_hot(idx, n, axis=-1):
    out = (idx[..., None] == np.arange(n)).astype("float32")
    return np.moveaxis(out, -1, axis)


ONE_HOT = [
    # Out-of-range indices, negative ones included, give all-zero rows.
    case("one_hot/out_of_range", lambda i: ops.one_hot(i, 4), [C([[0, 3], [-1, 4], [2, 1]], "int32")],
         lambda i: _one_hot(i, 4)),
    case("one_hot/axis0_int_dtype", lambda i: ops.one_hot(i, 3, dtype="int32", axis=0), [I((2, 5), 0, 3)],
         lambda i: _one_hot(i, 3, 0).astype("int32")),
]


def _conv_case(id, x_shape, k_shape, strides=1, padding="valid", dilation=1, groups=1, grad=False):
    n = len(x_shape) - 2
    st = (strides,) * n if isinstance(strides, int) else strides
    dl = (dilation,) * n if isinstance(dilation, int) else dilation
    return case(
        f"conv/{id}",
        lambda x, k: ops.conv(x, k, strides=strides, padding=padding, dilation_rate=dilation, groups=groups),
        [N(x_shape), N(k_shape)],
        lambda x, k: numpy_nn.conv(x, k, st, padding, dl, groups),
        atol=1e-5,  # float32 sums of window * channels products
        grad=grad,
    )


CONV = [
    _conv_case("2d_same_strides", (1, 5, 6, 2), (3, 3, 2, 3), strides=(2, 2), padding="same", grad=True),
    _conv_case("1d_valid_strides", (2, 9, 3), (3, 3, 4), strides=2),
    _conv_case("1d_same_dilation", (1, 8, 2), (3, 2, 3), padding="same", dilation=2),
    _conv_case("2d_valid", (2, 5, 6, 3), (3, 2, 3, 4)),
    _conv_case("2d_same_dilation", (1, 6, 6, 2), (2, 3, 2, 2), padding="same", dilation=(2, 1)),
    _conv_case("2d_groups", (1, 5, 5, 4), (3, 3, 2, 6), groups=2, grad=True),
    _conv_case("3d_valid", (1, 4, 4, 3, 2), (2, 2, 2, 2, 2), strides=(1, 2, 1)),
]


def _pool_case(op, id, x_shape, pool_size, strides=None, padding="valid", grad=False):
    n = len(x_shape) - 2
    window = (pool_size,) * n if isinstance(pool_size, int) else pool_size
    st = window if strides is None else (strides,) * n if isinstance(strides, int) else strides
    fn = ops.max_pool if op == "max" else ops.average_pool
    return case(f"{fn.__name__}/{id}", lambda x: fn(x, pool_size, strides, padding), [N(x_shape)],
                lambda x: numpy_nn.pool(op, x, window, st, padding), grad=grad)


POOL = [
    # 5 -> 3 with window 3 stride 2: one padded cell before and one after.
    *[_pool_case(op, "2d_same_strides", (2, 5, 5, 2), 3, 2, "same", grad=True) for op in ("max", "avg")],
    *[_pool_case(op, "1d_valid", (2, 7, 3), 2) for op in ("max", "avg")],
    *[_pool_case(op, "2d_valid_stride1", (1, 4, 5, 2), 2, 1) for op in ("max", "avg")],
    *[_pool_case(op, "2d_same_rect", (1, 4, 5, 1), (2, 3), (1, 2), "same") for op in ("max", "avg")],
    *[_pool_case(op, "3d_valid", (1, 4, 4, 4, 2), 2) for op in ("max", "avg")],
]


def _moments_ref(x, axes, keepdims=False):
    return x.mean(axis=axes, keepdims=keepdims), x.var(axis=axes, keepdims=keepdims)


def _batch_norm_ref(x, mean, var, offset=None, scale=None, epsilon=1e-3):
    out = (x - mean) / np.sqrt(var + epsilon)
    out = out * scale if scale is not None else out
    return out + offset if offset is not None else out


NORMALIZATION = [
    case("moments/axis0", lambda x: ops.moments(x, (0,)), [N(S)], lambda x: _moments_ref(x, (0,)), grad=True),
    case("moments/all_keepdims", lambda x: ops.moments(x, (0, 1, 2), keepdims=True), [N(S)],
         lambda x: _moments_ref(x, (0, 1, 2), True)),
    case("moments/neg_axes", lambda x: ops.moments(x, (-1, -2)), [N(S)], lambda x: _moments_ref(x, (-1, -2))),
    case("batch_normalization/scale_offset", ops.batch_normalization,
         [N(S), N((4,)), U((4,), 0.5, 2.0), N((4,)), N((4,))], _batch_norm_ref),
    case("batch_normalization/plain", lambda x, m, v: ops.batch_normalization(x, m, v, epsilon=1e-5),
         [N(S), N((4,)), U((4,), 0.5, 2.0)], lambda x, m, v: _batch_norm_ref(x, m, v, epsilon=1e-5)),
    case("l2_normalize/last_zero_row", ops.l2_normalize, [C([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])],
         lambda x: x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))),
    case("l2_normalize/axis0", lambda x: ops.l2_normalize(x, axis=0), [N(S)],
         lambda x: x / np.sqrt((x * x).sum(0, keepdims=True))),
]

CASES = [*ACTIVATIONS, *ONE_HOT, *CONV, *POOL, *NORMALIZATION]
