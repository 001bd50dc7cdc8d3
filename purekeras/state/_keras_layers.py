"""What Keras 3 calls each purekeras layer, and where it keeps the layer's variables.

For every built-in layer: its Keras class name, the variables Keras saves in
``<path>/vars/0..n-1`` (trainable then non-trainable, in creation order) with
their shapes for a given input spec (computed from the spec: nothing is
allocated, so a file cannot make purekeras allocate what it does not store),
the Keras-only config keys that must hold their neutral value, and whether
Keras records a ``build_config``.

>>> from purekeras import nn
>>> [(v.tree, v.name, v.shape) for v in variables(nn.BatchNormalization(), nn.InputSpec((None, 3)))]
[('params', 'gamma', (3,)), ('params', 'beta', (3,)), ('state', 'moving_mean', (3,)), ('state', 'moving_variance', (3,))]
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .. import nn
from ..nn._layer import Layer


class Var(NamedTuple):
    tree: str  # "params" or "state"
    name: str  # key in the layer's params / state dict (Keras's variable name)
    shape: tuple
    dtype: str = "float32"


class Sublayer(NamedTuple):
    attribute: str  # Keras's attribute name: the h5 group ("query_dense")
    keras_name: str  # the object's Keras name (the group's "name" attribute)
    layer: Any  # the child spec, or None for a Keras sublayer without variables
    input_spec: Any


class LayerKind(NamedTuple):
    class_name: str
    variables: Callable  # (layer, input_spec) -> [Var]
    neutral: dict  # Keras-only config keys -> their neutral value (written as such, required on load)
    build_config: bool  # whether Keras records a build_config for it
    sublayers: Callable | None = None  # (layer, input_spec) -> [Sublayer]


def _kernel_bias(kernel: tuple, bias: tuple | None) -> list[Var]:
    return [Var("params", "kernel", kernel)] + ([Var("params", "bias", bias)] if bias is not None else [])


def _dense(layer, spec):
    return _kernel_bias((spec.shape[-1], layer.units), (layer.units,) if layer.use_bias else None)


def _conv(layer, spec):
    kernel = (*layer.kernel_size, spec.shape[-1] // layer.groups, layer.filters)
    return _kernel_bias(kernel, (layer.filters,) if layer.use_bias else None)


def _einsum(layer, spec):
    shapes = layer.shapes(spec.shape)
    return _kernel_bias(shapes.kernel, shapes.bias)


def _embedding(layer, spec):
    return [Var("params", "embeddings", (layer.input_dim, layer.output_dim))]


def _scale_center(layer, shape) -> list[Var]:
    return ([Var("params", "gamma", shape)] if layer.scale else []) + \
           ([Var("params", "beta", shape)] if layer.center else [])


def _batch_norm(layer, spec):
    shape = (spec.shape[layer.axis % spec.rank],)
    return _scale_center(layer, shape) + [Var("state", "moving_mean", shape), Var("state", "moving_variance", shape)]


def _layer_norm(layer, spec):
    axes = sorted(a % spec.rank for a in ((layer.axis,) if isinstance(layer.axis, int) else layer.axis))
    return _scale_center(layer, tuple(spec.shape[a] for a in axes))


def _none(layer, spec):
    return []


def _attention_children(layer, spec):
    query, value, key = layer._inputs(spec, "input_spec")
    children = layer._children(query, value, key)
    names = {"query_dense": "query", "key_dense": "key", "value_dense": "value", "output_dense": "attention_output"}
    out = [Sublayer(attr, names[attr], *children[attr]) for attr in names]
    return out + [Sublayer("_dropout_layer", "dropout", None, None), Sublayer("_softmax", "softmax", None, None)]


_CONSTRAINTS = {"kernel_constraint": None, "bias_constraint": None}
_ACTIVITY = {"activity_regularizer": None}
_NORM_CONSTRAINTS = {"beta_constraint": None, "gamma_constraint": None}

KINDS: dict[type, LayerKind] = {
    nn.Dense: LayerKind("Dense", _dense, {**_CONSTRAINTS, "quantization_config": None}, True),
    nn.EinsumDense: LayerKind("EinsumDense", _einsum,
                              {**_ACTIVITY, **_CONSTRAINTS, "quantization_config": None}, True),
    nn.Embedding: LayerKind("Embedding", _embedding, {**_ACTIVITY, "embeddings_constraint": None,
                                                      "quantization_config": None}, True),
    nn.Conv1D: LayerKind("Conv1D", _conv, {**_ACTIVITY, **_CONSTRAINTS}, True),
    nn.Conv2D: LayerKind("Conv2D", _conv, {**_ACTIVITY, **_CONSTRAINTS}, True),
    nn.BatchNormalization: LayerKind("BatchNormalization", _batch_norm, {
        **_NORM_CONSTRAINTS, "synchronized": False, "renorm": False, "renorm_clipping": None}, True),
    nn.LayerNormalization: LayerKind("LayerNormalization", _layer_norm,
                                     {"rms_scaling": False, **_NORM_CONSTRAINTS}, True),
    nn.MultiHeadAttention: LayerKind("MultiHeadAttention", _none, {
        "use_gate": False, "sliding_window": None, **_ACTIVITY, **_CONSTRAINTS}, True, _attention_children),
    nn.Add: LayerKind("Add", _none, {}, True),
    nn.Multiply: LayerKind("Multiply", _none, {}, True),
    nn.Concatenate: LayerKind("Concatenate", _none, {}, True),
    nn.Flatten: LayerKind("Flatten", _none, {}, True),
    nn.Dropout: LayerKind("Dropout", _none, {}, False),
    nn.Reshape: LayerKind("Reshape", _none, {}, False),
    nn.Activation: LayerKind("Activation", _none, {}, False),
    nn.Identity: LayerKind("Identity", _none, {}, False),
}
for _cls in (nn.MaxPooling1D, nn.MaxPooling2D, nn.AveragePooling1D, nn.AveragePooling2D,
             nn.GlobalAveragePooling1D, nn.GlobalAveragePooling2D, nn.GlobalMaxPooling1D, nn.GlobalMaxPooling2D):
    KINDS[_cls] = LayerKind(_cls.__name__, _none, {}, False)

BY_CLASS_NAME: dict[str, type] = {kind.class_name: cls for cls, kind in KINDS.items()}
# Keras config keys that may hold any value and have no effect here.
IGNORED_KEYS = {"seed", "renorm_momentum", "trainable"}


def kind_of(layer: Layer) -> LayerKind | None:
    return KINDS.get(type(layer))


def variables(layer: Layer, input_spec) -> list[Var]:
    """The variables Keras saves for ``layer`` on inputs like ``input_spec``, in Keras's order."""
    kind = kind_of(layer)
    if kind is None:
        raise TypeError(f"{type(layer).__name__} is not a built-in purekeras layer.")
    layer.output_spec(input_spec)  # validates the input first
    return [v._replace(shape=tuple(v.shape), dtype=layer.variable_dtype) for v in kind.variables(layer, input_spec)]
