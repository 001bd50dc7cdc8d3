"""Cross-cutting layer tests: every case in the registry x every installed backend."""
from __future__ import annotations

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import nn, ops, random

from .cases.registry import LAYER_CASES

IDS = [case.id for case in LAYER_CASES]


def _spec(case, dtype=None):
    shapes = case.input_shapes if isinstance(case.input_shapes, list) else [case.input_shapes]
    specs = [nn.InputSpec((None, *s[1:]), dtype or case.input_dtype) for s in shapes]
    return specs if isinstance(case.input_shapes, list) else specs[0]


def _to_backend(inputs, backend, dtype=None):
    def convert(a):
        a = np.asarray(a)
        if dtype is not None and a.dtype.kind == "f":
            a = a.astype("float32")
            return ops.cast(ops.asarray(a, backend=backend), dtype)
        return ops.asarray(a, backend=backend)

    return [convert(a) for a in inputs] if isinstance(inputs, list) else convert(inputs)


def _numpy(tree):
    return optree.tree_map(lambda a: np.asarray(ops.convert_to_numpy(a), dtype=np.float64)
                           if np.asarray(ops.convert_to_numpy(a)).dtype.kind == "f"
                           else np.asarray(ops.convert_to_numpy(a)), tree)


def _init(case, backend, seed=0):
    return case.layer.init(random.key(seed, backend=backend), _spec(case))


@pytest.mark.parametrize("case", LAYER_CASES, ids=IDS)
def test_matches_numpy_reference(case, backend):
    if case.reference is None:
        pytest.fail(f"case {case.id} has no NumPy reference")
    params, state = _init(case, backend)
    inputs = case.make_inputs()
    y, _ = case.layer.apply(params, state, _to_backend(inputs, backend))
    expected = case.reference(_numpy(params), _numpy(state), inputs)
    np.testing.assert_allclose(_numpy(y), expected, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("case", LAYER_CASES, ids=IDS)
def test_output_spec_matches_apply(case, backend):
    params, state = _init(case, backend)
    inputs = case.make_inputs()
    y, _ = case.layer.apply(params, state, _to_backend(inputs, backend))
    declared = case.layer.output_spec(_spec(case))
    declared_leaves = optree.tree_leaves(declared, is_leaf=lambda v: isinstance(v, nn.InputSpec))
    for spec, value in zip(declared_leaves, optree.tree_leaves(y), strict=True):
        assert spec.rank == ops.ndim(value)
        for d, actual in zip(spec.shape, ops.shape(value)):
            assert d is None or d == actual, (spec.shape, ops.shape(value))
        assert spec.dtype == ops.dtype(value)


@pytest.mark.parametrize("case", LAYER_CASES, ids=IDS)
def test_jit_equals_eager(case, backend):
    params, state = _init(case, backend)
    x = _to_backend(case.make_inputs(), backend)
    eager, _ = case.layer.apply(params, state, x)
    compiled = pk.jit(lambda p, s, x: case.layer.apply(p, s, x)[0], backend=backend, donate_argnums=())
    np.testing.assert_allclose(_numpy(compiled(params, state, x)), _numpy(eager), rtol=1e-5, atol=1e-6)


def _shapes(tree):
    """``{var: shape}``, nested ``{child: {var: shape}}`` for composite layers."""
    return {k: _shapes(v) if isinstance(v, dict) else tuple(v.shape) for k, v in tree.items()}


@pytest.mark.parametrize("case", LAYER_CASES, ids=IDS)
def test_params_structure(case, backend):
    params, state = _init(case, backend)
    assert _shapes(params) == case.expected_params
    assert _shapes(state) == case.expected_state


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c.low_precision],
                         ids=[c.id for c in LAYER_CASES if c.low_precision])
def test_low_precision_runs(case, dtype, backend):
    import dataclasses

    layer = dataclasses.replace(case.layer, dtype=dtype)
    params, state = layer.init(random.key(0, backend=backend), _spec(case))
    assert all(ops.dtype(leaf) == dtype for leaf in optree.tree_leaves(params))
    x = _to_backend(case.make_inputs(), backend, dtype if case.input_dtype.startswith("float") else None)
    y, _ = layer.apply(params, state, x)
    params32, state32 = _init(case, backend)
    y32, _ = case.layer.apply(params32, state32, _to_backend(case.make_inputs(), backend))
    for low, high in zip(optree.tree_leaves(y), optree.tree_leaves(y32)):
        assert ops.dtype(low) == dtype
        tol = 5e-2 if dtype == "bfloat16" else 1e-2
        np.testing.assert_allclose(_numpy(low), _numpy(high), rtol=tol * 4, atol=tol * 4)


DETERMINISTIC = [case for case in LAYER_CASES if not case.layer.uses_rng]


@pytest.mark.parametrize("case", DETERMINISTIC, ids=[case.id for case in DETERMINISTIC])
def test_uses_rng_declaration_is_truthful(case):
    """A layer that says it draws no randomness trains the same without an rng."""
    params, state = _init(case, "jax")
    x = _to_backend(case.make_inputs(), "jax")
    with_key, _ = case.layer.apply(params, state, x, training=True, rng=random.key(1, backend="jax"))
    without, _ = case.layer.apply(params, state, x, training=True, rng=None)
    optree.tree_map(np.testing.assert_array_equal, _numpy(with_key), _numpy(without))
