"""Keras 3's side of the file round trips (``tests/test_keras_files.py``), run as a script.

``python tests/keras_files_oracle.py WORKDIR`` with ``KERAS_BACKEND`` set:

1. builds a Keras model for each architecture of ``test_keras_files.py``, gives it
   random weights (and the compiled ones random Adam slots), saves ``WORKDIR/keras-<backend>/<name>.keras`` and
   ``.weights.h5``, and records its predictions on ``WORKDIR/inputs.npz``;
2. loads every file purekeras wrote in ``WORKDIR/ours`` (``.keras`` with
   ``keras.saving.load_model``; ``.weights.h5`` into a fresh clone) and records the
   predictions (the single-layer files of every layer case on TensorFlow only: Keras
   reads configs the same way on every backend, and TensorFlow runs them eagerly);
3. the Adam resume check: after 3 steps it saves ``resume.keras`` / ``.weights.h5``
   and records the weights after a 4th; it also takes one step from purekeras's
   ``resume.keras`` and records the weights.

Keras is imported only when run as a script, so importing this module (pytest's
doctest collection does) touches nothing.
"""
from __future__ import annotations

import json
import os
import sys


def _models(keras):
    from keras import layers as L

    def mlp():
        return keras.Sequential([
            keras.Input((8,)), L.Dense(16, activation="relu"), L.BatchNormalization(), L.Dropout(0.3),
            L.Dense(8, activation="tanh", kernel_regularizer="l2"), L.Activation("softmax"), L.Identity()])

    def cnn2d():
        return keras.Sequential([
            keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(6, 2), L.AveragePooling2D(2, padding="same"), L.Flatten(), L.Dense(5)])

    def cnn1d():
        return keras.Sequential([
            keras.Input((12, 3)), L.Conv1D(4, 3, padding="causal", dilation_rate=2), L.MaxPooling1D(2),
            L.Conv1D(4, 3, strides=2, padding="same", activation="gelu"), L.AveragePooling1D(2, padding="same"),
            L.GlobalMaxPooling1D(), L.Dense(2)])

    def text():
        return keras.Sequential([
            keras.Input((6,), dtype="int32"), L.Embedding(20, 8), L.LayerNormalization(),
            L.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d", activation="relu"),
            L.GlobalAveragePooling1D(), L.Dense(3)])

    def graph():
        a, b = keras.Input((6, 8)), keras.Input((6, 4))
        shared = L.Dense(8)
        x = shared(a)
        y = L.Dense(8, activation="relu")(b)
        att = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, y)
        s = L.LayerNormalization(axis=[1, 2])(L.Add()([x, att]))
        m = L.Multiply()([s, L.Dropout(0.2, noise_shape=(None, 1, 8))(y)])
        c = L.Concatenate()([m, L.BatchNormalization(axis=1)(x)])
        o1 = L.Dense(3)(L.GlobalMaxPooling1D()(L.Reshape((4, 24))(c)))
        o2 = L.GlobalAveragePooling1D()(shared(s))
        return keras.Model([a, b], [o1, o2])

    def image_graph():
        img = keras.Input((8, 8, 2))
        h = L.Conv2D(4, 3, activation="relu")(img)
        h = L.BatchNormalization()(h)
        pooled = L.Concatenate()([L.GlobalAveragePooling2D()(h), L.GlobalMaxPooling2D()(h)])
        head = keras.Sequential([L.Dense(6, activation="relu"), L.Dense(2)])
        return keras.Model(img, head(pooled))

    return {"mlp": mlp, "cnn2d": cnn2d, "cnn1d": cnn1d, "text": text, "graph": graph, "image_graph": image_graph}


COMPILED = ("mlp", "cnn2d", "cnn1d", "text", "image_graph")


def _outputs(model, x):
    """Inference outputs; on JAX through ``predict`` (one compiled call, not one per op)."""
    import numpy as np

    import keras

    y = model.predict(x, verbose=0) if keras.backend.backend() == "jax" else model(x, training=False)
    return [np.asarray(v) for v in y] if isinstance(y, (list, tuple)) else [np.asarray(y)]


def _compiled(model) -> dict:
    """What Keras's ``compile`` made of the file's compile_config."""
    optimizer = model.optimizer
    metrics = model._compile_config.config.get("metrics") or []
    keyword_args = getattr(model.loss, "_fn_kwargs", {})  # Keras's Huber keeps delta here
    out = {"loss": [type(model.loss).__name__, keyword_args.get("delta")],
           "metrics": [m if isinstance(m, str) else type(m).__name__ for m in metrics],
           "optimizer": [type(optimizer).__name__, round(float(optimizer.learning_rate.numpy()), 6)]}
    return out


