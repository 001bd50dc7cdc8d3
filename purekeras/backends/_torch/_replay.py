"""A traced ATen graph as a plain Python function that calls the ops' C++ entry
points, with the values that do not depend on the inputs computed once.

``torch.fx`` runs a graph through generated code of the form
``torch.ops.aten.mm.default(a, b)``: four attribute lookups and a Python-level
``OpOverload.__call__`` per op. For a small model's step (~70 ops of a few
microseconds each) that Python is a tenth of the step. ``replay_function``
generates the same sequence of calls, each bound to torch's generated Python
binding for the op (``torch.mm``, ``Tensor.expand``: typed argument parsing and
an unboxed call, 1-3 µs faster per op than the boxed ``OpOverload._op``) where
that binding dispatches to the recorded overload for the node's arguments
(checked once, on meta tensors), else to ``OpOverload._op``; intermediates are
released after their last use as ``torch.fx`` does.

``simplify`` drops ``detach`` nodes (the identity under ``no_grad``) and pairs of
transposes (autograd's ``t(t(x))``), and computes once the nodes that depend on
no input's values (``arange``, ``scalar_tensor``, ``zeros``, ``ones_like`` of an
input, as the backward of a mean starts, and what is computed from them alone),
unless an op writes to them, returns them, or is random; the graph then reads the
stored tensor at every replay. Same ops, same inputs: the same bits as computing
them anew.

``donated_clones`` finds the copies a replay may skip when the caller donates
inputs: an in-place kernel (torch's fused Adam) is traced as ``clone(input)``
followed by a write to the clone; when no op reads that input after the write,
the replay can write into the donated input itself (``replay_function(...,
reuse=...)``), sparing a copy of every param and optimizer slot per step.

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
from torch.utils._python_dispatch import TorchDispatchMode

_PLAIN = (type(None), bool, int, str)
# Ops whose result depends on their first argument's shape, dtype, layout and
# device only (fixed in a traced graph), not on its values.
_LAYOUT_ONLY = frozenset({torch.ops.aten.ones_like.default, torch.ops.aten.zeros_like.default,
                          torch.ops.aten.full_like.default})
# Ops whose result is a view of their input without their schema saying so.
_UNANNOTATED_VIEWS = frozenset({torch.ops.aten._unsafe_view.default, torch.ops.aten._reshape_alias.default})


def _double_transpose(node: fx.Node) -> bool:
    """``t(t(x))`` of a computed ``x`` that only ops read (the output would get ``x``
    itself rather than a view of it)."""
    t = torch.ops.aten.t.default
    if node.op != "call_function" or node.target is not t:
        return False
    inner = node.args[0]
    return (inner.op == "call_function" and inner.target is t and inner.args[0].op == "call_function"
            and all(user.op == "call_function" for user in node.users))


def _foldable_op(node: fx.Node) -> bool:
    target = node.target
    if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
        return False
    schema = target._schema
    return (not schema.is_mutable and torch.Tag.nondeterministic_seeded not in target.tags
            and len(schema.returns) == 1 and str(schema.returns[0].type) == "Tensor")


def _writes_to(user: fx.Node, node: fx.Node) -> bool:
    """Whether ``user`` passes ``node`` as an argument its op may write (``Tensor(a!)``)."""
    if user.op != "call_function" or not isinstance(user.target, torch._ops.OpOverload):
        return False
    for position, argument in enumerate(user.target._schema.arguments):
        if argument.alias_info is None or not argument.alias_info.is_write:
            continue
        value = user.args[position] if position < len(user.args) else user.kwargs.get(argument.name)
        if value is node or (isinstance(value, (list, tuple)) and any(v is node for v in value)):
            return True
    return False


def _returns_view(node: fx.Node) -> bool:
    target = node.target
    if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
        return False
    return target in _UNANNOTATED_VIEWS or any(r.alias_info is not None for r in target._schema.returns)


def aliases(node: fx.Node) -> list[fx.Node]:
    """``node`` and every node that may share its memory, directly or through each
    other: views, results of in-place and ``out=`` ops (the tensor they wrote), and
    elements of the lists that ops such as ``unbind`` return."""
    found, pending = {}, [node]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found[current] = None
        pending.extend(user for user in current.users
                       if _returns_view(user) or (user.op == "call_function" and user.target is operator.getitem))
    return list(found)


def _may_share(node: fx.Node) -> bool:
    """Whether one tensor may serve every replay as ``node``'s value: no user writes
    to it or returns it, directly or through a view."""
    for user in node.users:
        target = user.target
        if user.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
            return False  # the output, getitem, or a Python function: it may escape
        if target._schema.is_mutable and _writes_to(user, node):
            return False
        if _returns_view(user) and not _may_share(user):
            return False
    return True


def donated_clones(graph: fx.Graph, donated) -> dict[fx.Node, fx.Node]:
    """``{clone: input}`` for the copies of donated inputs (placeholders in
    ``donated``) that a replay may skip by using the input itself: the clone keeps
    the input's layout, an op later writes to the clone, and nothing reads the input
    (or a view of it) from that write on, nor writes to it, nor returns it.

    >>> import torch
    >>> from torch.fx.experimental.proxy_tensor import make_fx
    >>> def bump(p, g):
    ...     out = p.clone()
    ...     torch._foreach_add_([out], [g])
    ...     return out
    >>> graph = make_fx(bump)(torch.zeros(2), torch.ones(2)).graph
    >>> [(c.name, p.name) for c, p in donated_clones(graph, [n for n in graph.nodes if n.op == "placeholder"][:1]).items()]
    [('clone', 'p_1')]
    """
    order = {node: i for i, node in enumerate(graph.nodes)}
    reuse: dict[fx.Node, fx.Node] = {}
    for node in graph.nodes:
        if node.op != "call_function" or node.target is not torch.ops.aten.clone.default:
            continue
        source = node.args[0]
        if source not in donated or source in reuse.values() or not _same_layout(node, source):
            continue
        writes = [order[user] for alias in aliases(node) for user in alias.users if _writes_to(user, alias)]
        if not writes:
            continue
        first_write = min(writes)
        readers = [(user, alias) for alias in aliases(source) for user in alias.users if user is not node]
        if all(order[user] < first_write and not _writes_to(user, alias) for user, alias in readers):
            reuse[node] = source
    return reuse


def _same_layout(a: fx.Node, b: fx.Node) -> bool:
    va, vb = a.meta.get("val"), b.meta.get("val")
    return (isinstance(va, torch.Tensor) and isinstance(vb, torch.Tensor) and va.dtype == vb.dtype
            and va.shape == vb.shape and va.stride() == vb.stride())


def simplify(module: fx.GraphModule) -> fx.GraphModule:
    """``module`` for a replay under ``no_grad``: without ``detach`` nodes (the
    identity there) and ``t(t(x))`` pairs, with every node that depends on no
    input's values (nor on a tensor of the closure, which may change between
    replays; tensor literals are constants) replaced by its value, computed now,
    and without the nodes nothing uses (in-place ops count as used)."""
    graph = module.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is torch.ops.aten.detach.default:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
        elif _double_transpose(node):  # t(t(x)) is x's layout again: use x
            node.replace_all_uses_with(node.args[0].args[0])
            graph.erase_node(node)
    # A tensor literal of the function (``torch.tensor(2.0)``) is an attribute that
    # only ``lift_fresh_copy`` reads: a constant, unlike a tensor of the closure.
    values: dict[fx.Node, torch.Tensor] = {
        node: getattr(module, node.target) for node in graph.nodes
        if node.op == "get_attr" and node.users
        and all(user.target is torch.ops.aten.lift_fresh_copy.default for user in node.users)}
    for node in list(graph.nodes):
        if not _foldable_op(node) or not _may_share(node):
            continue
        if (node.target in _LAYOUT_ONLY and node.all_input_nodes == [node.args[0]]
                and node.args[0].op != "get_attr"):  # a closed-over tensor may be resized
            like = node.args[0].meta.get("val")
            if not isinstance(like, torch.Tensor):
                continue
            stand_in = {node.args[0]: torch.empty_strided(like.shape, like.stride(), dtype=like.dtype,
                                                          device=like.device)}
        elif all(n in values for n in node.all_input_nodes):
            stand_in = {}
        else:
            continue
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda n: stand_in.get(n, values.get(n)))
        values[node] = node.target(*args, **kwargs)
    for count, (node, value) in enumerate(values.items()):
        if node.op == "get_attr" or not node.users or all(user in values for user in node.users):
            continue  # used only to compute other constants
        name = f"_folded_{count}"
        module.register_buffer(name, value, persistent=False)
        with graph.inserting_before(node):
            constant = graph.get_attr(name)
        node.replace_all_uses_with(constant)
    graph.eliminate_dead_code()
    module.recompile()
    return module


class _Dispatched(Exception):
    def __init__(self, op):
        super().__init__(op)
        self.op = op


class _FirstOp(TorchDispatchMode):
    """Stops at the first op that reaches the dispatcher and names it."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        raise _Dispatched(func)


