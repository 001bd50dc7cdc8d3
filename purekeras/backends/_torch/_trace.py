"""``pk.jit`` on PyTorch by default: trace a pure function once per input signature
into a graph of ATen ops, then replay that graph.

An eager PyTorch step spends more time in Python (our ops' dispatch, pytrees,
dtype rules) than in kernels for small models. Our functions are pure and free of
data-dependent Python (the contract ``jax.jit`` also needs), so
``make_fx`` can record the ATen ops they run (forward, the backward of every
``ops.value_and_grad``, the optimizer's ``_foreach`` calls) with fake tensors,
and the recorded graph runs the same kernels in the same order without the
Python around them: bitwise the eager results (tested), and on CPU the speed of
a hand-written PyTorch loop (``benchmarks/bench_torch.py``).

How a call goes:
- The first call with a new signature (the tree structure, each tensor's shape,
  dtype, strides and device, the values of non-tensor leaves and static
  arguments) runs eagerly, so errors in the function surface with ordinary
  tracebacks; the second call with that signature traces it (tens of ms), later
  calls replay.
- A function that cannot be traced (``.item()``, ``bool(tensor)``, other
  data-dependent Python) stays eager for that signature, with one warning.
- Calls where the graph would be wrong stay eager: arguments that require grad
  (the caller differentiates through the call), ``torch.func`` transforms, and
  ``torch.compile`` tracing.
- The replay runs under ``torch.no_grad``: gradients the function takes are ops
  in the graph already.

>>> import torch
>>> from purekeras.backends._torch._trace import traced
>>> f = traced(lambda x, y: (x * y).sum(), static_argnums=())
>>> [float(f(torch.ones(3), torch.full((3,), 2.0))) for _ in range(3)]  # eager, trace, replay
[6.0, 6.0, 6.0]
"""
from __future__ import annotations

import functools
import warnings

import optree
import torch

from ._convert import tensor_leaves

_EAGER = "eager"  # a signature that runs eagerly for good


def _signature(leaves) -> tuple:
    return tuple(
        (leaf.shape, leaf.dtype, leaf.stride(), leaf.device) if isinstance(leaf, torch.Tensor)
        else (type(leaf), leaf)
        for leaf in leaves
    )


def _must_run_eagerly(tensors) -> bool:
    if torch.compiler.is_compiling() or torch._C._functorch.peek_interpreter_stack() is not None:
        return True
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    return any(t.requires_grad or wrapped(t) for t in tensors)


class _Graph:
    """One traced signature: the ATen graph over the tensor leaves of the arguments,
    and how to rebuild the output tree (non-tensor output leaves are constants)."""

    def __init__(self, fn, treedef, leaves):
        is_tensor = [isinstance(leaf, torch.Tensor) for leaf in leaves]
        constants = [None if t else leaf for t, leaf in zip(is_tensor, leaves)]  # no tensor kept alive
        output = {}

        def flat(*tensors):
            it = iter(tensors)
            full = [next(it) if t else c for t, c in zip(is_tensor, constants)]
            call_args, call_kwargs = optree.tree_unflatten(treedef, full)
            out_leaves, output["treedef"] = optree.tree_flatten(fn(*call_args, **call_kwargs),
                                                                none_is_leaf=False)
            output["leaves"] = out_leaves
            return [v for v in out_leaves if isinstance(v, torch.Tensor)]

        from torch.fx.experimental.proxy_tensor import make_fx

        module = make_fx(flat, tracing_mode="fake")(*[v for v, t in zip(leaves, is_tensor) if t])
        self.module = _without_detach(module)
        self.out_treedef = output["treedef"]
        self.out_is_tensor = [isinstance(v, torch.Tensor) for v in output["leaves"]]
        self.out_constants = [None if t else v for v, t in zip(output["leaves"], self.out_is_tensor)]

    def __call__(self, tensors):
        with torch.no_grad():
            results = iter(self.module(*tensors))
        out = [next(results) if t else c for t, c in zip(self.out_is_tensor, self.out_constants)]
        return optree.tree_unflatten(self.out_treedef, out)


def _without_detach(module):
    """``detach`` is the identity when the graph runs under ``no_grad``: drop it, and
    the ops nothing uses (in-place ops count as used)."""
    graph = module.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is torch.ops.aten.detach.default:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
    graph.eliminate_dead_code()
    module.recompile()
    return module


def traced(fn, static_argnums: tuple[int, ...]):
    """``fn`` traced per input signature and replayed (see the module docstring);
    NumPy leaves of the non-static arguments become tensors."""
    static = frozenset(static_argnums)
    graphs: dict = {}  # signature -> _Graph, or _EAGER; or the number of eager calls so far
    warned = []

    @functools.wraps(fn)
    def run(*args, **kwargs):
        args = tuple(a if i in static else tensor_leaves(a) for i, a in enumerate(args))
        leaves, treedef = optree.tree_flatten((args, kwargs), none_is_leaf=False)
        tensors = [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)]
        if _must_run_eagerly(tensors):
            return fn(*args, **kwargs)
        try:
            key = (treedef, _signature(leaves))  # static arguments are leaves (or nodes) too
            hash(key)
        except TypeError:  # an unhashable non-tensor leaf: nothing to key a graph on
            return fn(*args, **kwargs)
        entry = graphs.get(key, 0)
        if isinstance(entry, _Graph):
            return entry(tensors)
        if entry == 0 or entry is _EAGER:
            if entry == 0:
                graphs[key] = 1
            return fn(*args, **kwargs)
        try:
            graph = _Graph(fn, treedef, leaves)
        except Exception as error:  # noqa: BLE001 - any tracing failure means: stay eager
            graphs[key] = _EAGER
            if not warned:
                warned.append(True)
                warnings.warn(
                    f"pk.jit(backend='torch'): {getattr(fn, '__name__', fn)!r} could not be traced into a "
                    f"graph ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); it "
                    "runs eagerly, which is slower for small models. Data-dependent Python (.item(), "
                    "bool(tensor), if on a tensor's value) prevents tracing; use ops.where / ops.cond, or "
                    "pass compile=False to choose eager execution and silence this warning.",
                    RuntimeWarning, stacklevel=2)
            return fn(*args, **kwargs)
        graphs[key] = graph
        return graph(tensors)

    return run
