"""Training on TensorFlow end to end: the pure step under ``tf.function(jit_compile=True)``,
the facade, ``tf.data`` input (on every backend), and TensorFlow next to JAX.

``tests/test_model.py``, ``test_ops.py``, ``test_layers*.py`` and
``test_cross_backend.py`` already run the shared contracts on TensorFlow (the
``backend`` / ``other`` fixtures), the train step's equality with JAX's included;
these tests add what is TensorFlow's own: the step traces once per input signature and is one XLA program with
no host callback; a function XLA cannot compile falls back to a graph with a
warning naming the reason; a ``tf.data.Dataset`` feeds ``fit`` / ``evaluate`` /
``predict``; and the README job reaches its accuracy on TensorFlow.
"""
from __future__ import annotations

import warnings

import numpy as np
import optree
import pytest
import tensorflow as tf

import purekeras as pk
from purekeras import nn, ops, optim, random, train

from .training_models import SCCE, SPEC, assert_trees_close, cnn, images, mlp, tabular

HOST_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc", "Print", "PrintV2"}


def _parts(metrics=True):
    model, acc = cnn(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(learning_rate=0.01)
    return model, opt, ([acc] if metrics else [])


def test_step_traces_once_and_xla_compiles_it():
    """Four batches and a new learning rate: one trace, and no XLA fallback warning
    (pytest turns warnings into errors; the record makes it explicit)."""
    model, opt, metrics = mlp(), optim.Adam(learning_rate=0.01), [train.metrics.SparseCategoricalAccuracy()]
    step = train.make_train_step(model, SCCE(from_logits=True), opt, metrics=metrics)
    traces = []

    def counted(ts, batch):
        traces.append(1)
        return step(ts, batch)

    jitted = pk.jit(counted, backend="tensorflow")
    ts = train.init_state(model, opt, random.key(0, backend="tensorflow"), nn.InputSpec((None, 4)),
                          metrics=metrics)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed in range(4):
            ts, logs = jitted(ts, tabular(16, seed=seed))
        ts = ts._replace(opt_state=opt.with_learning_rate(ts.opt_state, 1e-3))
        ts, logs = jitted(ts, tabular(16, seed=9))
    assert not caught, [str(w.message) for w in caught]
    assert len(traces) == 1 and int(ts.step) == 5
    assert float(ops.convert_to_numpy(ts.opt_state.learning_rate)) == pytest.approx(1e-3)


def test_scanned_multi_step_equals_single_steps():
    """``make_multi_step(unroll=False)``: ``ops.scan`` as one ``tf.while_loop`` inside the
    XLA program, with key unpacking (``random.split``) in its body."""
    model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dropout(0.2), nn.Dense(3)])
    opt, metrics = optim.Adam(learning_rate=0.01), [train.metrics.SparseCategoricalAccuracy()]
    step = train.make_train_step(model, SCCE(from_logits=True), opt, metrics=metrics)
    batches = [tuple(tf.constant(a) for a in tabular(8, seed=i)) for i in range(3)]

    def fresh():
        return train.init_state(model, opt, random.key(0, backend="tensorflow"), nn.InputSpec((None, 4)),
                                metrics=metrics)

    ts = fresh()
    for batch in batches:
        ts, logs = step(ts, batch)
    stacked = tuple(tf.stack(parts) for parts in zip(*batches))
    multi = pk.jit(train.make_multi_step(step, 3, unroll=False), backend="tensorflow")
    ts_k, logs_k = multi(fresh(), stacked)
    assert_trees_close(ts_k, ts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(logs_k["loss"]), float(logs["loss"]), rtol=1e-5)


def test_train_step_graph_has_no_host_callback():
    """The traced step holds only TensorFlow ops (no py_function, no print) and XLA
    lowers all of it to one HLO module."""
    model, opt, metrics = _parts()
    step = train.make_train_step(model, SCCE(from_logits=True), opt, metrics=metrics)
    ts = train.init_state(model, opt, random.key(0, backend="tensorflow"), SPEC, metrics=metrics)
    x, y = (tf.constant(a) for a in images())
    leaves, treedef = optree.tree_flatten((ts, (x, y)))

    def flat_step(*tensors):
        out = step(*optree.tree_unflatten(treedef, list(tensors)))
        return optree.tree_leaves(out)

    function = tf.function(flat_step, jit_compile=True, autograph=False)
    graph = function.get_concrete_function(*leaves).graph
    hlo = function.experimental_get_compiler_ir(*leaves)(stage="hlo")
    kinds = {op.type for op in graph.get_operations()}
    assert not kinds & HOST_OPS, kinds & HOST_OPS
    assert "HloModule" in hlo and "custom-call" not in hlo  # no host callback in the XLA program


