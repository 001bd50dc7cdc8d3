"""Data adapters: every kind of input becomes padded NumPy batches.

A batch is ``(x, y, sample_weight, mask)``: ``x`` an array or a list/dict of
arrays, ``y`` an array (or ``None`` for predict), ``sample_weight`` an array or
``None``, ``mask`` float32 ones for real rows and zeros for padding. Every batch
of one adapter has the same shapes (the last one is padded), so a compiled step
never retraces. ``batches(epoch, mask_full=False)`` gives the batches without
padding ``mask=None`` instead of ones: a step that runs op by op (PyTorch) skips
the masking ops there, and only a padded batch has a signature of its own. One
adapter class per input kind sits behind ``adapt``: arrays, Python iterables, a
PyTorch ``DataLoader`` (``TorchDataLoaderAdapter``) and a ``tf.data.Dataset``
(``TFDatasetAdapter``); torch and TensorFlow are never imported here (an object
of theirs can only exist once they are).

>>> import numpy as np
>>> data = adapt(np.ones((5, 2)), np.arange(5), batch_size=2)
>>> [(b[0].shape, b[3].tolist()) for b in data.batches(epoch=0)]
[((2, 2), [1.0, 1.0]), ((2, 2), [1.0, 1.0]), ((2, 2), [1.0, 0.0])]
"""
from __future__ import annotations

import abc
import math
import sys
from typing import Iterator

import numpy as np
import optree

Batch = tuple  # (x, y, sample_weight, mask), NumPy


def _standardize(array) -> np.ndarray:
    """A NumPy array with float64 -> float32 and int64 -> int32 (as the backends compute)."""
    array = np.asarray(array)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64:
        return array.astype(np.int32)
    return array


def _tree_map(fn, tree):
    return optree.tree_map(fn, tree, none_is_leaf=False)


def _leaves(tree) -> list:
    return optree.tree_leaves(tree, none_is_leaf=False)


def class_weight_to_sample_weight(y, class_weight: dict) -> np.ndarray:
    """Per-example weights ``class_weight[label]`` (1.0 for classes not listed).

    ``y`` holds integer labels (shape ``(n,)`` or ``(n, 1)``) or one-hot rows.

    >>> class_weight_to_sample_weight(np.array([0, 1, 1]), {1: 3.0}).tolist()
    [1.0, 3.0, 3.0]
    """
    if y is None or isinstance(y, (list, dict)) or len(_leaves(y)) != 1:
        raise ValueError("class_weight needs a single array of targets y; for several outputs use sample_weight.")
    y = np.asarray(y)
    labels = np.argmax(y, axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.reshape(y, (len(y),))
    labels = np.round(labels).astype(np.int64)
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table.get(int(c), 1.0) for c in labels], dtype=np.float32)


def _combine_weights(sample_weight, class_weights):
    if class_weights is None:
        return sample_weight
    if sample_weight is None:
        return class_weights
    return np.asarray(sample_weight, np.float32) * class_weights


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    missing = size - array.shape[0]
    if missing <= 0:
        return array
    return np.concatenate([array, np.zeros((missing, *array.shape[1:]), array.dtype)])


class DataAdapter(abc.ABC):
    """One kind of input. ``batches(epoch)`` yields one pass of padded batches."""

    batch_size: int | None = None  # rows per batch after padding; None until known
    num_batches: int | None = None  # batches per pass; None if unknown
    reiterable: bool = True  # False for a one-shot iterator

    @abc.abstractmethod
    def batches(self, epoch: int, *, mask_full: bool = True) -> Iterator[Batch]:
        """One pass over the data; ``epoch`` seeds the shuffle where there is one.
        ``mask_full=False``: batches without padding carry ``mask=None``."""

    def peek(self) -> tuple | None:
        """``(x, y)`` of some data (for shapes and dtypes) without consuming any, or
        ``None`` where that is impossible (a one-shot iterator)."""
        return None


