"""Layer cases: activation, dropout, reshaping, embedding, pooling and merge layers."""
from __future__ import annotations

import math

import numpy as np

from purekeras import nn

from .layer_case import LayerCase, keras_in_order


def _keras():
    import keras

    return keras


def _no_weights(params, state):
    return []


def _identity(params, state, x):
    return x


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _flatten(params, state, x):
    return x.reshape(x.shape[0], -1)


def _reshape(target):
    def ref(params, state, x):
        return x.reshape(x.shape[0], *target)

    return ref


def _embedding(params, state, ids):
    return np.asarray(params["embeddings"])[ids]


def _pool(mode, pool, strides, padding):
    """NumPy pooling over the spatial axes of a channels-last array (TF padding rules;
    padded cells are ignored by both max and average)."""
    pool = tuple(pool)
    strides = tuple(strides or pool)

    def ref(params, state, x):
        spatial = x.shape[1:-1]
        out_shape, pads = [], []
        for n, p, s in zip(spatial, pool, strides):
            if padding == "valid":
                out_shape.append((n - p) // s + 1)
                pads.append(0)
            else:
                out = math.ceil(n / s)
                out_shape.append(out)
                pads.append(max((out - 1) * s + p - n, 0) // 2)
        y = np.zeros((x.shape[0], *out_shape, x.shape[-1]), x.dtype)
        for index in np.ndindex(*out_shape):
            window = tuple(
                slice(max(i * s - pad, 0), min(i * s - pad + p, n))
                for i, s, pad, p, n in zip(index, strides, pads, pool, spatial))
            cells = x[(slice(None), *window, slice(None))]
            axes = tuple(range(1, 1 + len(pool)))
            y[(slice(None), *index, slice(None))] = (
                cells.max(axis=axes) if mode == "max" else cells.mean(axis=axes))
        return y

    return ref


def _global(mode, rank, keepdims=False):
    def ref(params, state, x):
        axes = tuple(range(1, rank + 1))
        return x.max(axis=axes, keepdims=keepdims) if mode == "max" else x.mean(axis=axes, keepdims=keepdims)

    return ref


def _elementwise(op):
    def ref(params, state, xs):
        rank = max(x.ndim for x in xs)
        aligned = [x.reshape(x.shape[0], *([1] * (rank - x.ndim)), *x.shape[1:]) for x in xs]
        out = aligned[0]
        for x in aligned[1:]:
            out = op(out, x)
        return out

    return ref


def _concatenate(axis):
    def ref(params, state, xs):
        return np.concatenate(xs, axis=axis)

    return ref


def _case(id, layer, shapes, reference, keras=None, **kwargs):
    """A case of a layer without variables (Keras gets no weights)."""
    return LayerCase(id, layer, shapes, reference=reference, keras=keras,
                     keras_weights=_no_weights if keras else None, **kwargs)


def _pool_cases():
    L = _keras
    configs = [
        ("max_pooling1d", nn.MaxPooling1D(2), (2, 7, 3), ("max", (2,), None, "valid"),
         lambda: L().layers.MaxPooling1D(2)),
        ("max_pooling1d_same", nn.MaxPooling1D(3, strides=2, padding="same"), (2, 7, 3),
         ("max", (3,), (2,), "same"), lambda: L().layers.MaxPooling1D(3, strides=2, padding="same")),
        ("average_pooling1d", nn.AveragePooling1D(2), (2, 6, 3), ("avg", (2,), None, "valid"),
         lambda: L().layers.AveragePooling1D(2)),
        ("average_pooling1d_same", nn.AveragePooling1D(3, strides=2, padding="same"), (2, 6, 2),
         ("avg", (3,), (2,), "same"),
         lambda: L().layers.AveragePooling1D(3, strides=2, padding="same")),
        ("max_pooling2d", nn.MaxPooling2D(), (2, 5, 5, 3), ("max", (2, 2), None, "valid"),
         lambda: L().layers.MaxPooling2D()),
        ("max_pooling2d_same", nn.MaxPooling2D(3, strides=2, padding="same"), (2, 5, 6, 2),
         ("max", (3, 3), (2, 2), "same"),
         lambda: L().layers.MaxPooling2D(3, strides=2, padding="same")),
        ("average_pooling2d", nn.AveragePooling2D((2, 3), strides=(1, 2)), (2, 4, 7, 2),
         ("avg", (2, 3), (1, 2), "valid"),
         lambda: L().layers.AveragePooling2D((2, 3), strides=(1, 2))),
        ("average_pooling2d_same", nn.AveragePooling2D(3, strides=2, padding="same"), (2, 5, 6, 2),
         ("avg", (3, 3), (2, 2), "same"),
         lambda: L().layers.AveragePooling2D(3, strides=2, padding="same")),
    ]
    return [_case(id, layer, shape, _pool(*ref), keras) for id, layer, shape, ref, keras in configs]


def _global_cases():
    L = _keras
    return [
        _case("global_average_pooling1d", nn.GlobalAveragePooling1D(), (2, 5, 3),
              _global("avg", 1), lambda: L().layers.GlobalAveragePooling1D()),
        _case("global_max_pooling1d_keepdims", nn.GlobalMaxPooling1D(keepdims=True), (2, 5, 3),
              _global("max", 1, True), lambda: L().layers.GlobalMaxPooling1D(keepdims=True)),
        _case("global_average_pooling2d_keepdims", nn.GlobalAveragePooling2D(keepdims=True),
              (2, 4, 3, 5), _global("avg", 2, True),
              lambda: L().layers.GlobalAveragePooling2D(keepdims=True)),
        _case("global_max_pooling2d", nn.GlobalMaxPooling2D(), (2, 4, 3, 5),
              _global("max", 2), lambda: L().layers.GlobalMaxPooling2D()),
    ]


def _merge_cases():
    L = _keras
    return [
        _case("add", nn.Add(), [(2, 3, 4), (2, 3, 4)], _elementwise(np.add),
              lambda: L().layers.Add()),
        _case("add_broadcast_three", nn.Add(), [(2, 3, 4), (2, 1, 4), (2, 4)],
              _elementwise(np.add), lambda: L().layers.Add()),
        _case("multiply", nn.Multiply(), [(2, 5), (2, 5)], _elementwise(np.multiply),
              lambda: L().layers.Multiply()),
        _case("concatenate", nn.Concatenate(), [(2, 3), (2, 5)], _concatenate(-1),
              lambda: L().layers.Concatenate()),
        _case("concatenate_axis1", nn.Concatenate(axis=1), [(2, 2, 4), (2, 3, 4), (2, 1, 4)],
              _concatenate(1), lambda: L().layers.Concatenate(axis=1)),
    ]


def _core_cases():
    L = _keras
    return [
        _case("activation_relu", nn.Activation("relu"), (2, 3, 4),
              lambda p, s, x: np.maximum(x, 0), lambda: L().layers.Activation("relu")),
        _case("activation_softmax", nn.Activation("softmax"), (2, 5),
              lambda p, s, x: _softmax(x), lambda: L().layers.Activation("softmax")),
        _case("identity", nn.Identity(), (2, 3), _identity, lambda: L().layers.Identity()),
        _case("dropout", nn.Dropout(0.5), (2, 3, 4), _identity, lambda: L().layers.Dropout(0.5)),
        _case("dropout_noise_shape", nn.Dropout(0.3, noise_shape=(None, 1, 4)), (2, 3, 4),
              _identity, lambda: L().layers.Dropout(0.3, noise_shape=(None, 1, 4))),
        _case("flatten", nn.Flatten(), (2, 3, 4), _flatten, lambda: L().layers.Flatten()),
        _case("flatten_rank1", nn.Flatten(), (3,), lambda p, s, x: x.reshape(-1, 1),
              lambda: L().layers.Flatten()),
        _case("reshape", nn.Reshape((4, 3)), (2, 3, 4), _reshape((4, 3)),
              lambda: L().layers.Reshape((4, 3))),
        _case("reshape_minus_one", nn.Reshape((-1, 2)), (2, 3, 4), _reshape((6, 2)),
              lambda: L().layers.Reshape((-1, 2))),
        LayerCase(
            "embedding", nn.Embedding(10, 4), (2, 5), reference=_embedding,
            keras=lambda: L().layers.Embedding(10, 4),
            keras_weights=keras_in_order("embeddings"),
            input_dtype="int32", int_high=10, expected_params={"embeddings": (10, 4)},
        ),
        LayerCase(
            "embedding_3d_ids", nn.Embedding(7, 3, embeddings_initializer="glorot_uniform"),
            (2, 3, 2), reference=_embedding,
            keras=lambda: L().layers.Embedding(7, 3, embeddings_initializer="glorot_uniform"),
            keras_weights=keras_in_order("embeddings"),
            input_dtype="int32", int_high=7, expected_params={"embeddings": (7, 3)},
        ),
    ]


CASES = [*_core_cases(), *_pool_cases(), *_global_cases(), *_merge_cases()]
