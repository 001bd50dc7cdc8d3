"""Compiling an ``ov.Model`` for OpenVINO's CPU plugin, in float32.

OpenVINO's CPU plugin runs float32 models in bfloat16 by default on CPUs with
AMX or AVX512-BF16 (and in float16 on some ARM CPUs). purekeras asks for float32
(``INFERENCE_PRECISION_HINT: f32``) so outputs match JAX, PyTorch and
TensorFlow within float32 rounding; pass ``config`` to choose otherwise.

>>> import numpy as np, openvino as ov, openvino.opset15 as opset
>>> x = opset.parameter([2], ov.Type.f32)
>>> model = ov.Model([opset.multiply(x, opset.constant(np.float32(2.0)))], [x])
>>> compile_model(model)(np.ones(2, np.float32))[0].tolist()
[2.0, 2.0]
"""
from __future__ import annotations

import openvino as ov

FLOAT32_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


def compile_model(model: ov.Model, config: dict | None = None, device: str = "CPU") -> ov.CompiledModel:
    """``model`` compiled for ``device`` with ``FLOAT32_CONFIG`` updated by ``config``."""
    return ov.Core().compile_model(model, device, {**FLOAT32_CONFIG, **(config or {})})
