"""``OVTensor``: a value in an OpenVINO graph, with a static shape and a dtype name.

An ``OVTensor`` wraps one ``ov.Output``. It is either a *constant* (its node is
a ``Constant``: its value is known now) or *symbolic* (it depends on a graph
``Parameter``, while a function is traced into an ``ov.Model``). Every
primitive builds graph nodes; a node whose inputs are all constants is
evaluated at once with OpenVINO's reference kernels (``Node.evaluate``) and
becomes a constant itself, so outside a trace ops run eagerly, as on JAX or
PyTorch, and inside one only the input-dependent part becomes graph.

Conversion follows JAX with 64-bit types off, so every backend builds the same
arrays from the same NumPy data: Python ``int`` -> int32, ``float`` -> float32,
NumPy float64 / int64 / uint64 -> float32 / int32 / uint32.

>>> import numpy as np
>>> from purekeras.backends._openvino import _tensor
>>> t = _tensor.asarray(np.arange(3.0))
>>> t.shape, t.dtype, t.numpy().tolist()
((3,), 'float32', [0.0, 1.0, 2.0])
"""
from __future__ import annotations

from typing import Any

import numpy as np
import openvino as ov
import openvino.opset15 as opset

from .._registry import BackendError

# dtype name <-> OpenVINO element type.
OV_TYPES: dict[str, ov.Type] = {
    "bool": ov.Type.boolean, "int8": ov.Type.i8, "int16": ov.Type.i16, "int32": ov.Type.i32,
    "int64": ov.Type.i64, "uint8": ov.Type.u8, "uint16": ov.Type.u16, "uint32": ov.Type.u32,
    "uint64": ov.Type.u64, "float16": ov.Type.f16, "bfloat16": ov.Type.bf16,
    "float32": ov.Type.f32, "float64": ov.Type.f64,
}
_NAMES = {t.get_type_name(): name for name, t in OV_TYPES.items()}
# NumPy dtypes canonicalised as JAX does with 64-bit types disabled.
_CANONICAL = {"float64": "float32", "int64": "int32", "uint64": "uint32"}
_PYTHON_DEFAULT = {bool: "bool", int: "int32", float: "float32"}
PYTHON_SCALARS = (bool, int, float)


def ov_type(dtype: str) -> ov.Type:
    """The OpenVINO element type of a dtype name."""
    if dtype not in OV_TYPES:
        raise BackendError(
            f"openvino backend: dtype {dtype!r} is not supported; expected one of {sorted(OV_TYPES)}.")
    return OV_TYPES[dtype]


def dtype_name(t: ov.Type) -> str:
    """The dtype name of an OpenVINO element type."""
    return _NAMES[t.get_type_name()]


class OVTensor:
    """A value of the openvino backend: one output of an OpenVINO graph node.

    ``shape`` is static (a tuple of ints) and ``dtype`` a NumPy-style name.
    Constants convert to NumPy (``numpy()``, ``np.asarray``, ``tolist``);
    symbolic values (inside a trace) have no value to read.

    >>> from purekeras import ops
    >>> x = ops.asarray([1.0, 2.0], backend="openvino")
    >>> ops.multiply(x, 3.0).tolist()
    [3.0, 6.0]
    """

    __slots__ = ("output",)
    __array_priority__ = 100  # NumPy defers to us in mixed expressions

    def __init__(self, output: ov.Output):
        self.output = output

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.output.get_shape())

    @property
    def dtype(self) -> str:
        return dtype_name(self.output.get_element_type())

    @property
    def ndim(self) -> int:
        return len(self.output.get_partial_shape())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def is_constant(self) -> bool:
        return self.output.get_node().get_type_name() == "Constant"

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a copy); constants only."""
        if not self.is_constant:
            raise BackendError(
                "openvino backend: this value depends on a traced input, so it has no value yet "
                "(it is part of the OpenVINO graph being built). Read outputs of the compiled "
                "function instead, or keep Python control flow off traced values.")
        return constant_value(self.output.get_node())

    def __array__(self, dtype=None, copy=None):
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        return self.numpy().item()

    def __float__(self) -> float:
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def __bool__(self) -> bool:
        return bool(self.numpy())

    def __index__(self) -> int:
        return int(self.numpy())

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d OVTensor.")
        return self.shape[0]

    def __getitem__(self, index):
        from . import _indexing

        return _indexing.getitem(self, index)

    def __repr__(self) -> str:
        if self.is_constant:
            return f"OVTensor({self.numpy()!r})"
        return f"OVTensor(<symbolic>, shape={self.shape}, dtype={self.dtype})"


# ----------------------------------------------------------------------------
# Constants


def constant_value(node) -> np.ndarray:
    """A NumPy copy of a ``Constant`` node's value (bfloat16 as ``ml_dtypes.bfloat16``)."""
    data = node.get_data()
    if node.get_element_type() == ov.Type.bf16:  # OpenVINO hands bf16 bits out as float16
        import ml_dtypes

        return np.array(data.view(np.uint16).view(ml_dtypes.bfloat16))
    if node.get_element_type() == ov.Type.boolean:
        return np.array(data, dtype=bool)
    return np.array(data)


