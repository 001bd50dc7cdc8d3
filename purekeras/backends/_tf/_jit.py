"""``jit`` on TensorFlow: ``tf.function(jit_compile=True)`` over flat tensor lists.

A call flattens its arguments with ``optree`` (TrainStates, dicts, NamedTuples,
``None`` leaves), turns NumPy leaves into tensors, and looks up a compiled
function by the arguments' structure, static values (Python scalars, strings,
``static_argnums``) and the shapes and dtypes of the tensors. The first call
with a new key traces ``fn`` once into a ``tf.function`` whose fixed
``input_signature`` is those shapes and dtypes, so calls with the same shapes
never retrace and TensorFlow does no signature matching of its own: the
concrete function is called directly with the flat list. The outputs are
flattened inside the graph and rebuilt outside. Donation is a no-op (TensorFlow
tensors are immutable).

XLA compiles it (``jit_compile=True``); where XLA cannot compile the graph (an op
without an XLA kernel), the first call warns, naming the reason, and the
function runs as a plain TensorFlow graph (``jit_compile=False``) instead.

>>> import tensorflow as tf
>>> f = jit(lambda ts, x: (ts, x * 2), (0,), ())
>>> float(f(tf.constant(0), tf.constant(3.0))[1])
6.0
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import optree
import tensorflow as tf

from ._convert import asarray, tensor_leaves

_TENSORS = (tf.Tensor, tf.Variable)
_EAGER = type(tf.constant(0.0))  # EagerTensor (its class is not public)
# NumPy dtypes that convert to a tensor of the same dtype (no 64-bit canonicalisation).
_AS_IS = frozenset(np.dtype(n) for n in ("float32", "float16", "int32", "int16", "int8", "uint8", "uint16",
                                          "uint32", "bool", "complex64"))


def _public_spec(t) -> tuple:
    return t.dtype.as_datatype_enum, tuple(t.shape.as_list())


# An eager tensor's (dtype enum, shape) from two C calls where TensorFlow has them.
_eager_spec = (lambda t: (t._datatype_enum(), t._shape_tuple())) \
    if hasattr(_EAGER, "_datatype_enum") and hasattr(_EAGER, "_shape_tuple") else _public_spec
# Markers of an error from XLA's compiler (not from running the program).
_XLA_MARKERS = ("XLA", "xla", "compil", "Unsupported op", "unsupported op", "No registered")


def _is_xla_error(error: Exception) -> bool:
    return isinstance(error, (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError,
                              tf.errors.InternalError, tf.errors.NotFoundError)) and \
        any(marker in str(error) for marker in _XLA_MARKERS)


class _Entry:
    """One traced signature: the concrete function and how to rebuild its outputs."""

    __slots__ = ("function", "concrete", "out_def", "out_static", "xla", "checked")

    def __init__(self):
        self.function = self.concrete = self.out_def = None
        self.out_static = ()
        self.xla = True
        self.checked = False


class Jitted:
    """``fn`` compiled per input signature; see the module docstring."""

    def __init__(self, fn, static_argnums, jit_compile: bool):
        self._fn = fn
        self._static = frozenset(static_argnums)
        self._jit_compile = jit_compile
        self._cache: dict = {}
        functools.update_wrapper(self, fn)

    def _split(self, args, kwargs):
        """(the tensors, all leaves, the structure key, the tensors' (dtype, shape) spec)."""
        if self._static:
            tree = (tuple(None if i in self._static else a for i, a in enumerate(args)), kwargs)
            static = tuple((i, a) for i, a in enumerate(args) if i in self._static)
        else:
            tree, static = (args, kwargs), ()
        leaves, treedef = optree.tree_flatten(tree, none_is_leaf=False)
        tensors, spec, consts = [], [], []
        for k, leaf in enumerate(leaves):
            if type(leaf) is not _EAGER:
                if isinstance(leaf, np.ndarray) and leaf.dtype in _AS_IS:
                    leaf = tf.constant(leaf)  # a NumPy batch: one copy into a tensor
                elif isinstance(leaf, (np.ndarray, np.generic)):
                    leaf = asarray(leaf)  # float64 -> float32 & co.
                elif isinstance(leaf, tf.Variable):
                    leaf = leaf.read_value()
                elif not isinstance(leaf, tf.Tensor):  # Python values are trace constants, as in tf.function
                    consts.append((k, leaf))
                    continue
                if type(leaf) is not _EAGER:  # a graph tensor: jit called while tracing
                    tensors.append(leaf)
                    spec.append(_public_spec(leaf))
                    continue
            tensors.append(leaf)  # the hot path: an eager tensor
            spec.append(_eager_spec(leaf))
        return tensors, leaves, (treedef, static, tuple(consts)), tuple(spec)

    def __call__(self, *args, **kwargs):
        tensors, leaves, key, spec = self._split(args, kwargs)
        # Two levels: the structure (hashed once), then the specs compared with == (no
        # hashing of dtypes, which costs more than the comparison).
        entries = self._cache.get(key)
        if entries is None:
            entries = self._cache[key] = []
        for entry_spec, entry in entries:
            if entry_spec == spec:
                break
        else:
            entry = self._trace(leaves, key, spec, self._jit_compile)
            entries.append((spec, entry))
        if entry.checked:
            flat = entry.concrete(*tensors)
        else:
            flat = self._first_call(entry, leaves, key, spec, tensors)
        return self._rebuild(entry, flat)

    def _first_call(self, entry, leaves, key, spec, tensors):
        try:
            flat = entry.concrete(*tensors)
        except Exception as error:  # noqa: BLE001 - only XLA's compile errors are handled
            if not (entry.xla and _is_xla_error(error)):
                raise
            reason = str(error).strip().splitlines()[0][:300]
            warnings.warn(
                f"pk.jit (tensorflow): XLA cannot compile {getattr(self._fn, '__name__', 'the function')!r} "
                f"({type(error).__name__}: {reason}); running it as a TensorFlow graph "
                "(jit_compile=False) instead.", RuntimeWarning, stacklevel=3)
            graph = self._trace(leaves, key, spec, False)
            entries = self._cache[key]
            entries[[e for _, e in entries].index(entry)] = (spec, graph)
            entry = graph
            flat = entry.concrete(*tensors)
        entry.checked = True
        return flat

    def _trace(self, leaves, key, spec, jit_compile: bool) -> _Entry:
        treedef, static, consts = key
        entry = _Entry()
        entry.xla = jit_compile
        const_at = dict(consts)
        static_at = dict(static)
        positions = [k for k in range(len(leaves)) if k not in const_at]

        def flat_fn(*tensors):
            current = list(leaves)
            for k, t in zip(positions, tensors):
                current[k] = t
            dynamic, kw = optree.tree_unflatten(treedef, current)
            call_args = [static_at[i] if i in static_at else a for i, a in enumerate(dynamic)]
            out = self._fn(*call_args, **kw)
            out_leaves, entry.out_def = optree.tree_flatten(out, none_is_leaf=False)
            is_tensor = [isinstance(v, _TENSORS) or isinstance(v, (np.ndarray, np.generic))
                         for v in out_leaves]
            entry.out_static = tuple(None if t else v for v, t in zip(out_leaves, is_tensor))
            return [tf.convert_to_tensor(v) for v, t in zip(out_leaves, is_tensor) if t]

        signature = [tf.TensorSpec(shape, tf.dtypes.as_dtype(dtype)) for dtype, shape in spec]
        entry.function = tf.function(flat_fn, input_signature=signature, jit_compile=jit_compile,
                                     autograph=False)
        entry.concrete = _fast_call(entry.function.get_concrete_function())
        return entry

    @staticmethod
    def _rebuild(entry, flat):
        it = iter(() if flat is None else flat)
        leaves = [next(it) if v is None else v for v in entry.out_static]
        return optree.tree_unflatten(entry.out_def, leaves)


def _fast_call(concrete):
    """``concrete(*tensors)`` without TensorFlow's per-call signature binding (which
    costs more than a small step): the cache key already guarantees that the flat
    tensors have exactly the signature's dtypes and shapes."""
    call_flat = getattr(concrete, "_call_flat", None)
    if call_flat is None:  # a TensorFlow without the flat entry point: the public call
        return concrete
    captured = concrete.captured_inputs
    return lambda *tensors: call_flat(list(tensors), captured)


def eager(fn, static_argnums):
    """``fn`` run op by op; NumPy leaves of the (non-static) arguments become tensors."""
    static = frozenset(static_argnums)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        args = tuple(a if i in static else tensor_leaves(a) for i, a in enumerate(args))
        return fn(*args, **kwargs)

    return run


def jit(fn, donate_argnums, static_argnums, compile=None):
    """XLA (``tf.function(jit_compile=True)``) unless ``compile=False`` (eager)."""
    del donate_argnums  # TensorFlow tensors are immutable: nothing to donate
    if compile is False:
        return eager(fn, static_argnums)
    return Jitted(fn, static_argnums, jit_compile=True)
