"""The openvino backend against JAX and NumPy: every layer case, every op case.

- Layers: each case of the registry declares whether it has an OpenVINO path
  (``LayerCase.no_openvino``: None, or why not); every declared path runs on
  OpenVINO's CPU plugin (float32) from JAX params and matches the jitted JAX
  forward pass within ``rtol=1e-4``. The README's table names the layers
  without a path, and this file checks it names exactly those.
- Ops: every op case runs eagerly (constants, OpenVINO's reference kernels)
  against its NumPy reference, and all cases traced into ONE compiled OpenVINO
  model against eager; ops with no graph op (``NO_GRAPH``) must raise a
  ``BackendError`` there, not fail some other way.
- Initialisation on openvino gives the same bits as on JAX (threefry2x32).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import optree
import pytest

import purekeras as pk
from purekeras import backends, ops, random
from purekeras.backends import openvino_backend

from . import test_ops
from .cases.op_cases import OP_CASES
from .cases.registry import LAYER_CASES
from .test_layers import _spec

OV_CASES = [c for c in LAYER_CASES if c.no_openvino is None]
README = Path(__file__).resolve().parents[1] / "README.md"
RTOL, ATOL = 1e-4, 1e-5
# Op cases whose op has no OpenVINO graph node: fine on constants, an error when traced.
NO_GRAPH = {
    "nextafter/float": "no OpenVINO op (random samplers call it on constants only)",
    "qr/tall": "no OpenVINO op (the Orthogonal initializer calls it on constants only)",
    "qr/wide": "no OpenVINO op (the Orthogonal initializer calls it on constants only)",
}


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _to(backend, tree):
    return optree.tree_map(lambda a: ops.asarray(_np(a), backend=backend), tree)


# ----------------------------------------------------------------------------
# Layers


@pytest.mark.parametrize("case", OV_CASES, ids=[c.id for c in OV_CASES])
def test_layer_on_openvino_matches_jax(case):
    params, state = case.layer.init(random.key(0, backend="openvino"), _spec(case))
    params, state = _to("jax", params), _to("jax", state)  # trained on JAX, say
    x = case.make_inputs()
    forward = pk.jit(lambda p, s, x: case.layer.apply(p, s, x)[0], backend="jax", donate_argnums=())
    expected = forward(params, state, _to("jax", x))
    got = openvino_backend.predict_function(case.layer, params, state)(x)
    for g, e in zip(optree.tree_leaves(got), optree.tree_leaves(expected), strict=True):
        assert g.dtype == _np(e).dtype and g.shape == _np(e).shape
        np.testing.assert_allclose(g, _np(e), rtol=RTOL, atol=ATOL)


def _layers_without_openvino_in_readme() -> dict[str, str]:
    text = README.read_text()
    section = text.split("### Layers without an OpenVINO path", 1)[1]
    rows = [line for line in section.splitlines()[1:] if line.startswith("|")][2:]  # header, rule
    named = {}
    for row in rows:
        first, why = [cell.strip() for cell in row.strip("|").split("|")][:2]
        if not first.startswith("("):  # "(none)" marks an empty table
            named[first.strip("`")] = why
    return named


def test_registry_declares_openvino_paths_and_readme_names_the_rest():
    declared = {}
    for case in LAYER_CASES:
        assert case.no_openvino is None or (isinstance(case.no_openvino, str) and case.no_openvino), case.id
        if case.no_openvino:
            declared[type(case.layer).__name__] = case.no_openvino
    with_path = {type(c.layer).__name__ for c in OV_CASES}
    assert not set(declared) & with_path, "a layer both has and lacks an OpenVINO path"
    assert set(_layers_without_openvino_in_readme()) == set(declared)


def test_random_bits_on_openvino_are_jax_bits():
    for seed in (0, 42, 2**32 + 5):
        keys = {b: random.key(seed, backend=b) for b in ("openvino", "jax")}
        for fn in (lambda k: random.split(k, 3), lambda k: random.fold_in(k, 12345),
                   lambda k: random.bits(k, (4, 5)), lambda k: random.normal(k, (64,))):
            a, b = fn(keys["openvino"]), fn(keys["jax"])
            assert isinstance(a, openvino_backend.OVTensor) and _np(a).tobytes() == _np(b).tobytes()


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c.id in {"dense", "embedding"}],
                         ids=lambda c: c.id)
def test_init_on_openvino_gives_the_bits_of_jax(case):
    on_ov = case.layer.init(random.key(7, backend="openvino"), _spec(case))
    on_jax = case.layer.init(random.key(7, backend="jax"), _spec(case))
    assert all(isinstance(leaf, openvino_backend.OVTensor) for leaf in optree.tree_leaves(on_ov))
    for a, b in zip(optree.tree_leaves(on_ov), optree.tree_leaves(on_jax), strict=True):
        assert _np(a).dtype == _np(b).dtype and _np(a).tobytes() == _np(b).tobytes()


def test_predict_from_torch_params_and_jax_outputs_agree():
    """Params of any backend go in: the same model from PyTorch and JAX arrays."""
    case = next(c for c in OV_CASES if c.id == "conv2d_same_strides")
    params, state = case.layer.init(random.key(3, backend="torch"), _spec(case))
    x = case.make_inputs()
    from_torch = openvino_backend.predict_function(case.layer, params, state)(x)
    expected, _ = case.layer.apply(params, state, ops.asarray(x, backend="torch"))
    np.testing.assert_allclose(from_torch, _np(expected), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------------
# Ops

IDS = [c.id for c in OP_CASES]


@pytest.mark.parametrize("case", OP_CASES, ids=IDS)
def test_op_eager_on_openvino_matches_numpy(case):
    args = case.make_args()
    outputs = test_ops._call(case, test_ops._to_backend(args, "openvino"), "openvino")
    test_ops._assert_backend_arrays(outputs, "openvino")
    if case.numpy_reference is not None:
        expected = case.numpy_reference(*test_ops._reference_args(args))
        test_ops._assert_matches(outputs, expected, case.rtol, case.atol)
    if case.check is not None:
        assert case.check(outputs, args) in (None, True)


@pytest.mark.parametrize("case", test_ops.JIT_CASES, ids=[c.id for c in test_ops.JIT_CASES])
def test_op_compiled_on_openvino_equals_eager(case):
    if case.id in NO_GRAPH:
        with pytest.raises(backends.BackendError, match="openvino backend"):
            test_ops._compiled(case, "openvino")
        return
    compiled = test_ops._compiled(case, "openvino")  # all cases in one OpenVINO model
    assert not any(isinstance(v, openvino_backend.OVTensor) for v in optree.tree_leaves(compiled))
    eager = test_ops._call(case, test_ops._to_backend(case.make_args(), "openvino"), "openvino")
    test_ops._assert_matches(compiled, test_ops._tree_map(test_ops._numpy, eager), case.rtol, case.atol)


def test_jit_compiles_once_per_signature():
    f = pk.jit(lambda x, n: ops.multiply(x, n), backend="openvino", static_argnums=(1,))
    x = np.ones((2, 3), "float32")
    assert f(x, 2).tolist() == [[2.0] * 3] * 2
    f(x + 1, 2)
    f(np.ones((4, 3), "float32"), 2)
    f(x, 3)
    assert f.num_compiled == 3  # (2, 3) x 2, (4, 3) x 2, (2, 3) x 3


def test_reading_a_traced_value_says_why():
    def peek(x):
        return float(ops.sum(x))  # Python control on a traced value

    with pytest.raises(backends.BackendError, match="depends on a traced input"):
        pk.jit(peek, backend="openvino")(np.ones(2, "float32"))


def test_openvino_implements_the_protocol():
    from purekeras.backends import _protocol

    b = backends.get_backend("openvino")
    protocol_methods = {n for n in vars(_protocol.Backend) if not n.startswith("_")} - {"name"}
    assert not {n for n in protocol_methods if not callable(getattr(b, n, None))}
    assert b.name == "openvino" and "openvino" in backends.available_backends()
    assert backends.backend_name_of(np.ones(2), ops.ones((1,), backend="openvino")) == "openvino"


def test_readme_section_exists():
    assert re.search(r"^### Layers without an OpenVINO path$", README.read_text(), re.M)
