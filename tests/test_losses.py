"""Losses: Keras 3 as the oracle (every reduction, with and without sample weights),
padding with a mask, jit == eager, low precision, gradients, errors, names."""
from __future__ import annotations

import os

import numpy as np
import pytest

import purekeras as pk
from purekeras import ops
from purekeras.train import losses

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402  (the oracle; part of purekeras[test])

N, C = 6, 4
_RNG = np.random.default_rng(0)


def _f32(a):
    return np.asarray(a, dtype="float32")


def _probs(shape):
    x = _RNG.normal(size=shape)
    e = np.exp(x - x.max(-1, keepdims=True))
    return _f32(e / e.sum(-1, keepdims=True))


REG_TRUE, REG_PRED = _f32(_RNG.normal(size=(N, 3))), _f32(_RNG.normal(size=(N, 3)) * 2)
POS_TRUE, POS_PRED = _f32(_RNG.uniform(0.1, 3, (N, 3))), _f32(_RNG.uniform(0.1, 3, (N, 3)))
BIN_TRUE = _f32(_RNG.integers(0, 2, (N, 3)))
BIN_PROB, BIN_LOGIT = _f32(_RNG.uniform(0.01, 0.99, (N, 3))), _f32(_RNG.normal(size=(N, 3)) * 3)
LABELS = _RNG.integers(0, C, (N,)).astype("int32")
ONE_HOT = _f32(np.eye(C)[LABELS])
CAT_PROB, CAT_LOGIT = _probs((N, C)), _f32(_RNG.normal(size=(N, C)) * 2)
SIGNED = _f32(np.where(_RNG.integers(0, 2, (N, 3)) == 1, 1.0, -1.0))

# (id, loss class name (same in both libraries), kwargs, y_true, y_pred)
CASES = [
    ("mse", "MeanSquaredError", {}, REG_TRUE, REG_PRED),
    ("mse_rank", "MeanSquaredError", {}, REG_TRUE[:, 0], REG_PRED[:, :1]),
    ("mae", "MeanAbsoluteError", {}, REG_TRUE, REG_PRED),
    ("huber", "Huber", {}, REG_TRUE, REG_PRED),
    ("huber_delta", "Huber", {"delta": 0.4}, REG_TRUE, REG_PRED),
    ("mape", "MeanAbsolutePercentageError", {}, POS_TRUE, POS_PRED),
    ("msle", "MeanSquaredLogarithmicError", {}, POS_TRUE, POS_PRED),
    ("log_cosh", "LogCosh", {}, REG_TRUE, REG_PRED),
    ("bce", "BinaryCrossentropy", {}, BIN_TRUE, BIN_PROB),
    ("bce_logits", "BinaryCrossentropy", {"from_logits": True}, BIN_TRUE, BIN_LOGIT),
    ("bce_smooth", "BinaryCrossentropy", {"label_smoothing": 0.2}, BIN_TRUE, BIN_PROB),
    ("bce_logits_smooth", "BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, BIN_TRUE, BIN_LOGIT),
    ("bce_column", "BinaryCrossentropy", {}, BIN_TRUE[:, 0], BIN_PROB[:, :1]),
    ("cce", "CategoricalCrossentropy", {}, ONE_HOT, CAT_PROB),
    ("cce_logits", "CategoricalCrossentropy", {"from_logits": True}, ONE_HOT, CAT_LOGIT),
    ("cce_smooth", "CategoricalCrossentropy", {"label_smoothing": 0.1}, ONE_HOT, CAT_PROB),
    ("cce_logits_smooth", "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, ONE_HOT, CAT_LOGIT),
    ("scce", "SparseCategoricalCrossentropy", {}, LABELS, CAT_PROB),
    ("scce_unnormalised", "SparseCategoricalCrossentropy", {}, LABELS, CAT_PROB * 3.0),
    ("scce_logits", "SparseCategoricalCrossentropy", {"from_logits": True}, LABELS, CAT_LOGIT),
    ("scce_column", "SparseCategoricalCrossentropy", {"from_logits": True}, LABELS[:, None], CAT_LOGIT),
    ("scce_ignore", "SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": int(LABELS[0])},
     LABELS, CAT_LOGIT),
    ("scce_ignore_probs", "SparseCategoricalCrossentropy", {"ignore_class": int(LABELS[1])}, LABELS, CAT_PROB),
    ("kld", "KLDivergence", {}, CAT_PROB[::-1].copy(), CAT_PROB),
    ("poisson", "Poisson", {}, POS_TRUE, POS_PRED),
    ("cosine", "CosineSimilarity", {}, REG_TRUE, REG_PRED),
    ("hinge", "Hinge", {}, BIN_TRUE, BIN_LOGIT),
    ("hinge_signed", "Hinge", {}, SIGNED, BIN_LOGIT),
    ("squared_hinge", "SquaredHinge", {}, BIN_TRUE, BIN_LOGIT),
    ("categorical_hinge", "CategoricalHinge", {}, ONE_HOT, CAT_LOGIT),
]
IDS = [c[0] for c in CASES]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]
WEIGHTS = _f32(_RNG.uniform(0.0, 2.0, (N,)))


