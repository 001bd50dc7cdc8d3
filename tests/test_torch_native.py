"""A PyTorch researcher's view: ``model.apply`` is a plain function of tensors.

It runs under ``torch.func.grad`` (equal to autograd's ``backward``),
``torch.func.vmap`` (per-sample gradients equal a loop), ``torch.func.jacrev``
(equal to ``torch.autograd.functional.jacobian``) and ``torch.compile(fullgraph=True)``
(no graph break: Dynamo captures one graph). Params and state are dicts of plain
leaf tensors that ``torch.optim`` takes as they are.

The compile test uses the ``aot_eager`` backend: Dynamo's capture and AOTAutograd's
tracing are what can break a graph; Inductor's C++ code generation adds ~30 s on
2 cores and no information about graph breaks.
"""
from __future__ import annotations

import optree
import torch

from purekeras import nn, random

MODEL = nn.Sequential([
    nn.Conv2D(4, 3, padding="same", activation="relu"),
    nn.BatchNormalization(),
    nn.Flatten(),
    nn.Dropout(0.3),
    nn.Dense(3),
])
SPEC = nn.InputSpec((None, 6, 6, 2))


def _setup(batch=5):
    params, state = MODEL.init(random.key(0, backend="torch"), SPEC)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 6, 6, 2, generator=gen)
    y = torch.randint(0, 3, (batch,), generator=gen)
    return params, state, x, y


def _loss(params, state, x, y, rng):
    logits, new_state = MODEL.apply(params, state, x, training=True, rng=rng)
    return torch.nn.functional.cross_entropy(logits, y), new_state


def _leaves(tree):
    return optree.tree_leaves(tree)


def _assert_trees_close(a, b, rtol=1e-5, atol=1e-6):
    assert optree.tree_structure(a) == optree.tree_structure(b)
    for u, v in zip(_leaves(a), _leaves(b), strict=True):
        torch.testing.assert_close(u, v, rtol=rtol, atol=atol)


def test_params_and_state_are_plain_tensors_torch_optim_can_train():
    params, state, x, y = _setup()
    leaves = _leaves(params)
    assert all(type(t) is torch.Tensor and t.is_leaf and not t.requires_grad for t in leaves)
    assert all(type(t) is torch.Tensor for t in _leaves(state))
    opt = torch.optim.SGD([t.requires_grad_() for t in leaves], lr=0.5)
    rng = random.key(1, backend="torch")
    losses = []
    for _ in range(5):
        opt.zero_grad(set_to_none=True)
        loss, state = _loss(params, state, x, y, rng)  # the same dropout mask each step
        loss.backward()
        opt.step()  # updates the tensors inside our params dict in place
        losses.append(float(loss.detach()))
        # The new batch-norm statistics carry no autograd history from step to step.
        assert not any(t.requires_grad for t in _leaves(state))
    assert losses[-1] < losses[0], losses


def test_func_grad_equals_autograd():
    params, state, x, y = _setup()
    rng = random.key(1, backend="torch")
    grads, new_state = torch.func.grad(_loss, has_aux=True)(params, state, x, y, rng)
    leaf_params = optree.tree_map(lambda t: t.detach().clone().requires_grad_(), params)
    loss, autograd_state = _loss(leaf_params, state, x, y, rng)
    loss.backward()
    _assert_trees_close(grads, optree.tree_map(lambda t: t.grad, leaf_params))
    _assert_trees_close(new_state, autograd_state)
    assert optree.tree_structure(grads) == optree.tree_structure(params)


def test_vmap_per_sample_gradients_equal_a_loop():
    params, state, x, y = _setup(batch=4)
    keys = random.split(random.key(2, backend="torch"), 4)  # one dropout key per sample

    def sample_loss(p, xi, yi, key):
        return _loss(p, state, xi[None], yi[None], key)[0]

    per_sample = torch.func.vmap(torch.func.grad(sample_loss), in_dims=(None, 0, 0, 0))(params, x, y, keys)
    for i in range(4):
        single = torch.func.grad(sample_loss)(params, x[i], y[i], keys[i])
        _assert_trees_close(optree.tree_map(lambda g, i=i: g[i], per_sample), single)


def test_jacrev_equals_autograd_jacobian():
    params, state, x, _ = _setup(batch=2)
    rng = random.key(3, backend="torch")

    def outputs(x):
        return MODEL.apply(params, state, x, training=True, rng=rng)[0]

    jacobian = torch.func.jacrev(outputs)(x)
    assert jacobian.shape == (2, 3, 2, 6, 6, 2)
    torch.testing.assert_close(jacobian, torch.autograd.functional.jacobian(outputs, x), rtol=1e-5, atol=1e-6)


def _forward(params, state, x, rng):
    return MODEL.apply(params, state, x, training=True, rng=rng)


def test_compile_fullgraph_without_graph_breaks():
    params, state, x, y = _setup()
    explanation = torch._dynamo.explain(_forward)(params, state, x, random.key(4, backend="torch"))
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1, str(explanation)[:2000]
    compiled = torch.compile(_forward, fullgraph=True, backend="aot_eager")
    for seed in (4, 5):  # a new key is new data, not a new graph
        key = random.key(seed, backend="torch")
        _assert_trees_close(compiled(params, state, x, key), _forward(params, state, x, key))
    # The gradient step compiles as one graph too.
    grad_step = torch.compile(torch.func.grad(_loss, has_aux=True), fullgraph=True, backend="aot_eager")
    key = random.key(6, backend="torch")
    _assert_trees_close(grad_step(params, state, x, y, key),
                        torch.func.grad(_loss, has_aux=True)(params, state, x, y, key))


def test_ops_value_and_grad_autograd_path_equals_torch_func_path():
    """Outside a transform ``ops.value_and_grad`` runs one ``torch.autograd.grad``;
    inside ``torch.func`` it nests as ``grad_and_value``: both give the same numbers,
    and the aux comes back detached from any graph."""
    from purekeras import ops

    params, state, x, y = _setup()
    rng = random.key(1, backend="torch")
    fn = ops.value_and_grad(lambda p: _loss(p, state, x, y, rng), has_aux=True, backend="torch")
    (value, new_state), grads = fn(params)
    assert value.grad_fn is None and all(t.grad_fn is None for t in optree.tree_leaves(new_state))
    # The same function under an (identity) vmap takes the functorch path.
    (value_f, _), grads_f = torch.func.vmap(lambda _: fn(params), randomness="same")(torch.zeros(1))
    torch.testing.assert_close(value_f[0], value)
    optree.tree_map(lambda a, b: torch.testing.assert_close(a[0], b), grads_f, grads)
