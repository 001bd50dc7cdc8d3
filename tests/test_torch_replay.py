"""The replay of a traced ATen graph (``backends/_torch/_replay.py``): generated calls
give the graph's results, and values computed once are never shared where a replay
could see another replay's writes."""
from __future__ import annotations

import torch
from torch.fx.experimental.proxy_tensor import make_fx

from purekeras.backends._torch._replay import replay_function, simplify


def _replayed(fn, *example):
    module = simplify(make_fx(fn)(*example))
    folded = [n for n in module.graph.nodes if n.op == "get_attr"]
    return replay_function(module), len(folded)


def test_replay_equals_the_function_and_folds_input_independent_values():
    def fn(x, y):
        scale = torch.arange(4.0).reshape(2, 2) + 1.0  # no input: computed once
        a, b = torch.split(x @ y * scale, 1)
        return [a.relu(), b - 3.0, x.sum(dim=0, keepdim=True)]

    x, y = torch.randn(2, 3), torch.randn(3, 2)
    replay, folded = _replayed(fn, x, y)
    assert folded == 1
    for _ in range(2):
        x, y = torch.randn(2, 3), torch.randn(3, 2)
        for got, want in zip(replay(x, y), fn(x, y)):
            assert torch.equal(got, want)


def test_values_that_are_returned_written_or_random_are_computed_at_every_replay():
    def fn(x):
        out = torch.zeros(3)  # returned: a caller may write to it
        acc = torch.ones(3)
        acc.add_(x)  # written in place
        view = torch.full((3,), 2.0).view(3)  # returned through a view
        noise = torch.rand(3)  # random
        return [out, acc, view, noise * 0 + x]

    replay, folded = _replayed(fn, torch.ones(3))
    assert folded == 0
    first = replay(torch.ones(3))
    first[0].add_(5.0)
    first[2].add_(5.0)
    second = replay(torch.full((3,), 2.0))
    assert torch.equal(second[0], torch.zeros(3))
    assert torch.equal(second[1], torch.full((3,), 3.0))
    assert torch.equal(second[2], torch.full((3,), 2.0))


def test_non_finite_and_object_arguments_survive_code_generation():
    def fn(x):
        return [torch.clamp(x, min=float("-inf"), max=float("nan")).to(torch.float64),
                torch.nan_to_num(x, posinf=float("inf"))]

    x = torch.tensor([1.0, float("inf"), -2.0])
    replay, _ = _replayed(fn, x)
    for got, want in zip(replay(x), fn(x)):
        assert got.dtype == want.dtype
        assert torch.equal(got.nan_to_num(7.0), want.nan_to_num(7.0))


def test_a_value_an_op_only_reads_is_folded_even_when_the_op_writes_others():
    def fn(x, y):
        y = y.clone()
        y.add_(torch.full((3,), 2.0))  # add_ writes y and only reads the constant
        return [y * x]

    replay, folded = _replayed(fn, torch.ones(3), torch.ones(3))
    assert folded == 1
    y = torch.ones(3)
    for _ in range(2):
        assert torch.equal(replay(torch.ones(3), y)[0], torch.full((3,), 3.0))
    assert torch.equal(y, torch.ones(3))


def test_a_value_reshaped_by_unsafe_view_is_not_shared():
    """``matmul`` of a 3-D input ends in ``aten._unsafe_view``, a view whose schema
    does not say so: the product is computed at every replay."""
    def fn(x):
        c = torch.ones(2, 3, 4) @ torch.ones(4, 5)
        c.add_(x.sum())
        return [c.sum(), torch.ones(2, 3, 4) @ torch.ones(4, 5)]

    replay, folded = _replayed(fn, torch.zeros(1))
    for _ in range(3):
        first, returned = replay(torch.ones(1))
        assert float(first) == 150.0 and float(returned.sum()) == 120.0
        returned.add_(100.0)
