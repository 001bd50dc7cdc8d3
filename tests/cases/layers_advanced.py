"""Layer cases: Conv1D/Conv2D, EinsumDense, BatchNormalization, LayerNormalization,
MultiHeadAttention. References are written from the definitions in NumPy (float64)."""
from __future__ import annotations

import math

import numpy as np

from purekeras import nn

from . import numpy_nn
from .layer_case import LayerCase, keras_in_order


def _keras():
    import keras

    return keras


def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


# -- convolution ----------------------------------------------------------------


def _conv_ref(layer):
    n = layer.rank

    def ref(params, state, x):
        x = np.asarray(x, np.float64)
        padding = layer.padding
        if padding == "causal":
            left = layer.dilation_rate[0] * (layer.kernel_size[0] - 1)
            x = np.pad(x, [(0, 0), (left, 0), (0, 0)])
            padding = "valid"
        y = numpy_nn.conv(x, params["kernel"], _tuple(layer.strides, n), padding,
                          _tuple(layer.dilation_rate, n), layer.groups)
        if layer.use_bias:
            y = y + params["bias"]
        return np.maximum(y, 0) if layer.activation == "relu" else y

    return ref


def _conv_case(id, cls, shape, keras_name, **kwargs):
    layer = cls(**kwargs)
    cin = shape[-1]
    weights = ("kernel", "bias") if layer.use_bias else ("kernel",)
    expected = {"kernel": (*layer.kernel_size, cin // layer.groups, layer.filters)}
    if layer.use_bias:
        expected["bias"] = (layer.filters,)
    return LayerCase(
        id, layer, shape, reference=_conv_ref(layer),
        keras=lambda: getattr(_keras().layers, keras_name)(**kwargs),
        keras_weights=keras_in_order(*weights), expected_params=expected,
    )


_CONV_CASES = [
    _conv_case("conv1d_valid", nn.Conv1D, (2, 9, 3), "Conv1D", filters=4, kernel_size=3),
    _conv_case("conv1d_causal_dilated", nn.Conv1D, (2, 10, 2), "Conv1D", filters=3, kernel_size=3,
               padding="causal", dilation_rate=2),
    _conv_case("conv1d_same_strides_groups", nn.Conv1D, (2, 11, 3), "Conv1D", filters=6, kernel_size=4,
               strides=3, padding="same", groups=3),
    _conv_case("conv2d_valid_relu", nn.Conv2D, (2, 7, 7, 3), "Conv2D", filters=4, kernel_size=3,
               activation="relu"),
    _conv_case("conv2d_same_strides", nn.Conv2D, (2, 7, 8, 3), "Conv2D", filters=5, kernel_size=(3, 2),
               strides=2, padding="same"),
    _conv_case("conv2d_dilation_nobias", nn.Conv2D, (1, 9, 9, 2), "Conv2D", filters=3, kernel_size=3,
               dilation_rate=2, padding="same", use_bias=False),
    _conv_case("conv2d_groups", nn.Conv2D, (2, 6, 6, 4), "Conv2D", filters=6, kernel_size=3,
               groups=2, padding="same"),
]


# -- EinsumDense ----------------------------------------------------------------------


def _einsum_ref(equation, activation=None):
    def ref(params, state, x):
        y = np.einsum(equation, x, params["kernel"]) + params.get("bias", 0.0)
        return np.maximum(y, 0) if activation == "relu" else y

    return ref


def _einsum_case(id, shape, equation, output_shape, bias_axes, expected, activation=None):
    kwargs = dict(output_shape=output_shape, bias_axes=bias_axes, activation=activation)
    return LayerCase(
        id, nn.EinsumDense(equation, **kwargs), shape, reference=_einsum_ref(equation, activation),
        keras=lambda: _keras().layers.EinsumDense(equation, **kwargs),
        keras_weights=keras_in_order(*expected), expected_params=expected,
    )


_EINSUM_CASES = [
    _einsum_case("einsum_dense_matmul", (3, 5), "ab,bc->ac", 4, "c", {"kernel": (5, 4), "bias": (4,)}),
    _einsum_case("einsum_dense_heads", (2, 4, 5), "abc,cde->abde", (None, 2, 3), "de",
                 {"kernel": (5, 2, 3), "bias": (2, 3)}),
    _einsum_case("einsum_dense_left_ellipsis_relu", (2, 3, 5), "...b,bc->...c", 4, "c",
                 {"kernel": (5, 4), "bias": (4,)}, activation="relu"),
    # Keras pads the bias with one 1 per right-elided axis: (4,) -> (4, 1).
    _einsum_case("einsum_dense_right_ellipsis", (2, 5, 3), "ab...,bc->ac...", 4, "c",
                 {"kernel": (5, 4), "bias": (4, 1)}),
    # A bias on a non-final axis spans every later output axis: (3, 1).
    _einsum_case("einsum_dense_bias_middle_axis", (2, 3, 5), "abc,cd->abd", (3, 4), "b",
                 {"kernel": (5, 4), "bias": (3, 1)}),
    _einsum_case("einsum_dense_no_bias", (2, 3, 5), "abc,cd->abd", (3, 4), None, {"kernel": (5, 4)}),
]


# -- normalization --------------------------------------------------------------------


def _batch_norm_ref(axis, epsilon):
    def ref(params, state, x):
        x = np.asarray(x, np.float64)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        mean = state["moving_mean"].reshape(shape)
        var = state["moving_variance"].reshape(shape)
        y = (x - mean) / np.sqrt(var + epsilon)
        if "gamma" in params:
            y = y * params["gamma"].reshape(shape)
        return y + params["beta"].reshape(shape) if "beta" in params else y

    return ref


def _layer_norm_ref(axes, epsilon):
    def ref(params, state, x):
        x = np.asarray(x, np.float64)
        axes_ = tuple(a % x.ndim for a in axes)
        mean = x.mean(axis=axes_, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes_, keepdims=True)
        y = (x - mean) / np.sqrt(var + epsilon)
        shape = [x.shape[a] if a in axes_ else 1 for a in range(x.ndim)]
        if "gamma" in params:
            y = y * params["gamma"].reshape(shape)
        return y + params["beta"].reshape(shape) if "beta" in params else y

    return ref


# Non-trivial moving statistics and affine params come from the initializers, so the
# registry's fresh ``init`` state already exercises inference with moving stats.
_STATS_INIT = dict(
    moving_mean_initializer=nn.initializers.RandomNormal(0.0, 0.5),
    moving_variance_initializer=nn.initializers.RandomUniform(0.5, 2.0),
)
_AFFINE_INIT = dict(
    gamma_initializer=nn.initializers.RandomUniform(0.5, 1.5),
    beta_initializer=nn.initializers.RandomNormal(0.0, 0.5),
)


def _keras_initializers(kwargs):
    """Keras needs its own initializers only to build; the weights are copied over."""
    return {k: v for k, v in kwargs.items() if not k.endswith("_initializer")}


def _norm_case(id, layer, shape, reference, keras_name, kwargs, params, state=()):
    """``params``: {name: shape} of the params; ``state``: names of the per-channel state."""
    names = [n for n in ("gamma", "beta") if n in params]  # Keras's weight order
    return LayerCase(
        id, layer, shape, reference=reference,
        keras=lambda: getattr(_keras().layers, keras_name)(**_keras_initializers(kwargs)),
        keras_weights=keras_in_order(*names, *state),
        expected_params={n: params[n] for n in names},
        expected_state={n: (shape[layer.axis],) for n in state},
    )


def _bn_case(id, shape, **kwargs):
    layer = nn.BatchNormalization(**_STATS_INIT, **kwargs)
    c = (shape[layer.axis],)
    params = {n: c for n, on in (("gamma", layer.scale), ("beta", layer.center)) if on}
    return _norm_case(id, layer, shape, _batch_norm_ref(layer.axis, layer.epsilon), "BatchNormalization",
                      kwargs, params, ("moving_mean", "moving_variance"))


def _ln_case(id, shape, **kwargs):
    layer = nn.LayerNormalization(**kwargs)
    axes = layer._axes
    gamma = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    params = {n: gamma for n, on in (("gamma", layer.scale), ("beta", layer.center)) if on}
    return _norm_case(id, layer, shape, _layer_norm_ref(axes, layer.epsilon), "LayerNormalization",
                      kwargs, params)


_NORM_CASES = [
    _bn_case("batch_norm_inference_moving_stats", (4, 3), **_AFFINE_INIT),
    _bn_case("batch_norm_4d_axis1", (2, 3, 4, 5), axis=1, epsilon=1e-2, **_AFFINE_INIT),
    _bn_case("batch_norm_no_center_no_scale", (2, 4, 4, 3), center=False, scale=False),
    _ln_case("layer_norm", (2, 3, 6)),
    _ln_case("layer_norm_affine_eps", (4, 5), epsilon=1e-5, **_AFFINE_INIT),
    _ln_case("layer_norm_two_axes_no_center", (2, 3, 4), axis=(1, 2), center=False,
             gamma_initializer=nn.initializers.RandomUniform(0.5, 1.5)),
]


# -- MultiHeadAttention ------------------------------------------------------------------

_MHA_CHILDREN = ("query_dense", "key_dense", "value_dense", "output_dense")


def _mha_ref(key_dim):
    """Attention over every axis between batch and features (flattened into one
    sequence axis), written out per head with an explicit softmax."""

    def ref(params, state, inputs):
        query, value = (np.asarray(a, np.float64) for a in inputs[:2])
        key = np.asarray(inputs[2], np.float64) if len(inputs) == 3 else value
        batch = query.shape[0]

        def project(x, name):
            p = params[name]
            flat = x.reshape(batch, -1, x.shape[-1])
            return np.einsum("btf,fnh->btnh", flat, p["kernel"]) + p.get("bias", 0.0)

        q = project(query, "query_dense") / math.sqrt(key_dim)
        k, v = project(key, "key_dense"), project(value, "value_dense")
        scores = np.einsum("btnh,bsnh->bnts", q, k)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = e / e.sum(axis=-1, keepdims=True)
        heads = np.einsum("bnts,bsnh->btnh", probs, v)
        out = params["output_dense"]
        y = np.tensordot(heads, out["kernel"], axes=([2, 3], [0, 1])) + out.get("bias", 0.0)
        return y.reshape(*query.shape[:-1], *y.shape[2:])

    return ref


def keras_mha(**kwargs):
    """A Keras MultiHeadAttention taking one list ``[query, value(, key)]``, as ours does.

    It always asks Keras for the attention scores, which keeps Keras on its explicit
    einsum + softmax path: Keras 3.15's fused ``dot_product_attention`` path on JAX
    fails when ``value_dim != key_dim``."""
    keras = _keras()

    class ListMultiHeadAttention(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.mha = keras.layers.MultiHeadAttention(**kwargs)

        def build(self, shapes):
            self.mha.build(*[tuple(s) for s in shapes])

        def call(self, inputs, training=None, attention_mask=None, use_causal_mask=False,
                 return_attention_scores=False):
            out, scores = self.mha(*inputs, training=training, attention_mask=attention_mask,
                                   use_causal_mask=use_causal_mask, return_attention_scores=True)
            return (out, scores) if return_attention_scores else out

    return ListMultiHeadAttention()


def _mha_weights(params, state):
    return [np.asarray(params[c][v]) for c in _MHA_CHILDREN for v in ("kernel", "bias") if v in params[c]]


def _mha_case(id, shapes, **kwargs):
    layer = nn.MultiHeadAttention(**kwargs)
    heads, key_dim = layer.num_heads, layer.key_dim
    value_dim = layer.value_dim or key_dim
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) == 3 else value
    out = layer.output_shape or (query[-1],)
    expected = {
        "query_dense": {"kernel": (query[-1], heads, key_dim), "bias": (heads, key_dim)},
        "key_dense": {"kernel": (key[-1], heads, key_dim), "bias": (heads, key_dim)},
        "value_dense": {"kernel": (value[-1], heads, value_dim), "bias": (heads, value_dim)},
        "output_dense": {"kernel": (heads, value_dim, *out), "bias": tuple(out)},
    }
    if not layer.use_bias:
        expected = {name: {"kernel": v["kernel"]} for name, v in expected.items()}
    return LayerCase(
        id, layer, shapes, reference=_mha_ref(key_dim),
        keras=lambda: keras_mha(**kwargs), keras_weights=_mha_weights, expected_params=expected,
    )


_MHA_CASES = [
    _mha_case("mha_self_attention", [(2, 5, 6), (2, 5, 6)], num_heads=2, key_dim=4),
    _mha_case("mha_cross_attention_key", [(2, 4, 6), (2, 5, 3), (2, 5, 8)], num_heads=3, key_dim=2,
              value_dim=5, output_shape=7),
    _mha_case("mha_two_attention_axes_no_bias", [(2, 3, 2, 5), (2, 2, 3, 4)], num_heads=2, key_dim=3,
              attention_axes=(1, 2), use_bias=False),
]


CASES = [*_CONV_CASES, *_EINSUM_CASES, *_NORM_CASES, *_MHA_CASES]
