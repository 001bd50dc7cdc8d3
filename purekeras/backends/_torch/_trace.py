"""``pk.jit`` on PyTorch by default: trace a pure function once per input signature
into a graph of ATen ops, then replay that graph.

An eager PyTorch step spends more time in Python (our ops' dispatch, pytrees,
dtype rules) than in kernels for small models. Our functions are pure and free of
data-dependent Python (the contract ``jax.jit`` also needs), so
``make_fx`` can record the ATen ops they run (forward, the backward of every
``ops.value_and_grad``, the optimizer's ``_foreach`` calls) with fake tensors,
and the recorded graph runs the same kernels in the same order without the
Python around them: bitwise the eager results (tested), and on CPU about the
speed of a hand-written PyTorch loop (``benchmarks/bench_torch.py``).

How a call goes:
- The signature of a call is the tree structure, each tensor's shape, dtype,
  strides and device, and the values of the non-tensor leaves (floats by their
  bits, so ``-0.0`` and NaN are keys of their own). The first call with a new
  signature runs eagerly, so errors in the function surface with ordinary
  tracebacks; the second traces it (tens of ms); later calls replay.
- A function that cannot be traced (``.item()``, ``bool(tensor)``, other
  data-dependent Python) or that returns objects other than tensors and plain
  Python values stays eager for that signature, with one warning per function.
- Calls where a graph would be wrong run eagerly: inside ``torch.compile`` or a
  ``torch.func`` transform, under ``torch.autocast``, with arguments that require
  grad (the caller differentiates through the call). So does a function called
  with more than ``MAX_SIGNATURES`` signatures (a Python number that changes
  every call: pass it as a tensor), with one warning.
- The replay (``_replay``: generated calls to torch's bindings of the ops, with
  the values that depend on no input computed once) runs under ``torch.no_grad``:
  gradients the function takes are ops in the graph already. Tensors the
  function reads from its closure are read at replay time, as eagerly.
- NumPy leaves become tensors: sharing NumPy's memory where it allows (a pure
  function only reads a batch), copied in donated arguments (the replay may write
  those).
- Donation (``donate_argnums``, the train state by default, as ``jax.jit``): where
  the graph copies a donated tensor only to update the copy in place (torch's
  fused Adam), the replay updates the donated tensor itself and returns it under
  a new tensor object; the caller's object is emptied (shape ``(0,)``) and marked,
  so a ``pk.jit`` function given it again raises a ``ValueError`` that says so, and
  other code sees an empty tensor rather than updated values (JAX raises on any
  use of a deleted array). Views the caller took of a donated tensor see the
  update, and a call that fails after the write leaves the donated state partly
  updated: a donated argument is spent, as on JAX. The other donated tensors are
  left as they were. Donated tensors that are views, inference tensors, over
  memory torch does not own (``torch.from_numpy``), or that share memory with
  another input run the copying graph instead; so does every eager call. Outputs
  that would share memory with an input that is not donated are copied.

>>> import torch
>>> from purekeras.backends._torch._trace import traced
>>> f = traced(lambda x, y: (x * y).sum(), static_argnums=())
>>> [float(f(torch.ones(3), torch.full((3,), 2.0))) for _ in range(3)]  # eager, trace, replay
[6.0, 6.0, 6.0]
"""
from __future__ import annotations

import functools
import struct
import threading
import warnings

import optree
import torch

from .._host import NUMPY_TYPES
from ._convert import asarray, host_tensor
from ._replay import aliases, donated_clones, replay_function, simplify

MAX_SIGNATURES = 64
_EAGER = "eager"  # a signature that runs eagerly for good
# Plain immutable values a traced function may return besides tensors (as constants).
_CONSTANT_TYPES = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)
# make_fx patches process-wide state while it traces: one trace at a time.
_TRACING = threading.Lock()
# Set on the tensor objects a donating replay emptied.
_DONATED = "_purekeras_donated"


def _leaf_key(leaf):
    if isinstance(leaf, torch.Tensor):
        return (leaf.shape, leaf.dtype, leaf.stride(), leaf.device, leaf.requires_grad)
    if type(leaf) is float:  # 0.0 == -0.0 and nan != nan: key on the bits
        return (float, struct.pack("<d", leaf))
    return (type(leaf), leaf)


def _inside_transform() -> bool:
    """Inside a ``torch.func`` transform or under autocast: a graph would be wrong."""
    return torch._C._functorch.peek_interpreter_stack() is not None or torch._C._is_any_autocast_enabled()