class ArrayAdapter(DataAdapter):
    """In-memory arrays (``x`` may be a list/dict of arrays), sliced into batches.

    With ``shuffle``, each epoch uses ``np.random.default_rng([seed, epoch])``."""

    def __init__(self, x, y=None, sample_weight=None, *, batch_size: int = 32, shuffle: bool = False,
                 class_weight: dict | None = None, seed: int = 0):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        self.x, self.y = _tree_map(_standardize, x), _tree_map(_standardize, y)
        weights = None if sample_weight is None else _standardize(sample_weight)
        if class_weight is not None:
            weights = _combine_weights(weights, class_weight_to_sample_weight(self.y, class_weight))
        self.sample_weight = weights
        self.num_examples = _num_examples(self.x, self.y, self.sample_weight)
        self.batch_size = batch_size
        self.num_batches = math.ceil(self.num_examples / batch_size)
        self.shuffle, self.seed = bool(shuffle), seed
        self._full_mask = np.ones((batch_size,), np.float32)

    def peek(self) -> tuple:
        return self.x, self.y

    def batches(self, epoch: int, *, mask_full: bool = True) -> Iterator[Batch]:
        data = (self.x, self.y, self.sample_weight)
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)
            data = _tree_map(lambda a: a[order], data)  # one copy per epoch; batches are views
        take = _slicer(data)  # per-step slicing without a pytree walk
        size, full = self.batch_size, self.num_examples // self.batch_size
        mask = self._full_mask if mask_full else None
        for start in range(0, full * size, size):
            x, y, sw = take(start, start + size)
            yield x, y, sw, mask
        rest = self.num_examples - full * size
        if rest:
            x, y, sw = _tree_map(lambda a: _pad(a[full * size:], size), data)
            mask = np.zeros((size,), np.float32)
            mask[:rest] = 1.0
            yield x, y, sw, mask


def _slicer(tree):
    """``take(lo, hi)``: ``tree`` with every array sliced to rows ``lo:hi``, built once."""
    if tree is None:
        return lambda lo, hi: None
    if isinstance(tree, dict):
        parts = {k: _slicer(v) for k, v in tree.items()}
        return lambda lo, hi: {k: take(lo, hi) for k, take in parts.items()}
    if isinstance(tree, (list, tuple)):
        parts = [_slicer(v) for v in tree]
        return lambda lo, hi: type(tree)([take(lo, hi) for take in parts])
    return lambda lo, hi: tree[lo:hi]


def _num_examples(x, y, sample_weight) -> int:
    sizes = {}
    for what, tree in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in _leaves(tree):
            if np.ndim(leaf) == 0:
                raise ValueError(f"{what} holds a scalar; every array needs a leading batch axis.")
            sizes.setdefault(what, []).append(leaf.shape[0])
    if "x" not in sizes:
        raise ValueError("x is empty: pass an array, or a list/dict of arrays.")
    counts = {n for ns in sizes.values() for n in ns}
    if len(counts) != 1:
        raise ValueError(
            f"Inputs disagree on the number of examples: {sizes}. "
            "x, y and sample_weight must all have the same leading dimension.")
    count = counts.pop()
    if count == 0:
        raise ValueError("The data has no examples (leading dimension 0).")
    return count


def _split_item(item) -> tuple:
    """``(x, y, sample_weight)`` from an iterable's item: a tuple of 1-3 parts or bare ``x``."""
    if isinstance(item, tuple):
        if not 1 <= len(item) <= 3:
            raise ValueError(
                f"A data iterable must yield x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(item)}.")
        return (*item, None, None)[:3]
    return item, None, None


