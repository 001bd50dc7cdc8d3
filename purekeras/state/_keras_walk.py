"""The objects Keras saves for a model, in Keras's order, with their variables.

Keras's weight files hold one group per saved object: the model itself at the
root (``vars``), each layer of a Sequential or Functional model under
``layers/<snake_case class name, deduplicated _1, _2 in layer order>`` (an
``InputLayer`` counts in a Functional model), sublayers under their attribute
name (``query_dense``, ...), each with a ``vars`` group holding the object's own
variables ``0..n-1``. The concatenation of the objects' trainable variables in
this order is Keras's ``model.trainable_variables``: the optimizer's order.

>>> from purekeras import nn
>>> model = nn.Sequential([nn.Dense(3), nn.Dropout(0.5), nn.Dense(2)])
>>> [(o.path, o.tree_path, [v.name for v in o.variables])
...  for o in model_objects(model, nn.InputSpec((None, 4)), "sequential")]
[('', (), []), ('layers/dense', ('dense',), ['kernel', 'bias']), ('layers/dropout', ('dropout',), []), ('layers/dense_1', ('dense_1',), ['kernel', 'bias'])]
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from .. import nn
from ..nn._naming import snake_case
from . import _keras_layers as kl
from ._keras_order import input_names, node_specs, operation_order


class KerasObject(NamedTuple):
    path: str  # its h5 group ("" is the root)
    name: str  # the "name" attribute of its vars group
    tree_path: tuple  # where its variables live in params / state
    variables: tuple  # kl.Var, in Keras's order


def keras_class_name(layer) -> str:
    if isinstance(layer, nn.Functional):
        return "Functional"
    kind = kl.kind_of(layer)
    return kind.class_name if kind else type(layer).__name__


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


class _Unique:
    """Keras's ``_get_unique_name``: ``dense``, ``dense_1``, ``dense_2``, ..."""

    def __init__(self):
        self.used: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        if name in self.used:
            self.used[name] += 1
            return f"{name}_{self.used[name]}"
        self.used[name] = 0
        return name


def _walk(layer, name: str, spec, path: str, tree_path: tuple, custom: Callable | None, out: list) -> None:
    if isinstance(layer, nn.Sequential):
        out.append(KerasObject(path, name, tree_path, ()))
        unique = _Unique()
        spec = layer.input_spec if spec is None else spec
        for child_name, child in layer.named_layers:
            child_path = _join(path, "layers", unique(snake_case(keras_class_name(child))))
            _walk(child, child_name, spec, child_path, (*tree_path, child_name), custom, out)
            spec = child.output_spec(spec)
        return
    if isinstance(layer, nn.Functional):
        out.append(KerasObject(path, name, tree_path, ()))
        unique = _Unique()
        specs = node_specs(layer, None if spec is None else _flat_specs(layer, spec))
        inputs = input_names(layer)
        for kind, index in operation_order(layer):
            if kind == "input":
                out.append(KerasObject(_join(path, "layers", unique("input_layer")), inputs[index], (), ()))
                continue
            child, child_name = layer.layers[index], layer.layer_names[index]
            child_path = _join(path, "layers", unique(snake_case(keras_class_name(child))))
            _walk(child, child_name, specs.first_input[index], child_path, (*tree_path, child_name), custom, out)
        return
    kind = kl.kind_of(layer)
    if kind is None:
        if custom is None:
            raise TypeError(f"Layer '{name}' ({type(layer).__name__}) is not a built-in purekeras layer, "
                            "and its variables are unknown here.")
        out.append(KerasObject(path, name, tree_path, tuple(custom(layer, spec, tree_path))))
        return
    out.append(KerasObject(path, name, tree_path, tuple(kl.variables(layer, spec))))
    for sub in (kind.sublayers(layer, spec) if kind.sublayers else ()):
        sub_path = _join(path, sub.attribute)
        if sub.layer is None:
            out.append(KerasObject(sub_path, sub.keras_name, (), ()))
        else:
            _walk(sub.layer, sub.keras_name, sub.input_spec, sub_path, (*tree_path, sub.attribute), custom, out)


def _flat_specs(graph, spec) -> list:
    import optree

    flat = optree.tree_leaves(spec, is_leaf=lambda v: isinstance(v, nn.InputSpec))
    if len(flat) != len(graph.input_specs):
        raise ValueError(f"Functional '{graph.display_name}' has {len(graph.input_specs)} inputs, "
                         f"but the input spec holds {len(flat)}.")
    return flat


def model_objects(model, input_spec, name: str, custom: Callable | None = None) -> list[KerasObject]:
    """Every object Keras saves for ``model`` (root first), for inputs like ``input_spec``.

    ``custom(layer, input_spec, tree_path) -> [Var]`` gives the variables of layers that
    are not built-in (registered custom layers)."""
    out: list[KerasObject] = []
    _walk(model, name, input_spec, "", (), custom, out)
    return out


def trainable_variables(objects: list[KerasObject]) -> list[tuple[tuple, str]]:
    """``[(tree_path, var name)]`` of the params, in Keras's ``trainable_variables`` order."""
    return [(o.tree_path, v.name) for o in objects for v in o.variables if v.tree == "params"]