def test_xla_fallback_warns_with_the_reason_and_runs():
    """String ops have no XLA kernels: the first call warns (naming the function and
    XLA's reason) and runs the step as a TensorFlow graph; later calls are quiet."""
    traces = []

    def digits_of(ts, x):
        traces.append(1)
        return ts, tf.strings.length(tf.strings.as_string(x))

    jitted = pk.jit(digits_of, backend="tensorflow")
    with pytest.warns(RuntimeWarning, match=r"XLA cannot compile 'digits_of'.*jit_compile=False"):
        _, out = jitted(tf.constant(0), tf.constant([7, 42, 1234]))
    assert out.numpy().tolist() == [1, 2, 4]
    _, out = jitted(tf.constant(1), tf.constant([5, 10, 100]))  # no warning: errors under pytest
    assert out.numpy().tolist() == [1, 2, 3]
    assert len(traces) == 2  # the XLA trace, then the graph one; none after


def test_vmap_per_example_gradients_equal_a_loop():
    """``ops.vmap(ops.grad(...))``: a GradientTape inside ``tf.vectorized_map``."""
    model = nn.Sequential([nn.Dense(5, activation="tanh"), nn.Dense(2)])
    params, state = model.init(random.key(0, backend="tensorflow"), nn.InputSpec((None, 3)))
    x, y = tabular(4)
    x, y = tf.constant(x[:, :3]), tf.constant(y % 2)
    loss = SCCE(from_logits=True)

    def example_loss(p, xi, yi):
        return loss(yi[None], model.apply(p, state, xi[None])[0])

    grad = ops.grad(example_loss, backend="tensorflow")
    per_example = ops.vmap(grad, in_axes=(None, 0, 0), backend="tensorflow")(params, x, y)
    for i in range(4):
        assert_trees_close(optree.tree_map(lambda g, i=i: g[i], per_example), grad(params, x[i], y[i]),
                            rtol=1e-5, atol=1e-6)


def test_params_as_variables_train_under_a_gradient_tape():
    """A TensorFlow user's view: params held in ``tf.Variable``s, ``model.apply`` inside a
    plain ``tf.GradientTape`` and ``tf.function``, updated with ``assign_sub``."""
    model = mlp()
    params, state = model.init(random.key(0, backend="tensorflow"), nn.InputSpec((None, 4)))
    variables = optree.tree_map(tf.Variable, params)
    x, y = (tf.constant(a) for a in tabular())
    loss = SCCE(from_logits=True)

    @tf.function
    def sgd_step():
        with tf.GradientTape() as tape:
            value = loss(y, model.apply(variables, state, x)[0])
        leaves = optree.tree_leaves(variables)
        for v, g in zip(leaves, tape.gradient(value, leaves)):
            v.assign_sub(0.5 * g)
        return value

    losses = [float(sgd_step()) for _ in range(5)]
    assert losses[-1] < losses[0], losses


# -- the facade and tf.data ---------------------------------------------------------------
def _tf_model(seed=0):
    m = pk.Model(mlp(), input_shape=(4,), backend="tensorflow", seed=seed)
    return m.compile(optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True),
                     metrics=["accuracy"])


def test_fit_evaluate_predict_with_callbacks_on_tensorflow():
    x, y = tabular()
    traces = []

    def counting_loss(y_true, y_pred, sample_weight=None):
        traces.append(1)
        return SCCE(from_logits=True)(y_true, y_pred, sample_weight)

    m = pk.Model(mlp(), input_shape=(4,), backend="tensorflow", seed=0)
    m.compile(optimizer=optim.Adam(learning_rate=0.02), loss=counting_loss, metrics=["accuracy"])
    history = m.fit(x, y, batch_size=20, epochs=5, verbose=0, validation_split=0.25, callbacks=[
        pk.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
        pk.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1),
    ])
    logs = history.history
    assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert logs["loss"][-1] < logs["loss"][0]
    assert len(traces) == 2  # one train trace and one eval trace for all epochs (72 = 3 * 20 + 12)
    assert all(isinstance(t, tf.Tensor) for t in optree.tree_leaves(m.train_state.params))
    loss, accuracy = m.evaluate(x, y, batch_size=20, verbose=0)
    assert isinstance(loss, float) and 0.0 <= accuracy <= 1.0
    predictions = m.predict(x[:7], batch_size=4, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (7, 3)


def _dataset(x, y, batch_size):
    """A tf.data pipeline as users write one: int64 labels, a short last batch."""
    return tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64))).batch(batch_size).prefetch(2)