def _meta(module: fx.GraphModule, node: fx.Node) -> torch.Tensor:
    value = getattr(module, node.target) if node.op == "get_attr" else node.meta.get("val")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"no tensor value recorded for {node.name}")
    return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")


def _entry(module: fx.GraphModule, node: fx.Node):
    """The fastest callable that runs ``node``'s overload on its arguments: torch's
    Python binding of that name if, given arguments like the node's, it dispatches
    to the same overload; else the overload's boxed entry point. Found once per node
    (kept in ``node.meta``: a graph's two replays share it)."""
    if "purekeras_entry" not in node.meta:
        node.meta["purekeras_entry"] = _binding(module, node) or node.target._op
    return node.meta["purekeras_entry"]


def _binding(module: fx.GraphModule, node: fx.Node):
    """torch's Python binding for ``node``'s op when it dispatches to the recorded
    overload (tried once on meta tensors), else ``None``."""
    name = node.target._schema.name.split("::", 1)[1]
    binding = getattr(torch._C._VariableFunctions, name, None) or getattr(torch._C.TensorBase, name, None)
    if binding is None:
        return None
    try:
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda n: _meta(module, n))
        with _FirstOp():
            binding(*args, **kwargs)
    except _Dispatched as dispatched:
        return binding if dispatched.op is node.target else None
    except Exception:  # noqa: BLE001 - the binding rejects these arguments: not a match
        return None
    return None  # it reached no op


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


def replay_function(module: fx.GraphModule, reuse: dict[fx.Node, fx.Node] | None = None):
    """A function running ``module``'s graph: positional tensors in, its output out;
    the ``clone`` nodes in ``reuse`` (``donated_clones``) take their input's memory
    (a new tensor object over it, which the caller's object does not become)."""
    reuse = reuse or {}
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
            if node in reuse:  # the donated input, as a new tensor object
                call = f"{source.bind(torch.Tensor.detach, 'f')}({source.render(reuse[node])})"
            elif node.target is operator.getitem:
                call = f"{source.render(node.args[0])}[{source.render(node.args[1])}]"
            else:
                target = node.target
                fn = source.bind(_entry(module, node) if isinstance(target, torch._ops.OpOverload) else target, "f")
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