def _ours(name, kwargs, **extra):
    return getattr(losses, name)(**kwargs, **extra)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_keras(case, backend):
    _, name, kwargs, y_true, y_pred = case
    yt, yp = ops.asarray(y_true, backend=backend), ops.asarray(y_pred, backend=backend)
    for reduction in REDUCTIONS:
        for weight in (None, WEIGHTS):
            theirs = getattr(keras.losses, name)(**kwargs, reduction=reduction)(y_true, y_pred, sample_weight=weight)
            ours = _ours(name, kwargs, reduction=reduction)(yt, yp, None if weight is None else ops.asarray(weight, backend=backend))
            theirs = np.asarray(keras.ops.convert_to_numpy(theirs), dtype=np.float64)
            if reduction == "none":  # Keras keeps a trailing axis of 1 where the weights had one
                theirs = theirs.reshape(_np(ours).shape)
            np.testing.assert_allclose(_np(ours), theirs, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{case[0]} reduction={reduction} weighted={weight is not None}")


def _padded(y, rows=2):
    """``y`` with ``rows`` extra rows of other (valid) data at the end."""
    return np.concatenate([y, y[:rows][::-1] * (1.5 if y.dtype.kind == "f" and y.max() > 1.0 else 1)], axis=0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_padded_batch_with_mask_equals_unpadded(case, backend):
    _, name, kwargs, y_true, y_pred = case
    mask = ops.asarray(np.r_[np.ones(N), np.zeros(2)].astype("float32"), backend=backend)
    padded = [ops.asarray(_padded(a), backend=backend) for a in (y_true, y_pred, WEIGHTS)]
    plain = [ops.asarray(a, backend=backend) for a in (y_true, y_pred, WEIGHTS)]
    for reduction in REDUCTIONS:
        loss = _ours(name, kwargs, reduction=reduction)
        for weighted in (False, True):
            want = _np(loss(*plain[:2], plain[2] if weighted else None))
            got = _np(loss(*padded[:2], padded[2] if weighted else None, mask=mask))
            if reduction == "none":
                assert np.all(got[N:] == 0.0)
                got = got[:N]
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=f"{case[0]} {reduction}")
            if loss.per_example_mask(*plain[:2]) is None:  # the step's building blocks agree too
                values = loss.per_example(*padded[:2])
                got = _np(loss.reduce(values, padded[2] if weighted else None, mask))
                np.testing.assert_allclose(got[:N] if reduction == "none" else got, want, rtol=1e-6, atol=1e-7)


def test_padding_rows_with_non_finite_values_do_not_leak(backend):
    loss = losses.MeanSquaredError()
    values = ops.asarray(np.array([1.0, 3.0, np.nan, np.inf], "float32"), backend=backend)
    mask = ops.asarray(np.array([1, 1, 0, 0], "float32"), backend=backend)
    assert float(loss.reduce(values, mask=mask)) == 2.0


def test_jit_equals_eager(backend):
    """All cases in one compiled function (one trace), against eager."""
    data = [(ops.asarray(c[3], backend=backend), ops.asarray(c[4], backend=backend)) for c in CASES]
    weight = ops.asarray(WEIGHTS, backend=backend)
    specs = [_ours(c[1], c[2]) for c in CASES]

    def all_losses(data, weight):
        return [spec(yt, yp, weight) for spec, (yt, yp) in zip(specs, data)]

    compiled = pk.jit(all_losses, backend=backend, donate_argnums=())(data, weight)
    eager = all_losses(data, weight)
    for case, got, want in zip(CASES, compiled, eager):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, atol=1e-6, err_msg=case[0])


def test_low_precision_predictions_are_scored_in_float32(backend):
    y_pred16 = ops.cast(ops.asarray(BIN_LOGIT, backend=backend), "bfloat16")
    y_true = ops.asarray(BIN_TRUE, backend=backend)
    loss = losses.BinaryCrossentropy(from_logits=True)
    value = loss(y_true, y_pred16)
    assert ops.dtype(value) == "float32"
    want = loss(y_true, ops.cast(y_pred16, "float32"))
    assert float(value) == pytest.approx(float(want), rel=1e-6)
    assert ops.dtype(losses.MeanSquaredError(dtype="bfloat16")(y_true, y_pred16)) == "float32"


