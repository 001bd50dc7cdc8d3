"""``pk.jit``: compile a pure step with the backend's own compiler.

JAX: ``jax.jit`` with the train state (argument 0) donated, so its buffers are
reused in place. PyTorch: by default eager on a signature's first call, traced
into an ATen graph on its second and replayed after (NumPy arguments become
tensors; ``backends/_torch/_trace.py``); the replay updates donated tensors in
place where the graph would copy them (the optimizer's params and slots), and
empties the caller's objects, so a donated state read again fails as it does on
JAX (``donate_argnums=()`` keeps the inputs); ``compile=True`` gives
``torch.compile(fullgraph=True)``, whose compile time (10-35 s per step function
on 2 cores) outweighs its gains for small models (``benchmarks/RESULTS.md``);
``compile=False`` runs op by op. TensorFlow: ``tf.function(jit_compile=True)``
traced once per input signature (shapes and dtypes of the first call; a new
signature traces once more), XLA-compiled; where XLA cannot compile the function
it warns, naming the reason, and runs it as a plain TensorFlow graph; donation is
a no-op. The backend is named, never guessed from a global switch.

>>> import purekeras as pk
>>> f = pk.jit(lambda ts, x: (ts, x * 2), backend="jax", donate_argnums=())
>>> f(0, 3)[1]
Array(6, dtype=int32, weak_type=True)
"""
from __future__ import annotations

from typing import Callable

from .backends import get_backend


def jit(fn: Callable, *, backend: str | None = None, donate_argnums: tuple[int, ...] = (0,),
        static_argnums: tuple[int, ...] = (), compile: bool | None = None) -> Callable:
    """Compile ``fn`` for ``backend`` (default: the process default backend).

    ``compile``: ``None`` is the backend's default (JAX and TensorFlow compile;
    PyTorch traces the function into an ATen graph on its second call with a
    signature and replays it after), ``True`` asks for the framework's compiler
    (``torch.compile``; XLA on JAX and TensorFlow), ``False`` for eager execution
    (``jax.jit`` / ``tf.function`` skipped, for debugging).

    >>> import purekeras as pk
    >>> pk.jit(lambda ts, x: (ts, x + 1), backend="jax", compile=False)(0, 1)
    (0, 2)
    """
    return get_backend(backend).jit(fn, tuple(donate_argnums), tuple(static_argnums), compile)
