"""Behaviour of the basic layers beyond the registry: dropout, errors, composition."""
from __future__ import annotations

import numpy as np
import pytest

import purekeras as pk
from purekeras import nn, ops, random


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


# -- Dropout ------------------------------------------------------------------


def test_dropout_inference_is_identity_without_rng(backend):
    x = ops.asarray(np.arange(6, dtype="float32").reshape(2, 3), backend=backend)
    y, state = nn.Dropout(0.5).apply({}, {}, x)
    np.testing.assert_array_equal(_np(y), _np(x))
    assert state == {}


def test_dropout_training_needs_rng(backend):
    x = ops.ones((2, 3), backend=backend)
    with pytest.raises(nn.LayerError, match=r"'dropout' \(Dropout\).*rng"):
        nn.Dropout(0.5).apply({}, {}, x, training=True)


def test_dropout_training_masks_and_scales(backend):
    x = ops.ones((100, 100), backend=backend)
    y = _np(nn.Dropout(0.25).apply({}, {}, x, training=True, rng=random.key(1, backend=backend))[0])
    assert set(np.unique(y).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.03


def test_dropout_same_rng_same_mask(backend):
    layer = nn.Dropout(0.5)
    x = ops.ones((4, 16), backend=backend)
    a = _np(layer.apply({}, {}, x, training=True, rng=random.key(3, backend=backend))[0])
    b = _np(layer.apply({}, {}, x, training=True, rng=random.key(3, backend=backend))[0])
    c = _np(layer.apply({}, {}, x, training=True, rng=random.key(4, backend=backend))[0])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_noise_shape_broadcasts_mask(backend):
    x = ops.ones((2, 5, 8), backend=backend)
    y = _np(nn.Dropout(0.5, noise_shape=(None, 1, 8)).apply(
        {}, {}, x, training=True, rng=random.key(0, backend=backend))[0])
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))


def test_dropout_rate_edges(backend):
    x = ops.ones((2, 3), backend=backend)
    key = random.key(0, backend=backend)
    np.testing.assert_array_equal(_np(nn.Dropout(1.0).apply({}, {}, x, training=True, rng=key)[0]), 0.0)
    np.testing.assert_array_equal(_np(nn.Dropout(0.0).apply({}, {}, x, training=True)[0]), 1.0)


def test_dropout_under_jit_matches_eager(backend):
    layer = nn.Dropout(0.4)
    x = ops.ones((3, 7), backend=backend)
    key = random.key(5, backend=backend)
    step = pk.jit(lambda x, k: layer.apply({}, {}, x, training=True, rng=k)[0],
                  backend=backend, donate_argnums=())
    np.testing.assert_array_equal(_np(step(x, key)),
                                  _np(layer.apply({}, {}, x, training=True, rng=key)[0]))


@pytest.mark.parametrize("kwargs, match", [
    ({"rate": 1.5}, r"rate must be a float in \[0, 1\]"),
    ({"rate": 0.5, "noise_shape": (2, 0)}, "noise_shape entries"),
])
def test_dropout_bad_arguments(kwargs, match):
    with pytest.raises(nn.LayerError, match=match):
        nn.Dropout(**kwargs)


def test_dropout_noise_shape_must_broadcast():
    with pytest.raises(nn.LayerError, match=r"noise_shape \(None, 3\).*\(None, 4\)"):
        nn.Dropout(0.5, noise_shape=(None, 3)).output_spec(nn.InputSpec((None, 4)))


# -- Activation, Identity ---------------------------------------------------------


def test_activation_unknown_name():
    with pytest.raises(nn.LayerError, match=r"'activation' \(Activation\).*Unknown activation 'relux'"):
        nn.Activation("relux")


def test_identity_passes_structures_through(backend):
    xs = {"a": ops.ones((1, 2), backend=backend), "b": ops.zeros((1,), backend=backend)}
    y, _ = nn.Identity().apply({}, {}, xs)
    assert y is xs
    spec = {"a": nn.InputSpec((None, 2))}
    assert nn.Identity().output_spec(spec) == spec


# -- Reshaping ----------------------------------------------------------------------