def _check_fresh(name: str, leaves: list) -> None:
    """A clear error for a call given tensors that an earlier call donated (emptied)."""
    if any(getattr(leaf, _DONATED, False) for leaf in leaves if isinstance(leaf, torch.Tensor)):
        raise ValueError(
            f"pk.jit(backend='torch'): {name!r} was given tensors that an earlier call donated: that call "
            "updated them in place, returned them as new tensors and emptied the old ones (as jax.jit "
            "deletes donated arrays). Pass the state that call returned, or give pk.jit donate_argnums=() "
            "to keep the inputs intact.")


def _storage(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


class _Graph:
    """One traced signature: the ATen graph over the tensor leaves of the arguments,
    and how to rebuild the output tree (non-tensor output leaves are constants).
    ``donated``: whether each leaf belongs to a donated argument."""

    def __init__(self, fn, treedef, leaves, donated):
        from torch.fx.experimental.proxy_tensor import make_fx

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

        inputs = [v for v, t in zip(leaves, is_tensor) if t]
        # Tensors the function closes over (not arguments) become graph constants,
        # read at replay time.
        module = make_fx(flat, tracing_mode="fake", _allow_non_fake_inputs=True)(*inputs)
        self.out_is_tensor = [isinstance(v, torch.Tensor) for v in output["leaves"]]
        self.out_constants = [None if t else v for v, t in zip(output["leaves"], self.out_is_tensor)]
        odd = {type(v).__name__ for v in self.out_constants if not isinstance(v, _CONSTANT_TYPES)}
        if odd:
            raise TypeError(f"it returns {', '.join(sorted(odd))} objects, which a graph cannot rebuild "
                            "(return tensors and plain Python values)")
        self.module = simplify(module)
        self.replay = replay_function(self.module)
        self.out_treedef = output["treedef"]
        self._plan_memory([d for d, t in zip(donated, is_tensor) if t])

    def _plan_memory(self, donated: list[bool]) -> None:
        """The replay that writes into donated inputs and the inputs it writes; the
        outputs to copy."""
        graph = self.module.graph
        inputs = [node for node in graph.nodes if node.op == "placeholder"]
        reuse = donated_clones(graph, {node for node, d in zip(inputs, donated) if d})
        position = {node: i for i, node in enumerate(inputs)}
        written = {position[node] for node in reuse.values()}
        self.written = sorted(written)
        self.others = [i for i in range(len(inputs)) if i not in written]
        # Tensors the graph reads from the function's closure: they must not share memory
        # with a tensor the replay writes.
        closure = [node for node in graph.nodes if node.op == "get_attr" and not node.target.startswith("_folded_")]
        self.closure = [getattr(self.module, node.target) for node in closure]
        self.replay_donating = replay_function(self.module, reuse) if reuse else None
        # Outputs that may share memory with an input the caller keeps (not donated: a
        # NumPy batch, say) or with a closed-over tensor are copied, as jax.jit's are.
        kept = {alias for node, d in zip(inputs, donated) if not d for alias in aliases(node)}
        kept.update(alias for node in closure for alias in aliases(node))
        output = next(node for node in graph.nodes if node.op == "output").args[0]
        self.copied = [k for k, node in enumerate(output) if node in kept]

    def _may_write(self, tensors: list) -> bool:
        """Whether the donated inputs the replay writes are distinct tensors that own
        their memory (not views, not NumPy's or another library's memory, not
        inference tensors) and share it with no other input."""
        own = set()
        for i in self.written:
            tensor = tensors[i]
            storage = tensor.untyped_storage()
            if tensor._is_view() or tensor.is_inference() or not storage.resizable():
                return False
            own.add(storage.data_ptr())
        if len(own) != len(self.written):
            return False
        return own.isdisjoint([_storage(tensors[i]) for i in self.others] + [_storage(t) for t in self.closure])

    def __call__(self, tensors):
        with torch.no_grad():
            if self.replay_donating is not None and self._may_write(tensors):
                results = self.replay_donating(*tensors)
                for i in self.written:  # the caller's objects: emptied, and marked for _check_fresh
                    tensors[i].set_()
                    setattr(tensors[i], _DONATED, True)
            else:
                results = self.replay(*tensors)
            for k in self.copied:
                results[k] = results[k].clone()
        results = iter(results)
        out = [next(results) if t else c for t, c in zip(self.out_is_tensor, self.out_constants)]
        return optree.tree_unflatten(self.out_treedef, out)


def _owners(treedef) -> list[int | None]:
    """The position of the argument each leaf of ``(args, kwargs)`` (flattened as
    ``treedef``) belongs to; ``None`` for keyword arguments."""
    args = optree.tree_unflatten(treedef, list(range(treedef.num_leaves)))[0]
    owners: list[int | None] = [None] * treedef.num_leaves
    for position, arg in enumerate(args):
        for leaf in optree.tree_leaves(arg, none_is_leaf=False):
            owners[leaf] = position
    return owners


def _converters(treedef, static: frozenset, donate: frozenset) -> list:
    """How each leaf's NumPy value becomes a tensor: kept (static arguments), copied
    (donated ones: the replay may write them), else shared where NumPy allows (the
    function only reads them: no copy of each batch)."""
    return [None if owner in static else asarray if owner in donate else host_tensor
            for owner in _owners(treedef)]


def traced(fn, static_argnums: tuple[int, ...], donate_argnums: tuple[int, ...] = ()):
    """``fn`` traced per input signature and replayed (see the module docstring);
    NumPy leaves of the non-static arguments become tensors."""
    static = frozenset(static_argnums)
    donate = frozenset(donate_argnums) - static
    graphs: dict = {}  # signature -> _Graph, _EAGER, or the number of eager calls so far
    converters: dict = {}  # tree structure -> how each NumPy leaf becomes a tensor
    warned: set = set()
    name = getattr(fn, "__name__", repr(fn))

    def warn_once(kind: str, message: str, stacklevel: int) -> None:
        if kind not in warned:
            warned.add(kind)
            warnings.warn(f"pk.jit(backend='torch'): {name!r} {message}", RuntimeWarning, stacklevel=stacklevel)

    def trace(key, treedef, leaves):
        with _TRACING:
            entry = graphs.get(key)
            if not isinstance(entry, int):  # another thread traced it meanwhile
                return entry
            if any(isinstance(leaf, torch.Tensor) and leaf.requires_grad for leaf in leaves):
                graphs[key] = _EAGER  # the caller differentiates through the call
                return _EAGER
            try:
                entry = _Graph(fn, treedef, leaves, [owner in donate for owner in _owners(treedef)])
            except Exception as error:  # noqa: BLE001 - any tracing failure means: stay eager
                entry = _EAGER
                first_line = str(error).splitlines()[0] if str(error) else ""
                warn_once("trace", f"could not be traced into a graph ({type(error).__name__}: {first_line}); "
                                   "it runs eagerly, which is slower for small models. Data-dependent Python "
                                   "(.item(), bool(tensor), if on a tensor's value) prevents tracing; use "
                                   "ops.where / ops.cond, or pass compile=False to choose eager execution "
                                   "and silence this warning.", stacklevel=5)
            graphs[key] = entry
            return entry

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if torch.compiler.is_compiling():  # torch.compile traces fn itself
            return fn(*args, **kwargs)
        leaves, treedef = optree.tree_flatten((args, kwargs), none_is_leaf=False)
        numpy_leaves = plan = None
        if any(isinstance(leaf, NUMPY_TYPES) for leaf in leaves):  # NumPy batches become tensors
            plan = converters.get(treedef)
            if plan is None:
                if len(converters) >= MAX_SIGNATURES:
                    converters.clear()
                plan = converters[treedef] = _converters(treedef, static, donate)
            numpy_leaves = leaves
            leaves = [convert(leaf) if convert is not None and isinstance(leaf, NUMPY_TYPES) else leaf
                      for leaf, convert in zip(leaves, plan)]

        def eager():
            if numpy_leaves is None:
                return fn(*args, **kwargs)
            # Private copies of shared NumPy memory: an eager output may be a view of an input
            # (a graph copies such outputs itself).
            private = [asarray(n) if convert is host_tensor and isinstance(n, NUMPY_TYPES) else leaf
                       for n, leaf, convert in zip(numpy_leaves, leaves, plan)]
            call_args, call_kwargs = optree.tree_unflatten(treedef, private)
            return fn(*call_args, **call_kwargs)

        if _inside_transform():
            return eager()
        try:
            key = (treedef, tuple(map(_leaf_key, leaves)))  # static arguments are leaves too
            entry = graphs.get(key, 0)
        except TypeError:  # an unhashable non-tensor leaf: nothing to key a graph on
            return eager()
        if entry == 1:
            entry = trace(key, treedef, leaves)
        if isinstance(entry, _Graph):
            return entry([leaf for leaf in leaves if isinstance(leaf, torch.Tensor)])
        _check_fresh(name, leaves)
        if entry == 0 and len(graphs) >= MAX_SIGNATURES:
            warn_once("signatures", f"was called with more than {MAX_SIGNATURES} input signatures (shapes, "
                                    "dtypes, values of Python numbers); new ones run eagerly. Pass numbers "
                                    "that change from call to call as tensors.", stacklevel=4)
            return eager()
        out = eager()
        if entry == 0:
            graphs[key] = 1  # counted once the eager call has succeeded
        return out

    return run
