"""Cross-cutting op tests: every case of the op registry x every installed backend.

NumPy reference, jit == eager, float16/bfloat16 runs, gradients of key ops
against finite differences of the float64 NumPy reference; then semantic tests
for the function transformations (cond, scan, fori_loop, grad, vmap) and for
dispatch (which backend an op's result lives on).
"""
from __future__ import annotations

import functools

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import backends, ops

from .cases.op_cases import OP_CASES, TRANSFORMS

IDS = [c.id for c in OP_CASES]


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _tree_map(fn, tree):
    return optree.tree_map(fn, tree, none_is_leaf=True)


def _to_backend(args, backend, dtype=None):
    """NumPy arrays -> backend arrays; float ones cast to ``dtype`` when given."""

    def convert(a):
        if not isinstance(a, np.ndarray):
            return a
        out = ops.asarray(a, backend=backend)
        return ops.cast(out, dtype) if dtype is not None and a.dtype.kind == "f" else out

    return _tree_map(convert, args)


def _reference_args(args):
    return _tree_map(lambda a: a.astype(np.float64) if _is_float_array(a) else a, args)


def _call(case, args, backend):
    return case.fn(*args, backend=backend) if case.needs_backend else case.fn(*args)


def _numpy(value):
    if isinstance(value, str):
        return value
    return np.asarray(ops.convert_to_numpy(value))


def _leaves(tree):
    return optree.tree_leaves(tree, none_is_leaf=True)


def _kind(a: np.ndarray) -> str:
    if a.dtype.name == "bfloat16":  # an ml_dtypes extension type, kind "V"
        return "float"
    return {"b": "bool", "i": "int", "u": "int", "f": "float"}[a.dtype.kind]