def test_reshape_size_mismatch_names_shapes():
    with pytest.raises(nn.LayerError, match=r"'reshape' \(Reshape\).*\(batch, \*\(3, 4\)\).*\(batch, \*\(5, 2\)\)"):
        nn.Reshape((5, 2)).output_spec(nn.InputSpec((None, 3, 4)))
    with pytest.raises(nn.LayerError, match="not a multiple of 5"):
        nn.Reshape((-1, 5)).output_spec(nn.InputSpec((None, 3, 4)))


def test_reshape_bad_target_shape():
    with pytest.raises(nn.LayerError, match="at most one -1"):
        nn.Reshape((-1, -1))
    with pytest.raises(nn.LayerError, match="positive ints"):
        nn.Reshape((0, 3))


def test_reshape_unknown_dims():
    assert nn.Reshape((-1, 2)).output_spec(nn.InputSpec((None, None, 4))).shape == (None, None, 2)
    assert nn.Flatten().output_spec(nn.InputSpec((None, None, 4))).shape == (None, None)


def test_flatten_reshape_in_sequential(backend):
    model = nn.Sequential([nn.Reshape((4, 3)), nn.Flatten(), nn.Dropout(0.5), nn.Dense(2)])
    params, state = model.init(random.key(0, backend=backend), nn.InputSpec((None, 3, 4)))
    assert sorted(params) == ["dense"]
    assert params["dense"]["kernel"].shape == (12, 2)
    x = ops.asarray(np.random.default_rng(0).standard_normal((5, 3, 4)).astype("float32"), backend=backend)
    y, _ = model.apply(params, state, x)
    expected = _np(x).reshape(5, 12) @ _np(params["dense"]["kernel"]) + _np(params["dense"]["bias"])
    np.testing.assert_allclose(_np(y), expected, rtol=1e-5, atol=1e-5)
    y_train, _ = model.apply(params, state, x, training=True, rng=random.key(1, backend=backend))
    assert y_train.shape == (5, 2)
    assert model.output_spec(nn.InputSpec((None, 3, 4))).shape == (None, 2)


def test_conv_style_stack_shapes(backend):
    model = nn.Sequential([nn.MaxPooling2D(2), nn.Flatten(), nn.Dense(3)])
    spec = nn.InputSpec((None, 8, 8, 2))
    params, state = model.init(random.key(0, backend=backend), spec)
    assert params["dense"]["kernel"].shape == (32, 3)
    y, _ = model.apply(params, state, ops.ones((2, 8, 8, 2), backend=backend))
    assert y.shape == (2, 3)


# -- channels_first and pooling errors --------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: nn.Flatten(data_format="channels_first"),
    lambda: nn.MaxPooling2D(data_format="channels_first"),
    lambda: nn.AveragePooling1D(data_format="channels_first"),
    lambda: nn.GlobalAveragePooling2D(data_format="channels_first"),
    lambda: nn.GlobalMaxPooling1D(data_format="channels_first"),
])
def test_channels_first_is_rejected(make):
    with pytest.raises(nn.LayerError, match="only"):
        make()


def test_pooling_argument_and_rank_errors():
    with pytest.raises(nn.LayerError, match=r"'max_pooling2d' \(MaxPooling2D\).*padding must be"):
        nn.MaxPooling2D(padding="full")
    with pytest.raises(nn.LayerError, match="pool_size must be"):
        nn.MaxPooling2D((2, 2, 2))
    with pytest.raises(nn.LayerError, match=r"rank 4, got shape \(None, 8, 3\)"):
        nn.MaxPooling2D().output_spec(nn.InputSpec((None, 8, 3)))
    with pytest.raises(nn.LayerError, match=r"pool_size \(5,\) is larger.*\(None, 3, 2\)"):
        nn.AveragePooling1D(5).output_spec(nn.InputSpec((None, 3, 2)))
    with pytest.raises(nn.LayerError, match=r"rank 3"):
        nn.GlobalAveragePooling1D().output_spec(nn.InputSpec((None, 4, 4, 3)))


def test_pooling_padding_is_case_insensitive():
    layer = nn.MaxPooling1D(2, padding="SAME")
    assert layer.padding == "same" and layer.strides == (2,)
    assert layer.output_spec(nn.InputSpec((None, 5, 1))).shape == (None, 3, 1)


# -- Embedding ----------------------------------------------------------------------


