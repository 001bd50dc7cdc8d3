"""The benchmark workloads, defined once and shared by every script.

Each workload is the same network three ways: a purekeras spec, a hand-written
``jnp`` model (the "native" baseline, with the same math and the same initial
weights), and a Keras 3 model (built only inside the Keras subprocess). Data is
synthetic, from a fixed NumPy seed.

- **W1** MLP 64→256→256→10 (relu), batch 128, Adam.
- **W2** CNN on 8×8×1: Conv2D(32,3,same,relu) → Conv2D(64,3,same,relu) →
  MaxPooling2D(2) → Flatten → Dense(128,relu) → Dense(10), batch 128, Adam.
- **W3** MLP 1024→2048→2048→2048→10 (relu), batch 1024, Adam.

``PROBES`` holds ``P0``, a one-layer network whose step is nearly all host work:
``bench_fit.py`` uses it to show each training loop's per-step overhead.

>>> w = WORKLOADS["W1"]
>>> w.input_shape, w.batch_size, w.dense_sizes()
((64,), 128, [(64, 256), (256, 256), (256, 10)])
>>> x, y = w.data(2 * w.batch_size)
>>> x.shape, y.shape, str(x.dtype), str(y.dtype)
((256, 64), (256,), 'float32', 'int32')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SEED = 0
NUM_CLASSES = 10
LEARNING_RATE = 1e-3
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras's Adam defaults


@dataclass(frozen=True)
class Workload:
    """One benchmark network: its layers as plain tuples, batch size and input shape.

    ``layers`` items: ``("dense", units, activation)``, ``("conv", filters, kernel,
    activation)`` (stride 1, "same"), ``("maxpool", size)``, ``("flatten",)``.

    >>> WORKLOADS["W2"].needs_conv
    True
    """

    name: str
    description: str
    input_shape: tuple[int, ...]
    batch_size: int
    layers: tuple[tuple, ...] = field(default_factory=tuple)

    @property
    def needs_conv(self) -> bool:
        return any(layer[0] in ("conv", "maxpool", "flatten") for layer in self.layers)

    def dense_sizes(self) -> list[tuple[int, int]]:
        """``(in, out)`` of every Dense layer (MLPs only: the input is flat)."""
        sizes, width = [], self.input_shape[-1]
        for layer in self.layers:
            if layer[0] == "dense":
                sizes.append((width, layer[1]))
                width = layer[1]
        return sizes

    def data(self, n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
        """``n`` synthetic examples: standard-normal ``x`` (float32), labels in
        ``[0, 10)`` (int32)."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, *self.input_shape), dtype=np.float32)
        y = rng.integers(0, NUM_CLASSES, size=(n,), dtype=np.int32)
        return x, y

    # -- purekeras -----------------------------------------------------------------
    def purekeras_spec(self):
        """The purekeras ``nn.Sequential`` spec of this workload."""
        from purekeras import nn

        def build(layer):
            kind = layer[0]
            if kind == "dense":
                return nn.Dense(layer[1], activation=layer[2])
            if kind == "conv":
                return _nn_attr("Conv2D")(layer[1], layer[2], padding="same", activation=layer[3])
            if kind == "maxpool":
                return _nn_attr("MaxPooling2D")(layer[1])
            return _nn_attr("Flatten")()

        return nn.Sequential([build(layer) for layer in self.layers])

    def purekeras_parts(self, *, metrics: tuple = ()):
        """``(model, loss, optimizer, metrics)`` as purekeras specs (logits + from_logits loss)."""
        from purekeras import optim, train

        loss = train.losses.SparseCategoricalCrossentropy(from_logits=True)
        opt = optim.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)
        return self.purekeras_spec(), loss, opt, tuple(metrics)

    def purekeras_state(self, model, opt, *, metrics: tuple = (), seed: int = SEED):
        """A fresh ``TrainState`` on JAX for ``model`` and ``opt``."""
        from purekeras import nn, random, train

        return train.init_state(model, opt, random.key(seed, backend="jax"),
                                nn.InputSpec((None, *self.input_shape)), metrics=metrics)

    # -- native JAX ----------------------------------------------------------------
    def native_forward(self) -> Callable:
        """``forward(params, x) -> logits`` written with ``jnp``/``lax`` directly;
        ``params`` is a list of ``(kernel, bias)`` in layer order (Keras layouts)."""
        import jax.numpy as jnp
        from jax import lax

        def forward(params, x):
            it = iter(params)
            for layer in self.layers:
                kind = layer[0]
                if kind == "dense":
                    w, b = next(it)
                    x = x @ w + b
                    activation = layer[2]
                elif kind == "conv":
                    w, b = next(it)
                    x = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                                 dimension_numbers=("NHWC", "HWIO", "NHWC")) + b
                    activation = layer[3]
                elif kind == "maxpool":
                    k = layer[1]
                    x = lax.reduce_window(x, -jnp.inf, lax.max, (1, k, k, 1), (1, k, k, 1), "VALID")
                    activation = None
                else:
                    x = x.reshape(x.shape[0], -1)
                    activation = None
                if activation == "relu":
                    x = jnp.maximum(x, 0.0)
            return x

        return forward

    # -- Keras 3 (subprocess only) ---------------------------------------------------
    def keras_model(self):
        """The same network as a ``keras.Sequential`` (import Keras only in a subprocess)."""
        import keras

        layers = [keras.Input(self.input_shape)]
        for layer in self.layers:
            kind = layer[0]
            if kind == "dense":
                layers.append(keras.layers.Dense(layer[1], activation=layer[2]))
            elif kind == "conv":
                layers.append(keras.layers.Conv2D(layer[1], layer[2], padding="same", activation=layer[3]))
            elif kind == "maxpool":
                layers.append(keras.layers.MaxPooling2D(layer[1]))
            else:
                layers.append(keras.layers.Flatten())
        return keras.Sequential(layers)