def _assert_matches(actual, expected, rtol, atol):
    actual, expected = _leaves(actual), _leaves(expected)
    assert len(actual) == len(expected), (len(actual), len(expected))
    for a, e in zip(actual, expected):
        if isinstance(e, str):
            assert a == e
            continue
        a, e = _numpy(a), np.asarray(e)
        assert a.shape == e.shape, (a.shape, e.shape)
        assert _kind(a) == _kind(e), (a.dtype, e.dtype)
        if _kind(e) == "float":
            np.testing.assert_allclose(a.astype(np.float64), e, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(a, e)


def _assert_backend_arrays(outputs, backend):
    for leaf in _leaves(outputs):
        if hasattr(leaf, "shape") and not isinstance(leaf, (np.ndarray, np.generic)):
            assert backends.backend_name_of(leaf) == backend


def test_every_public_op_has_a_case():
    covered = {case.op for case in OP_CASES}
    missing = sorted(set(ops.__all__) - TRANSFORMS - covered)
    assert not missing, f"ops without a case in tests/cases/op_cases.py: {missing}"
    assert covered <= set(ops.__all__), sorted(covered - set(ops.__all__))
    assert len(set(IDS)) == len(IDS), "duplicate case ids"
    assert len(ops.__all__) >= 80


@pytest.mark.parametrize("case", OP_CASES, ids=IDS)
def test_matches_numpy(case, backend):
    args = case.make_args()
    outputs = _call(case, _to_backend(args, backend), backend)
    if case.op != "convert_to_numpy":
        assert not any(isinstance(v, np.ndarray) for v in _leaves(outputs)), "an op returned NumPy"
    _assert_backend_arrays(outputs, backend)
    if case.numpy_reference is not None:
        expected = case.numpy_reference(*_reference_args(args))
        _assert_matches(outputs, expected, case.rtol, case.atol)
    if case.check is not None:
        assert case.check(outputs, args) in (None, True)


# Compiling hundreds of tiny programs costs more than running them, so the
# compiled tests trace every case into ONE program per (backend, dtype); a case
# that fails to trace is recorded and fails only its own test.
JIT_CASES = [c for c in OP_CASES if c.jit]
# float16 keeps ~3 decimal digits and bfloat16 ~2: against the NumPy reference on
# the same (rounded) inputs, a few units in the last place are allowed.
LOW_TOL = {"float16": 1e-2, "bfloat16": 5e-2}
# One case per op (its first with float inputs) keeps these two compiles small.
LOW_CASES = list({c.op: c for c in reversed(JIT_CASES) if c.low_precision and c.numpy_reference is not None
                  and any(_is_float_array(a) for a in _leaves(c.make_args()))}.values())[::-1]


def _round_to(a: np.ndarray, dtype: str) -> np.ndarray:
    """float32 ``a`` rounded (to nearest even) to ``dtype``'s precision, as float32."""
    if dtype == "float16":
        return a.astype(np.float16).astype(np.float32)
    bits = a.astype(np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return bits.view(np.float32)


@functools.lru_cache(maxsize=None)
def _compiled_results(backend: str, dtype: str | None = None):
    """({case id: outputs}, {case id: exception}) from one compiled program; with
    ``dtype``, float inputs are cast to it inside the program."""
    cases = JIT_CASES if dtype is None else LOW_CASES
    leaves, treedef = optree.tree_flatten({c.id: c.make_args() for c in cases}, none_is_leaf=True)
    arrays = [ops.asarray(v, backend=backend) for v in leaves if isinstance(v, np.ndarray)]
    errors = {}

    def rebuild(traced):  # only arrays are traced; Python values stay static
        it = iter(traced)
        out = []
        for v in leaves:
            if isinstance(v, np.ndarray):
                a = next(it)
                out.append(ops.cast(a, dtype) if dtype is not None and v.dtype.kind == "f" else a)
            else:
                out.append(v)
        return optree.tree_unflatten(treedef, out)

    def run(traced):
        inputs, out = rebuild(traced), {}
        for c in cases:
            try:
                out[c.id] = _call(c, inputs[c.id], backend)
            except Exception as error:  # noqa: BLE001  (reported by the case's own test)
                errors[c.id] = error
        return out

    return pk.jit(run, backend=backend, donate_argnums=())(arrays), errors


def _compiled(case, backend, dtype=None):
    results, errors = _compiled_results(backend, dtype)
    if case.id in errors:
        raise errors[case.id]
    return results[case.id]


@pytest.mark.parametrize("case", JIT_CASES, ids=[c.id for c in JIT_CASES])
def test_jit_equals_eager(case, backend):
    jitted = _compiled(case, backend)
    eager = _call(case, _to_backend(case.make_args(), backend), backend)
    _assert_backend_arrays(jitted, backend)
    _assert_matches(jitted, _tree_map(_numpy, eager), case.rtol, case.atol)


@pytest.mark.parametrize("dtype", sorted(LOW_TOL))
@pytest.mark.parametrize("case", LOW_CASES, ids=[c.id for c in LOW_CASES])
def test_low_precision_runs(case, dtype, backend):
    outputs = _compiled(case, backend, dtype)
    rounded = _tree_map(lambda a: _round_to(a, dtype) if _is_float_array(a) else a, case.make_args())
    expected = case.numpy_reference(*_reference_args(rounded))
    for out, ref in zip(_leaves(outputs), _leaves(expected), strict=True):
        if np.asarray(ref).dtype.kind == "f":
            assert ops.dtype(out) == dtype, f"{case.id}: float output is {ops.dtype(out)}, not {dtype}"
    _assert_matches(outputs, expected, LOW_TOL[dtype], LOW_TOL[dtype])


GRAD_CASES = [c for c in OP_CASES if c.grad]


def _numeric_grad(loss, args, index, eps=1e-6):
    """Central differences of a float64 function with respect to ``args[index]``."""
    x = args[index]
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        shifted = []
        for sign in (1.0, -1.0):
            moved = x.copy()
            moved[i] += sign * eps
            shifted.append(loss(*args[:index], moved, *args[index + 1:]))
        grad[i] = (shifted[0] - shifted[1]) / (2 * eps)
    return grad


def test_gradient_cases_cover_key_ops():
    wanted = {"softmax", "log_softmax", "logsumexp", "gelu", "moments", "conv", "max_pool",
              "average_pool", "matmul"}
    assert wanted <= {c.op for c in GRAD_CASES}


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_gradient_matches_finite_differences(case, backend):
    args = case.make_args()
    ref_args = _reference_args(args)
    wrt = tuple(i for i, a in enumerate(args) if _is_float_array(a))
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(np.shape(v)) for v in _leaves(case.numpy_reference(*ref_args))]
    weights_b = [ops.asarray(w.astype("float32"), backend=backend) for w in weights]

    def loss(*a):
        return sum(ops.sum(ops.multiply(v, w)) for v, w in zip(_leaves(case.fn(*a)), weights_b))

    def loss_np(*a):
        return sum(np.sum(np.asarray(v) * w) for v, w in zip(_leaves(case.numpy_reference(*a)), weights))

    grad_fn = pk.jit(ops.grad(loss, argnums=wrt, backend=backend), backend=backend, donate_argnums=())
    grads = grad_fn(*_to_backend(args, backend))
    for g, i in zip(grads, wrt, strict=True):
        # float32 gradients against float64 central differences.
        np.testing.assert_allclose(_numpy(g), _numeric_grad(loss_np, list(ref_args), i), rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------
# Function transformations: semantic tests.


def _arr(values, backend, dtype="float32"):
    return ops.asarray(np.asarray(values, dtype), backend=backend)


def test_cond_eager_and_compiled(backend):
    def f(pred, x):
        return ops.cond(pred, lambda v: ops.multiply(v, 2.0), lambda v: ops.negative(v), x)

    x = _arr([1.0, -3.0], backend)
    compiled = pk.jit(f, backend=backend, donate_argnums=())
    for pred, expected in ((True, [2.0, -6.0]), (False, [-1.0, 3.0])):
        p = _arr(pred, backend, "bool")
        np.testing.assert_array_equal(_numpy(f(p, x)), expected)
        np.testing.assert_array_equal(_numpy(compiled(p, x)), expected)


def test_scan_carries_and_stacks(backend):
    def step(carry, x):
        total = ops.add(carry["total"], x)
        return {"total": total, "count": ops.add(carry["count"], 1)}, ops.multiply(total, 2.0)

    xs = _arr([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], backend)
    init = {"total": _arr([0.0, 0.0], backend), "count": _arr(0, backend, "int32")}
    carry, ys = ops.scan(step, init, xs)
    np.testing.assert_array_equal(_numpy(carry["total"]), [9.0, 12.0])
    assert int(_numpy(carry["count"])) == 3
    np.testing.assert_array_equal(_numpy(ys), 2 * np.cumsum([[1, 2], [3, 4], [5, 6]], axis=0))
    # Without xs: ``length`` steps.
    carry, ys = ops.scan(lambda c, _: (ops.multiply(c, 2.0), c), _arr(1.0, backend), None, length=4)
    assert float(_numpy(carry)) == 16.0
    np.testing.assert_array_equal(_numpy(ys), [1.0, 2.0, 4.0, 8.0])


def test_fori_loop(backend):
    body = lambda i, c: ops.add(c, ops.cast(i, "float32"))  # noqa: E731
    assert float(_numpy(ops.fori_loop(2, 6, body, _arr(0.5, backend)))) == 0.5 + 2 + 3 + 4 + 5
    compiled = pk.jit(lambda c: ops.fori_loop(0, 4, body, c), backend=backend, donate_argnums=())
    assert float(_numpy(compiled(_arr(0.0, backend)))) == 6.0


def test_value_and_grad_argnums_and_aux(backend):
    def f(w, x):
        y = ops.multiply(w, x)
        return ops.sum(ops.square(y)), {"y": y}

    w, x = _arr([1.0, -2.0], backend), _arr([3.0, 0.5], backend)
    (value, aux), (gw, gx) = ops.value_and_grad(f, argnums=(0, 1), has_aux=True, backend=backend)(w, x)
    assert float(_numpy(value)) == 9.0 + 1.0
    np.testing.assert_allclose(_numpy(aux["y"]), [3.0, -1.0])
    np.testing.assert_allclose(_numpy(gw), 2 * np.array([3.0, -1.0]) * [3.0, 0.5])  # 2 w x^2
    np.testing.assert_allclose(_numpy(gx), 2 * np.array([3.0, -1.0]) * [1.0, -2.0])  # 2 x w^2


def test_grad_of_pytree_and_stop_gradient(backend):
    params = {"a": _arr([1.0, 2.0], backend), "b": {"c": _arr(3.0, backend)}}

    def loss(p):
        return ops.add(ops.sum(ops.multiply(p["a"], ops.stop_gradient(p["a"]))), ops.square(p["b"]["c"]))

    g = ops.grad(loss, backend=backend)(params)
    np.testing.assert_allclose(_numpy(g["a"]), [1.0, 2.0])  # stop_gradient blocks the second factor
    assert float(_numpy(g["b"]["c"])) == 6.0
    g, aux = ops.grad(lambda p: (loss(p), 7), has_aux=True, backend=backend)(params)
    assert aux == 7 and float(_numpy(g["b"]["c"])) == 6.0


def test_vmap_in_axes_and_out_axes(backend):
    x = np.arange(6, dtype="float32").reshape(3, 2)
    w = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]], "float32")
    per_row = ops.vmap(lambda row, w: ops.matmul(row, w), in_axes=(0, None), backend=backend)
    np.testing.assert_allclose(_numpy(per_row(_arr(x, backend), _arr(w, backend))), x @ w)
    transposed = ops.vmap(lambda row: ops.multiply(row, 2.0), out_axes=1, backend=backend)
    np.testing.assert_allclose(_numpy(transposed(_arr(x, backend))), (2 * x).T)
    # Per-example gradients: grad inside vmap.
    g = ops.vmap(ops.grad(lambda v: ops.sum(ops.square(v)), backend=backend), backend=backend)
    np.testing.assert_allclose(_numpy(g(_arr(x, backend))), 2 * x)


