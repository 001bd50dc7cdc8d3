"""Sequential and Functional models <-> Keras 3 model configs.

A Functional config lists its layers in Keras's operation order (``InputLayer``
entries included), each with its ``inbound_nodes``: one ``{"args", "kwargs"}``
per call, whose tensors are ``__keras_tensor__`` records
``{"shape", "dtype", "keras_history": [layer name, call index, output index]}``;
``input_layers`` / ``output_layers`` hold ``[layer name, call index, output
index]`` leaves in the inputs' and outputs' structure. Loading rebuilds the
graph by calling purekeras layers on ``nn.Input`` tensors, in dependency order.

>>> from purekeras import nn
>>> from purekeras.state._safe_config import LoadContext
>>> inp = nn.Input((4,))
>>> graph = nn.Functional(inp, nn.Dense(2)(nn.Dense(3, activation="relu")(inp)))
>>> entry = model_entry(graph, "functional", None)
>>> [layer["class_name"] for layer in entry["config"]["layers"]]
['InputLayer', 'Dense', 'Dense']
>>> model_from_entry(entry, "the model", LoadContext({}, True, "config.json"))[0] == graph
True
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

import optree

from .. import nn
from ..nn._naming import assign_names, snake_case
from . import _keras_objects as ko
from ._keras_config import build_config, input_entry, input_from_entry, layer_entry, layer_from_entry
from ._keras_order import input_names, node_specs, operation_order
from ._safe_config import LoadContext, entry as parse_entry, require

MAX_LAYERS = 100_000
MAX_NODES = 1_000_000


def _structure(value: Any) -> Any:
    """Tuples as lists, recursively (dicts kept): JSON's view of a pytree."""
    if isinstance(value, (list, tuple)):
        return [_structure(v) for v in value]
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    return value


def _model_name(model) -> str:
    return model.name or ("functional" if isinstance(model, nn.Functional) else snake_case(type(model).__name__))


# -- writing ---------------------------------------------------------------------------------
def model_entry(model, name: str | None, input_spec) -> dict:
    """The serialised Sequential / Functional model (top level or nested)."""
    name = name or _model_name(model)
    if isinstance(model, nn.Sequential):
        return _sequential_entry(model, name, input_spec)
    return _functional_entry(model, name, input_spec)


def _sequential_entry(model, name: str, input_spec) -> dict:
    spec = model.input_spec if input_spec is None else input_spec
    layers = [] if spec is None else [input_entry(spec, "input_layer")]
    current = spec
    for child_name, child in model.named_layers:
        layers.append(layer_entry(child, child_name, current))
        current = child.output_spec(current) if current is not None else None
    shape = None if spec is None else list(spec.shape)
    config = {"name": name, "trainable": True, "dtype": ko.dtype_to_keras(model.dtype), "layers": layers,
              "build_input_shape": shape}
    out = ko.keras_object("keras", "Sequential", config)
    out["build_config"] = {"input_shape": shape}
    return out


