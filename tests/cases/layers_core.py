"""Layer cases: Dense and the core layers. Add one ``LayerCase`` per configuration."""
from __future__ import annotations

import numpy as np

from purekeras import nn

from .layer_case import LayerCase, keras_in_order


def _dense_ref(activation=None):
    def ref(params, state, x):
        y = x @ np.asarray(params["kernel"]) + np.asarray(params.get("bias", 0.0))
        return np.maximum(y, 0) if activation == "relu" else y

    return ref


def _keras():
    import keras

    return keras


CASES = [
    LayerCase(
        "dense", nn.Dense(4), (3, 5), reference=_dense_ref(),
        keras=lambda: _keras().layers.Dense(4),
        keras_weights=keras_in_order("kernel", "bias"),
        expected_params={"kernel": (5, 4), "bias": (4,)},
    ),
    LayerCase(
        "dense_relu_nobias_3d", nn.Dense(6, activation="relu", use_bias=False), (2, 3, 5),
        reference=_dense_ref("relu"),
        keras=lambda: _keras().layers.Dense(6, activation="relu", use_bias=False),
        keras_weights=keras_in_order("kernel"),
        expected_params={"kernel": (5, 6)},
    ),
]
