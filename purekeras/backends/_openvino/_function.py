"""``OVFunction``: a pure function traced into an OpenVINO model and compiled for the CPU.

Calling an ``OVFunction`` looks at its arguments' signature (tree structure,
shapes and dtypes of the array leaves, values of the other leaves and of the
static arguments). The first call with a signature traces the function: each
array leaf becomes a graph ``Parameter`` of that static shape, the
``constants`` (e.g. trained params from any backend) become ``Constant`` nodes
(so OpenVINO folds and pre-packs them), and every op the function runs adds
nodes. The model is compiled for OpenVINO's CPU plugin (float32) and kept in
the function object, keyed by the signature (the last ``max_compiled`` ones):
later calls with the same signature only run it. Outputs come back as NumPy
arrays in the function's output structure.

>>> import numpy as np
>>> from purekeras import ops
>>> f = OVFunction(lambda w, x: ops.matmul(x, w), constants=(np.eye(2, dtype="float32") * 3,))
>>> f(np.ones((1, 2), "float32")).tolist()
[[3.0, 3.0]]
>>> f.num_compiled
1
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import openvino as ov
import openvino.opset15 as opset
import optree

from .._registry import BackendError
from ._compile import compile_model
from ._tensor import (PYTHON_SCALARS, OVTensor, _ov_tensor, asarray, constant, ov_type, tensor_value, to_numpy_input,
                      value_dtype_name)


def _is_array(leaf) -> bool:
    return not (leaf is None or type(leaf) in PYTHON_SCALARS or isinstance(leaf, str))


class _Compiled(NamedTuple):
    model: ov.CompiledModel
    request: ov.InferRequest
    treedef: Any  # the output structure
    dtypes: tuple[str, ...]  # of the inputs, in order
    # NumPy views of the request's input tensors, filled in place each call (None:
    # bfloat16 / bool inputs, which go in as new tensors).
    buffers: tuple
    plain_outputs: tuple[bool, ...]  # False: bfloat16 / bool outputs, converted by tensor_value


class Traced(NamedTuple):
    """A traced function: the OpenVINO model, its output structure and input dtypes."""

    model: ov.Model
    treedef: Any
    dtypes: tuple[str, ...]


def _split_static(args, static_argnums):
    """``args`` without the static ones, and the static ones by position."""
    dynamic = [a for i, a in enumerate(args) if i not in static_argnums]
    static = {i: args[i] for i in static_argnums}
    return dynamic, static


def _signature(args, static_argnums):
    if not static_argnums and all(type(a) is np.ndarray for a in args):  # the common call: quick
        return tuple((a.shape, a.dtype) for a in args)
    dynamic, static = _split_static(args, static_argnums)
    leaves, treedef = optree.tree_flatten(dynamic, none_is_leaf=True)
    key = tuple(("array", _shape(leaf), value_dtype_name(leaf)) if _is_array(leaf) else ("value", type(leaf), leaf)
                for leaf in leaves)
    return treedef, key, tuple(sorted(static.items()))


def _shape(leaf) -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(leaf, "shape", np.shape(leaf)))


class OVFunction:
    """``fn(*constants, *args)`` compiled to OpenVINO, one model per argument signature.

    ``constants``: pytrees (arrays of any backend, or NumPy) baked into the model;
    ``static_argnums``: positions in ``args`` passed through as Python values
    (hashable; part of the signature); ``config``: OpenVINO compile options
    (default float32 on the CPU). See the module docstring.

    >>> import numpy as np
    >>> from purekeras import ops
    >>> double = OVFunction(lambda x: ops.multiply(x, 2.0))
    >>> double(np.arange(3, dtype="float32")).tolist()
    [0.0, 2.0, 4.0]
    """

    def __init__(self, fn: Callable, *, constants: Sequence = (), static_argnums: Sequence[int] = (),
                 config: dict | None = None, max_compiled: int = 8, name: str = "purekeras"):
        self.fn = fn
        self.constants = tuple(optree.tree_map(to_numpy_input, c, none_is_leaf=False) for c in constants)
        self.static_argnums = tuple(static_argnums)
        self.config = dict(config or {})
        self.max_compiled = max_compiled
        self.name = name
        self._compiled: OrderedDict = OrderedDict()  # signature -> _Compiled

    @property
    def num_compiled(self) -> int:
        """How many signatures are compiled now."""
        return len(self._compiled)

    def trace(self, *args, input_names: Sequence[str] | None = None) -> Traced:
        """The OpenVINO model of ``fn`` for arguments like ``args`` (not compiled)."""
        dynamic, static = _split_static(args, self.static_argnums)
        leaves, treedef = optree.tree_flatten(dynamic, none_is_leaf=True)
        parameters, symbolic, dtypes = [], [], []
        for leaf in leaves:
            if not _is_array(leaf):
                symbolic.append(leaf)
                continue
            dtype = value_dtype_name(leaf)
            name = input_names[len(parameters)] if input_names else f"input_{len(parameters)}"
            parameter = opset.parameter(list(_shape(leaf)), ov_type(dtype), name=name)
            parameter.output(0).get_tensor().set_names({name})
            parameters.append(parameter)
            dtypes.append(dtype)
            symbolic.append(OVTensor(parameter.output(0)))
        traced_args = iter(optree.tree_unflatten(treedef, symbolic))
        traced_args = [static[i] if i in static else next(traced_args) for i in range(len(args))]
        constants = [optree.tree_map(constant, c, none_is_leaf=False) for c in self.constants]
        out = self.fn(*constants, *traced_args)
        out_leaves, out_treedef = optree.tree_flatten(out, none_is_leaf=False)
        results = [opset.result(asarray(leaf).output) for leaf in out_leaves]
        return Traced(ov.Model(results, parameters, self.name), out_treedef, tuple(dtypes))

    def _compile(self, args) -> _Compiled:
        traced = self.trace(*args)
        compiled = compile_model(traced.model, self.config)
        request = compiled.create_infer_request()
        buffers = tuple(None if dtype in ("bfloat16", "bool") else request.get_input_tensor(i).data
                        for i, dtype in enumerate(traced.dtypes))
        plain = tuple(o.get_element_type() not in (ov.Type.bf16, ov.Type.boolean) for o in compiled.outputs)
        return _Compiled(compiled, request, traced.treedef, traced.dtypes, buffers, plain)

    def compiled(self, *args) -> _Compiled:
        """The compiled entry for ``args``' signature (compiled now if new)."""
        key = _signature(args, self.static_argnums)
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._compile(args)
            self._compiled[key] = entry
            while len(self._compiled) > self.max_compiled:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        return entry

    def __call__(self, *args):
        entry = self.compiled(*args)
        if self.static_argnums or not all(type(a) is np.ndarray for a in args):
            leaves = optree.tree_leaves(_split_static(args, self.static_argnums)[0], none_is_leaf=True)
            args = [to_numpy_input(v) for v in leaves if _is_array(v)]
        request = entry.request
        for i, (array, buffer) in enumerate(zip(args, entry.buffers)):
            if buffer is not None:
                buffer[...] = array  # a copy into the request's own input memory (casts if needed)
            else:
                request.set_input_tensor(i, _special_input(array, entry.dtypes[i]))
        request.infer(share_outputs=True)
        outputs = [np.array(request.get_output_tensor(i).data) if plain else tensor_value(request.get_output_tensor(i))
                   for i, plain in enumerate(entry.plain_outputs)]
        return optree.tree_unflatten(entry.treedef, outputs)


def _special_input(array: np.ndarray, dtype: str) -> ov.Tensor:
    """A bfloat16 or bool input as a new ``ov.Tensor`` (NumPy views cannot hold them)."""
    if dtype == "bool":
        return _ov_tensor(np.asarray(array, dtype=bool))
    return _ov_tensor(_bfloat16(np.asarray(array, dtype="float32") if array.dtype.name != "bfloat16" else array))


def _bfloat16(array):
    import ml_dtypes

    return array.astype(ml_dtypes.bfloat16)


def no_training(what: str) -> BackendError:
    """The error for anything that trains on the openvino backend."""
    return BackendError(
        f"openvino backend: {what} is not available: OpenVINO is an inference runtime. Train on "
        "another backend (jax, torch or tensorflow), then predict with OpenVINO: "
        "`pk.Model(...).predict(x, backend=\"openvino\")`, or export with "
        "`pk.export(model, path, format=\"openvino\")`.")
