"""Metrics: Keras 3 as the oracle over several weighted updates, merge of halves ==
whole, padding with a weight mask, jit == eager, names and resolution, errors."""
from __future__ import annotations

import os

import numpy as np
import pytest

import purekeras as pk
from purekeras import ops
from purekeras.train import metrics

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402  (the oracle; part of purekeras[test])

N, C = 8, 5
_RNG = np.random.default_rng(1)


def _f32(a):
    return np.asarray(a, dtype="float32")


def _batch(kind):
    """One batch of (y_true, y_pred) of the given kind."""
    if kind == "values":
        return None, _f32(_RNG.normal(size=(N,)))
    if kind == "exact":
        return _f32(_RNG.integers(0, 3, (N, 1))), _f32(_RNG.integers(0, 3, (N, 1)))
    if kind == "binary":
        y = _f32(_RNG.integers(0, 2, (N, 1)))
        return y, _f32(np.clip(0.6 * y + _RNG.uniform(0, 0.7, (N, 1)), 0, 1))
    if kind == "multilabel":
        y = _f32(_RNG.integers(0, 2, (N, 3)))
        p = _f32(np.clip(0.4 * y + _RNG.uniform(0, 0.7, (N, 3)), 0, 1))
        p[0, 0], p[1, 1] = 0.0, 1.0  # the end points take the special paths
        return y, p
    if kind == "logits":
        y = _f32(_RNG.integers(0, 2, (N, 1)))
        return y, _f32(2 * y - 1 + _RNG.normal(size=(N, 1)))
    labels = _RNG.integers(0, C, (N,))
    probs = _RNG.uniform(size=(N, C))
    probs = _f32(probs / probs.sum(-1, keepdims=True))
    if kind == "sparse":
        return labels.astype("int32"), probs
    if kind == "sparse_column":
        return labels[:, None].astype("int32"), probs
    if kind == "onehot":
        return _f32(np.eye(C)[labels]), probs
    if kind == "regression":
        return _f32(_RNG.normal(size=(N, 3))), _f32(_RNG.normal(size=(N, 3)))
    raise ValueError(kind)