def test_gradients(backend):
    def grad_of(loss, y_true):
        return pk.jit(ops.grad(lambda p: loss(y_true, p), backend=backend), backend=backend, donate_argnums=())

    # d/dx sum(BCE(from_logits)) = (sigmoid(x) - y) / features (BCE averages the feature axis)
    y_true, logits = ops.asarray(BIN_TRUE, backend=backend), ops.asarray(BIN_LOGIT, backend=backend)
    grad = grad_of(losses.BinaryCrossentropy(from_logits=True, reduction="sum"), y_true)(logits)
    np.testing.assert_allclose(_np(grad), (1 / (1 + np.exp(-BIN_LOGIT)) - BIN_TRUE) / 3, rtol=1e-5, atol=1e-6)
    # ignore_class: finite gradients, none for ignored rows (probabilities path included).
    labels = ops.asarray(LABELS, backend=backend)
    for from_logits in (True, False):
        loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=int(LABELS[0]))
        grad = _np(grad_of(loss, labels)(ops.asarray(CAT_LOGIT if from_logits else CAT_PROB, backend=backend)))
        assert np.all(np.isfinite(grad))
        assert np.all(grad[LABELS == LABELS[0]] == 0.0)


def test_get_resolves_keras_names():
    expected = {
        "mse": losses.MeanSquaredError, "MSE": losses.MeanSquaredError, "mean_squared_error": losses.MeanSquaredError,
        "MeanSquaredError": losses.MeanSquaredError, "mae": losses.MeanAbsoluteError,
        "mean_absolute_error": losses.MeanAbsoluteError, "huber": losses.Huber, "huber_loss": losses.Huber,
        "binary_crossentropy": losses.BinaryCrossentropy, "bce": losses.BinaryCrossentropy,
        "categorical_crossentropy": losses.CategoricalCrossentropy,
        "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
        "mape": losses.MeanAbsolutePercentageError, "msle": losses.MeanSquaredLogarithmicError,
        "log_cosh": losses.LogCosh, "kld": losses.KLDivergence, "kl_divergence": losses.KLDivergence,
        "poisson": losses.Poisson, "hinge": losses.Hinge, "squared_hinge": losses.SquaredHinge,
        "categorical_hinge": losses.CategoricalHinge, "cosine_similarity": losses.CosineSimilarity,
    }
    for name, cls in expected.items():
        assert type(losses.get(name)) is cls, name
    assert losses.get(name) == cls()  # specs are values: equal and hashable
    assert hash(losses.BinaryCrossentropy(from_logits=True)) == hash(losses.BinaryCrossentropy(from_logits=True))
    spec = losses.Huber(0.5)
    assert losses.get(spec) is spec and spec.delta == 0.5
    assert losses.Huber().display_name == "huber_loss"
    assert losses.CategoricalCrossentropy().display_name == "categorical_crossentropy"
    with pytest.raises(ValueError, match="Unknown loss 'msee'.*mse"):
        losses.get("msee")
    with pytest.raises(TypeError, match="name or a callable"):
        losses.get(3)


def test_clear_errors(backend):
    def arr(*shape, dtype="float32"):
        return ops.zeros(shape, dtype, backend=backend)

    with pytest.raises(ValueError, match=r"MeanSquaredError: y_true has shape \(5, 3\) but y_pred has shape \(6, 3\)"):
        losses.MeanSquaredError()(arr(5, 3), arr(6, 3))
    with pytest.raises(ValueError, match=r"BinaryCrossentropy: y_true has shape \(6, 2\) but y_pred has shape \(6, 3\)"):
        losses.BinaryCrossentropy()(arr(6, 2), arr(6, 3))
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy: y_true has shape \(6, 2\).*\(6, 4\).*\(6,\)"):
        losses.SparseCategoricalCrossentropy()(arr(6, 2, dtype="int32"), arr(6, 4))
    with pytest.raises(ValueError, match=r"batch sizes \(5 vs 6\)"):
        losses.SparseCategoricalCrossentropy()(arr(5, dtype="int32"), arr(6, 4))
    with pytest.raises(ValueError, match=r"CategoricalCrossentropy: y_pred must have shape \(batch_size"):
        losses.CategoricalCrossentropy()(arr(6), arr(6))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(4,\) does not broadcast.*\(6,\)"):
        losses.MeanSquaredError()(arr(6, 1), arr(6, 1), arr(4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(NotImplementedError, match="must define call"):
        losses.Loss()(arr(2, 1), arr(2, 1))
