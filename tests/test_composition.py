"""``model.apply`` composes with JAX's transformations as a plain function."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from purekeras import nn, random

MODEL = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(3)])


def _setup():
    params, state = MODEL.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    x = jnp.asarray(np.random.default_rng(0).standard_normal((5, 4)), "float32")
    y = jnp.asarray([0, 1, 2, 0, 1])
    return params, state, x, y


def _loss(params, state, x, y):
    logits, _ = MODEL.apply(params, state, x)
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def test_apply_under_jit_equals_eager():
    params, state, x, _ = _setup()
    eager, _ = MODEL.apply(params, state, x)
    jitted, _ = jax.jit(MODEL.apply)(params, state, x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)


def test_grad_matches_finite_differences():
    params, state, x, y = _setup()
    grads = jax.grad(_loss)(params, state, x, y)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
    eps = 1e-3
    kernel = params["dense_1"]["kernel"]
    bumped = {**params, "dense_1": {**params["dense_1"], "kernel": kernel.at[0, 0].add(eps)}}
    numeric = (_loss(bumped, state, x, y) - _loss(params, state, x, y)) / eps
    np.testing.assert_allclose(grads["dense_1"]["kernel"][0, 0], numeric, rtol=2e-2, atol=1e-4)


def test_vmap_per_example_gradients_equal_a_loop():
    params, state, x, y = _setup()

    def example_loss(p, xi, yi):
        return _loss(p, state, xi[None], yi[None])

    batched = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))(params, x, y)
    for i in range(x.shape[0]):
        single = jax.grad(example_loss)(params, x[i], y[i])
        for a, b in zip(jax.tree.leaves(single), jax.tree.leaves(batched)):
            np.testing.assert_allclose(b[i], a, rtol=1e-5, atol=1e-6)


def test_apply_inside_scan_equals_unrolled():
    params, state, x, _ = _setup()
    xs = jnp.stack([x, x * 2.0, x - 1.0])

    def body(carry, xi):
        y, _ = MODEL.apply(params, state, xi)
        return carry + jnp.sum(y), y

    total, ys = jax.lax.scan(body, jnp.zeros(()), xs)
    unrolled = [MODEL.apply(params, state, xi)[0] for xi in xs]
    np.testing.assert_allclose(ys, np.stack(unrolled), rtol=1e-5)
    np.testing.assert_allclose(total, sum(float(jnp.sum(u)) for u in unrolled), rtol=1e-5)


def test_dropout_model_under_vmap_with_per_example_keys():
    model = nn.Sequential([nn.Dense(16)])
    params, state = model.init(random.key(1, backend="jax"), nn.InputSpec((None, 4)))
    keys = random.split(random.key(2, backend="jax"), 3)
    x = jnp.ones((3, 1, 4))
    out = jax.vmap(lambda k, xi: model.apply(params, state, xi, training=True, rng=k)[0])(keys, x)
    assert out.shape == (3, 1, 16)


def test_specs_are_hashable_static_arguments():
    params, state, x, _ = _setup()
    apply = jax.jit(lambda model, p, s, x: model.apply(p, s, x)[0], static_argnums=0)
    first = apply(MODEL, params, state, x)
    same_spec = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(3)])
    assert same_spec == MODEL and hash(same_spec) == hash(MODEL)
    np.testing.assert_allclose(apply(same_spec, params, state, x), first)
