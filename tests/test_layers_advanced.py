"""Behaviour of the advanced layers beyond the registry: batch-norm state, attention
masks and dropout, grouped / causal convolution, einsum fans, errors, regularization."""
from __future__ import annotations

import os

import numpy as np
import pytest

import purekeras as pk
from purekeras import nn, ops, random

from .cases.layers_advanced import keras_mha

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402  (the oracle)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _key(backend, seed=0):
    return random.key(seed, backend=backend)


def _arr(a, backend):
    return ops.asarray(np.asarray(a, np.float32), backend=backend)


# -- BatchNormalization ---------------------------------------------------------------


def test_batch_norm_training_updates_state_like_keras(backend):
    kwargs = dict(momentum=0.9, epsilon=1e-2)
    layer = nn.BatchNormalization(**kwargs, gamma_initializer=nn.initializers.RandomUniform(0.5, 1.5),
                                  beta_initializer=nn.initializers.RandomNormal(0.0, 0.5))
    params, state = layer.init(_key(backend), nn.InputSpec((None, 4, 3)))
    theirs = keras.layers.BatchNormalization(**kwargs)
    theirs.build((None, 4, 3))
    theirs.set_weights([_np(params["gamma"]), _np(params["beta"]),
                        _np(state["moving_mean"]), _np(state["moving_variance"])])
    rng = np.random.default_rng(0)
    for step in range(3):
        x = (rng.standard_normal((5, 4, 3)) * (step + 1) + step).astype("float32")
        y, state = layer.apply(params, state, _arr(x, backend), training=True)
        expected = keras.ops.convert_to_numpy(theirs(x, training=True))
        np.testing.assert_allclose(_np(y), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(_np(state["moving_mean"]), theirs.moving_mean.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(_np(state["moving_variance"]), theirs.moving_variance.numpy(),
                                   rtol=1e-6, atol=1e-6)
    # By hand for the last step: the biased batch variance over batch and time.
    assert not np.allclose(_np(state["moving_mean"]), 0.0)


def test_batch_norm_inference_uses_moving_stats_from_state(backend):
    layer = nn.BatchNormalization(epsilon=0.0)
    params, state = layer.init(_key(backend), nn.InputSpec((None, 2)))
    state = {"moving_mean": _arr([1.0, -2.0], backend), "moving_variance": _arr([4.0, 0.25], backend)}
    x = _arr([[3.0, -2.0], [1.0, -1.5]], backend)
    y, new_state = layer.apply(params, state, x)
    np.testing.assert_allclose(_np(y), [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)
    assert new_state is state  # inference leaves the state alone


def test_batch_norm_training_step_compiles(backend):
    layer = nn.BatchNormalization()
    params, state = layer.init(_key(backend), nn.InputSpec((None, 3)))
    x = _arr(np.arange(12).reshape(4, 3), backend)
    step = pk.jit(lambda p, s, x: layer.apply(p, s, x, training=True), backend=backend, donate_argnums=())
    (y_jit, s_jit), (y, s) = step(params, state, x), layer.apply(params, state, x, training=True)
    np.testing.assert_allclose(_np(y_jit), _np(y), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(s_jit["moving_variance"]), _np(s["moving_variance"]), rtol=1e-6)


@pytest.mark.parametrize("cls", [nn.BatchNormalization, nn.LayerNormalization])
def test_normalization_statistics_in_float32_for_float16(cls, backend):
    # (x - mean)**2 ~ 1e5 overflows float16 (max 65504): statistics must be taken in float32.
    x = (100.0 + 400.0 * np.random.default_rng(1).standard_normal((8, 4))).astype("float32")
    layer = cls(dtype="float16")
    params, state = layer.init(_key(backend), nn.InputSpec((None, 4), "float16"))
    y, new_state = layer.apply(params, state, ops.cast(_arr(x, backend), "float16"), training=True)
    assert ops.dtype(y) == "float16"
    ref, _ = cls().apply(*cls().init(_key(backend), nn.InputSpec((None, 4))), _arr(x, backend), training=True)
    np.testing.assert_allclose(_np(y).astype("float32"), _np(ref), atol=2e-2)
    for value in new_state.values():
        assert ops.dtype(value) == "float16" and np.isfinite(_np(value)).all()


# -- MultiHeadAttention -------------------------------------------------------------------


def _mha_and_keras(backend, shapes, **kwargs):
    layer = nn.MultiHeadAttention(**kwargs)
    specs = [nn.InputSpec((None, *s[1:])) for s in shapes]
    params, state = layer.init(_key(backend), specs)
    theirs = keras_mha(**kwargs)
    theirs.build(shapes)
    theirs.set_weights([_np(params[c][v]) for c in ("query_dense", "key_dense", "value_dense", "output_dense")
                        for v in ("kernel", "bias")])
    return layer, params, state, theirs


def test_mha_attention_mask_and_scores_match_keras(backend):
    shapes = [(2, 4, 6), (2, 5, 6)]
    layer, params, state, theirs = _mha_and_keras(backend, shapes, num_heads=2, key_dim=3)
    rng = np.random.default_rng(0)
    q, v = (rng.standard_normal(s).astype("float32") for s in shapes)
    mask = rng.random((2, 4, 5)) > 0.4
    mask[:, :, 0] = True  # no fully-masked rows
    (y, scores), _ = layer.apply(params, state, [_arr(q, backend), _arr(v, backend)],
                                 attention_mask=ops.asarray(mask, backend=backend),
                                 return_attention_scores=True)
    y_k, scores_k = theirs([q, v], attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(_np(y), keras.ops.convert_to_numpy(y_k), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(scores), keras.ops.convert_to_numpy(scores_k), rtol=1e-5, atol=1e-6)
    assert _np(scores).shape == (2, 2, 4, 5)
    np.testing.assert_array_equal(_np(scores)[:, 0][~mask], 0.0)  # masked keys get no weight


def test_mha_causal_mask_matches_keras(backend):
    shapes = [(2, 5, 4), (2, 5, 4)]
    layer, params, state, theirs = _mha_and_keras(backend, shapes, num_heads=2, key_dim=2)
    x = np.random.default_rng(1).standard_normal(shapes[0]).astype("float32")
    y, _ = layer.apply(params, state, [_arr(x, backend), _arr(x, backend)], use_causal_mask=True)
    y_k = theirs([x, x], use_causal_mask=True)
    np.testing.assert_allclose(_np(y), keras.ops.convert_to_numpy(y_k), rtol=1e-5, atol=1e-5)
    # Changing the last step leaves the earlier outputs unchanged.
    x2 = x.copy()
    x2[:, -1] += 1.0
    y2, _ = layer.apply(params, state, [_arr(x2, backend), _arr(x2, backend)], use_causal_mask=True)
    np.testing.assert_allclose(_np(y2)[:, :-1], _np(y)[:, :-1], atol=1e-6)


def test_mha_dropout_needs_rng_and_is_deterministic(backend):
    layer = nn.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    spec = nn.InputSpec((None, 6, 8))
    params, state = layer.init(_key(backend), [spec, spec])
    x = _arr(np.random.default_rng(2).standard_normal((2, 6, 8)), backend)
    with pytest.raises(nn.LayerError, match=r"'multi_head_attention' \(MultiHeadAttention\).*rng"):
        layer.apply(params, state, [x, x], training=True)
    inference, _ = layer.apply(params, state, [x, x])  # no rng needed
    a, _ = layer.apply(params, state, [x, x], training=True, rng=_key(backend, 1))
    b, _ = layer.apply(params, state, [x, x], training=True, rng=_key(backend, 1))
    c, _ = layer.apply(params, state, [x, x], training=True, rng=_key(backend, 2))
    np.testing.assert_array_equal(_np(a), _np(b))
    assert not np.allclose(_np(a), _np(c))
    assert not np.allclose(_np(a), _np(inference))


def test_mha_in_a_functional_graph(backend):
    query, value = nn.Input((4, 6)), nn.Input((5, 3))
    mha = nn.MultiHeadAttention(num_heads=2, key_dim=3)
    out = nn.Dense(2)(mha([query, value]))
    graph = nn.Functional([query, value], out)
    params, state = graph.init(_key(backend))
    assert sorted(params["multi_head_attention"]) == ["key_dense", "output_dense", "query_dense", "value_dense"]
    y, _ = graph.apply(params, state, [ops.ones((2, 4, 6), backend=backend), ops.ones((2, 5, 3), backend=backend)])
    assert ops.shape(y) == (2, 4, 2)


def test_mha_regularization_loss_matches_keras(backend):
    kwargs = dict(num_heads=2, key_dim=3, kernel_regularizer="l2")
    shapes = [(2, 4, 6), (2, 4, 6)]
    layer, params, state, theirs = _mha_and_keras(backend, shapes, **kwargs)
    x = np.ones((2, 4, 6), "float32")
    theirs([x, x])
    expected = sum(float(keras.ops.convert_to_numpy(v)) for v in theirs.losses)
    np.testing.assert_allclose(float(_np(layer.regularization_loss(params))), expected, rtol=1e-5)


# -- convolution --------------------------------------------------------------------------


def test_conv_groups_are_independent_convolutions(backend):
    layer = nn.Conv2D(6, 3, groups=2, padding="same")
    params, state = layer.init(_key(backend), nn.InputSpec((None, 5, 5, 4)))
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 4)).astype("float32")
    y, _ = layer.apply(params, state, _arr(x, backend))
    kernel, bias = _np(params["kernel"]), _np(params["bias"])
    single = nn.Conv2D(3, 3, padding="same")
    for g in range(2):
        part, _ = single.apply({"kernel": _arr(kernel[..., g * 3:(g + 1) * 3], backend),
                                "bias": _arr(bias[g * 3:(g + 1) * 3], backend)},
                               {}, _arr(x[..., g * 2:(g + 1) * 2], backend))
        np.testing.assert_allclose(_np(y)[..., g * 3:(g + 1) * 3], _np(part), rtol=1e-5, atol=1e-6)


def test_conv1d_causal_output_ignores_the_future(backend):
    layer = nn.Conv1D(2, 3, padding="causal", dilation_rate=2)
    params, state = layer.init(_key(backend), nn.InputSpec((None, 8, 1)))
    x = np.random.default_rng(0).standard_normal((1, 8, 1)).astype("float32")
    x2 = x.copy()
    x2[:, 5:] += 10.0
    y, _ = layer.apply(params, state, _arr(x, backend))
    y2, _ = layer.apply(params, state, _arr(x2, backend))
    assert ops.shape(y) == (1, 8, 2)
    np.testing.assert_allclose(_np(y)[:, :5], _np(y2)[:, :5], atol=1e-6)
    assert not np.allclose(_np(y)[:, 5:], _np(y2)[:, 5:])


def test_conv2d_regularization_loss_matches_keras(backend):
    layer = nn.Conv2D(4, 3, kernel_regularizer=nn.regularizers.L2(0.01), bias_regularizer="l1",
                      bias_initializer=nn.initializers.RandomNormal())
    params, _ = layer.init(_key(backend), nn.InputSpec((None, 6, 6, 2)))
    theirs = keras.layers.Conv2D(4, 3, kernel_regularizer=keras.regularizers.L2(0.01), bias_regularizer="l1")
    theirs.build((None, 6, 6, 2))
    theirs.set_weights([_np(params["kernel"]), _np(params["bias"])])
    expected = sum(float(keras.ops.convert_to_numpy(v)) for v in theirs.losses)
    np.testing.assert_allclose(float(_np(layer.regularization_loss(params))), expected, rtol=1e-5)


# -- EinsumDense ------------------------------------------------------------------------------


def test_einsum_dense_glorot_fans_come_from_the_equation(backend):
    # Kernel (64, 4, 16): Keras's fans are 64 (contracted) and 4 * 16 (produced), so the
    # glorot limit is sqrt(6 / 128), not the conv-style sqrt(6 / (256 + 1024)).
    layer = nn.EinsumDense("abc,cde->abde", output_shape=(None, 4, 16))
    params, _ = layer.init(_key(backend), nn.InputSpec((None, 3, 64)))
    kernel = _np(params["kernel"])
    limit = np.sqrt(6.0 / 128.0)
    assert kernel.shape == (64, 4, 16)
    assert 0.9 * limit < np.abs(kernel).max() <= limit


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("make, spec, pattern", [
    (lambda: nn.Conv2D(4, 3, groups=2), nn.InputSpec((None, 8, 8, 5)),
     r"'conv2d' \(Conv2D\).*input channels \(5.*\(None, 8, 8, 5\).*groups \(2\)"),
    (lambda: nn.Conv2D(4, 3), nn.InputSpec((None, 8, 5)), r"'conv2d' \(Conv2D\).*rank 4.*\(None, 8, 5\)"),
    (lambda: nn.Conv1D(4, 3), nn.InputSpec((None, 8, None)), r"'conv1d' \(Conv1D\).*channel.*\(None, 8, None\)"),
    (lambda: nn.Conv1D(4, 5), nn.InputSpec((None, 3, 2)), r"'conv1d'.*\(None, 3, 2\).*too small"),
    (lambda: nn.EinsumDense("abc,cd->abd", (3, 4)), nn.InputSpec((None, 5)),
     r"'einsum_dense' \(EinsumDense\).*\(None, 5\)"),
    (lambda: nn.BatchNormalization(axis=3), nn.InputSpec((None, 4)),
     r"'batch_normalization'.*axis 3.*\(None, 4\)"),
    (lambda: nn.LayerNormalization(), nn.InputSpec((None, None)),
     r"'layer_normalization'.*known size.*\(None, None\)"),
    (lambda: nn.MultiHeadAttention(2, 4), nn.InputSpec((None, 5, 8)),
     r"'multi_head_attention'.*\[query, value\]"),
    (lambda: nn.MultiHeadAttention(2, 4), [nn.InputSpec((None, 5, 8)), nn.InputSpec((None, 5, 8)),
                                           nn.InputSpec((None, 6, 8))],
     r"'multi_head_attention'.*value shape \(None, 5, 8\) and key shape \(None, 6, 8\)"),
    (lambda: nn.MultiHeadAttention(2, 4, attention_axes=(2,)), [nn.InputSpec((None, 5, 8))] * 2,
     r"'multi_head_attention'.*attention_axes"),
])
def test_init_errors_name_layer_and_shapes(make, spec, pattern, backend):
    with pytest.raises(nn.LayerError, match=pattern):
        make().init(_key(backend), spec)


@pytest.mark.parametrize("make, pattern", [
    (lambda: nn.Conv2D(4, 3, data_format="channels_first"), r"only data_format='channels_last'"),
    (lambda: nn.Conv2D(5, 3, groups=2), r"filters \(5\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2D(4, 3, padding="causal"), r"padding must be one of \('valid', 'same'\)"),
    (lambda: nn.Conv1D(4, 3, strides=2, dilation_rate=2), r"strides > 1 cannot be combined"),
    (lambda: nn.EinsumDense("ab,bc", 4), r"invalid equation 'ab,bc'"),
    (lambda: nn.MultiHeadAttention(0, 4), r"num_heads must be a positive int"),
])
def test_constructor_errors(make, pattern):
    with pytest.raises(nn.LayerError, match=pattern):
        make()