def _functional_entry(model, name: str, input_spec) -> dict:
    specs = node_specs(model, None if input_spec is None else optree.tree_leaves(
        input_spec, is_leaf=lambda v: isinstance(v, nn.InputSpec)))
    inputs = input_names(model)
    calls, call_index = [0] * len(model.layers), []
    for layer_idx, _, _ in model.nodes:
        call_index.append(calls[layer_idx])
        calls[layer_idx] += 1

    def history(ref) -> list:
        if ref[0] < 0:
            return [inputs[-1 - ref[0]], 0, 0]
        layer_idx = model.nodes[ref[0]][0]
        offset = 1 if isinstance(model.layers[layer_idx], nn.Functional) else 0
        return [model.layer_names[layer_idx], call_index[ref[0]] + offset, ref[1]]

    def tensor(ref) -> dict:
        spec = (specs.outputs[ref[0]][ref[1]] if ref[0] >= 0
                else model.input_specs[-1 - ref[0]] if input_spec is None else _input(input_spec, -1 - ref[0]))
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(spec.shape), "dtype": spec.dtype, "keras_history": history(ref)}}

    layers = []
    for kind, index in operation_order(model):
        if kind == "input":
            spec = model.input_specs[index] if input_spec is None else _input(input_spec, index)
            layer = input_entry(spec, inputs[index])
            layers.append({**layer, "name": inputs[index], "inbound_nodes": []})
            continue
        child, child_name = model.layers[index], model.layer_names[index]
        layer = layer_entry(child, child_name, specs.first_input[index])
        nodes = []
        for layer_idx, treedef, refs in model.nodes:
            if layer_idx != index:
                continue
            args = _structure(optree.tree_unflatten(treedef, [tensor(r) for r in refs]))
            spread = isinstance(child, nn.MultiHeadAttention) and isinstance(args, list)
            nodes.append({"args": args if spread else [args], "kwargs": {}})
        layers.append({**layer, "name": child_name, "inbound_nodes": nodes})
    leaf = lambda i: [inputs[i], 0, 0]  # noqa: E731
    config = {
        "name": name, "trainable": True, "layers": layers,
        "input_layers": _structure(optree.tree_unflatten(model.input_treedef,
                                                         [leaf(i) for i in range(len(model.input_specs))])),
        "output_layers": _structure(optree.tree_unflatten(model.output_treedef,
                                                          [history(r) for r in model.output_refs])),
    }
    out = ko.keras_object("keras.src.models.functional", "Functional", config)
    out["registered_name"] = "Functional"
    out["build_config"] = {"input_shape": None}
    return out


def _input(input_spec, index: int):
    return optree.tree_leaves(input_spec, is_leaf=lambda v: isinstance(v, nn.InputSpec))[index]


# -- reading -----------------------------------------------------------------------------------
def model_from_entry(value: Any, where: str, ctx: LoadContext) -> tuple[Any, Any]:
    """``(model spec, input spec)`` of a serialised Sequential / Functional model."""
    module, class_name, config = parse_entry(value, where, ctx)
    name = require(config.get("name", "model"), str, where, ctx, "the model 'name'")
    layers = require(config.get("layers"), list, where, ctx, "the model's 'layers'")
    if len(layers) > MAX_LAYERS:
        raise ctx.error(where, f"{len(layers)} layers exceed the limit of {MAX_LAYERS}.")
    if class_name == "Sequential":
        return _sequential(config, layers, name, value, where, ctx)
    return _functional(config, layers, name, where, ctx)


def _named(layers: list, names: list[str]) -> list:
    """``layers`` without explicit names when purekeras would assign the same ones."""
    stripped = [_unnamed(layer) if layer.name else layer for layer in layers]
    try:
        return stripped if list(assign_names(stripped)) == names else layers
    except ValueError:
        return layers


def _unnamed(layer):
    if isinstance(layer, nn.Functional):  # no dataclass __init__ to call: copy it
        clone = copy.copy(layer)
        object.__setattr__(clone, "name", None)
        return clone
    return dataclasses.replace(layer, name=None)


def _sequential(config: dict, layers: list, name: str, value: dict, where: str, ctx: LoadContext):
    spec = None
    entries = list(layers)
    if entries and isinstance(entries[0], dict) and entries[0].get("class_name") == "InputLayer":
        spec = input_from_entry(parse_entry(entries.pop(0), f"{where}, input layer", ctx)[2], where, ctx)[1]
    else:
        built = value.get("build_config")
        shape = config.get("build_input_shape") or (built.get("input_shape") if isinstance(built, dict) else None)
        if shape is not None:
            spec = input_from_entry({"batch_shape": shape, "name": "input"}, where, ctx)[1]
    children = [layer_from_entry(e, f"{where}, layer {i}", ctx) for i, e in enumerate(entries)]
    names = [c.name for c in children]
    if len(set(names)) != len(names):
        raise ctx.error(where, f"two layers share a name: {names}.")
    dtype = ko.dtype_from_keras(config.get("dtype"), where, ctx)
    try:
        model = nn.Sequential(tuple(_named(children, names)), input_spec=spec, name=None if name == "sequential"
                              else name, dtype=dtype)
        if spec is not None:
            model.output_spec(spec)
    except Exception as error:  # the layers do not fit together
        raise ctx.error(where, f"the layers do not fit the input {spec}: {error}") from error
    return model, spec