def _ov_tensor(array: np.ndarray) -> ov.Tensor:
    """An ``ov.Tensor`` holding a copy of ``array`` (bfloat16 and bool included)."""
    if not array.flags.c_contiguous:
        array = np.array(array, order="C")
    if array.dtype.name == "bfloat16":
        tensor = ov.Tensor(ov.Type.bf16, ov.Shape(list(array.shape)))
        tensor.data.view(np.uint16)[...] = array.view(np.uint16)
        return tensor
    if array.dtype == bool:
        tensor = ov.Tensor(ov.Type.boolean, ov.Shape(list(array.shape)))
        tensor.data[...] = array
        return tensor
    return ov.Tensor(np.array(array, copy=True))


def constant(array: np.ndarray) -> OVTensor:
    """A constant holding (a copy of) ``array``, in its own dtype."""
    array = np.asarray(array)
    if array.dtype.name not in OV_TYPES:
        raise BackendError(
            f"openvino backend: cannot hold an array of dtype {array.dtype}; "
            f"supported: {sorted(OV_TYPES)}.")
    return OVTensor(ov.op.Constant(_ov_tensor(array), shared_memory=False).output(0))


def _canonical(array: np.ndarray) -> np.ndarray:
    name = array.dtype.name
    return array.astype(_CANONICAL[name]) if name in _CANONICAL else array


def _numpy_of_framework_array(x) -> np.ndarray | None:
    """A NumPy copy of a JAX / PyTorch / TensorFlow array, via its own backend."""
    from .._registry import _backend_name_for_type, get_backend

    name = _backend_name_for_type(type(x))
    if name is None or name == "openvino":
        return None
    return np.asarray(get_backend(name).to_numpy(x))


def value_dtype_name(leaf) -> str:
    """The (canonical) dtype name ``leaf`` has as an input, without converting it."""
    if isinstance(leaf, OVTensor):
        return leaf.dtype
    if isinstance(leaf, (np.ndarray, np.generic)):
        return _CANONICAL.get(leaf.dtype.name, leaf.dtype.name)
    from .._registry import _backend_name_for_type, get_backend

    name = _backend_name_for_type(type(leaf))
    if name is not None:
        dtype = get_backend(name).dtype_name(leaf)
        return _CANONICAL.get(dtype, dtype)
    return to_numpy_input(leaf).dtype.name


def to_numpy_input(x: Any) -> np.ndarray:
    """``x`` (NumPy, list, scalar, or another framework's array) as a NumPy array,
    canonicalised as JAX does (float64 -> float32, int64 -> int32)."""
    if isinstance(x, OVTensor):
        return x.numpy()
    if type(x) in PYTHON_SCALARS:
        return np.asarray(x, dtype=_PYTHON_DEFAULT[type(x)])
    converted = _numpy_of_framework_array(x)
    array = np.asarray(x) if converted is None else converted
    if array.dtype.kind == "c":
        raise BackendError(f"openvino backend: complex arrays are not supported (got {array.dtype}).")
    return _canonical(array)


def asarray(x: Any, dtype: str | None = None) -> OVTensor:
    """``x`` as an ``OVTensor`` of ``dtype`` (default: ``x``'s own, canonicalised)."""
    if isinstance(x, OVTensor):
        return x if dtype is None or x.dtype == dtype else cast(x, dtype)
    if isinstance(x, (list, tuple)) and any(isinstance(v, OVTensor) for v in x):
        from . import _shape

        stacked = _shape.stack([asarray(v) for v in x], 0)
        return stacked if dtype is None else cast(stacked, dtype)
    if dtype is not None and type(x) in PYTHON_SCALARS:
        return constant(_python_scalar(x, dtype))
    array = to_numpy_input(x)
    if dtype is not None and array.dtype.name != dtype:
        if dtype == "bfloat16":
            return cast(constant(array.astype("float32")), dtype)
        array = array.astype(dtype)
    return constant(array)