def _eager(model, x) -> list:
    y = model(x, training=False)
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _store(store: dict, key: str, outputs: list) -> None:
    for i, value in enumerate(outputs):
        store[f"{key}:{i}"] = value


def _randomize(model, seed: int) -> None:
    """Random weights, batch-norm statistics and optimizer slots (no training, so no compiling)."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def draw(variable):
        value = rng.normal(scale=0.5, size=tuple(variable.shape)).astype(variable.dtype)
        return np.abs(value) + 0.5 if variable.path.endswith(("moving_variance", "velocity")) else value

    for variable in model.weights:
        variable.assign(draw(variable))
    if getattr(model, "optimizer", None) is not None:
        model.optimizer.build(model.trainable_variables)
        model.optimizer.iterations.assign(7)
        for variable in model.optimizer.variables[2:]:
            variable.assign(draw(variable))


def _numpy_initializers(keras) -> None:
    """Initial weights from NumPy: every weight is overwritten (``_randomize``) or loaded, and
    Keras's JAX sampling compiles once per shape, which costs more than everything else here."""
    import numpy as np

    from keras.src.backend import random

    rng = np.random.default_rng(0)

    def sample(shape, *args, dtype=None, seed=None, **kwargs):
        return rng.uniform(-0.05, 0.05, size=tuple(shape)).astype(dtype or "float32")

    random.uniform = random.normal = random.truncated_normal = sample


def main(workdir: str) -> None:
    import numpy as np

    import keras

    _numpy_initializers(keras)

    backend = keras.backend.backend()
    out_dir = os.path.join(workdir, f"keras-{backend}")
    os.makedirs(out_dir, exist_ok=True)
    inputs = np.load(os.path.join(workdir, "inputs.npz"))
    x_of = {name: [inputs[k] for k in sorted(inputs.files) if k.startswith(name + ":")]
            for name in _models(keras)}
    x_of = {name: xs[0] if len(xs) == 1 else xs for name, xs in x_of.items()}
    preds: dict = {}
    for seed, (name, build) in enumerate(_models(keras).items()):
        model = build()
        if name in COMPILED:
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        _randomize(model, seed)
        model.save(os.path.join(out_dir, f"{name}.keras"))
        model.save_weights(os.path.join(out_dir, f"{name}.weights.h5"))
        _store(preds, name, _outputs(model, x_of[name]))
        if name in COMPILED:
            slots = [np.asarray(v).reshape(-1) for v in model.optimizer.variables[2:]]
            preds[f"{name}-slots"] = np.sort(np.concatenate(slots))
    _resume(keras, inputs, out_dir, preds)
    ours = os.path.join(workdir, "ours")
    for name in _models(keras):
        model = keras.saving.load_model(os.path.join(ours, f"{name}.keras"))
        _store(preds, f"ours-{name}.keras", _outputs(model, x_of[name]))
        if name in COMPILED:
            preds[f"ours-{name}-compile"] = np.array(json.dumps(_compiled(model)))
        fresh = keras.models.clone_model(model)
        fresh.load_weights(os.path.join(ours, f"{name}.weights.h5"))
        _store(preds, f"ours-{name}.weights.h5", _outputs(fresh, x_of[name]))
    for file in sorted(os.listdir(ours)):  # every purekeras layer case, alone between its inputs
        if file.startswith("case-") and backend == "tensorflow":  # eager: no compiling per model
            key = f"ours-{file.removesuffix('.keras')}"
            x = [inputs[k] for k in sorted(inputs.files) if k.startswith(file.removesuffix(".keras") + ":")]
            try:
                model = keras.saving.load_model(os.path.join(ours, file))
                _store(preds, key, [np.asarray(v) for v in _eager(model, x[0] if len(x) == 1 else x)])
            except Exception as error:  # recorded: the test knows which cases a backend cannot run
                preds[f"{key}:error"] = np.array(repr(error)[:500])
    model = keras.saving.load_model(os.path.join(ours, "resume.keras"))
    model.train_on_batch(inputs["resume_x"], inputs["resume_y"])
    _store(preds, "ours-resume-next", model.get_weights())
    np.savez(os.path.join(out_dir, "results.npz"), **preds)


def _resume(keras, inputs, out_dir: str, store: dict) -> None:
    from keras import layers as L

    model = keras.Sequential([keras.Input((5,)), L.Dense(8, activation="relu"), L.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    for _ in range(3):
        model.train_on_batch(inputs["resume_x"], inputs["resume_y"])
    model.save(os.path.join(out_dir, "resume.keras"))
    model.save_weights(os.path.join(out_dir, "resume.weights.h5"))
    model.train_on_batch(inputs["resume_x"], inputs["resume_y"])
    _store(store, "resume-next", model.get_weights())


if __name__ == "__main__":
    main(sys.argv[1])