class IterableAdapter(DataAdapter):
    """A Python iterable of ``(x, y)`` / ``(x, y, sample_weight)`` batches.

    Lists and objects whose ``__iter__`` gives a fresh iterator are re-iterable (one
    pass per epoch); a generator is one-shot. Batches smaller than the first one
    are padded to its size and masked."""

    def __init__(self, data, *, class_weight: dict | None = None):
        self.data = data
        self.reiterable = iter(data) is not data
        self.num_batches = len(data) if hasattr(data, "__len__") else None
        self.class_weight = class_weight
        self._iterator = None if self.reiterable else data

    def peek(self) -> tuple | None:
        if not self.reiterable:
            return None
        first = next(iter(self.data), None)
        return None if first is None else self._split(first)[:2]

    def _split(self, item) -> tuple:
        """``(x, y, sample_weight)`` of one item, as standardized NumPy arrays."""
        return _tree_map(_standardize, _split_item(item))

    def batches(self, epoch: int, *, mask_full: bool = True) -> Iterator[Batch]:
        for item in (iter(self.data) if self.reiterable else self._iterator):
            x, y, sw = self._split(item)
            if self.class_weight is not None:
                sw = _combine_weights(sw, class_weight_to_sample_weight(y, self.class_weight))
            rows = _num_examples(x, y, sw)
            if self.batch_size is None:
                self.batch_size = rows
            size = max(rows, self.batch_size)
            if rows == size:
                yield x, y, sw, (np.ones((size,), np.float32) if mask_full else None)
                continue
            mask = np.zeros((size,), np.float32)
            mask[:rows] = 1.0
            x, y, sw = _tree_map(lambda a: _pad(a, size), (x, y, sw))
            yield x, y, sw, mask


def _is_torch_data_loader(x) -> bool:
    """Whether ``x`` is a ``torch.utils.data.DataLoader`` (torch is never imported here:
    if it is not imported yet, ``x`` cannot be one)."""
    torch_data = sys.modules.get("torch.utils.data")
    return torch_data is not None and isinstance(x, torch_data.DataLoader)


def _tensor_to_numpy(value):
    """A PyTorch tensor as a NumPy copy; anything else as it is."""
    if type(value).__module__.partition(".")[0] != "torch":
        return value
    from ..backends import get_backend

    return get_backend("torch").to_numpy(value)


class TorchDataLoaderAdapter(IterableAdapter):
    """A ``torch.utils.data.DataLoader`` of ``(x, y)`` / ``(x, y, sample_weight)`` batches.

    Re-iterable (one pass of the loader per epoch; shuffling is the loader's own).
    The default collate gives each batch as a list: it is read as that tuple.
    Tensors become NumPy arrays and go through the same padding
    and masking as any iterable: a short last batch (``drop_last=False``) is padded
    to ``loader.batch_size``, so the step never retraces. Shapes for building the
    model come from ``collate_fn([dataset[0]])``, so no batch is drawn (and the
    sampler's random state is untouched) where the dataset is indexable.

    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(torch.ones(5, 2), torch.arange(5)), batch_size=2)
    >>> data = adapt(loader)
    >>> type(data).__name__, data.num_batches, [b[3].tolist() for b in data.batches(epoch=0)]
    ('TorchDataLoaderAdapter', 3, [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    >>> [(a.shape, a.dtype.name) for a in data.peek()]
    [((1, 2), 'float32'), ((1,), 'int32')]
    """

    def __init__(self, loader, *, class_weight: dict | None = None):
        super().__init__(loader, class_weight=class_weight)
        try:
            self.num_batches = len(loader)
        except TypeError:  # an IterableDataset without __len__
            self.num_batches = None
        self.batch_size = loader.batch_size  # None with a custom batch_sampler: the first batch's

    def _split(self, item) -> tuple:
        item = tuple(item) if isinstance(item, list) else item
        return super()._split(_tree_map(_tensor_to_numpy, item))

    def peek(self) -> tuple | None:
        import torch.utils.data

        dataset = self.data.dataset
        if isinstance(dataset, torch.utils.data.IterableDataset) or len(dataset) == 0:
            return super().peek()
        return self._split(self.data.collate_fn([dataset[0]]))[:2]


def _is_tf_dataset(x) -> bool:
    """Whether ``x`` is a ``tf.data.Dataset`` (TensorFlow is never imported here)."""
    dataset_ops = sys.modules.get("tensorflow.python.data.ops.dataset_ops")
    return dataset_ops is not None and isinstance(x, dataset_ops.DatasetV2)