def _tensor_ref(value: Any, where: str, ctx: LoadContext) -> tuple[str, int, int]:
    if not (isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"):
        raise ctx.error(where, f"a layer call argument must be a Keras tensor, got {str(value)[:80]}.")
    config = require(value.get("config"), dict, where, ctx, "a Keras tensor's 'config'")
    history = require(config.get("keras_history"), list, where, ctx, "'keras_history'")
    if len(history) != 3:
        raise ctx.error(where, f"malformed keras_history {history}.")
    name = require(history[0], str, where, ctx, "a keras_history layer name")
    node = require(history[1], int, where, ctx, "a node index")
    return name, node, require(history[2], int, where, ctx, "a tensor index")


def _args(node: Any, where: str, ctx: LoadContext) -> tuple[list, list]:
    """``(args, refs)``: the call's positional arguments (tensors as ``("ref", k)``) and the refs."""
    require(node, dict, where, ctx, "an inbound node")
    for key, kwarg in (require(node.get("kwargs", {}), dict, where, ctx, "'kwargs'")).items():
        if kwarg is not None and not (key == "training" and kwarg is False):
            raise ctx.error(where, f"the call argument {key}={str(kwarg)[:60]} has no purekeras equivalent.")
    refs: list = []

    def convert(value):
        if isinstance(value, list):
            return [convert(v) for v in value]
        refs.append(_tensor_ref(value, where, ctx))
        return ("ref", len(refs) - 1)

    return [convert(a) for a in require(node.get("args"), list, where, ctx, "'args'")], refs


def _functional(config: dict, layers: list, name: str, where: str, ctx: LoadContext):
    specs, input_specs, pending, order = {}, {}, {}, []
    for i, layer in enumerate(layers):
        here = f"{where}, layer {i}"
        _, class_name, layer_config = parse_entry(layer, here, ctx)
        layer_name = require(layer.get("name", layer_config.get("name")), str, here, ctx, "the layer 'name'")
        if layer_name in input_specs or layer_name in specs:
            raise ctx.error(where, f"two layers are named {layer_name!r}.")
        order.append(layer_name)
        if class_name == "InputLayer":
            input_specs[layer_name] = input_from_entry(layer_config, here, ctx)[1]
            continue
        specs[layer_name] = layer_from_entry(layer, here, ctx)
        nodes = require(layer.get("inbound_nodes", []), list, here, ctx, "'inbound_nodes'")
        pending[layer_name] = [_args(n, f"{here}, call {k}", ctx) for k, n in enumerate(nodes)]
    if sum(len(n) for n in pending.values()) > MAX_NODES:
        raise ctx.error(where, f"more than {MAX_NODES} layer calls.")
    model_name = None if name == "functional" else name
    model = _graph(config, order, specs, input_specs, pending, model_name, where, ctx)
    unnamed = _named(list(model.layers), list(model.layer_names))
    if unnamed is not list(model.layers) and unnamed != list(model.layers):
        by_name = dict(zip(model.layer_names, unnamed))
        model = _graph(config, order, by_name, input_specs, pending, model_name, where, ctx)
    return model, None


def _graph(config, order, specs, input_specs, pending, name, where, ctx: LoadContext):
    """Call ``specs`` (layer name -> layer) as the config's inbound nodes say; the Functional."""
    tensors = {n: [[nn.Input(s.shape[1:], s.dtype, batch_size=s.shape[0])]] for n, s in input_specs.items()}
    tensors.update({n: [] for n in specs})
    base = {n: (1 if isinstance(s, nn.Functional) else 0) for n, s in specs.items()}
    _call_all(order, pending, specs, tensors, base, where, ctx)

    def structure(value, what):
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            ref = _tensor_ref({"class_name": "__keras_tensor__", "config": {"keras_history": value}}, where, ctx)
            found = _resolve(tensors, base, ref, where, ctx)
            if found is None:
                raise ctx.error(where, f"{what} names call {value[1]} of {value[0]!r}, which is never made.")
            return found
        if isinstance(value, list):
            return [structure(v, what) for v in value]
        if isinstance(value, dict):
            return {require(k, str, where, ctx, "a key"): structure(v, what) for k, v in value.items()}
        raise ctx.error(where, f"malformed {what}: {str(value)[:80]}.")

    graph_inputs = structure(config.get("input_layers"), "input_layers")
    outputs = structure(config.get("output_layers"), "output_layers")
    for leaf in optree.tree_leaves(graph_inputs):
        if leaf.node is not None:
            raise ctx.error(where, "input_layers must name InputLayers.")
    try:
        return nn.Functional(graph_inputs, outputs, name=name)
    except Exception as error:  # a graph purekeras cannot build
        raise ctx.error(where, f"cannot build the graph: {error}") from error


def _resolve(tensors: dict, base: dict, ref: tuple, where: str, ctx: LoadContext):
    """The tensor ``ref`` names, or ``None`` when its call has not been made yet."""
    layer_name, node, index = ref
    if layer_name not in tensors:
        raise ctx.error(where, f"a call uses the output of unknown layer {layer_name!r}.")
    node -= base.get(layer_name, 0)
    if node < 0:
        raise ctx.error(where, f"invalid call index {ref[1]} of layer {layer_name!r}.")
    if node >= len(tensors[layer_name]):
        return None
    outputs = tensors[layer_name][node]
    if not 0 <= index < len(outputs):
        raise ctx.error(where, f"layer {layer_name!r} has no output {index} (it has {len(outputs)}).")
    return outputs[index]


def _call_all(order, pending, specs, tensors, base, where, ctx) -> None:
    """Make every layer call once its inputs exist (each layer's calls in order)."""
    waiting: dict = {}  # (layer, call) the next call needs -> layers blocked on it
    ready = [n for n in order if pending.get(n)]
    done = {n: 0 for n in pending}
    while ready:
        layer_name = ready.pop()
        while done[layer_name] < len(pending[layer_name]):
            args, refs = pending[layer_name][done[layer_name]]
            resolved = [_resolve(tensors, base, r, where, ctx) for r in refs]
            missing = next((r for r, t in zip(refs, resolved) if t is None), None)
            if missing is not None:
                key = (missing[0], missing[1] - base.get(missing[0], 0))
                waiting.setdefault(key, []).append(layer_name)
                break
            fill = lambda a: [fill(v) for v in a] if isinstance(a, list) else resolved[a[1]]  # noqa: E731
            values = [fill(a) for a in args]
            here = f"{where}, layer {layer_name!r} call {done[layer_name]}"
            try:
                out = specs[layer_name](*values)
            except Exception as error:  # the layer does not accept these inputs
                raise ctx.error(here, f"cannot call the layer on its inputs: {error}") from error
            tensors[layer_name].append(optree.tree_leaves(out))
            ready.extend(waiting.pop((layer_name, done[layer_name]), []))
            done[layer_name] += 1
    stuck = [n for n in pending if done[n] < len(pending[n])]
    if stuck:
        raise ctx.error(where, f"the graph has loops or disconnected calls: layers {stuck[:10]} cannot be "
                               "called (their inputs never become available).")


__all__ = ["model_entry", "model_from_entry", "build_config"]