def test_fit_takes_a_tf_dataset_on_every_backend(backend):
    """A ``tf.data.Dataset`` trains exactly like the same arrays unshuffled, on any backend
    (96 = 5 * 18 + 6: the short last batch is padded and masked)."""
    x, y = tabular()
    results = []
    for data in (dict(x=_dataset(x, y, 18)), dict(x=x, y=y, batch_size=18, shuffle=False)):
        m = pk.Model(mlp(), backend=backend, seed=0) if "y" not in data else \
            pk.Model(mlp(), input_shape=(4,), backend=backend, seed=0)
        m.compile(optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True), metrics=["accuracy"])
        history = m.fit(**data, epochs=2, verbose=0)
        results.append((history.history, m.get_weights()))
    (ds_logs, ds_weights), (np_logs, np_weights) = results
    np.testing.assert_allclose(ds_logs["loss"], np_logs["loss"], rtol=1e-5)
    for a, b in zip(ds_weights, np_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tf_dataset_for_validation_evaluate_and_predict():
    x, y = tabular()
    m = _tf_model()
    history = m.fit(_dataset(x, y, 32).shuffle(8, seed=0), epochs=2, verbose=0,
                    validation_data=_dataset(x[:40], y[:40], 16))
    assert {"val_loss", "val_accuracy"} <= set(history.history)
    np.testing.assert_allclose(m.evaluate(_dataset(x, y, 18), verbose=0),
                               m.evaluate(x, y, batch_size=18, verbose=0), rtol=1e-5)
    only_x = tf.data.Dataset.from_tensor_slices(x).batch(40)  # 96 = 2 * 40 + 16
    np.testing.assert_allclose(m.predict(only_x, verbose=0), m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size is set by the batches of a tf.data.Dataset"):
        m.fit(_dataset(x, y, 16), batch_size=16, verbose=0)


def test_tensorflow_and_jax_models_train_side_by_side():
    """Two facades in one process, epochs interleaved, no global switch: the same seed
    gives the same initial weights and (up to float32 rounding) the same training."""
    x, y = tabular()
    models = {b: pk.Model(mlp(), input_shape=(4,), backend=b, seed=1).compile(
        optimizer=optim.Adam(learning_rate=0.02), loss=SCCE(from_logits=True), metrics=["accuracy"])
        for b in ("jax", "tensorflow")}
    for a, b in zip(models["jax"].get_weights(), models["tensorflow"].get_weights()):
        np.testing.assert_array_equal(a, b)
    losses = {"jax": [], "tensorflow": []}
    for _ in range(3):
        for backend, m in models.items():
            losses[backend] += m.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"]
    assert ops.backend_name(optree.tree_leaves(models["tensorflow"].train_state.params)[0]) == "tensorflow"
    assert losses["tensorflow"][-1] < losses["tensorflow"][0]
    np.testing.assert_allclose(losses["tensorflow"], losses["jax"], rtol=1e-4)
    for a, b in zip(models["jax"].get_weights(), models["tensorflow"].get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)


def test_readme_job_reaches_target_accuracy_on_tensorflow():
    """``python examples/train_digits.py --backend tensorflow``: the CNN on sklearn's digits
    to >= 0.97 test accuracy (5 s on 2 quiet cores, ~20 s when they are busy: XLA-compiled steps)."""
    from tests.test_digits import _example

    example = _example()
    model, accuracy = example.train(backend="tensorflow", seed=0, verbose=0)
    assert accuracy >= example.TARGET_ACCURACY, f"test accuracy {accuracy:.4f}"
    assert model.backend == "tensorflow" and max(model.history.history["val_accuracy"]) >= 0.95
    assert isinstance(optree.tree_leaves(model.train_state.params)[0], tf.Tensor)