# (id, our spec, the Keras metric, data kind)
CASES = [
    ("mean", metrics.Mean(), lambda: keras.metrics.Mean(), "values"),
    ("sum", metrics.Sum(), lambda: keras.metrics.Sum(), "values"),
    ("accuracy", metrics.Accuracy(), lambda: keras.metrics.Accuracy(), "exact"),
    ("binary_accuracy", metrics.BinaryAccuracy(), lambda: keras.metrics.BinaryAccuracy(), "binary"),
    ("binary_accuracy_07", metrics.BinaryAccuracy(threshold=0.7), lambda: keras.metrics.BinaryAccuracy(threshold=0.7),
     "multilabel"),
    ("categorical_accuracy", metrics.CategoricalAccuracy(), lambda: keras.metrics.CategoricalAccuracy(), "onehot"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy(),
     lambda: keras.metrics.SparseCategoricalAccuracy(), "sparse"),
    ("sparse_categorical_accuracy_column", metrics.SparseCategoricalAccuracy(),
     lambda: keras.metrics.SparseCategoricalAccuracy(), "sparse_column"),
    ("top_k", metrics.TopKCategoricalAccuracy(k=2), lambda: keras.metrics.TopKCategoricalAccuracy(k=2), "onehot"),
    ("top_k_default", metrics.TopKCategoricalAccuracy(), lambda: keras.metrics.TopKCategoricalAccuracy(), "onehot"),
    ("sparse_top_k", metrics.SparseTopKCategoricalAccuracy(k=2),
     lambda: keras.metrics.SparseTopKCategoricalAccuracy(k=2), "sparse"),
    ("mse", metrics.MeanSquaredError(), lambda: keras.metrics.MeanSquaredError(), "regression"),
    ("mae", metrics.MeanAbsoluteError(), lambda: keras.metrics.MeanAbsoluteError(), "regression"),
    ("rmse", metrics.RootMeanSquaredError(), lambda: keras.metrics.RootMeanSquaredError(), "regression"),
    ("precision", metrics.Precision(), lambda: keras.metrics.Precision(), "binary"),
    ("precision_thresholds", metrics.Precision(thresholds=(0.3, 0.5, 0.8)),
     lambda: keras.metrics.Precision(thresholds=[0.3, 0.5, 0.8]), "multilabel"),
    ("precision_even", metrics.Precision(thresholds=[0.0, 0.5, 1.0]),
     lambda: keras.metrics.Precision(thresholds=[0.0, 0.5, 1.0]), "multilabel"),
    ("precision_top_k", metrics.Precision(top_k=2), lambda: keras.metrics.Precision(top_k=2), "onehot"),
    ("precision_class_id", metrics.Precision(class_id=1), lambda: keras.metrics.Precision(class_id=1), "onehot"),
    ("recall", metrics.Recall(), lambda: keras.metrics.Recall(), "binary"),
    ("recall_thresholds", metrics.Recall(thresholds=(0.3, 0.5, 0.8)),
     lambda: keras.metrics.Recall(thresholds=[0.3, 0.5, 0.8]), "multilabel"),
    ("recall_top_k_class", metrics.Recall(top_k=2, class_id=3), lambda: keras.metrics.Recall(top_k=2, class_id=3),
     "onehot"),
    ("true_positives", metrics.TruePositives(thresholds=(0.2, 0.6)),
     lambda: keras.metrics.TruePositives(thresholds=[0.2, 0.6]), "multilabel"),
    ("false_positives", metrics.FalsePositives(), lambda: keras.metrics.FalsePositives(), "multilabel"),
    ("true_negatives", metrics.TrueNegatives(), lambda: keras.metrics.TrueNegatives(), "multilabel"),
    ("false_negatives", metrics.FalseNegatives(), lambda: keras.metrics.FalseNegatives(), "multilabel"),
    ("auc", metrics.AUC(), lambda: keras.metrics.AUC(), "binary"),
    ("auc_multilabel_flat", metrics.AUC(), lambda: keras.metrics.AUC(), "multilabel"),
    ("auc_pr", metrics.AUC(curve="PR"), lambda: keras.metrics.AUC(curve="PR"), "binary"),
    ("auc_50_minoring", metrics.AUC(num_thresholds=50, summation_method="minoring"),
     lambda: keras.metrics.AUC(num_thresholds=50, summation_method="minoring"), "multilabel"),
    ("auc_pr_majoring", metrics.AUC(curve="PR", summation_method="majoring"),
     lambda: keras.metrics.AUC(curve="PR", summation_method="majoring"), "multilabel"),
    ("auc_prgain", metrics.AUC(curve="PRGAIN"), lambda: keras.metrics.AUC(curve="PRGAIN"), "binary"),
    ("auc_logits", metrics.AUC(from_logits=True), lambda: keras.metrics.AUC(from_logits=True), "logits"),
    ("auc_thresholds", metrics.AUC(thresholds=[0.1, 0.35, 0.5, 0.9]),
     lambda: keras.metrics.AUC(thresholds=[0.1, 0.35, 0.5, 0.9]), "multilabel"),
    ("auc_label_weights", metrics.AUC(label_weights=[1.0, 0.5, 2.0]),
     lambda: keras.metrics.AUC(label_weights=[1.0, 0.5, 2.0]), "multilabel"),
    ("auc_multi_label", metrics.AUC(multi_label=True, num_labels=3),
     lambda: keras.metrics.AUC(multi_label=True, num_labels=3), "multilabel"),
    ("auc_multi_label_pr_weights", metrics.AUC(curve="PR", multi_label=True, num_labels=3, label_weights=(1, 2, 3)),
     lambda: keras.metrics.AUC(curve="PR", multi_label=True, num_labels=3, label_weights=[1, 2, 3]), "multilabel"),
]
IDS = [c[0] for c in CASES]
# Three updates per metric: unweighted, then two weighted ones (zeros included).
BATCHES = {kind: [_batch(kind) for _ in range(3)] for kind in {c[3] for c in CASES}}
SAMPLE_WEIGHTS = [None, _f32(_RNG.uniform(0, 2, (N,))), _f32(_RNG.integers(0, 3, (N,)))]


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def _args(metric_kind, y_true, y_pred, backend):
    y_pred = ops.asarray(y_pred, backend=backend)
    return (y_pred,) if metric_kind == "values" else (ops.asarray(y_true, backend=backend), y_pred)


