"""The replay of a traced ATen graph (``backends/_torch/_replay.py``): generated calls
give the graph's results, and values computed once are never shared where a replay
could see another replay's writes."""
from __future__ import annotations

import torch
from torch.fx.experimental.proxy_tensor import make_fx

from purekeras.backends._torch._replay import _entry, donated_clones, replay_function, simplify


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


def _donated(fn, *example):
    graph = make_fx(fn)(*example).graph
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    return {c.args[0].name for c in donated_clones(graph, set(inputs[:1]))}


def _update(p, g):
    out = p.clone()
    torch._foreach_add_([out], [g])  # how torch's fused kernels are traced: copy, then write
    return out


def test_a_donated_input_replaces_its_copy_only_when_nothing_sees_the_write():
    p, g = torch.zeros(2, 3), torch.ones(2, 3)
    assert _donated(lambda p, g: [_update(p, g), p.sum() * 2], p, g) == set()  # read after the write
    assert _donated(lambda p, g: [p.t().sum(), _update(p, g)], p, g) == {"p_1"}  # read (via a view) before
    assert _donated(lambda p, g: [_update(p, g), p.t()], p, g) == set()  # returned through a view
    assert _donated(lambda p, g: [_update(p, g), p], p, g) == set()  # returned as it is
    assert _donated(lambda p, g: [p.clone() * g], p, g) == set()  # a copy no op writes: kept

    def unbound_after(p, g):
        first, second = p.unbind(0)  # views handed out in a list
        return [_update(p, g), first * 1.0, second * 1.0]

    def written_into_after(p, g):
        acc = torch.zeros(2, 3)
        seen = acc.view(6)
        out = _update(p, g)
        acc.add_(p)  # reads p; its result is acc, not a view of p
        return [out, seen * 1.0]

    def input_written_after(p, g):
        out = _update(p, g)
        p.mul_(0.0)  # impure, but the write must not land in the updated values
        return [out]

    for fn in (unbound_after, written_into_after, input_written_after):
        assert _donated(fn, p.clone(), g) == set(), fn.__name__
    assert _donated(lambda p, g: [_update(g, p)], p, g) == set()  # the copy of an input not donated
    assert _donated(lambda p, g: [_update(p, g)], torch.zeros(3, 2).t(), g) == {"p_1"}  # keeps its layout
    assert _donated(lambda p, g: [_update(p.contiguous(), g)], torch.zeros(3, 2).t(), g) == set()  # changes it

    module = make_fx(lambda p, g: [p.t().sum(), _update(p, g)])(p, g)
    inputs = [n for n in module.graph.nodes if n.op == "placeholder"]
    replay = replay_function(module, donated_clones(module.graph, set(inputs[:1])))
    total, out = replay(p, g)
    assert float(total) == 0.0 and torch.equal(out, g) and torch.equal(p, g)  # written in place
    assert out is not p and out.data_ptr() == p.data_ptr()


def test_ops_run_through_torch_bindings_only_where_they_dispatch_to_the_recorded_overload():
    module = make_fx(lambda x: [torch.mm(x, x), x.to(torch.float64)])(torch.ones(2, 2))
    entries = {n.target: _entry(module, n) for n in module.graph.nodes if n.op == "call_function"}
    assert entries[torch.ops.aten.mm.default] is torch.mm
    assert entries[torch.ops.aten._to_copy.default] == torch.ops.aten._to_copy.default._op  # no binding
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    x.meta["val"] = torch.ones(2)
    node = graph.call_function(torch.ops.aten.add.Scalar, (x, 2))
    graph.output([node])
    module = torch.fx.GraphModule(torch.nn.Module(), graph)
    assert _entry(module, node) == torch.ops.aten.add.Scalar._op  # torch.add(x, 2) would be add.Tensor
    assert replay_function(module)(torch.ones(2))[0].tolist() == [3.0, 3.0]


def test_a_closed_over_tensor_is_read_at_every_replay_even_under_ones_like():
    closed = torch.ones(3)
    module = simplify(make_fx(lambda x: [x.sum() + torch.ones_like(closed) * closed])(torch.ones(2)))
    replay = replay_function(module)
    closed.resize_(5).fill_(2.0)  # resized in place between replays
    assert replay(torch.ones(2))[0].tolist() == [4.0] * 5
