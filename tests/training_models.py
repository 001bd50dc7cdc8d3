"""Small models, data and tree comparisons shared by the backend training tests
(``test_torch_training.py``, ``test_tf_training.py``, ``test_torch_trace.py``)."""
from __future__ import annotations

import numpy as np
import optree

import purekeras as pk
from purekeras import nn, ops, optim, random, train

SCCE = train.losses.SparseCategoricalCrossentropy
SPEC = nn.InputSpec((None, 6, 6, 1))


def cnn():
    """A CNN for ``SPEC`` with dropout (so a step draws randomness), 3 classes."""
    return nn.Sequential([
        nn.Conv2D(4, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Dense(8, activation="relu"),
        nn.Dense(3),
    ])


def images(n=16, seed=0):
    """``n`` 6x6 images and labels in {0, 1, 2} that depend on them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6, 6, 1)).astype(np.float32)
    y = (x[:, :3, :3, 0].mean((1, 2)) > 0).astype(np.int32) + (x[:, 3:, 3:, 0].mean((1, 2)) > 0)
    return x, y.astype(np.int32)


def tabular(n=96, seed=0):
    """``n`` rows of 4 features; the label is the argmax of the first three."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1).astype(np.int32)


def mlp():
    return nn.Sequential([nn.Dense(16, activation="relu"), nn.Dense(3)])


def numpy_tree(tree):
    return optree.tree_map(lambda a: np.asarray(ops.convert_to_numpy(a)), tree)


def assert_trees_close(a, b, rtol, atol=0.0):
    a, b = numpy_tree(a), numpy_tree(b)
    assert optree.tree_structure(a) == optree.tree_structure(b)
    for u, v in zip(optree.tree_leaves(a), optree.tree_leaves(b), strict=True):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def steps_on(backend, steps=3):
    """``steps`` Adam steps of the jitted pure train step (dropout on, a padded batch)
    on ``backend``: ``(initial params as NumPy, train state, logs)``."""
    model, acc = cnn(), train.metrics.SparseCategoricalAccuracy()
    opt = optim.Adam(learning_rate=0.01)
    ts0 = train.init_state(model, opt, random.key(7, backend=backend), SPEC, metrics=[acc])
    step = pk.jit(train.make_train_step(model, SCCE(from_logits=True), opt, metrics=[acc]), backend=backend)
    x, y = images()
    mask = np.ones(len(x), np.float32)
    mask[-3:] = 0.0  # a padded last batch: masked rows must not count on either backend
    initial = numpy_tree(ts0.params)  # read before the JAX step donates the state
    ts, logs = ts0, None
    for _ in range(steps):
        ts, logs = step(ts, (x, y, None, mask))
    return initial, ts, logs
