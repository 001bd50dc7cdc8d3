"""Data adapters: padding and masks, seeded shuffling, iterables, class weights, splits."""
from __future__ import annotations

import numpy as np
import pytest

from purekeras.train._data import (
    ArrayAdapter, EpochIterator, IterableAdapter, adapt, class_weight_to_sample_weight,
    split_validation, stack_batches, unpack_validation_data,
)


def _xy(n=10):
    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    return x, np.arange(n)


def test_array_batches_are_padded_and_masked():
    x, y = _xy(10)
    adapter = adapt(x, y, batch_size=4)
    assert isinstance(adapter, ArrayAdapter) and adapter.num_batches == 3
    batches = list(adapter.batches(0))
    assert [b[0].shape for b in batches] == [(4, 3)] * 3
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int32
    assert batches[-1][3].tolist() == [1, 1, 0, 0]
    assert batches[-1][1].tolist() == [8, 9, 0, 0]
    assert batches[0][2] is None  # no sample weights
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches])[:10], x.astype(np.float32))


def test_batches_without_padding_can_go_without_a_mask():
    """``mask_full=False`` (PyTorch's op-by-op steps): only padded batches carry a mask."""
    x, y = _xy(10)
    masks = [b[3] for b in adapt(x, y, batch_size=4).batches(0, mask_full=False)]
    assert masks[0] is None and masks[1] is None and masks[2].tolist() == [1, 1, 0, 0]
    stream = EpochIterator(IterableAdapter([(x[:4], y[:4]), (x[4:6], y[4:6])]), mask_full=False)
    assert [b[3] if b[3] is None else b[3].tolist() for _, _, g in stream.epoch(0) for b in g] == [
        None, [1, 1, 0, 0]]


def test_shuffle_is_seeded_by_seed_and_epoch():
    x, y = _xy(12)
    adapter = adapt(x, y, batch_size=12, shuffle=True, seed=3)
    order0 = next(adapter.batches(0))[1]
    again = next(adapt(x, y, batch_size=12, shuffle=True, seed=3).batches(0))[1]
    order1 = next(adapter.batches(1))[1]
    np.testing.assert_array_equal(order0, again)
    np.testing.assert_array_equal(order0, np.random.default_rng([3, 0]).permutation(12))
    assert sorted(order0.tolist()) == list(range(12)) and order0.tolist() != order1.tolist()
    # x and y stay aligned after shuffling.
    batch = next(adapter.batches(0))
    np.testing.assert_array_equal(batch[0][:, 0], batch[1] * 3)


def test_multi_input_dict_and_list():
    x = {"a": np.zeros((5, 2)), "b": np.ones((5, 3))}
    batch = next(adapt(x, np.zeros(5), batch_size=4).batches(0))
    assert batch[0]["a"].shape == (4, 2) and batch[0]["b"].shape == (4, 3)
    batch = next(adapt([np.zeros((5, 2)), np.ones((5, 1))], np.zeros(5), batch_size=2).batches(0))
    assert [a.shape for a in batch[0]] == [(2, 2), (2, 1)]


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same leading dimension"):
        adapt(np.zeros((5, 2)), np.zeros(4), batch_size=2)


def test_class_weight_becomes_sample_weight():
    assert class_weight_to_sample_weight(np.array([0, 1, 2]), {0: 2.0, 2: 0.5}).tolist() == [2.0, 1.0, 0.5]
    onehot = np.eye(3)[[2, 0]]
    assert class_weight_to_sample_weight(onehot, {2: 4.0}).tolist() == [4.0, 1.0]
    adapter = adapt(np.zeros((3, 1)), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]),
                    batch_size=3, class_weight={1: 10.0})
    assert next(adapter.batches(0))[2].tolist() == [1.0, 20.0, 30.0]


def test_iterable_of_batches_pads_to_first_batch():
    batches = [(np.ones((4, 2)), np.zeros(4)), (np.ones((3, 2)), np.zeros(3), np.full(3, 2.0))]
    adapter = adapt(batches)
    assert isinstance(adapter, IterableAdapter) and adapter.reiterable and adapter.num_batches == 2
    out = list(adapter.batches(0))
    assert out[1][0].shape == (4, 2) and out[1][3].tolist() == [1, 1, 1, 0]
    assert out[1][2].tolist() == [2.0, 2.0, 2.0, 0.0]
    assert len(list(adapter.batches(1))) == 2  # re-iterable


def test_generator_is_one_shot_and_streams_with_steps_per_epoch():
    def gen():
        for i in range(5):
            yield np.full((2, 1), i), np.zeros(2)

    adapter = adapt(gen())
    assert not adapter.reiterable
    it = EpochIterator(adapter, steps_per_epoch=2)
    firsts = [[float(b[0][0, 0]) for _, _, group in it.epoch(e) for b in group] for e in range(3)]
    assert firsts == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert it.exhausted


def test_steps_per_epoch_streams_over_reshuffled_passes():
    x, y = _xy(6)
    it = EpochIterator(adapt(x, y, batch_size=2, shuffle=True, seed=0), steps_per_epoch=4)
    labels = [np.concatenate([b[1] for _, _, g in it.epoch(e) for b in g]) for e in range(3)]
    # 3 epochs x 4 steps = 12 batches = 4 full passes of 3 batches; each pass is a permutation.
    flat = np.concatenate(labels)
    for p in range(4):
        assert sorted(flat[p * 6:(p + 1) * 6].tolist()) == list(range(6))
    assert not it.exhausted


def test_steps_per_execution_groups_and_stacks():
    x, y = _xy(10)
    it = EpochIterator(adapt(x, y, batch_size=2), steps_per_execution=2)
    groups = list(it.epoch(0))
    assert [(a, b, len(g)) for a, b, g in groups] == [(0, 1, 2), (2, 3, 2), (4, 4, 1)]
    stacked = stack_batches(groups[0][2])
    assert stacked[0].shape == (2, 2, 3) and stacked[2] is None and stacked[3].shape == (2, 2)


def test_validation_split_takes_the_last_fraction():
    x, y = _xy(10)
    (xt, yt, swt), (xv, yv, swv) = split_validation(x, y, None, 0.2)
    assert yt.tolist() == list(range(8)) and yv.tolist() == [8, 9] and swt is None and swv is None
    with pytest.raises(ValueError, match="iterable"):
        split_validation([(x, y)], None, None, 0.2)
    assert unpack_validation_data((x, y))[2] is None
    with pytest.raises(ValueError, match="validation_data"):
        unpack_validation_data((x,))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="Unsupported input type"):
        adapt(3)
    with pytest.raises(ValueError, match="do not pass y"):
        adapt([(np.zeros((2, 1)), np.zeros(2))], np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        adapt(np.zeros((2, 1)), batch_size=0)