def _nn_attr(name: str) -> Any:
    from purekeras import nn

    if not hasattr(nn, name):
        raise RuntimeError(f"purekeras.nn.{name} is not exported yet; this workload needs it.")
    return getattr(nn, name)


def available(workload: Workload) -> tuple[bool, str]:
    """Whether purekeras can build ``workload`` now, and why not.

    >>> available(WORKLOADS["W1"])
    (True, '')
    """
    if not workload.needs_conv:
        return True, ""
    from purekeras import nn

    missing = [n for n in ("Conv2D", "MaxPooling2D", "Flatten") if not hasattr(nn, n)]
    return (not missing, f"purekeras.nn lacks {', '.join(missing)}" if missing else "")


def native_params(pk_params) -> list:
    """The purekeras params (``{layer: {"kernel", "bias"}}``) as the native model's
    list of ``(kernel, bias)``, in layer order: both start from the same weights."""
    return [(p["kernel"], p["bias"]) for p in pk_params.values() if "kernel" in p]


def device_batches(workload: Workload, num_batches: int, *, stack: int | None = None) -> list:
    """``num_batches`` batches ``(x, y)`` already on the JAX device; with ``stack=K``
    each batch carries a leading axis of ``K`` steps (for multi-step calls)."""
    import jax

    per = workload.batch_size * (stack or 1)
    x, y = workload.data(per * num_batches)
    batches = []
    for i in range(num_batches):
        bx, by = x[i * per:(i + 1) * per], y[i * per:(i + 1) * per]
        if stack:
            bx = bx.reshape(stack, workload.batch_size, *workload.input_shape)
            by = by.reshape(stack, workload.batch_size)
        batches.append((jax.device_put(bx), jax.device_put(by)))
    return batches


WORKLOADS: dict[str, Workload] = {
    "W1": Workload("W1", "MLP 64-256-256-10, batch 128", (64,), 128,
                   (("dense", 256, "relu"), ("dense", 256, "relu"), ("dense", 10, None))),
    "W2": Workload("W2", "CNN 8x8x1 conv32-conv64-pool-dense128-10, batch 128", (8, 8, 1), 128,
                   (("conv", 32, 3, "relu"), ("conv", 64, 3, "relu"), ("maxpool", 2), ("flatten",),
                    ("dense", 128, "relu"), ("dense", 10, None))),
    "W3": Workload("W3", "MLP 1024-2048-2048-2048-10, batch 1024", (1024,), 1024,
                   (("dense", 2048, "relu"), ("dense", 2048, "relu"), ("dense", 2048, "relu"),
                    ("dense", 10, None))),
}

# Not a workload of the issue: a network so small that a step is almost all host
# work (dispatch, data slicing, callbacks), to show each loop's per-step overhead.
PROBES: dict[str, Workload] = {
    "P0": Workload("P0", "overhead probe: Dense 8-10, batch 128", (8,), 128, (("dense", 10, None),)),
}


def get(name: str) -> Workload:
    """A workload or probe by name.

    >>> get("P0").dense_sizes()
    [(8, 10)]
    """
    return WORKLOADS[name] if name in WORKLOADS else PROBES[name]