def _run(spec, kind, batches, weights, backend):
    state = spec.init(backend=backend)
    for (y_true, y_pred), weight in zip(batches, weights):
        w = None if weight is None else ops.asarray(weight, backend=backend)
        state = spec.update(state, *_args(kind, y_true, y_pred, backend), w)
    return state


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_keras(case, backend):
    _, spec, keras_metric, kind = case
    theirs = keras_metric()
    for (y_true, y_pred), weight in zip(BATCHES[kind], SAMPLE_WEIGHTS):
        if kind == "values":
            theirs.update_state(y_pred, sample_weight=weight)
        else:
            theirs.update_state(y_true, y_pred, sample_weight=weight)
    ours = spec.result(_run(spec, kind, BATCHES[kind], SAMPLE_WEIGHTS, backend))
    np.testing.assert_allclose(_np(ours), np.asarray(keras.ops.convert_to_numpy(theirs.result()), np.float64),
                               rtol=1e-5, atol=1e-6)
    assert ops.shape(ours) == tuple(np.shape(keras.ops.convert_to_numpy(theirs.result())))


def _rows(batch, rows):
    return tuple(None if a is None else a[rows] for a in batch)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_merge_of_halves_equals_whole(case, backend):
    _, spec, _, kind = case
    batch, weight = BATCHES[kind][1], SAMPLE_WEIGHTS[1]
    whole = _run(spec, kind, [batch], [weight], backend)
    halves = [_run(spec, kind, [_rows(batch, rows)], [weight[rows]], backend)
              for rows in (slice(None, N // 2), slice(N // 2, None))]
    merged = spec.merge(*halves)
    assert sorted(merged) == sorted(whole)
    np.testing.assert_allclose(_np(spec.result(merged)), _np(spec.result(whole)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_padded_batch_with_weight_mask_equals_unpadded(case, backend):
    """The train step passes padding as zero weights: padded rows must not count."""
    _, spec, _, kind = case
    batch, weight = BATCHES[kind][2], SAMPLE_WEIGHTS[1]
    real = slice(None, N // 2)
    want = spec.result(_run(spec, kind, [_rows(batch, real)], [weight[real]], backend))
    padded_weight = np.where(np.arange(N) < N // 2, weight, 0.0).astype("float32")
    got = spec.result(_run(spec, kind, [batch], [padded_weight], backend))
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, atol=1e-6)


def test_jit_equals_eager(backend):
    """Every metric's update in one compiled function (one trace), against eager."""
    def update_all(states, data, weight):
        return [spec.update(state, *args, weight) for (_, spec, _, _), state, args in zip(CASES, states, data)]

    data = [_args(kind, *BATCHES[kind][1], backend) for _, _, _, kind in CASES]
    weight = ops.asarray(SAMPLE_WEIGHTS[1], backend=backend)
    states = [spec.init(backend=backend) for _, spec, _, _ in CASES]
    compiled = pk.jit(update_all, backend=backend, donate_argnums=())(states, data, weight)
    eager = update_all(states, data, weight)
    for (name, spec, _, _), got, want in zip(CASES, compiled, eager):
        np.testing.assert_allclose(_np(spec.result(got)), _np(spec.result(want)), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


def test_state_names_and_shapes_follow_keras(backend):
    assert sorted(metrics.Mean().init(backend=backend)) == ["count", "total"]
    auc_state = metrics.AUC().init(backend=backend)
    assert sorted(auc_state) == ["false_negatives", "false_positives", "true_negatives", "true_positives"]
    assert ops.shape(auc_state["true_positives"]) == (200,)
    assert ops.shape(metrics.AUC(multi_label=True, num_labels=3).init(backend=backend)["true_positives"]) == (200, 3)
    assert sorted(metrics.Precision(thresholds=[0.2, 0.4]).init(backend=backend)) == [
        "false_positives", "true_positives"]
    assert metrics.AUC(num_thresholds=4).all_thresholds == pytest.approx((-1e-7, 1 / 3, 2 / 3, 1 + 1e-7))


def test_get_resolves_keras_names_and_display_names():
    for name, cls in {"mse": metrics.MeanSquaredError, "mae": metrics.MeanAbsoluteError, "auc": metrics.AUC,
                      "AUC": metrics.AUC, "precision": metrics.Precision, "recall": metrics.Recall,
                      "top_k_categorical_accuracy": metrics.TopKCategoricalAccuracy,
                      "sparse_top_k_categorical_accuracy": metrics.SparseTopKCategoricalAccuracy,
                      "binary_accuracy": metrics.BinaryAccuracy, "categorical_accuracy": metrics.CategoricalAccuracy,
                      "mean_squared_error": metrics.MeanSquaredError, "RootMeanSquaredError": metrics.RootMeanSquaredError,
                      "sum": metrics.Sum, "mean": metrics.Mean}.items():
        metric = metrics.get(name)
        assert type(metric) is cls and metric.display_name == name, name
    # Keras's compile names "accuracy" after the string and picks the class from the data.
    for loss_name, cls in {"sparse_categorical_crossentropy": metrics.SparseCategoricalAccuracy,
                           "SparseCategoricalCrossentropy": metrics.SparseCategoricalAccuracy,
                           "categorical_crossentropy": metrics.CategoricalAccuracy,
                           "binary_crossentropy": metrics.BinaryAccuracy, "mse": metrics.Accuracy}.items():
        metric = metrics.get("accuracy", loss_name=loss_name)
        assert type(metric) is cls and metric.display_name == "accuracy", loss_name
    shapes = {((None,), (None, 10)): metrics.SparseCategoricalAccuracy,
              ((None, 1), (None, 10)): metrics.SparseCategoricalAccuracy,
              ((None, 10), (None, 10)): metrics.CategoricalAccuracy, ((None, 1), (None, 1)): metrics.BinaryAccuracy}
    for (y_true_shape, y_pred_shape), cls in shapes.items():
        metric = metrics.get("acc", loss_name="mse", y_true_shape=y_true_shape, y_pred_shape=y_pred_shape)
        assert type(metric) is cls and metric.display_name == "acc"
    # Default display names are Keras's default metric names.
    for spec, name in ((metrics.AUC(), "auc"), (metrics.TopKCategoricalAccuracy(), "top_k_categorical_accuracy"),
                       (metrics.Precision(), "precision"), (metrics.BinaryAccuracy(), "binary_accuracy"),
                       (metrics.RootMeanSquaredError(), "root_mean_squared_error")):
        assert spec.display_name == name
    assert metrics.AUC().direction == metrics.get("acc").direction == "up"
    assert metrics.get("mse").direction == "down" and metrics.Mean().direction is None
    spec = metrics.AUC(curve="PR", name="pr_auc")
    assert metrics.get(spec) is spec and spec.display_name == "pr_auc"
    assert hash(metrics.Precision(thresholds=[0.1, 0.2])) == hash(metrics.Precision(thresholds=(0.1, 0.2)))
    with pytest.raises(ValueError, match="Unknown metric 'aucc'.*'auc'"):
        metrics.get("aucc")
    with pytest.raises(TypeError, match="name or a Metric spec"):
        metrics.get(len)


def test_clear_errors(backend):
    def arr(*shape, dtype="float32"):
        return ops.zeros(shape, dtype, backend=backend)

    m = metrics.SparseCategoricalAccuracy()
    with pytest.raises(ValueError, match=r"SparseCategoricalAccuracy: y_true has shape \(5,\) but y_pred has shape \(6, 3\)"):
        m.update(m.init(backend=backend), arr(5), arr(6, 3))
    with pytest.raises(ValueError, match=r"integer labels must have shape \(6,\)"):
        m.update(m.init(backend=backend), arr(6, 2), arr(6, 3))
    m = metrics.Precision()
    with pytest.raises(ValueError, match=r"Precision: y_true has shape \(6, 2\) but y_pred has shape \(6, 3\)"):
        m.update(m.init(backend=backend), arr(6, 2), arr(6, 3))
    m = metrics.MeanSquaredError()
    with pytest.raises(ValueError, match=r"MeanSquaredError: y_true has shape \(4, 3\) but y_pred has shape \(6, 3\)"):
        m.update(m.init(backend=backend), arr(4, 3), arr(6, 3))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(4,\) does not broadcast"):
        m.update(m.init(backend=backend), arr(6, 3), arr(6, 3), arr(4))
    with pytest.raises(ValueError, match="thresholds must be floats in"):
        metrics.Recall(thresholds=1.5)
    with pytest.raises(ValueError, match="multi_label=True needs num_labels"):
        metrics.AUC(multi_label=True)
    with pytest.raises(ValueError, match="curve must be one of"):
        metrics.AUC(curve="DET")
    m = metrics.AUC(multi_label=True, num_labels=2)
    with pytest.raises(ValueError, match=r"num_labels=2 but y_pred has shape \(6, 3\)"):
        m.update(m.init(backend=backend), arr(6, 3), arr(6, 3))
