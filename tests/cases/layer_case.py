"""``LayerCase``: one layer configuration and how to check it.

A case gives a layer spec, the input shapes, a NumPy reference of the forward
pass, and (where Keras has the layer) a factory for the Keras 3 layer plus the
mapping of our params/state to Keras's ``layer.set_weights`` order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class LayerCase:
    id: str
    layer: Any  # a purekeras layer spec
    input_shapes: Any  # a shape tuple, or a list of shape tuples for multi-input layers
    # reference(params, state, inputs) -> expected output (NumPy), inference mode.
    reference: Callable | None = None
    # keras() -> a Keras 3 layer with the same configuration (None: no Keras equivalent).
    keras: Callable | None = None
    # keras_weights(params, state) -> list of arrays in Keras's set_weights order.
    keras_weights: Callable | None = None
    input_dtype: str = "float32"
    int_high: int = 10  # exclusive upper bound for integer inputs
    expected_params: dict = field(default_factory=dict)  # {var_name: shape}, checked exactly
    expected_state: dict = field(default_factory=dict)
    low_precision: bool = True  # runs in float16 / bfloat16
    # Why this layer has no OpenVINO inference path (None: it has one, and
    # tests/test_openvino.py checks it against JAX; the README names those without).
    no_openvino: str | None = None
    rtol: float = 1e-5
    atol: float = 1e-5

    def make_inputs(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        multi = isinstance(self.input_shapes, list)
        shapes = self.input_shapes if multi else [self.input_shapes]
        if self.input_dtype.startswith("int"):
            arrays = [rng.integers(0, self.int_high, size=s).astype(self.input_dtype) for s in shapes]
        else:
            arrays = [rng.standard_normal(s).astype(self.input_dtype) for s in shapes]
        return arrays if multi else arrays[0]


def keras_in_order(*names):
    """keras_weights for a layer whose Keras weights are exactly these params/state names."""

    def mapping(params, state):
        merged = {**params, **state}
        return [np.asarray(merged[n]) for n in names]

    return mapping
