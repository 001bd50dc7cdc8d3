"""``pk.Model``: the stateful facade (``compile`` / ``fit`` / ``evaluate`` / ``predict``).

It holds a ``TrainState`` and runs only the pure steps of ``train`` compiled once
with ``pk.jit`` (the train step donates the state). Every batch has the same
shapes (the last one is padded and masked), so nothing retraces across batches
or epochs. Batches go to the compiled steps as NumPy arrays: the backend's
``jit`` takes them in directly.

>>> import numpy as np
>>> import purekeras as pk
>>> from purekeras import nn
>>> m = pk.Model(nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)]), input_shape=(4,), seed=0)
>>> loss = pk.train.losses.SparseCategoricalCrossentropy(from_logits=True)
>>> m = m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
>>> x, y = np.random.default_rng(0).normal(size=(50, 4)), np.arange(50) % 3
>>> history = m.fit(x, y, batch_size=16, epochs=2, verbose=0)
>>> sorted(history.history), m.predict(x, verbose=0).shape
(['accuracy', 'loss'], (50, 3))
"""
from __future__ import annotations

import collections
import os
import warnings
from typing import Sequence

import numpy as np
import optree

from .. import backends, ops, optim, random
from .. import state as state_lib
from .._jit import jit
from ..nn import Functional, Identity, InputSpec
from ..nn._naming import snake_case
from . import _steps as steps
from . import losses as losses_lib
from . import metrics as metrics_lib
from ._data import EpochIterator, adapt, split_validation, stack_batches, unpack_validation_data
from ._state import TrainState, init_metric_states, reset_metrics
from ._summary import summary_text
from .callbacks import CallbackList, logs_to_floats


def _input_spec(input_shape, input_spec):
    if input_shape is not None and input_spec is not None:
        raise ValueError("pk.Model: pass input_shape or input_spec, not both.")
    if input_spec is not None or input_shape is None:
        return input_spec
    if isinstance(input_shape, dict):
        return {k: _input_spec(v, None) for k, v in input_shape.items()}
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [_input_spec(s, None) for s in input_shape]
    return InputSpec((None, *input_shape))


def _loss_name(loss) -> str | None:
    """The name ``metrics.get`` uses to pick an accuracy: the string, class or function name."""
    if loss is None or isinstance(loss, str):
        return loss
    return snake_case(getattr(loss, "__name__", None) or type(loss).__name__)


def _verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


