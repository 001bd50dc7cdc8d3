"""Keras's view of an ``nn.Functional`` graph: its operation order, node specs, input names.

Keras numbers a Functional model's layers (config order, h5 groups
``layers/<class>_<k>``, optimizer variable order) by *its* operation order:
a depth-first walk from the outputs records each operation the first time it
is reached and lists the nodes from inputs to outputs; each node's depth is its
longest distance to an output; operations are sorted by depth (deepest, i.e.
nearest the inputs, first), ties by the walk's order. ``operation_order``
reproduces that on purekeras's graph, so files written here number layers as
Keras does when it reads them back.

>>> from purekeras import nn
>>> inp = nn.Input((4,))
>>> a, b = nn.Dense(2)(inp), nn.Dense(2, name="other")(inp)
>>> graph = nn.Functional(inp, nn.Add()([a, b]))
>>> operation_order(graph)
[('input', 0), ('layer', 0), ('layer', 1), ('layer', 2)]
"""
from __future__ import annotations

from typing import NamedTuple

import optree

from ..nn._spec import InputSpec


class NodeSpecs(NamedTuple):
    args: list  # per node: the InputSpec structure it is called on
    outputs: list  # per node: its flat output InputSpecs
    first_input: dict  # layer index -> the input spec of its first call


def _is_spec(value) -> bool:
    return isinstance(value, InputSpec)


def node_specs(graph, input_specs=None) -> NodeSpecs:
    """The input and output specs of every node of ``graph`` (an ``nn.Functional``)."""
    specs = graph.input_specs if input_specs is None else input_specs
    values = {(-1 - i, 0): s for i, s in enumerate(specs)}
    args_out, outputs, first = [], [], {}
    for n, (layer_idx, arg_treedef, refs) in enumerate(graph.nodes):
        args = optree.tree_unflatten(arg_treedef, [values[r] for r in refs])
        out = optree.tree_leaves(graph.layers[layer_idx].output_spec(args), is_leaf=_is_spec)
        for i, leaf in enumerate(out):
            values[(n, i)] = leaf
        args_out.append(args)
        outputs.append(out)
        first.setdefault(layer_idx, args)
    return NodeSpecs(args_out, outputs, first)


def input_names(graph) -> list[str]:
    """Names for the graph's ``InputLayer``s: ``input_layer``, ``input_layer_1``, ...
    (skipping names its layers use)."""
    taken, names, k = set(graph.layer_names), [], 0
    for _ in graph.input_specs:
        while (candidate := "input_layer" if k == 0 else f"input_layer_{k}") in taken:
            k += 1
        names.append(candidate)
        taken.add(candidate)
    return names


def _producer(ref) -> tuple[str, int]:
    return ("input", -1 - ref[0]) if ref[0] < 0 else ("node", ref[0])


def operation_order(graph) -> list[tuple[str, int]]:
    """Keras's operation order: ``("input", i)`` for the i-th input layer,
    ``("layer", k)`` for ``graph.layers[k]``."""

    def operation(node):
        return node if node[0] == "input" else ("layer", graph.nodes[node[1]][0])

    def parents(node):
        return [] if node[0] == "input" else [_producer(r) for r in graph.nodes[node[1]][2]]

    finished, walk, op_index = set(), [], {}
    for ref in graph.output_refs:
        start = _producer(ref)
        if start in finished:
            continue
        op_index.setdefault(operation(start), len(op_index))
        stack = [(start, iter(parents(start)))]
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                finished.add(node)
                walk.append(node)
            elif child not in finished:
                op_index.setdefault(operation(child), len(op_index))
                stack.append((child, iter(parents(child))))
    node_depth: dict = {}
    op_depth: dict = {}
    for node in reversed(walk):
        depth = max(node_depth.setdefault(node, 0), op_depth.get(operation(node), 0))
        op_depth[operation(node)] = node_depth[node] = depth
        for parent in parents(node):
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for i in range(len(graph.input_specs)):  # inputs the outputs do not use
        if ("input", i) not in op_depth:
            op_depth[("input", i)] = 0
            op_index[("input", i)] = -1
    return sorted(op_depth, key=lambda op: (-op_depth[op], op_index[op]))
