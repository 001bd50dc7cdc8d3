"""The openvino backend: the Protocol's primitives as OpenVINO graph nodes (inference only).

Arrays are ``OVTensor`` s, outputs of graph nodes. Ops on constants evaluate at
once (OpenVINO's reference kernels), so the backend works eagerly like any
other; ``jit`` (``pk.jit(fn, backend="openvino")``) traces a function with
graph ``Parameter`` s for its array arguments into an ``ov.Model`` and
compiles it for the CPU plugin, once per input signature (static shapes).
``predict_function(model, params, state)`` does the same for a model's forward
pass with the params (trained on any backend) baked in as constants: this is
what ``pk.Model.predict(..., backend="openvino")`` and ``pk.export`` use.

Semantics are the JAX backend's: dtype promotion (``ops._dtypes``, Python
scalars weak), int32 for Python ints and index results, NumPy-style indexing,
TensorFlow's "same" padding, and threefry2x32 random bits equal to
``jax.random``'s (on the host: keys are constants). There are no gradients:
training raises an error that says to train on another backend.

>>> from purekeras.backends.openvino_backend import BACKEND
>>> BACKEND.unary("rsqrt", BACKEND.asarray([4])).tolist()  # ints become float32
[0.5]
"""
from __future__ import annotations

import numpy as np

from ._openvino import _indexing, _math, _nn, _reduce, _shape, _tensor, _threefry, _transforms
from ._openvino._function import OVFunction, no_training
from ._openvino._tensor import OVTensor, asarray


def _host(key) -> np.ndarray:
    """A random key's value: keys are constants when weights are initialised; a traced
    key means randomness inside a compiled step (dropout while training)."""
    key = key if isinstance(key, OVTensor) else asarray(key)
    if not key.is_constant:
        raise no_training("random numbers from a traced key (training-time randomness such as dropout)")
    return key.numpy()


class OpenVINOBackend:
    """The ``Backend`` Protocol on OpenVINO graph nodes; get it with ``get_backend("openvino")``.

    >>> from purekeras.backends import get_backend
    >>> b = get_backend("openvino")
    >>> b.dtype_name(b.ones((2,), "bfloat16")), b.shape(b.zeros((2, 3), "int32"))
    ('bfloat16', (2, 3))
    """

    name = "openvino"

    # Conversion and metadata.
    def asarray(self, x, dtype=None):
        return _tensor.asarray(x, dtype)

    def to_numpy(self, x):
        return x.numpy() if isinstance(x, OVTensor) else np.asarray(x)

    def is_array(self, x):
        return isinstance(x, OVTensor)

    def dtype_name(self, x):
        return _tensor.value_dtype_name(x)

    def shape(self, x):
        return x.shape if isinstance(x, OVTensor) else tuple(np.shape(x))

    def cast(self, x, dtype):
        return _tensor.cast(asarray(x), dtype)

    # Creation.
    def zeros(self, shape, dtype):
        return self.full(shape, 0, dtype)

    def ones(self, shape, dtype):
        return self.full(shape, 1, dtype)

    def full(self, shape, value, dtype):
        if isinstance(value, OVTensor):
            return _shape.broadcast_to(_tensor.cast(value, dtype), tuple(shape))
        fill = _tensor.scalar(value, dtype).numpy()
        return _tensor.asarray(np.full(tuple(shape), fill, dtype=fill.dtype))

    def arange(self, start, stop, step, dtype):
        if dtype is None:
            integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
            dtype = "int32" if integral else "float32"
        return asarray(np.arange(start, stop, step), dtype)

    def eye(self, n, m, dtype):
        return asarray(np.eye(n, m), dtype)

    # Elementwise.
    unary = staticmethod(_math.unary)
    binary = staticmethod(_math.binary)
    where = staticmethod(_math.where)
    clip = staticmethod(_math.clip)
    softmax = staticmethod(_math.softmax)
    log_softmax = staticmethod(_math.log_softmax)

    # Reductions.
    reduce = staticmethod(_reduce.reduce)

    def argmax(self, x, axis):
        return _reduce.argmax(asarray(x), axis)

    def argmin(self, x, axis):
        return _reduce.argmin(asarray(x), axis)

    def cumsum(self, x, axis):
        return _reduce.cumsum(asarray(x), axis)

    def cumprod(self, x, axis):
        return _reduce.cumprod(asarray(x), axis)

    def sort(self, x, axis):
        return _reduce.sort(asarray(x), axis)

    def argsort(self, x, axis):
        return _reduce.argsort(asarray(x), axis)

    def top_k(self, x, k):
        return _reduce.top_k(asarray(x), k)

    # Shape and indexing.
    def reshape(self, x, shape):
        return _shape.reshape(asarray(x), shape)

    def transpose(self, x, axes):
        return _shape.transpose(asarray(x), axes)

    def broadcast_to(self, x, shape):
        return _shape.broadcast_to(asarray(x), shape)

    def expand_dims(self, x, axis):
        return _shape.expand_dims(asarray(x), axis)

    def squeeze(self, x, axis):
        return _shape.squeeze(asarray(x), axis)

    concatenate = staticmethod(_shape.concatenate)
    stack = staticmethod(_shape.stack)

    def split(self, x, indices_or_sections, axis):
        return _shape.split(asarray(x), indices_or_sections, axis)

    def getitem(self, x, index):
        return _indexing.getitem(asarray(x), index)

    def take(self, x, indices, axis):
        return _indexing.take(asarray(x), indices, axis)

    def take_along_axis(self, x, indices, axis):
        return _indexing.take_along_axis(asarray(x), indices, axis)

    def scatter_add(self, x, indices, updates):
        return _indexing.scatter_add(asarray(x), indices, updates)

    def pad(self, x, pad_width, constant):
        return _shape.pad(asarray(x), pad_width, constant)

    def tile(self, x, reps):
        return _shape.tile(asarray(x), reps)

    def repeat(self, x, repeats, axis):
        return _shape.repeat(asarray(x), repeats, axis)

    def flip(self, x, axis):
        return _shape.flip(asarray(x), axis)

    def tril(self, x, k):
        return _shape.tril(asarray(x), k)

    def triu(self, x, k):
        return _shape.triu(asarray(x), k)

    # Linear algebra.
    matmul = staticmethod(_reduce.matmul)
    einsum = staticmethod(_reduce.einsum)

    def qr(self, x):
        x = asarray(x)
        if not x.is_constant:  # OpenVINO has no QR node; the Orthogonal initializer runs on constants
            raise no_training("qr of a traced value (QR is for initialisers)")
        q, r = np.linalg.qr(x.numpy().astype("float32"))
        return asarray(q.astype(x.dtype if x.dtype.startswith("float") else "float32")), \
            asarray(r.astype(x.dtype if x.dtype.startswith("float") else "float32"))

    # Neural-network primitives (channels-last).
    conv = staticmethod(_nn.conv)

    def pool(self, op, x, window, strides, padding):
        return _nn.pool(op, asarray(x), window, strides, padding)

    # Control flow and autodiff.
    cond = staticmethod(_transforms.cond)
    scan = staticmethod(_transforms.scan)
    fori_loop = staticmethod(_transforms.fori_loop)

    def stop_gradient(self, x):
        return x  # no gradients on OpenVINO

    value_and_grad = staticmethod(_transforms.value_and_grad)
    vmap = staticmethod(_transforms.vmap)

    def jit(self, fn, donate_argnums, static_argnums, compile=None):
        return _transforms.jit(fn, donate_argnums, static_argnums, compile)

    def compile_eager(self, fn, static_argnums):
        return fn  # ops on constants evaluate at once: nothing to compile

    # Random bits (on the host: keys are constants).
    def random_split(self, key, num):
        return asarray(_threefry.split(_host(key), num))

    def random_fold_in(self, key, data):
        return asarray(_threefry.fold_in(_host(key), data))

    def random_bits(self, key, shape):
        return asarray(_threefry.bits(_host(key), shape))


