"""Layers and models: immutable specs with ``init`` / ``apply`` / ``output_spec``.

>>> from purekeras import nn, random, ops
>>> model = nn.Sequential([nn.Dense(16, activation="relu"), nn.Dense(3)])
>>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 5)))
>>> y, state = model.apply(params, state, ops.ones((2, 5), backend="jax"))
>>> y.shape
(2, 3)
"""
from . import _activations as activations
from . import _initializers as initializers
from . import _regularizers as regularizers
from ._compose import apply_child, child_key, init_child
from ._attention import MultiHeadAttention
from ._conv import Conv1D, Conv2D
from ._einsum_dense import EinsumDense
from ._normalization import BatchNormalization, LayerNormalization
from ._core_layers import Activation, Dropout, Identity
from ._embedding import Embedding
from ._merge import Add, Concatenate, Multiply
from ._pooling import (
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D,
)
from ._reshaping import Flatten, Reshape
from ._dense import Dense
from ._functional import Functional, Input, SymbolicTensor
from ._layer import Layer, LayerError, require_rng
from ._sequential import Sequential
from ._spec import InputSpec, spec_of

__all__ = [
    "activations", "initializers", "regularizers",
    "apply_child", "child_key", "init_child",
    "Dense", "Functional", "Input", "SymbolicTensor",
    "Layer", "LayerError", "require_rng", "Sequential", "InputSpec", "spec_of",
    "Activation", "Dropout", "Identity", "Embedding", "Add", "Concatenate", "Multiply",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "Flatten", "Reshape",
    "Conv1D", "Conv2D", "EinsumDense", "BatchNormalization", "LayerNormalization",
    "MultiHeadAttention",
]