# ----------------------------------------------------------------------------
# Dispatch: the array decides the backend; Python scalars are weak.


def test_python_scalar_keeps_array_backend_and_dtype(backend):
    for dtype in ("float32", "float16", "bfloat16"):
        x = ops.ones((2,), dtype, backend=backend)
        out = ops.add(x, 1.5)
        assert backends.backend_name_of(out) == backend
        assert ops.dtype(out) == dtype
        assert ops.dtype(ops.multiply(2.0, x)) == dtype
    assert ops.dtype(ops.add(ops.ones((2,), "int32", backend=backend), 1)) == "int32"
    assert ops.dtype(ops.add(ops.ones((2,), "int32", backend=backend), 1.5)) == "float32"


def test_numpy_with_backend_array_uses_that_backend(backend):
    x = ops.ones((2,), backend=backend)
    assert backends.backend_name_of(ops.add(np.ones(2, "float32"), x)) == backend
    assert backends.backend_name_of(ops.concatenate([np.ones(2, "float32"), x])) == backend
    assert backends.backend_name_of(ops.where(np.array([True, False]), x, 0.0)) == backend


def test_numpy_only_arguments_use_backend_kwarg_or_default(backend, monkeypatch):
    assert backends.backend_name_of(ops.asarray(np.ones(2), backend=backend)) == backend
    assert backends.backend_name_of(ops.arange(3, backend=backend)) == backend
    monkeypatch.setenv("PUREKERAS_BACKEND", backend)
    out = ops.add(np.ones(2, "float32"), 1.0)
    assert backends.backend_name_of(out) == backend
    np.testing.assert_array_equal(_numpy(out), [2.0, 2.0])
    assert backends.backend_name_of(ops.zeros((2,))) == backend


