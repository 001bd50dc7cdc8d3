"""Functional graphs: ``nn.Input`` tensors, layers called on them, ``nn.Functional``.

Building the graph happens once, in Python, on symbolic tensors that hold only
an ``InputSpec``. ``Functional`` records the graph as immutable tuples (layers,
their names, and which node feeds which), so it is a hashable spec like any
layer. Shared layers are recognised by identity and get one set of params.

>>> from purekeras import nn, random, ops
>>> inp = nn.Input((4,))
>>> h = nn.Dense(8, activation="relu")(inp)
>>> out = nn.Dense(2)(nn.Add()([h, nn.Dense(8)(inp)]))
>>> graph = nn.Functional(inp, out)
>>> params, state = graph.init(random.key(0, backend="jax"))
>>> sorted(params)
['dense', 'dense_1', 'dense_2']
>>> graph.apply(params, state, ops.ones((3, 4), backend="jax"))[0].shape
(3, 2)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optree

from ._compose import any_uses_rng, child_key, child_rng, children_regularization_loss
from ._layer import Layer
from ._naming import assign_names
from ._spec import InputSpec


@dataclass(frozen=True, eq=False)
class SymbolicTensor:
    """A placeholder in a graph under construction: a spec and where it comes from."""

    spec: InputSpec
    node: Any = None  # the _Node that produced it; None for an Input
    index: int = 0  # which flat output of that node
    name: str | None = None

    @property
    def shape(self):
        return self.spec.shape

    @property
    def dtype(self):
        return self.spec.dtype

    def __repr__(self):
        return f"<SymbolicTensor shape={self.spec.shape} dtype={self.spec.dtype}>"


@dataclass(frozen=True, eq=False)
class _Node:
    layer: Layer
    args: Any  # pytree of SymbolicTensor


def is_symbolic(value) -> bool:
    return isinstance(value, SymbolicTensor)


def Input(shape, dtype: str = "float32", *, batch_size: int | None = None, name: str | None = None):
    """A symbolic input of per-example ``shape`` (the batch axis is added).

    >>> Input((28, 28, 1)).shape
    (None, 28, 28, 1)
    """
    return SymbolicTensor(InputSpec((batch_size, *shape), dtype), None, 0, name)


def call_symbolic(layer: Layer, args, kwargs):
    if kwargs:
        raise TypeError(
            f"{type(layer).__name__} called on symbolic tensors with keyword arguments "
            f"{sorted(kwargs)}; functional graphs take positional inputs only."
        )
    arg_specs = optree.tree_map(lambda t: t.spec, args)
    out_spec = layer.output_spec(arg_specs)
    node = _Node(layer, args)
    flat, treedef = optree.tree_flatten(out_spec)
    return optree.tree_unflatten(treedef, [SymbolicTensor(s, node, i) for i, s in enumerate(flat)])


def _topological_nodes(outputs_flat, inputs_flat):
    input_ids = {id(t) for t in inputs_flat}
    order: list[_Node] = []
    seen: set[int] = set()

    def visit(tensor: SymbolicTensor):
        if tensor.node is None:
            if id(tensor) not in input_ids:
                raise ValueError(
                    f"Functional: the output depends on an nn.Input {tensor!r} that is not "
                    "among the model's inputs. Pass every Input the outputs use."
                )
            return
        node = tensor.node
        if id(node) in seen:
            return
        for arg in optree.tree_leaves(node.args):
            visit(arg)
        seen.add(id(node))
        order.append(node)

    for tensor in outputs_flat:
        visit(tensor)
    return order


@dataclass(frozen=True, init=False)
class Functional(Layer):
    """A graph of layers from ``inputs`` to ``outputs`` (each a tensor, list or dict)."""

    layers: tuple = ()
    layer_names: tuple = ()
    input_specs: tuple = ()
    input_treedef: Any = None
    # Each node: (layer index, args treedef, refs); a ref is (node index, output index),
    # with node index -1 - i meaning the model's i-th input.
    nodes: tuple = ()
    output_treedef: Any = None
    output_refs: tuple = ()

    def __init__(self, inputs, outputs, *, name: str | None = None, dtype: str | None = None):
        inputs_flat, input_treedef = optree.tree_flatten(inputs)
        outputs_flat, output_treedef = optree.tree_flatten(outputs)
        for t in (*inputs_flat, *outputs_flat):
            if not is_symbolic(t):
                raise TypeError(f"Functional takes symbolic tensors from nn.Input, got {t!r}.")
        order = _topological_nodes(outputs_flat, inputs_flat)
        layers: list[Layer] = []
        layer_index: dict[int, int] = {}
        for node in order:
            if id(node.layer) not in layer_index:
                layer_index[id(node.layer)] = len(layers)
                layers.append(node.layer)
        node_index = {id(node): i for i, node in enumerate(order)}
        input_index = {id(t): i for i, t in enumerate(inputs_flat)}

        def ref(tensor):
            if tensor.node is None:
                return (-1 - input_index[id(tensor)], 0)
            return (node_index[id(tensor.node)], tensor.index)

        nodes = []
        for node in order:
            arg_leaves, arg_treedef = optree.tree_flatten(node.args)
            nodes.append((layer_index[id(node.layer)], arg_treedef, tuple(ref(a) for a in arg_leaves)))
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "dtype", dtype)
        set_(self, "layers", tuple(layers))
        set_(self, "layer_names", assign_names(layers))
        set_(self, "input_specs", tuple(t.spec for t in inputs_flat))
        set_(self, "input_treedef", input_treedef)
        set_(self, "nodes", tuple(nodes))
        set_(self, "output_treedef", output_treedef)
        set_(self, "output_refs", tuple(ref(t) for t in outputs_flat))

    @property
    def named_layers(self):
        return tuple(zip(self.layer_names, self.layers))

    # -- evaluation of the graph ------------------------------------------------
    def _flat_inputs(self, inputs, what: str):
        flat = optree.tree_leaves(inputs, is_leaf=lambda v: isinstance(v, InputSpec))
        if len(flat) != len(self.input_specs):
            raise ValueError(
                f"Functional '{self.display_name}' has {len(self.input_specs)} inputs "
                f"{[s.shape for s in self.input_specs]}, but {what} holds {len(flat)}."
            )
        return flat

    def _run(self, flat_inputs, call):
        """Evaluate the graph; ``call(layer_idx, call_number, args)`` runs one node."""
        values = {(-1 - i, 0): v for i, v in enumerate(flat_inputs)}
        calls = [0] * len(self.layers)
        for n, (layer_idx, arg_treedef, refs) in enumerate(self.nodes):
            args = optree.tree_unflatten(arg_treedef, [values[r] for r in refs])
            out = call(layer_idx, calls[layer_idx], args)
            calls[layer_idx] += 1
            for i, leaf in enumerate(optree.tree_leaves(out, is_leaf=lambda v: isinstance(v, InputSpec))):
                values[(n, i)] = leaf
        return optree.tree_unflatten(self.output_treedef, [values[r] for r in self.output_refs])

    def init(self, key, input_spec=None):
        specs = self.input_specs if input_spec is None else self._flat_inputs(input_spec, "input_spec")
        params: dict = {}
        state: dict = {}

        def call(layer_idx, call_number, args):
            layer, name = self.layers[layer_idx], self.layer_names[layer_idx]
            if call_number == 0:
                p, s = layer.init(child_key(key, name), args)
                if p:
                    params[name] = p
                if s:
                    state[name] = s
            return layer.output_spec(args)

        self._run(specs, call)
        return params, state

    @property
    def uses_rng(self) -> bool:
        return any_uses_rng(self.layers)

    def apply(self, params, state, x, *, training=False, rng=None):
        new_state: dict = {}

        def call(layer_idx, call_number, args):
            layer, name = self.layers[layer_idx], self.layer_names[layer_idx]
            call_name = name if call_number == 0 else f"{name}:{call_number}"
            current = new_state.get(name, state.get(name, {}))
            y, s = layer.apply(params.get(name, {}), current, args, training=training,
                               rng=child_rng(layer, rng, call_name))
            if s:
                new_state[name] = s
            return y

        return self._run(self._flat_inputs(x, "the input"), call), new_state

    def output_spec(self, input_spec=None):
        specs = self.input_specs if input_spec is None else self._flat_inputs(input_spec, "input_spec")
        return self._run(specs, lambda i, _, args: self.layers[i].output_spec(args))

    def regularization_loss(self, params):
        return children_regularization_loss(self.named_layers, params)
