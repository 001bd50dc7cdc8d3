"""Functional graphs: multi-input/output, shared layers, skip connections, nesting."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purekeras import nn, random


def _key():
    return random.key(0, backend="jax")


def test_skip_connection_matches_manual_computation():
    inp = nn.Input((4,))
    h = nn.Dense(8, activation="relu")(inp)
    out = nn.Dense(2)(nn.Add()([h, nn.Dense(8)(inp)]))
    graph = nn.Functional(inp, out)
    params, state = graph.init(_key())
    assert sorted(params) == ["dense", "dense_1", "dense_2"]
    x = jnp.ones((3, 4))
    y, _ = graph.apply(params, state, x)
    h = jax.nn.relu(x @ params["dense"]["kernel"] + params["dense"]["bias"])
    side = x @ params["dense_1"]["kernel"] + params["dense_1"]["bias"]
    expected = (h + side) @ params["dense_2"]["kernel"] + params["dense_2"]["bias"]
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_multi_input_multi_output():
    a, b = nn.Input((3,)), nn.Input((5,))
    merged = nn.Concatenate()([nn.Dense(4)(a), nn.Dense(4)(b)])
    out1, out2 = nn.Dense(1, name="score")(merged), nn.Dense(2, name="klass")(merged)
    graph = nn.Functional([a, b], {"score": out1, "klass": out2})
    params, state = graph.init(_key())
    y, _ = graph.apply(params, state, [jnp.ones((2, 3)), jnp.ones((2, 5))])
    assert y["score"].shape == (2, 1) and y["klass"].shape == (2, 2)
    spec = graph.output_spec()
    assert spec["score"].shape == (None, 1) and spec["klass"].shape == (None, 2)


def test_shared_layer_has_one_set_of_params():
    shared = nn.Dense(3)
    a, b = nn.Input((3,)), nn.Input((3,))
    graph = nn.Functional([a, b], nn.Add()([shared(a), shared(b)]))
    params, state = graph.init(_key())
    assert list(params) == ["dense"]
    x1, x2 = jnp.ones((1, 3)), 2 * jnp.ones((1, 3))
    y, _ = graph.apply(params, state, [x1, x2])
    k, bias = params["dense"]["kernel"], params["dense"]["bias"]
    np.testing.assert_allclose(y, x1 @ k + bias + x2 @ k + bias, rtol=1e-6)


def test_equal_but_distinct_layers_are_not_shared():
    inp = nn.Input((3,))
    graph = nn.Functional(inp, nn.Dense(3)(nn.Dense(3)(inp)))
    params, _ = graph.init(_key())
    assert sorted(params) == ["dense", "dense_1"]


def test_functional_is_a_hashable_spec_and_nests():
    def build():
        inp = nn.Input((4,))
        return nn.Functional(inp, nn.Dense(2)(inp))

    g1, g2 = build(), build()
    assert g1 == g2 and hash(g1) == hash(g2)
    outer = nn.Sequential([g1, nn.Dense(1)])
    params, state = outer.init(_key(), nn.InputSpec((None, 4)))
    assert sorted(params) == ["dense", "functional"]
    y, _ = outer.apply(params, state, jnp.ones((2, 4)))
    assert y.shape == (2, 1)


def test_functional_under_jit():
    inp = nn.Input((4,))
    graph = nn.Functional(inp, nn.Dense(2)(nn.Dense(5, activation="relu")(inp)))
    params, state = graph.init(_key())
    x = jnp.ones((3, 4))
    np.testing.assert_allclose(jax.jit(graph.apply)(params, state, x)[0], graph.apply(params, state, x)[0])


def test_names_are_deterministic_and_explicit_names_win():
    inp = nn.Input((4,))
    out = nn.Dense(2, name="head")(nn.Dense(3)(nn.Dense(3)(inp)))
    graph = nn.Functional(inp, out)
    assert graph.layer_names == ("dense", "dense_1", "head")
    with pytest.raises(ValueError, match="both named 'x'"):
        nn.Sequential([nn.Dense(2, name="x"), nn.Dense(2, name="x")]).layer_names


def test_wrong_number_of_inputs_is_a_clear_error():
    a, b = nn.Input((3,)), nn.Input((3,))
    graph = nn.Functional([a, b], nn.Add()([a, b]))
    params, state = graph.init(_key())
    with pytest.raises(ValueError, match="has 2 inputs"):
        graph.apply(params, state, jnp.ones((1, 3)))


def test_calling_a_layer_on_arrays_explains_the_api():
    with pytest.raises(TypeError, match="layer.init"):
        nn.Dense(2)(jnp.ones((1, 3)))


def test_disconnected_input_is_a_clear_error():
    a, b = nn.Input((3,)), nn.Input((3,))
    with pytest.raises(ValueError, match="not among the model's inputs"):
        nn.Functional(a, nn.Add()([a, b]))