def _python_scalar(x, dtype: str) -> np.ndarray:
    if isinstance(x, float) and dtype != "bool" and not dtype.startswith(("float", "bfloat")):
        x = int(x)  # truncation toward zero, as a float -> int cast
    if dtype == "bfloat16":
        import ml_dtypes

        return np.asarray(x, dtype=ml_dtypes.bfloat16)
    return np.asarray(x, dtype=dtype)


def scalar(value, dtype: str) -> OVTensor:
    """A 0-d constant of ``dtype``."""
    return constant(_python_scalar(value, dtype))


def cast(x: OVTensor, dtype: str) -> OVTensor:
    """``x`` converted to ``dtype``: float -> int truncates toward zero; to bool is ``!= 0``."""
    if x.dtype == dtype:
        return x
    if dtype == "bool":
        return node(opset.not_equal(x.output, scalar(0, x.dtype).output))
    return node(opset.convert(x.output, ov_type(dtype)))


# ----------------------------------------------------------------------------
# Nodes: evaluated at once when every input is a constant


def int64_constant(values) -> ov.Output:
    """An int64 constant (shapes, axes, pads: never canonicalised to int32)."""
    return constant(np.asarray(values, dtype=np.int64)).output


def node(ov_node, index: int | None = 0):
    """The output ``index`` of ``ov_node`` as an ``OVTensor`` (``None``: all outputs, a
    tuple); folded to constants when no graph ``Parameter`` feeds the node."""
    inputs = [_folded(i.get_source_output(), 0) for i in ov_node.inputs()]
    if inputs and all(o is not None for o in inputs):
        outputs = [OVTensor(c.output(0)) for c in _evaluate(ov_node, inputs)]
    else:
        outputs = [OVTensor(o) for o in ov_node.outputs()]
    return tuple(outputs) if index is None else outputs[index]


# Nodes built inside one primitive (e.g. ``divide(1, sqrt(x))``) are folded with it;
# anything deeper came through ``node`` already, so the walk stops there.
_FOLD_DEPTH = 4


def _folded(output, depth: int):
    """``output`` as a constant's output if no ``Parameter`` feeds it, else None."""
    source = output.get_node()
    kind = source.get_type_name()
    if kind == "Constant":
        return output
    if kind == "Parameter" or depth >= _FOLD_DEPTH or source.get_input_size() == 0:
        return None
    inputs = [_folded(i.get_source_output(), depth + 1) for i in source.inputs()]
    if any(o is None for o in inputs):
        return None
    return _evaluate(source, inputs)[output.get_index()].output(0)


def _evaluate(ov_node, inputs) -> list:
    """Constants holding the outputs of ``ov_node`` on its constant inputs."""
    in_tensors = [o.get_node().get_tensor_view() for o in inputs]
    out_tensors = [ov.Tensor(o.get_element_type(), o.get_shape()) for o in ov_node.outputs()]
    try:
        done = ov_node.evaluate(out_tensors, in_tensors)
    except RuntimeError:
        done = False
    if not done:  # no reference kernel for this node: run it through the CPU plugin
        return [constant(v).output.get_node() for v in _run_on_cpu(ov_node)]
    return [ov.op.Constant(t, shared_memory=False) for t in out_tensors]


def _run_on_cpu(ov_node) -> list[np.ndarray]:
    from ._compile import compile_model

    model = ov.Model([opset.result(o) for o in ov_node.outputs()], [], "purekeras_eager")
    request = compile_model(model).create_infer_request()
    request.infer()
    return [tensor_value(request.get_output_tensor(i)) for i in range(len(ov_node.outputs()))]


def tensor_value(tensor: ov.Tensor) -> np.ndarray:
    """A NumPy copy of an ``ov.Tensor`` (bfloat16 as ``ml_dtypes.bfloat16``, bool as bool)."""
    if tensor.get_element_type() == ov.Type.bf16:
        import ml_dtypes

        return np.array(tensor.data.view(np.uint16).view(ml_dtypes.bfloat16))
    if tensor.get_element_type() == ov.Type.boolean:
        return np.array(tensor.data, dtype=bool)
    return np.array(tensor.data)
