"""A traced ATen graph as a plain Python function that calls the ops' C++ entry
points, with the values that do not depend on the inputs computed once.

``torch.fx`` runs a graph through generated code of the form
``torch.ops.aten.mm.default(a, b)``: four attribute lookups and a Python-level
``OpOverload.__call__`` per op. For a small model's step (~70 ops of a few
microseconds each) that Python is a tenth of the step. ``replay_function``
generates the same sequence of calls, each bound to the op's C++ function
(``OpOverload._op``), with intermediates released after their last use as
``torch.fx`` does.

``simplify`` drops ``detach`` nodes (the identity under ``no_grad``) and computes
once the nodes that depend on no input (``arange``,
``scalar_tensor``, ``zeros`` and what is computed from them alone), unless an op
writes to them, returns them, or is random; the graph then reads the stored
tensor at every replay. Same ops, same inputs: the same bits as computing them
anew.

>>> import torch
>>> from torch.fx.experimental.proxy_tensor import make_fx
>>> g = make_fx(lambda x: x * torch.arange(3.0))(torch.ones(3))
>>> fn = replay_function(simplify(g))
>>> fn(torch.full((3,), 2.0))
tensor([0., 2., 4.])
"""
from __future__ import annotations

import math
import operator

import torch
from torch import fx

_PLAIN = (type(None), bool, int, str)
# Ops whose result is a view of their input without their schema saying so.
_UNANNOTATED_VIEWS = frozenset({torch.ops.aten._unsafe_view.default, torch.ops.aten._reshape_alias.default})


def _foldable_op(node: fx.Node) -> bool:
    target = node.target
    if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
        return False
    schema = target._schema
    return (not schema.is_mutable and torch.Tag.nondeterministic_seeded not in target.tags
            and len(schema.returns) == 1 and str(schema.returns[0].type) == "Tensor")


def _writes_to(user: fx.Node, node: fx.Node) -> bool:
    """Whether ``user`` passes ``node`` as an argument its op may write (``Tensor(a!)``)."""
    for position, argument in enumerate(user.target._schema.arguments):
        if argument.alias_info is None or not argument.alias_info.is_write:
            continue
        value = user.args[position] if position < len(user.args) else user.kwargs.get(argument.name)
        if value is node or (isinstance(value, (list, tuple)) and any(v is node for v in value)):
            return True
    return False


def _may_share(node: fx.Node) -> bool:
    """Whether one tensor may serve every replay as ``node``'s value: no user writes
    to it or returns it, directly or through a view."""
    for user in node.users:
        target = user.target
        if user.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
            return False  # the output, getitem, or a Python function: it may escape
        schema = target._schema
        if schema.is_mutable and _writes_to(user, node):
            return False
        returns_view = target in _UNANNOTATED_VIEWS or any(r.alias_info is not None for r in schema.returns)
        if returns_view and not _may_share(user):
            return False
    return True


def simplify(module: fx.GraphModule) -> fx.GraphModule:
    """``module`` for a replay under ``no_grad``: without ``detach`` nodes (the
    identity there), with every node that depends on no input (and no tensor
    attribute, which may change between replays) replaced by its value, computed
    now, and without the nodes nothing uses (in-place ops count as used)."""
    graph = module.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is torch.ops.aten.detach.default:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
    values: dict[fx.Node, torch.Tensor] = {}
    for node in list(graph.nodes):
        if (not _foldable_op(node) or any(n not in values for n in node.all_input_nodes)
                or not _may_share(node)):
            continue
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda n: values[n])
        values[node] = node.target(*args, **kwargs)
    for count, (node, value) in enumerate(values.items()):
        if not node.users or all(user in values for user in node.users):
            continue  # used only to compute other constants
        name = f"_folded_{count}"
        module.register_buffer(name, value, persistent=False)
        with graph.inserting_before(node):
            constant = graph.get_attr(name)
        node.replace_all_uses_with(constant)
    graph.eliminate_dead_code()
    module.recompile()
    return module


class _Source:
    """The generated function's lines and the objects its names refer to."""

    def __init__(self):
        self.lines: list[str] = []
        self.scope: dict[str, object] = {}
        self.names: dict[fx.Node, str] = {}

    def bind(self, value, hint: str = "c") -> str:
        name = f"_{hint}{len(self.scope)}"
        self.scope[name] = value
        return name

    def render(self, value) -> str:
        if isinstance(value, fx.Node):
            return self.names[value]
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, tuple):
            return "(" + "".join(self.render(v) + ", " for v in value) + ")"
        if isinstance(value, _PLAIN) or (type(value) is float and math.isfinite(value)):
            return repr(value)
        return self.bind(value)  # dtypes, devices, layouts, inf/nan, tensors


def replay_function(module: fx.GraphModule):
    """A function running ``module``'s graph: positional tensors in, its output out."""
    source = _Source()
    nodes = list(module.graph.nodes)
    last_use: dict[fx.Node, fx.Node] = {}
    for node in nodes:
        for arg in node.all_input_nodes:
            last_use[arg] = node
    released: dict[fx.Node, list[str]] = {}
    for value, user in last_use.items():
        released.setdefault(user, []).append(value)

    params = []
    for i, node in enumerate(nodes):
        if node.op == "placeholder":
            source.names[node] = f"a{i}"
            params.append(f"a{i}")
        elif node.op == "get_attr":
            source.names[node] = source.bind(getattr(module, node.target), "k")
        elif node.op == "call_function":
            name = source.names[node] = f"v{i}"
            if node.target is operator.getitem:
                call = f"{source.render(node.args[0])}[{source.render(node.args[1])}]"
            else:
                target = node.target
                fn = source.bind(target._op if isinstance(target, torch._ops.OpOverload) else target, "f")
                args = [source.render(a) for a in node.args]
                args += [f"{k}={source.render(v)}" for k, v in node.kwargs.items()]
                call = f"{fn}({', '.join(args)})"
            source.lines.append(f"{name} = {call}" if node.users else call)
        elif node.op == "output":
            source.lines.append(f"return {source.render(node.args[0])}")
            continue
        else:
            raise ValueError(f"cannot replay graph node {node.format_node()} ({node.op})")
        dead = [source.names[v] for v in released.get(node, ()) if v.op != "get_attr"]
        if dead:
            source.lines.append("del " + ", ".join(dead))
    body = "\n    ".join(source.lines)
    code = f"def replay({', '.join(params)}):\n    {body}\n"
    exec(compile(code, "<purekeras replay>", "exec"), source.scope)  # noqa: S102 - our own generated code
    return source.scope["replay"]