class Model:
    """A model spec with its state, trained the Keras way.

    ``model``: any layer spec (``nn.Sequential``, ``nn.Functional``, a layer).
    ``input_shape`` (per example, without the batch axis; a list/dict of shapes for
    several inputs) or ``input_spec`` build the weights at once; Functional models
    know their inputs; otherwise the weights are built from the first data seen.
    ``seed`` makes initialisation, dropout and shuffling reproducible: the weights
    equal ``train.init_state(model, opt, random.key(seed), spec).params``.
    ``backend`` (``"jax"``, ``"torch"``, ``"tensorflow"``) is this model's own: models
    on different backends train side by side in one process. On TensorFlow the steps
    are ``tf.function(jit_compile=True)``. On PyTorch each step is traced into an
    ATen graph on its second call and replayed after (``compile(jit_compile=True)``
    uses ``torch.compile``, ``False`` runs op by op); for small models on a small CPU call
    ``torch.set_num_threads(1)`` yourself (purekeras never changes it): two
    threads gain little there and lose many times over when other processes load
    the cores (``benchmarks/RESULTS.md``). ``backend="openvino"`` makes an
    inference-only model (``predict``, ``evaluate``, weights I/O; ``fit`` raises);
    any model predicts on OpenVINO with ``predict(x, backend="openvino")``.

    >>> import purekeras as pk
    >>> from purekeras import nn
    >>> m = pk.Model(nn.Sequential([nn.Dense(2)]), input_shape=(3,), backend="jax")
    >>> [w.shape for w in m.get_weights()], m.built
    ([(3, 2), (2,)], True)
    """

    def __init__(self, model, *, input_shape=None, input_spec=None, backend: str | None = None,
                 seed: int = 0):
        self.spec = model
        self.backend = backends.get_backend(backend).name
        self.seed = seed
        self.input_spec = _input_spec(input_shape, input_spec)
        self.optimizer = None
        self.loss = None
        self.metrics: tuple = ()  # the compiled metric specs (the loss tracker is implicit)
        self._metric_ids: tuple = ()
        self._loss_name = None
        self._metrics_settled = True
        self.steps_per_execution = 1
        self._jit_compile = None  # pk.jit's compile=: None is the backend's default
        self.stop_training = False  # callbacks set it to end fit
        self.history = None
        self._resume_at = None  # (epoch, step in it) where fit starts; set by BackupAndRestore
        self._ts: TrainState | None = None
        self._functions: dict = {}
        knows_its_inputs = isinstance(model, Functional) or getattr(model, "input_spec", None) is not None
        if self.input_spec is not None or knows_its_inputs:
            self.build(self.input_spec)

    # -- state ----------------------------------------------------------------------
    def build(self, input_spec=None) -> None:
        """Initialise the weights for inputs like ``input_spec`` (done for you)."""
        keys = random.split(random.key(self.seed, backend=self.backend))
        init_key, rng = keys[0], keys[1]
        if input_spec is None:
            params, model_state = self.spec.init(init_key)
        else:
            params, model_state = self.spec.init(init_key, input_spec)
        self._install(input_spec, params, model_state, rng)

    def _install(self, input_spec, params, model_state, rng) -> None:
        """Hold these weights (freshly made or loaded: their dicts in Keras's order)."""
        self.input_spec = input_spec
        # Keras's weight order, from the freshly created dicts (jit returns sorted dicts).
        self._weight_order = state_lib.weight_paths(self.spec, params, model_state)
        self._ts = TrainState(params, model_state, None, (), rng, ops.zeros((), "int32", backend=self.backend))
        if self.optimizer is not None:
            self._init_optimizer_state()

    @property
    def built(self) -> bool:
        return self._ts is not None

    def _require_built(self, what: str) -> TrainState:
        if self._ts is None:
            raise ValueError(
                f"Model.{what}: the model has no weights yet. Pass input_shape=... to pk.Model, "
                "or call fit/predict on arrays first.")
        return self._ts

    def _build_from(self, adapter) -> None:
        """Build from the data's shapes (if not built), then settle the metrics."""
        sample = adapter.peek()
        if self._ts is None:
            if sample is None:
                raise ValueError(
                    "pk.Model cannot infer input shapes from a one-shot generator without consuming it. "
                    "Pass input_shape=... (or input_spec=...) to pk.Model.")
            self.build(optree.tree_map(lambda a: InputSpec((None, *a.shape[1:]), a.dtype.name), sample[0]))
        if self.optimizer is not None and not self._metrics_settled:
            self._settle_metrics(None if sample is None else sample[1])

    def _settle_metrics(self, y) -> None:
        """Resolve metric names with the targets' and outputs' shapes, as Keras's compile
        does on the first data ("accuracy" -> binary, sparse or categorical accuracy)."""
        self._metrics_settled = True
        output = self.spec.output_spec(self.input_spec) if self.input_spec is not None else \
            self.spec.output_spec()
        if not isinstance(output, InputSpec) or y is None or not hasattr(y, "shape"):
            return
        metrics = tuple(metrics_lib.get(m, loss_name=self._loss_name, y_true_shape=(None, *y.shape[1:]),
                                        y_pred_shape=output.shape) for m in self._metric_ids)
        if metrics != self.metrics:
            self.metrics = metrics
            self._functions = {}
            self._ts = self._ts._replace(metrics=init_metric_states(self.metrics, self.backend))

    @property
    def train_state(self) -> TrainState:
        """The pure state the facade holds. ``fit`` donates it to the compiled step:
        arrays of a train state read before ``fit`` are invalid after it."""
        return self._require_built("train_state")

    @train_state.setter
    def train_state(self, value: TrainState) -> None:
        if not isinstance(value, TrainState):
            raise TypeError(f"Model.train_state must be a train.TrainState, got {type(value).__name__}.")
        self._ts = value

    @property
    def learning_rate(self) -> float:
        """The optimizer's current learning rate; setting it replaces the rate in the held
        optimizer state (``optimizer.with_learning_rate``), with no recompilation."""
        ts = self._require_compiled("learning_rate")
        return float(ops.convert_to_numpy(ts.opt_state.learning_rate))

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        ts = self._require_compiled("learning_rate")
        self._ts = ts._replace(opt_state=self.optimizer.with_learning_rate(ts.opt_state, float(value)))

    def get_weights(self) -> list[np.ndarray]:
        """NumPy copies of the weights in Keras's order (each layer's params, then its
        state, in creation order; composite layers depth-first)."""
        ts = self._require_built("get_weights")
        return state_lib.get_weights(self.spec, ts.params, ts.state, order=self._weight_order)

    def set_weights(self, weights: Sequence) -> None:
        """Set the weights from a list like ``get_weights()`` returns."""
        ts = self._require_built("set_weights")
        params, model_state = state_lib.set_weights(self.spec, ts.params, ts.state, weights,
                                                    order=self._weight_order)
        self._ts = ts._replace(params=params, state=model_state)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Write the weights; the suffix picks the format. ``.weights.h5``: Keras 3's file
        (with the optimizer's state once compiled), which ``keras.Model.load_weights`` reads;
        any other name: the portable format (``state.save_tree``, e.g. ``.npz``)."""
        ts = self._require_built("save_weights")
        filepath = os.fspath(filepath)
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"Model.save_weights: {filepath!r} exists and overwrite=False.")
        if filepath.endswith(".weights.h5"):
            state_lib.save_weights(filepath, self.spec, ts.params, ts.state, optimizer=self.optimizer,
                                   opt_state=ts.opt_state, input_spec=self.input_spec)
            return
        state_lib.save_tree(_portable_path(filepath), {"params": ts.params, "state": ts.state})

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Read weights written by ``save_weights`` (or Keras): ``.weights.h5`` and ``.keras``
        files are Keras 3's (the optimizer's state too, once compiled), other names the
        portable format. Every variable and shape must match."""
        ts = self._require_built("load_weights")
        filepath = os.fspath(filepath)
        if filepath.endswith((".weights.h5", ".keras")):
            params, model_state, opt_state = state_lib.load_weights(
                filepath, self.spec, ts.params, ts.state, optimizer=self.optimizer, opt_state=ts.opt_state,
                input_spec=self.input_spec)
            self._ts = ts._replace(params=params, state=model_state, opt_state=opt_state)
            return
        like = {"params": ts.params, "state": ts.state}
        loaded = state_lib.load_tree(_portable_path(filepath), like=like)
        new = optree.tree_map(lambda value, old: ops.asarray(value, ops.dtype(old), backend=self.backend),
                              loaded, like, none_is_leaf=False)
        self._ts = ts._replace(params=new["params"], state=new["state"])

    def save(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Write the whole model to a Keras 3 ``.keras`` file: its config, weights and, once
        compiled, its ``compile`` arguments and optimizer state (``pk.load_model`` and
        ``keras.saving.load_model`` read it)."""
        ts = self._require_built("save")
        filepath = os.fspath(filepath)
        if not filepath.endswith(".keras"):
            raise ValueError(f"Model.save: the filename must end in '.keras', got {filepath!r}. "
                             "Use save_weights for weights alone.")
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"Model.save: {filepath!r} exists and overwrite=False.")
        state_lib.save_model(filepath, self.spec, ts.params, ts.state, input_spec=self.input_spec,
                             optimizer=self.optimizer, opt_state=ts.opt_state, loss=self._loss_for_saving(),
                             metrics=self._metric_ids, steps_per_execution=self.steps_per_execution)

    def summary(self, print_fn=None) -> None:
        """Print a table of layers (name, class), output shapes and parameter counts."""
        ts = self._require_built("summary")
        text = summary_text(self.spec, ts.params, ts.state, self.input_spec, opt_state=ts.opt_state)
        (print_fn or print)(text)

    # -- compile --------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics: Sequence | None = None,
                steps_per_execution: int = 1, jit_compile="auto") -> "Model":
        """Choose the optimizer (a name or spec), the loss (a name, ``Loss`` or callable)
        and metrics (names or specs); returns ``self``. ``steps_per_execution=K`` runs K
        train steps per compiled call (``train.make_multi_step``). ``jit_compile``:
        ``"auto"`` is the backend's default (``pk.jit``: JAX compiles, PyTorch replays
        a traced ATen graph), ``True`` uses the compiler (``torch.compile``: ~30 s per
        step function on a small CPU, worth it for long runs), ``False`` runs eagerly."""
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be a positive int, got {steps_per_execution!r}.")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}.")
        self._jit_compile = None if jit_compile == "auto" else jit_compile
        self.optimizer = optim.get(optimizer)
        self.loss = None if loss is None else losses_lib.get(loss)
        self._loss_name = _loss_name(loss)
        self._metric_ids = tuple(metrics or ())
        self.metrics = tuple(metrics_lib.get(m, loss_name=self._loss_name) for m in self._metric_ids)
        self._metrics_settled = False
        self.steps_per_execution = steps_per_execution
        self._functions = {}
        if self._ts is not None:
            self._init_optimizer_state()
        return self

    def _init_optimizer_state(self) -> None:
        self._ts = self._ts._replace(opt_state=self.optimizer.init(self._ts.params),
                                     metrics=init_metric_states(self.metrics, self.backend))

    def _require_compiled(self, what: str) -> TrainState:
        if self.optimizer is None:
            raise ValueError(f"Model.{what}: call compile(optimizer=..., loss=...) first.")
        return self._require_built(what)

    @property
    def metrics_names(self) -> list[str]:
        return ["loss", *(m.display_name for m in self.metrics)]

    def _function(self, kind: str):
        if kind not in self._functions:
            self._functions[kind] = self._make_function(kind)
        return self._functions[kind]

    def _masks_every_batch(self) -> bool:
        """Whether batches without padding carry a mask of ones (one signature per
        epoch: what a whole-step compiler needs) or none (fewer ops, for PyTorch's
        replayed graphs and eager steps; a padded batch then traces once more).
        Stacked batches (``steps_per_execution``) always carry one."""
        return self.backend != "torch" or self._jit_compile is True or self.steps_per_execution > 1

    def _make_function(self, kind: str):
        options = {"backend": self.backend, "compile": self._jit_compile}
        if kind.startswith("train"):
            step = steps.make_train_step(self.spec, self.loss, self.optimizer, metrics=self.metrics)
            if kind == "train":
                return jit(step, **options)
            if kind == "train_multi":
                return jit(steps.make_multi_step(step, self.steps_per_execution), **options)

            def train_step_unlogged(ts, batch):
                # No callback reads a batch's logs: leave their ops out of the step (on
                # PyTorch, 4 per metric); the epoch's logs come from the metric states.
                return step(ts, batch)[0], None

            return jit(train_step_unlogged, **options)
        if kind == "eval":
            eval_step = steps.make_eval_step(self.spec, self.loss, metrics=self.metrics)

            def evaluate(ts, batch):  # returns only the metric states: no copy of the params
                new_ts, logs = eval_step(ts, batch)
                return new_ts.metrics, logs

            return jit(evaluate, donate_argnums=(), **options)
        if kind.startswith("predict:") or self.backend == "openvino":
            return _predict_step_on(kind.partition(":")[2] or self.backend, self.spec)
        return jit(steps.make_predict_step(self.spec), donate_argnums=(), **options)

    # -- fit ------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto",
            callbacks: Sequence | None = None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight: dict | None = None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1):
        """Train for ``epochs`` epochs, as Keras's ``fit``; returns the ``History``.

        ``x``: arrays (a list/dict of arrays for several inputs) with ``y``, or an
        iterable of ``(x, y[, sample_weight])`` batches (a one-shot generator needs
        ``steps_per_epoch``). ``batch_size`` defaults to 32 for arrays. Shuffling uses
        a NumPy generator seeded with ``(seed, epoch)``."""
        if self.optimizer is None:
            raise ValueError("Model.fit: call compile(optimizer=..., loss=...) first.")
        if self.loss is None:
            raise ValueError("Model.fit: compile() was given no loss; pass loss=... to compile.")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
        train = EpochIterator(
            adapt(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, class_weight=class_weight,
                  seed=self.seed),
            steps_per_epoch=steps_per_epoch, steps_per_execution=self.steps_per_execution,
            mask_full=self._masks_every_batch())
        self._build_from(train.adapter)
        val = None
        if validation_data is not None:
            vx, vy, vsw = unpack_validation_data(validation_data)
            val = adapt(vx, vy, vsw, batch_size=validation_batch_size or batch_size)
        _check_reiterable(train.adapter, steps_per_epoch, epochs - initial_epoch, "x", "steps_per_epoch")
        if val is not None:
            _check_reiterable(val, validation_steps, epochs - initial_epoch, "validation_data", "validation_steps")
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=train.steps)
        self.stop_training = False
        cbs.on_train_begin()
        initial_epoch, skip = self._take_resume(train, initial_epoch)
        epoch_logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            if not skip:  # resumed inside an epoch: keep the restored metric states
                self._ts = reset_metrics(self._ts, self.metrics)
            cbs.on_epoch_begin(epoch)
            logs = self._train_epoch(train, epoch, cbs, skip)
            skip = 0
            if train.exhausted:
                warnings.warn("fit: the input ran out of data; training stops. Give at least "
                              "steps_per_epoch * epochs batches.", stacklevel=2)
                self.stop_training = True
            epoch_logs = logs_to_floats(logs if logs is not None else steps.logs_from(self._ts.metrics, self.metrics))
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(
                    EpochIterator(val, steps_per_epoch=validation_steps, mask_full=self._masks_every_batch()), cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return cbs.history

    def _loss_for_saving(self):
        """The loss as Keras writes it: by its name when that name gives back the same
        loss (one compiled as ``"mse"``), else the object (a custom loss, or a built-in
        one with arguments)."""
        if self.loss is None or not isinstance(self._loss_name, str):
            return self.loss
        try:
            same = losses_lib.get(self._loss_name) == self.loss
        except (ValueError, TypeError):  # the name of a custom loss: no built-in has it
            same = False
        return self._loss_name if same else self.loss

    def _take_resume(self, train: EpochIterator, initial_epoch: int) -> tuple[int, int]:
        """``(epoch, steps to skip in it)`` where fit starts: ``(initial_epoch, 0)`` unless
        a callback's ``on_train_begin`` restored a run (``_resume_at``). A stream of
        ``steps_per_epoch`` batches is then advanced past the epochs already done."""
        if self._resume_at is None:
            return initial_epoch, 0
        (epoch, skip), self._resume_at = self._resume_at, None
        if train.steps_per_epoch is not None:
            for done in range(initial_epoch, epoch):
                collections.deque(train.epoch(done), maxlen=0)  # draw and drop its batches
        return epoch, skip

    def _train_epoch(self, train: EpochIterator, epoch: int, cbs: CallbackList, skip: int = 0):
        single = self._function("train" if cbs.reads_batch_logs("train") else "train_unlogged")
        multi = self._function("train_multi") if self.steps_per_execution > 1 else None
        batch_begin, batch_end = cbs.on_train_batch_begin, cbs.on_train_batch_end
        logs = None
        for first, last, group in train.epoch(epoch):
            if first < skip:  # resumed: these steps ran before the interruption
                if last < skip:
                    continue
                group, first = group[skip - first:], skip
            batch_begin(first)
            if multi is not None and len(group) == self.steps_per_execution:
                self._ts, logs = multi(self._ts, stack_batches(group))
            else:
                for batch in group:
                    self._ts, logs = single(self._ts, batch)
            batch_end(last, logs)
            if self.stop_training:
                break
        return logs

    # -- evaluate and predict ----------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 steps: int | None = None, callbacks: Sequence | None = None, return_dict: bool = False):
        """The loss and metrics on ``x``/``y``: a float without metrics, else
        ``[loss, *metrics]`` (or a dict with ``return_dict=True``)."""
        if self.optimizer is None:
            raise ValueError("Model.evaluate: call compile(optimizer=..., loss=...) first.")
        adapter = adapt(x, y, sample_weight, batch_size=batch_size)
        self._build_from(adapter)
        iterator = EpochIterator(adapter, steps_per_epoch=steps, mask_full=self._masks_every_batch())
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=iterator.steps)
        results = self._evaluate_loop(iterator, cbs)
        if return_dict:
            return results
        values = [results[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _evaluate_loop(self, iterator: EpochIterator, cbs: CallbackList) -> dict:
        evaluate = self._function("eval")
        metric_states = init_metric_states(self.metrics, self.backend)
        ts = self._ts
        cbs.on_test_begin()
        logs = None
        for first, last, group in iterator.epoch(0):
            cbs.on_test_batch_begin(first)
            for batch in group:
                metric_states, logs = evaluate(ts._replace(metrics=metric_states), batch)
            cbs.on_test_batch_end(last, logs)
        results = logs_to_floats(logs if logs is not None else steps.logs_from(metric_states, self.metrics))
        cbs.on_test_end(results)
        return results

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps: int | None = None,
                callbacks: Sequence | None = None, backend: str | None = None):
        """Outputs for ``x`` (arrays or an iterable of batches) as NumPy arrays, in the
        model's output structure. ``backend="openvino"`` runs the forward pass on
        OpenVINO's CPU plugin with the current weights (trained on any backend),
        compiled once per batch shape and kept until the weights change."""
        adapter = adapt(x, batch_size=batch_size)
        self._build_from(adapter)
        predict = self._function("predict" if backend in (None, self.backend) else f"predict:{backend}")
        iterator = EpochIterator(adapter, steps_per_epoch=steps)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=iterator.steps)
        cbs.on_predict_begin()
        outputs = []
        for first, last, group in iterator.epoch(0):
            cbs.on_predict_batch_begin(first)
            for batch_x, _, _, mask in group:
                y_pred = predict(self._ts, batch_x)
                outputs.append((y_pred, int(mask.sum())))
            cbs.on_predict_batch_end(last, {"outputs": y_pred})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("Model.predict: the input holds no batches.")
        trimmed = [optree.tree_map(lambda a, n=rows: np.asarray(ops.convert_to_numpy(a))[:n], y)
                   for y, rows in outputs]
        return optree.tree_map(lambda *parts: np.concatenate(parts), *trimmed)

    def __repr__(self) -> str:
        return (f"<pk.Model {getattr(self.spec, 'display_name', type(self.spec).__name__)} "
                f"backend={self.backend!r} built={self.built} compiled={self.optimizer is not None}>")


def _predict_step_on(backend: str, spec):
    """A ``(train_state, x) -> outputs`` step on an inference backend (OpenVINO)."""
    if backend != "openvino":
        raise ValueError(
            f"Model.predict: backend={backend!r} is not an inference backend; pass backend='openvino' "
            "(or leave it out to predict on the model's own backend).")
    from ..backends.openvino_backend import PredictStep

    return PredictStep(spec)


def _portable_path(filepath) -> str:
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".keras")):
        raise ValueError(
            f"{filepath!r}: Keras's weights files end in '.weights.h5' (save_weights / load_weights) and "
            "whole models in '.keras' (save / pk.load_model); other names use the portable format ('.npz').")
    return filepath


def load_model(filepath: str | os.PathLike, *, backend: str | None = None, custom_objects=None,
               safe_mode: bool = True, compile: bool = True, seed: int = 0) -> Model:
    """A ``pk.Model`` from a Keras 3 ``.keras`` file (written by ``Model.save`` or by Keras),
    compiled as it was saved, with its optimizer state: ``fit`` goes on where it stopped.

    Nothing in the file is executed or imported: only Keras's own layers, optimizers,
    losses and metrics are mapped; others need ``safe_mode=False`` and
    ``custom_objects={name: purekeras object}`` (``state.load_model``).

    >>> import os, tempfile
    >>> import purekeras as pk
    >>> from purekeras import nn
    >>> m = pk.Model(nn.Sequential([nn.Dense(2)]), input_shape=(3,)).compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> m.save(path)
    >>> restored = pk.load_model(path)
    >>> [w.shape for w in restored.get_weights()], type(restored.optimizer).__name__
    ([(3, 2), (2,)], 'SGD')
    """
    backend = backends.get_backend(backend).name
    loaded = state_lib.load_model(filepath, backend=backend, custom_objects=custom_objects,
                                  safe_mode=safe_mode, compile=compile)
    model = Model(Identity(), backend=backend, seed=seed)  # builds nothing: the weights come from the file
    model.spec = loaded.model
    model._install(loaded.input_spec, loaded.params, loaded.state,
                   random.split(random.key(seed, backend=backend))[1])
    if loaded.compile_args is not None:
        args = loaded.compile_args
        model.compile(optimizer=args.optimizer, loss=args.loss, metrics=list(args.metrics),
                      steps_per_execution=args.steps_per_execution)
    ts = model._require_built("load_model")
    if loaded.opt_state is not None:
        step = ops.asarray(ops.convert_to_numpy(loaded.opt_state.iterations), "int32", backend=backend)
        ts = ts._replace(opt_state=loaded.opt_state, step=step)
    model._ts = ts
    return model


def _check_reiterable(adapter, steps: int | None, epochs: int, what: str, steps_name: str) -> None:
    if not adapter.reiterable and steps is None and epochs > 1:
        raise ValueError(
            f"fit: {what} is a one-shot iterator (a generator), which runs dry after one epoch. "
            f"Pass {steps_name}=... (batches per epoch) or a re-iterable (a list, or an object whose "
            "__iter__ returns a fresh iterator).")