def predict_function(model, params, state, *, config: dict | None = None) -> OVFunction:
    """``x -> model.apply(params, state, x, training=False)[0]`` compiled to OpenVINO,
    with ``params`` and ``state`` (arrays of any backend) baked in as constants; one
    compiled model per input shape, kept in the returned function.

    >>> import numpy as np
    >>> from purekeras import nn, random
    >>> model = nn.Sequential([nn.Dense(3)])
    >>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    >>> predict_function(model, params, state)(np.ones((2, 4), "float32")).shape
    (2, 3)
    """

    def predict(params, state, x):
        return model.apply(params, state, x, training=False)[0]

    name = getattr(model, "display_name", type(model).__name__)
    return OVFunction(predict, constants=(params, state), config=config, name=name)


BACKEND = OpenVINOBackend()

__all__ = ["BACKEND", "OVFunction", "OVTensor", "OpenVINOBackend", "PredictStep", "predict_function"]


class PredictStep:
    """``(train_state, x) -> outputs`` on OpenVINO: ``pk.Model.predict``'s step for
    ``backend="openvino"``. It holds one ``predict_function`` for the params and state
    it was built from, and builds a new one when the train state carries other
    params or state objects (purekeras never changes them in place: training and
    ``set_weights`` make new ones), so the compiled models live exactly as long as
    the weights they hold.

    >>> import numpy as np
    >>> from purekeras import nn, optim, random, train
    >>> model = nn.Sequential([nn.Dense(2)])
    >>> ts = train.init_state(model, optim.SGD(), random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> step = PredictStep(model)
    >>> step(ts, np.ones((4, 3), "float32")).shape, step(ts, np.ones((4, 3), "float32")).shape
    ((4, 2), (4, 2))
    >>> step.function.num_compiled
    1
    """

    def __init__(self, model, *, config: dict | None = None):
        self.model = model
        self.config = config
        self.function: OVFunction | None = None
        self._source: tuple = ()  # (params, state) the function was built from

    def __call__(self, ts, x):
        if not self._source or self._source[0] is not ts.params or self._source[1] is not ts.state:
            self.function = predict_function(self.model, ts.params, ts.state, config=self.config)
            self._source = (ts.params, ts.state)
        return self.function(x)