def test_numpy_metadata_stays_numpy():
    assert ops.dtype(np.zeros(2, "float64")) == "float64"
    assert ops.shape([[1, 2, 3]]) == (1, 3) and ops.shape(2.0) == ()
    assert isinstance(ops.convert_to_numpy([1.0, 2.0]), np.ndarray)


def test_bad_arguments_raise_clear_errors(backend):
    x = ops.ones((1, 4, 4, 1), backend=backend)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        ops.conv(x, ops.ones((2, 2, 1, 1), backend=backend), padding="full")
    with pytest.raises(ValueError, match="pool_size must be an int or a tuple of 2 ints"):
        ops.max_pool(x, (2, 2, 2))
    with pytest.raises(ValueError, match="ord must be a number >= 1"):
        ops.norm(x, ord=0)
    for axis in ((0, 4), (1, -3), (), 4, -5):
        with pytest.raises(ValueError, match=r"softmax: axis=.* of shape \(1, 4, 4, 1\); pass axes in \[-4, 4\)"):
            ops.softmax(x, axis=axis)
    assert float(ops.softmax(ops.asarray(3.0, backend=backend))) == 1.0
    assert float(ops.log_softmax(ops.asarray(3.0, backend=backend))) == 0.0


@pytest.mark.parametrize("x_shape, y_shape", [((128, 128), (128, 10)), ((4, 128, 40), (40, 3)), ((500, 33), (33, 15))])
def test_narrow_products_on_torch_match_numpy_with_gradients(x_shape, y_shape):
    """PyTorch computes products with 2-15 output columns transposed (GEMM's fast
    layout): same values and gradients as NumPy / JAX, a contiguous result."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(y_shape).astype(np.float32)
    out = ops.matmul(ops.asarray(x, backend="torch"), ops.asarray(y, backend="torch"))
    assert out.is_contiguous() and tuple(out.shape) == (*x_shape[:-1], y_shape[1])
    np.testing.assert_allclose(ops.convert_to_numpy(out), x @ y, rtol=1e-5, atol=1e-5)
    grads = {}
    for backend in ("torch", "jax"):
        def objective(a, b, backend=backend):
            return ops.sum(ops.square(ops.matmul(a, b)))

        pair = ops.grad(objective, argnums=(0, 1), backend=backend)(
            ops.asarray(x, backend=backend), ops.asarray(y, backend=backend))
        grads[backend] = [ops.convert_to_numpy(g) for g in pair]
    for got, want in zip(grads["torch"], grads["jax"]):  # sums of large terms: error relative to the largest
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(np.abs(want).max()))
