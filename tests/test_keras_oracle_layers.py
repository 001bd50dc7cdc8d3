"""Keras 3 as the oracle: build the same layer in Keras, copy our weights, compare."""
from __future__ import annotations

import os

import numpy as np
import pytest


from .cases.registry import LAYER_CASES
from .test_layers import _init, _numpy, _to_backend

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402  (the oracle; part of purekeras[test])

KERAS_CASES = [c for c in LAYER_CASES if c.keras is not None]


@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.id for c in KERAS_CASES])
def test_matches_keras(case, backend):
    params, state = _init(case, backend)
    inputs = case.make_inputs()
    ours, _ = case.layer.apply(params, state, _to_backend(inputs, backend))
    layer = case.keras()
    shapes = case.input_shapes
    layer.build(shapes if isinstance(shapes, list) else tuple(shapes))
    layer.set_weights(case.keras_weights(_numpy(params), _numpy(state)))
    theirs = layer(inputs if isinstance(inputs, list) else inputs, training=False)
    np.testing.assert_allclose(_numpy(ours), np.asarray(keras.ops.convert_to_numpy(theirs)),
                               rtol=case.rtol, atol=case.atol)