def test_embedding_lookup_and_default_initializer(backend):
    layer = nn.Embedding(6, 3)
    params, state = layer.init(random.key(0, backend=backend), nn.InputSpec((None, 2), "int32"))
    table = _np(params["embeddings"])
    assert table.min() >= -0.05 and table.max() <= 0.05 and table.std() > 0
    ids = ops.asarray(np.array([[5, 0], [2, 2]], dtype="float32"), backend=backend)  # cast to int
    y, _ = layer.apply(params, state, ids)
    np.testing.assert_array_equal(_np(y), table[[[5, 0], [2, 2]]])


def test_embedding_regularizer_and_mask_zero(backend):
    layer = nn.Embedding(4, 2, embeddings_initializer="ones", embeddings_regularizer=nn.regularizers.L2(0.5),
                         mask_zero=True)
    params, _ = layer.init(random.key(0, backend=backend), nn.InputSpec((None, 3), "int32"))
    assert float(layer.regularization_loss(params)) == pytest.approx(4.0)


def test_embedding_bad_arguments():
    with pytest.raises(nn.LayerError, match="input_dim must be a positive int"):
        nn.Embedding(0, 3)
    with pytest.raises(nn.LayerError, match="expected integer ids, got dtype bool"):
        nn.Embedding(3, 2).output_spec(nn.InputSpec((None, 2), "bool"))


# -- Merge layers -------------------------------------------------------------------


def test_merge_shape_mismatch_is_clear():
    specs = [nn.InputSpec((None, 3)), nn.InputSpec((None, 4))]
    with pytest.raises(nn.LayerError, match=r"'add' \(Add\).*incompatible shapes.*3.*4"):
        nn.Add().output_spec(specs)
    with pytest.raises(nn.LayerError, match=r"'multiply' \(Multiply\).*incompatible"):
        nn.Multiply().output_spec(specs)
    with pytest.raises(nn.LayerError, match=r"except along the concatenation axis 1.*\(None, 2, 3\)"):
        nn.Concatenate(axis=1).output_spec([nn.InputSpec((None, 2, 3)), nn.InputSpec((None, 2, 4))])
    with pytest.raises(nn.LayerError, match="same rank"):
        nn.Concatenate().output_spec([nn.InputSpec((None, 2, 3)), nn.InputSpec((None, 3))])
    with pytest.raises(nn.LayerError, match="different batch sizes"):
        nn.Add().output_spec([nn.InputSpec((2, 3)), nn.InputSpec((4, 3))])


def test_merge_needs_a_list(backend):
    with pytest.raises(nn.LayerError, match=r"list of InputSpecs.*nn.Add\(\)\(\[a, b\]\)"):
        nn.Add().output_spec(nn.InputSpec((None, 3)))
    with pytest.raises(nn.LayerError, match="list of inputs"):
        nn.Concatenate().apply({}, {}, ops.ones((1, 2), backend=backend))


def test_merge_shapes_with_unknown_dims():
    add = nn.Add().output_spec([nn.InputSpec((None, None, 4)), nn.InputSpec((None, 3, 1))])
    assert add.shape == (None, 3, 4)
    cat = nn.Concatenate(axis=1).output_spec([nn.InputSpec((None, None, 4)), nn.InputSpec((None, 3, 4))])
    assert cat.shape == (None, None, 4)


def test_merge_in_functional_graph(backend):
    inp = nn.Input((4,))
    a = nn.Dense(3)(inp)
    b = nn.Dense(3)(inp)
    out = nn.Concatenate()([nn.Add()([a, b]), nn.Multiply()([a, b])])
    graph = nn.Functional(inp, out)
    assert out.shape == (None, 6)
    params, state = graph.init(random.key(0, backend=backend))
    x = ops.asarray(np.random.default_rng(0).standard_normal((2, 4)).astype("float32"), backend=backend)
    y, _ = graph.apply(params, state, x)
    ya = _np(x) @ _np(params["dense"]["kernel"]) + _np(params["dense"]["bias"])
    yb = _np(x) @ _np(params["dense_1"]["kernel"]) + _np(params["dense_1"]["bias"])
    np.testing.assert_allclose(_np(y), np.concatenate([ya + yb, ya * yb], -1), rtol=1e-5, atol=1e-5)