class _NumpyBatches:
    """A ``tf.data.Dataset`` as a re-iterable of NumPy batches (one pass per ``iter``)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __iter__(self):
        return self.dataset.as_numpy_iterator()


class TFDatasetAdapter(IterableAdapter):
    """A batched ``tf.data.Dataset`` of ``(x, y)`` / ``(x, y, sample_weight)`` (``x`` may
    be a tuple or dict of inputs), for a model on any backend.

    Re-iterable: one pass of the dataset per epoch (shuffling is the dataset's own).
    Batches come out as NumPy (``as_numpy_iterator``), go through the same padding
    and masking as any iterable (a short last batch is padded to the first batch's
    size, so the step never retraces) and become the model's backend arrays in its
    compiled step. Shapes for building the model come from ``element_spec`` where
    it is static, so no element is drawn.

    >>> import tensorflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices((tf.ones((5, 2)), tf.range(5))).batch(2)
    >>> data = adapt(ds)
    >>> type(data).__name__, data.num_batches, [b[3].tolist() for b in data.batches(epoch=0)]
    ('TFDatasetAdapter', 3, [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    >>> [(a.shape, a.dtype.name) for a in data.peek()]
    [((1, 2), 'float32'), ((1,), 'int32')]
    """

    def __init__(self, dataset, *, class_weight: dict | None = None):
        super().__init__(_NumpyBatches(dataset), class_weight=class_weight)
        self.dataset = dataset
        cardinality = int(dataset.cardinality())
        self.num_batches = cardinality if cardinality >= 0 else None  # infinite (-1) / unknown (-2)

    def peek(self) -> tuple | None:
        spec = self.dataset.element_spec
        leaves = _leaves(spec)
        if not leaves or not all(s.shape.rank and None not in s.shape.as_list()[1:] for s in leaves):
            return super().peek()  # dynamic shapes: look at the first batch
        zeros = _tree_map(lambda s: np.zeros((1, *s.shape.as_list()[1:]), s.dtype.as_numpy_dtype), spec)
        return self._split(zeros)[:2]


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "__array__"))


def _is_array_like(x) -> bool:
    """An array, or a list/tuple/dict (nested) of arrays: multi-input data. A list whose
    items are tuples is an iterable of batches instead."""
    if _is_array(x):
        return True
    if isinstance(x, dict):
        return bool(x) and all(_is_array_like(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return bool(x) and all(_is_array(v) or isinstance(v, (list, dict)) and _is_array_like(v) for v in x)
    return False


def adapt(x, y=None, sample_weight=None, *, batch_size: int | None = None, shuffle: bool = False,
          class_weight: dict | None = None, seed: int = 0) -> DataAdapter:
    """The adapter for ``x``: arrays (or a list/dict of arrays) or an iterable of batches.

    >>> type(adapt([(np.zeros((2, 1)), np.zeros(2))])).__name__
    'IterableAdapter'
    """
    if isinstance(x, DataAdapter):
        return x
    if _is_torch_data_loader(x):
        _check_iterable_args(y, sample_weight, batch_size, "a DataLoader")
        return TorchDataLoaderAdapter(x, class_weight=class_weight)
    if _is_tf_dataset(x):
        _check_iterable_args(y, sample_weight, batch_size, "a tf.data.Dataset")
        return TFDatasetAdapter(x, class_weight=class_weight)
    if _is_array_like(x):
        return ArrayAdapter(x, y, sample_weight, batch_size=32 if batch_size is None else batch_size,
                            shuffle=shuffle, class_weight=class_weight, seed=seed)
    if hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict)):
        _check_iterable_args(y, sample_weight, batch_size, "an iterable")
        return IterableAdapter(x, class_weight=class_weight)
    raise TypeError(
        f"Unsupported input type {type(x).__name__}: pass NumPy arrays (or a list/dict of them), "
        "or an iterable of (x, y[, sample_weight]) batches.")


def _check_iterable_args(y, sample_weight, batch_size, what: str) -> None:
    if y is not None or sample_weight is not None:
        raise ValueError(
            f"When x is {what} of batches, it must yield (x, y[, sample_weight]) itself; "
            "do not pass y or sample_weight separately.")
    if batch_size is not None:
        raise ValueError(
            f"batch_size is set by the batches of {what}; do not pass batch_size with it.")


def split_validation(x, y, sample_weight, fraction: float):
    """Keras's ``validation_split``: the last ``fraction`` of the examples, before shuffling.

    >>> (x, y, _), (vx, vy, _) = split_validation(np.zeros((10, 1)), np.arange(10), None, 0.2)
    >>> vy.tolist()
    [8, 9]
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction!r}.")
    if not _is_array_like(x):
        raise ValueError("validation_split needs array inputs; with an iterable pass validation_data instead.")
    count = _num_examples(_tree_map(np.asarray, x), _tree_map(np.asarray, y),
                          None if sample_weight is None else np.asarray(sample_weight))
    split_at = int(math.floor(count * (1.0 - fraction)))
    if split_at == 0 or split_at == count:
        raise ValueError(
            f"validation_split={fraction} leaves an empty split of {count} examples; "
            "use a fraction that keeps examples on both sides.")
    head = _tree_map(lambda a: np.asarray(a)[:split_at], (x, y, sample_weight))
    tail = _tree_map(lambda a: np.asarray(a)[split_at:], (x, y, sample_weight))
    return head, tail


def unpack_validation_data(validation_data):
    """``(x, y, sample_weight)`` from Keras's ``validation_data`` tuple, or the iterable itself.

    >>> unpack_validation_data((np.zeros(2), np.ones(2)))[2] is None
    True
    """
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise ValueError(
                f"validation_data must be (x, y) or (x, y, sample_weight); got a tuple of {len(validation_data)}.")
        return (*validation_data, None)[:3]
    return validation_data, None, None


class EpochIterator:
    """Steps of one epoch, grouped by ``steps_per_execution``.

    ``epoch(e)`` yields ``(first_step, last_step, [batch, ...])`` with at most
    ``steps_per_execution`` batches each. With ``steps_per_epoch``, batches stream
    across passes (a new, reshuffled pass starts when one ends); a one-shot iterator
    (or empty data) that runs dry sets ``exhausted``. ``mask_full=False`` gives the
    batches without padding ``mask=None`` (see the module docstring).

    >>> it = EpochIterator(adapt(np.zeros((5, 1)), batch_size=2), steps_per_epoch=2)
    >>> [[s for s, _, _ in it.epoch(e)] for e in range(3)]
    [[0, 1], [0, 1], [0, 1]]
    """

    def __init__(self, adapter: DataAdapter, *, steps_per_epoch: int | None = None,
                 steps_per_execution: int = 1, mask_full: bool = True):
        if steps_per_epoch is not None and (not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0):
            raise ValueError(f"steps_per_epoch must be a positive int or None, got {steps_per_epoch!r}.")
        self.adapter, self.steps_per_epoch = adapter, steps_per_epoch
        self.steps_per_execution = steps_per_execution
        self.mask_full = mask_full
        self.exhausted = False
        self._stream = None  # the pass in progress, when steps_per_epoch is set
        self._pass = 0
        self._pass_yielded = False

    @property
    def steps(self) -> int | None:
        return self.steps_per_epoch or self.adapter.num_batches

    def _batches(self, epoch: int) -> Iterator[Batch]:
        if self.steps_per_epoch is None:
            yield from self.adapter.batches(epoch, mask_full=self.mask_full)
            return
        taken = 0
        while taken < self.steps_per_epoch:
            if self._stream is None:
                self._stream = iter(self.adapter.batches(self._pass, mask_full=self.mask_full))
                self._pass += 1
                self._pass_yielded = False
            batch = next(self._stream, None)
            if batch is None:
                self._stream = None
                if not self.adapter.reiterable or not self._pass_yielded:
                    self.exhausted = True
                    return
                continue
            self._pass_yielded = True
            taken += 1
            yield batch

    def epoch(self, epoch: int) -> Iterator[tuple[int, int, list]]:
        group: list = []
        step = 0
        for batch in self._batches(epoch):
            group.append(batch)
            if len(group) == self.steps_per_execution:
                yield step, step + len(group) - 1, group
                step += len(group)
                group = []
        if group:
            yield step, step + len(group) - 1, group


def stack_batches(batches: list) -> Batch:
    """``K`` batches stacked on a new leading axis, for ``train.make_multi_step``.

    >>> batch = (np.zeros((4, 3)), np.zeros(4), None, np.ones(4))
    >>> stack_batches([batch, batch])[0].shape
    (2, 4, 3)
    """
    return optree.tree_map(lambda *leaves: np.stack(leaves), *batches, none_is_leaf=False)
