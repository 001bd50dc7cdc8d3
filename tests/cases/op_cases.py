"""The op-case registry: ``OP_CASES`` covers every public op in ``purekeras.ops``.

Every op in ``purekeras.ops.__all__`` (function transformations aside) has at
least one case; ``tests/test_ops.py`` fails when one has none. NumPy-style ops
are here, neural-network ops in ``op_cases_nn``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from purekeras import ops

from . import op_cases_nn
from .op_case import AWAY, B, C, I, N, OpCase, U, case

# Ops that take functions: tested by semantic tests, not by cases.
TRANSFORMS = frozenset({"cond", "fori_loop", "grad", "scan", "value_and_grad", "vmap"})

# ----------------------------------------------------------------------------
# Conversion, metadata and creation

S = (2, 3, 4)

META = [
    case("asarray/numpy", lambda backend: ops.asarray(np.array([[1.5, -2.0]], "float32"), backend=backend),
         [], lambda: np.array([[1.5, -2.0]]), needs_backend=True),
    case("asarray/list_dtype", lambda backend: ops.asarray([1, 2, 3], "float32", backend=backend), [],
         lambda: np.array([1.0, 2.0, 3.0]), needs_backend=True),
    case("asarray/array_dtype", lambda x: ops.asarray(x, "int32"), [U((3,), -3, 3)],
         lambda x: x.astype("int32"), low_precision=False),
    case("convert_to_numpy/array", ops.convert_to_numpy, [N(S)], lambda x: x, jit=False,
         check=lambda out, a: isinstance(out, np.ndarray) and out.dtype == np.float32),
    case("backend_name/array", ops.backend_name, [N((2,))], None, jit=False,
         check=lambda out, a: isinstance(out, str) and out in ("jax", "torch", "tensorflow", "openvino")),
    case("shape/3d", ops.shape, [N(S)], lambda x: x.shape),
    case("ndim/3d", ops.ndim, [N(S)], lambda x: x.ndim),
    case("size/3d", ops.size, [N(S)], lambda x: x.size),
    case("dtype/float32", ops.dtype, [N(S)], lambda x: "float32", jit=False, low_precision=False),
    case("dtype/int32", ops.dtype, [I(S)], lambda x: "int32", jit=False),
    case("is_floating/names", lambda x: [ops.is_floating(n) for n in
                                         ("float32", "bfloat16", "float16", "int32", "bool", "uint8")],
         [N((1,))], lambda x: [True, True, True, False, False, False], jit=False),
    case("cast/float_to_int", lambda x: ops.cast(x, "int32"), [U(S, -5, 5)], lambda x: x.astype("int32"),
         low_precision=False),
    case("cast/int_to_float16", lambda x: ops.cast(x, "float16"), [I(S)], lambda x: x.astype("float16")),
    case("zeros/float", lambda backend: ops.zeros((2, 3), backend=backend), [], lambda: np.zeros((2, 3)),
         needs_backend=True),
    case("ones/int", lambda backend: ops.ones((3,), "int32", backend=backend), [],
         lambda: np.ones(3, "int32"), needs_backend=True),
    case("full/float", lambda backend: ops.full((2, 2), 2.5, backend=backend), [],
         lambda: np.full((2, 2), 2.5), needs_backend=True),
    case("zeros_like/int", ops.zeros_like, [I(S)], np.zeros_like),
    case("ones_like/float", ops.ones_like, [N(S)], np.ones_like),
    case("full_like/dtype", lambda x: ops.full_like(x, 7, "int32"), [N(S)], lambda x: np.full(x.shape, 7)),
    case("arange/stop", lambda backend: ops.arange(5, backend=backend), [], lambda: np.arange(5),
         needs_backend=True),
    case("arange/float_step", lambda backend: ops.arange(1.0, 2.0, 0.25, backend=backend), [],
         lambda: np.arange(1.0, 2.0, 0.25), needs_backend=True),
    case("eye/rect", lambda backend: ops.eye(3, 4, backend=backend), [], lambda: np.eye(3, 4),
         needs_backend=True),
]

# ----------------------------------------------------------------------------
# Elementwise


def _unary(name, ref, lo=-3.0, hi=3.0, int_range=None, **kw):
    fn = getattr(ops, name)
    out = [case(f"{name}/float", fn, [U(S, lo, hi)], ref, **kw)]
    if int_range is not None:
        out.append(case(f"{name}/int", fn, [I(S, *int_range)], ref, **kw))
    return out


UNARY = [
    *_unary("abs", np.abs, int_range=(-5, 6)),
    *_unary("negative", np.negative, int_range=(-5, 6)),
    *_unary("sign", np.sign, int_range=(-2, 3)),
    *_unary("exp", np.exp, int_range=(-3, 4)),
    *_unary("expm1", np.expm1, -1.0, 1.0),
    *_unary("log", np.log, 0.1, 5.0, int_range=(1, 9)),
    *_unary("log1p", np.log1p, -0.5, 3.0),
    *_unary("sqrt", np.sqrt, 0.0, 4.0, int_range=(0, 9)),
    *_unary("rsqrt", lambda x: 1.0 / np.sqrt(x), 0.2, 4.0, int_range=(1, 9)),
    *_unary("square", np.square, int_range=(-5, 6)),
    *_unary("sin", np.sin), *_unary("cos", np.cos), *_unary("tan", np.tan, -1.2, 1.2),
    *_unary("tanh", np.tanh), *_unary("sinh", np.sinh, -2.0, 2.0), *_unary("cosh", np.cosh, -2.0, 2.0),
    *_unary("arcsin", np.arcsin, -0.95, 0.95), *_unary("arccos", np.arccos, -0.95, 0.95),
    *_unary("arctan", np.arctan), *_unary("arctanh", np.arctanh, -0.9, 0.9),
    *_unary("erf", special.erf, -2.0, 2.0), *_unary("erfinv", special.erfinv, -0.9, 0.9),
    *_unary("floor", np.floor), *_unary("ceil", np.ceil), *_unary("round", np.round),
    case("round/halves_to_even", ops.round, [C([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])], np.round),
    *_unary("reciprocal", np.reciprocal, 0.5, 3.0),
    case("logical_not/bool", ops.logical_not, [B(S)], np.logical_not),
    *[case(f"{n}/special", getattr(ops, n), [C([0.0, np.nan, np.inf, -np.inf, -1.5])], getattr(np, n))
      for n in ("isnan", "isinf", "isfinite")],
]

BINARY_FLOAT = {  # name -> (reference, x factory, y factory)
    "add": (np.add, N, N), "subtract": (np.subtract, N, N), "multiply": (np.multiply, N, N),
    "divide": (np.divide, N, AWAY), "floor_divide": (np.floor_divide, N, AWAY),
    "mod": (np.mod, N, AWAY), "power": (np.power, lambda s: U(s, 0.1, 3.0), lambda s: U(s, -2.0, 2.0)),
    "maximum": (np.maximum, N, N), "minimum": (np.minimum, N, N), "equal": (np.equal, N, N),
    "not_equal": (np.not_equal, N, N), "less": (np.less, N, N), "less_equal": (np.less_equal, N, N),
    "greater": (np.greater, N, N), "greater_equal": (np.greater_equal, N, N),
    "arctan2": (np.arctan2, N, N), "logaddexp": (np.logaddexp, N, N),
}
BINARY_INT = {"add", "subtract", "multiply", "divide", "floor_divide", "mod", "power", "maximum",
              "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


def _binary_cases():
    out = []
    for name, (ref, fx, fy) in BINARY_FLOAT.items():
        fn = getattr(ops, name)
        # Broadcasting (2, 1, 3) with (4, 3) -> (2, 4, 3).
        out.append(case(f"{name}/broadcast", fn, [fx((2, 1, 3)), fy((4, 3))], ref))
        # A Python scalar on the right: weak, so the array's dtype is kept.
        out.append(case(f"{name}/python_scalar", lambda x, fn=fn: fn(x, 1.5), [fx((2, 3))],
                        lambda x, ref=ref: ref(x, 1.5)))
    for name in sorted(BINARY_INT):
        fn, ref = getattr(ops, name), BINARY_FLOAT[name][0]
        # Non-negative exponents for power; non-zero divisors of both signs otherwise.
        xf = I((2, 3), 0, 5) if name == "power" else I((2, 3))
        yf = I((3,), 0, 4) if name == "power" else C([-3, 2, 1], "int32")
        out.append(case(f"{name}/int", fn, [xf, yf], ref))
    for name in ("logical_and", "logical_or", "logical_xor"):
        out.append(case(f"{name}/bool", getattr(ops, name), [B((2, 1, 3)), B((4, 3))], getattr(np, name)))
    out.append(case("equal/int_ties", ops.equal, [I((4, 3), 0, 2), I((3,), 0, 2)], np.equal))
    return out


OTHER_ELEMENTWISE = [
    case("where/broadcast", ops.where, [B((2, 1, 3)), N((4, 3)), N((3,))], np.where),
    case("where/python_scalar", lambda c, x: ops.where(c, x, 0.0), [B((2, 3)), N((2, 3))],
         lambda c, x: np.where(c, x, 0.0)),
    case("stop_gradient/float", ops.stop_gradient, [N(S)], lambda x: x),
    case("clip/float", lambda x: ops.clip(x, -0.5, 0.5), [N(S)], lambda x: np.clip(x, -0.5, 0.5)),
    case("clip/int", lambda x: ops.clip(x, -2, 3), [I(S)], lambda x: np.clip(x, -2, 3)),
    case("divide_no_nan/zeros", ops.divide_no_nan, [N((2, 4)), C([0.0, 2.0, 0.0, -4.0])],
         lambda x, y: np.where(y == 0, 0.0, x / np.where(y == 0, 1.0, y))),
    case("nextafter/float", ops.nextafter, [N((2, 3)), N((2, 3))], None,
         check=lambda out, a: np.testing.assert_array_equal(
             out, np.nextafter(a[0].astype("float32"), a[1].astype("float32"))), low_precision=False),
]

# ----------------------------------------------------------------------------
# Reductions, scans, sorting


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


AXES = [("all", dict()), ("axis1_keepdims", dict(axis=1, keepdims=True)),
        ("axes02", dict(axis=(0, 2))), ("neg_axis", dict(axis=-1))]


def _reduction_cases():
    refs = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
            "var": np.var, "std": np.std, "logsumexp": _logsumexp, "any": np.any, "all": np.all}
    out = []
    for name, ref in refs.items():
        fn = getattr(ops, name)
        data = B(S) if name in ("any", "all") else U(S, 0.5, 1.5) if name == "prod" else N(S)
        for variant, kw in AXES:
            out.append(case(f"{name}/{variant}", lambda x, fn=fn, kw=kw: fn(x, **kw), [data],
                            lambda x, ref=ref, kw=kw: ref(x, **kw),
                            grad=name == "logsumexp" and variant == "axis1_keepdims"))
        if name in ("sum", "max", "min", "prod", "mean"):
            out.append(case(f"{name}/int", lambda x, fn=fn: fn(x, axis=0), [I((4, 3), -3, 4)],
                            lambda x, ref=ref: ref(x, axis=0)))
    return out


def _top_k_ref(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


SORTING = [
    case("argmax/last", ops.argmax, [N(S)], lambda x: np.argmax(x, -1)),
    case("argmax/axis0_int_ties", lambda x: ops.argmax(x, 0), [I((5, 3), 0, 2)], lambda x: np.argmax(x, 0)),
    case("argmin/axis1", lambda x: ops.argmin(x, 1), [N(S)], lambda x: np.argmin(x, 1)),
    case("argmin/int_ties", ops.argmin, [I((3, 5), 0, 2)], lambda x: np.argmin(x, -1)),
    case("cumsum/axis0", ops.cumsum, [N(S)], lambda x: np.cumsum(x, 0)),
    case("cumsum/int_axis_neg", lambda x: ops.cumsum(x, -1), [I(S)], lambda x: np.cumsum(x, -1)),
    case("cumprod/axis1", lambda x: ops.cumprod(x, 1), [U(S, 0.5, 1.5)], lambda x: np.cumprod(x, 1)),
    case("sort/last", ops.sort, [N(S)], lambda x: np.sort(x, -1)),
    case("sort/axis0_int", lambda x: ops.sort(x, 0), [I(S)], lambda x: np.sort(x, 0)),
    case("argsort/last", ops.argsort, [N(S)], lambda x: np.argsort(x, -1, kind="stable")),
    case("argsort/axis0", lambda x: ops.argsort(x, 0), [N(S)], lambda x: np.argsort(x, 0, kind="stable")),
    case("top_k/k3", lambda x: ops.top_k(x, 3), [N((2, 6))], lambda x: _top_k_ref(x, 3)),
    case("top_k/int_ties", lambda x: ops.top_k(x, 2), [I((3, 5), 0, 3)], lambda x: _top_k_ref(x, 2)),
    case("norm/l2_all", ops.norm, [N(S)], lambda x: np.sqrt(np.sum(x * x))),
    case("norm/l1_keepdims", lambda x: ops.norm(x, 1, axis=-1, keepdims=True), [N(S)],
         lambda x: np.sum(np.abs(x), -1, keepdims=True)),
    case("norm/inf_axis0", lambda x: ops.norm(x, math.inf, axis=0), [N(S)], lambda x: np.max(np.abs(x), 0)),
    case("norm/p3_axis1", lambda x: ops.norm(x, 3, axis=1), [N(S)],
         lambda x: np.sum(np.abs(x) ** 3, 1) ** (1 / 3)),
]

# ----------------------------------------------------------------------------
# Shape and indexing


def _scatter_ref(x, idx, upd):
    out = x.copy()
    np.add.at(out, idx, upd)
    return out


SHAPE = [
    case("reshape/infer", lambda x: ops.reshape(x, (4, -1)), [N(S)], lambda x: x.reshape(4, -1)),
    case("transpose/reverse", ops.transpose, [N(S)], np.transpose),
    case("transpose/axes", lambda x: ops.transpose(x, (1, 2, 0)), [N(S)], lambda x: x.transpose(1, 2, 0)),
    case("swapaxes/neg", lambda x: ops.swapaxes(x, 0, -1), [N(S)], lambda x: np.swapaxes(x, 0, -1)),
    case("broadcast_to/3d", lambda x: ops.broadcast_to(x, (2, 4, 3)), [N((4, 1))],
         lambda x: np.broadcast_to(x, (2, 4, 3))),
    case("expand_dims/neg", lambda x: ops.expand_dims(x, -2), [N(S)], lambda x: np.expand_dims(x, -2)),
    case("squeeze/all", ops.squeeze, [N((1, 3, 1))], np.squeeze),
    case("squeeze/axis", lambda x: ops.squeeze(x, 2), [N((1, 3, 1))], lambda x: np.squeeze(x, 2)),
    case("flatten/3d", ops.flatten, [I(S)], np.ravel),
    case("concatenate/last", lambda xs: ops.concatenate(xs, -1), [lambda r: [N((2, 1))(r), N((2, 3))(r)]],
         lambda xs: np.concatenate(xs, -1)),
    case("stack/axis1", lambda xs: ops.stack(xs, 1), [lambda r: [N((2, 3))(r) for _ in range(3)]],
         lambda xs: np.stack(xs, 1)),
    case("split/sections", lambda x: ops.split(x, 2, axis=1), [N((3, 4))], lambda x: np.split(x, 2, 1)),
    case("split/indices", lambda x: ops.split(x, [1, 3]), [N((5, 2))], lambda x: np.split(x, [1, 3])),
    case("getitem/slices", lambda x: ops.getitem(x, (slice(None), 1, slice(None, None, -2))), [N(S)],
         lambda x: x[:, 1, ::-2]),
    case("getitem/newaxis_ellipsis", lambda x: ops.getitem(x, (None, Ellipsis, 0)), [N(S)],
         lambda x: x[None, ..., 0]),
    case("getitem/int_array", lambda x, i: ops.getitem(x, i), [N((5, 2)), I((3,), 0, 5)], lambda x, i: x[i]),
    case("take/flat", ops.take, [N((3, 4)), I((2, 2), 0, 12)], lambda x, i: np.take(x, i)),
    case("take/axis1_negative", lambda x, i: ops.take(x, i, axis=1), [N(S), C([0, -1, 2], "int32")],
         lambda x, i: np.take(x, i, axis=1)),
    case("take_along_axis/last", lambda x, i: ops.take_along_axis(x, i, -1), [N((3, 4)), I((3, 2), 0, 4)],
         lambda x, i: np.take_along_axis(x, i, -1)),
    case("scatter_add/duplicates", ops.scatter_add, [N((4, 2)), C([0, 2, 0], "int32"), N((3, 2))],
         _scatter_ref),
    case("scatter_add/index_tuple", lambda x, r, c, u: ops.scatter_add(x, (r, c), u),
         [N((3, 3)), C([0, 1, 0], "int32"), C([2, 2, 2], "int32"), N((3,))],
         lambda x, r, c, u: _scatter_ref(x, (r, c), u)),
    case("pad/constant", lambda x: ops.pad(x, ((1, 0), (0, 2)), 1.5), [N((2, 3))],
         lambda x: np.pad(x, ((1, 0), (0, 2)), constant_values=1.5)),
    case("tile/2d", lambda x: ops.tile(x, (2, 3)), [N((2, 2))], lambda x: np.tile(x, (2, 3))),
    case("repeat/flat", lambda x: ops.repeat(x, 2), [N((2, 2))], lambda x: np.repeat(x, 2)),
    case("repeat/axis1", lambda x: ops.repeat(x, 3, axis=1), [I((2, 2))], lambda x: np.repeat(x, 3, 1)),
    case("flip/all", ops.flip, [N(S)], np.flip),
    case("flip/axis", lambda x: ops.flip(x, (0, 2)), [N(S)], lambda x: np.flip(x, (0, 2))),
    case("tril/k_neg", lambda x: ops.tril(x, -1), [N((4, 4))], lambda x: np.tril(x, -1)),
    case("triu/k_pos_batched", lambda x: ops.triu(x, 1), [N((2, 3, 4))], lambda x: np.triu(x, 1)),
    case("moveaxis/neg", lambda x: ops.moveaxis(x, 0, -1), [N(S)], lambda x: np.moveaxis(x, 0, -1)),
]

# ----------------------------------------------------------------------------
# Linear algebra


def _check_qr(out, a):
    q, r = (np.asarray(v, np.float64) for v in out)
    x = a[0]
    assert q.shape == (x.shape[0], min(x.shape)) and r.shape == (min(x.shape), x.shape[1])
    np.testing.assert_allclose(q @ r, x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-5)
    np.testing.assert_allclose(r, np.triu(r), atol=0)


LINALG = [
    # float32 matmuls sum products, so near-zero outputs carry ~k * eps * |x||y| absolute error.
    case("matmul/2d", ops.matmul, [N((3, 4)), N((4, 5))], np.matmul, atol=1e-5, grad=True),
    case("matmul/batched_broadcast", ops.matmul, [N((2, 3, 4)), N((4, 2))], np.matmul, atol=1e-5),
    case("matmul/vector", ops.matmul, [N((4,)), N((4, 3))], np.matmul, atol=1e-5),
    case("matmul/int", ops.matmul, [I((2, 3)), I((3, 2))], np.matmul),
    case("dot/2d", ops.dot, [N((3, 4)), N((4, 2))], np.dot, atol=1e-5),
    case("einsum/batched", lambda x, y: ops.einsum("bij,bjk->bik", x, y), [N((2, 3, 4)), N((2, 4, 2))],
         lambda x, y: np.einsum("bij,bjk->bik", x, y), atol=1e-5),
    case("einsum/trace", lambda x: ops.einsum("ii->", x), [N((3, 3))], lambda x: np.einsum("ii->", x),
         atol=1e-5),
    case("qr/tall", ops.qr, [N((5, 3))], None, check=_check_qr, low_precision=False),
    case("qr/wide", ops.qr, [N((3, 4))], None, check=_check_qr, low_precision=False),
    case("outer/vectors", ops.outer, [N((3,)), N((4,))], np.outer),
]

OP_CASES: list[OpCase] = [
    *META, *UNARY, *_binary_cases(), *OTHER_ELEMENTWISE, *_reduction_cases(), *SORTING, *SHAPE,
    *LINALG, *op_cases_nn.CASES,
]
