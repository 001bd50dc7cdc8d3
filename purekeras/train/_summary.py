"""``Model.summary``: a Keras-like table of layers, output shapes and parameter counts.

>>> from purekeras import nn, random
>>> model = nn.Sequential([nn.Dense(4), nn.Dense(2)])
>>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 3)))
>>> print(summary_text(model, params, state, nn.InputSpec((None, 3))))
Model: "sequential"
________________________________________________________________________
 Layer (type)                     Output Shape                   Param #
========================================================================
 dense (Dense)                    (None, 4)                           16
 dense_1 (Dense)                  (None, 2)                           10
========================================================================
 Total params: 26 (104.00 B)
 Trainable params: 26 (104.00 B)
 Non-trainable params: 0 (0.00 B)
________________________________________________________________________
"""
from __future__ import annotations

from typing import Any

import numpy as np
import optree

from .. import ops
from ..nn import Functional, InputSpec, Sequential

WIDTHS = (34, 28, 10)


def _format_shape(spec: Any) -> str:
    if isinstance(spec, InputSpec):
        return "(" + ", ".join("None" if d is None else str(d) for d in spec.shape) + \
            ("," if len(spec.shape) == 1 else "") + ")"
    leaves = optree.tree_leaves(spec, is_leaf=lambda v: isinstance(v, InputSpec))
    return "[" + ", ".join(_format_shape(leaf) for leaf in leaves) + "]"


def _count(tree) -> int:
    return sum(ops.size(leaf) for leaf in optree.tree_leaves(tree))


def _bytes(tree) -> int:
    total = 0
    for leaf in optree.tree_leaves(tree):
        dtype = ops.dtype(leaf)
        itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        total += ops.size(leaf) * itemsize
    return total


def _human(num_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} GB"


def _rows(model, params: dict, state: dict, input_spec) -> list[tuple[str, str, str]]:
    """``(name (class), output shape, param count)`` for each top-level layer."""
    def count(name):
        return _count(params.get(name, {})) + _count(state.get(name, {}))

    if isinstance(model, Sequential):
        rows, spec = [], input_spec
        for name, layer in model.named_layers:
            spec = layer.output_spec(spec)
            rows.append((f"{name} ({type(layer).__name__})", _format_shape(spec), count(name)))
        return rows
    if isinstance(model, Functional):
        specs = list(model.input_specs if input_spec is None else
                     optree.tree_leaves(input_spec, is_leaf=lambda v: isinstance(v, InputSpec)))
        rows = [(f"input_layer{'' if i == 0 else f'_{i}'} (InputLayer)", _format_shape(s), 0)
                for i, s in enumerate(specs)]
        outputs: dict[int, Any] = {}

        def call(layer_idx, call_number, args):
            out = model.layers[layer_idx].output_spec(args)
            outputs.setdefault(layer_idx, out)
            return out

        model._run(specs, call)
        for i, (name, layer) in enumerate(model.named_layers):
            rows.append((f"{name} ({type(layer).__name__})", _format_shape(outputs[i]), count(name)))
        return rows
    name = getattr(model, "display_name", type(model).__name__)
    out = model.output_spec(input_spec)
    return [(f"{name} ({type(model).__name__})", _format_shape(out), _count(params) + _count(state))]


def summary_text(model, params: dict, state: dict, input_spec=None, *, opt_state=None) -> str:
    """The summary table as a string (``Model.summary`` prints it)."""
    name = getattr(model, "display_name", type(model).__name__)
    rule = "_" * sum(WIDTHS)
    lines = [f'Model: "{name}"', rule, _row("Layer (type)", "Output Shape", "Param #"), "=" * sum(WIDTHS)]
    lines += [_row(a, b, f"{c:,}") for a, b, c in _rows(model, params or {}, state or {}, input_spec)]
    trainable, frozen = _count(params), _count(state)
    lines += ["=" * sum(WIDTHS),
              f" Total params: {trainable + frozen:,} ({_human(_bytes(params) + _bytes(state))})",
              f" Trainable params: {trainable:,} ({_human(_bytes(params))})",
              f" Non-trainable params: {frozen:,} ({_human(_bytes(state))})"]
    if opt_state is not None:
        lines.append(f" Optimizer params: {_count(opt_state):,} ({_human(_bytes(opt_state))})")
    lines.append(rule)
    return "\n".join(lines)


def _row(name: str, shape: str, count: str) -> str:
    a, b, c = WIDTHS
    return f" {name:<{a - 1}}{shape:<{b}}{count:>{c}}"
