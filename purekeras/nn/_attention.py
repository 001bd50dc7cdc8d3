"""MultiHeadAttention: a composite of four EinsumDense children, as in Keras 3.

Children (and their params) are named ``query_dense``, ``key_dense``,
``value_dense`` and ``output_dense``; Keras's ``set_weights`` order is query
kernel, query bias, key kernel, key bias, value kernel, value bias, output
kernel, output bias.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Any

from .. import ops
from . import _regularizers as regularizers
from ._compose import apply_child, init_child
from ._core_layers import Dropout
from ._einsum_dense import EinsumDense
from ._layer import Layer, require_rng
from ._spec import InputSpec

_CHILDREN = ("query_dense", "key_dense", "value_dense", "output_dense")


def _projection(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str]:
    """Einsum equation and bias axes of a projection: ``free`` axes kept, ``bound``
    axes contracted, ``output`` axes produced."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out


def _attention_equations(rank: int, attention_axes: tuple[int, ...]) -> tuple[str, str]:
    """Einsum equations for ``scores = key . query`` and ``output = scores . value``,
    for projected tensors ``(batch, ..., heads, channels)`` of ``rank``; the scores
    are ``(batch dims, heads, query attention dims, key attention dims)``."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source = list(target)
    fresh = iter(letters[rank:])
    for i in attention_axes:
        source[i] = next(fresh)
    source = "".join(source)
    product = ("".join(target[i] for i in batch_dims) + "".join(target[i] for i in attention_axes)
               + "".join(source[i] for i in attention_axes))
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


@dataclass(frozen=True)
class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017).

    ``apply(params, state, [query, value])`` or ``[query, value, key]`` (``key``
    defaults to ``value``), with keyword-only ``attention_mask`` (boolean,
    ``(batch, T, S)``: True where a query position may attend to a key position),
    ``use_causal_mask`` and ``return_attention_scores``. Per head ``h``::

        scores_h = softmax(q_h k_h^T / sqrt(key_dim)),  out = concat_h(scores_h v_h) W_o

    With ``dropout > 0`` the attention probabilities are dropped in training, which
    needs ``rng=``.

    >>> from purekeras import nn, random, ops
    >>> mha = nn.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> spec = nn.InputSpec((None, 5, 8))
    >>> params, state = mha.init(random.key(0, backend="jax"), [spec, spec])
    >>> sorted(params), params["query_dense"]["kernel"].shape
    (['key_dense', 'output_dense', 'query_dense', 'value_dense'], (8, 2, 4))
    >>> x = ops.ones((3, 5, 8), backend="jax")
    >>> mha.apply(params, state, [x, x])[0].shape
    (3, 5, 8)
    """

    num_heads: int
    key_dim: int
    value_dim: int | None = None
    dropout: float = 0.0
    use_bias: bool = True
    output_shape: Any = None
    attention_axes: Any = None
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None

    def __post_init__(self):
        for what in ("num_heads", "key_dim"):
            value = getattr(self, what)
            if not isinstance(value, int) or value <= 0:
                raise self.error(f"{what} must be a positive int, got {value!r}.")
        if self.value_dim is not None and (not isinstance(self.value_dim, int) or self.value_dim <= 0):
            raise self.error(f"value_dim must be a positive int or None, got {self.value_dim!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise self.error(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.output_shape is not None:
            shape = (self.output_shape,) if isinstance(self.output_shape, int) else tuple(self.output_shape)
            object.__setattr__(self, "output_shape", shape)
        if self.attention_axes is not None:
            axes = self.attention_axes
            axes = (axes,) if isinstance(axes, int) else tuple(axes)
            if not axes or not all(isinstance(a, int) for a in axes):
                raise self.error(f"attention_axes must be None, an int or a tuple of ints, got {axes!r}.")
            object.__setattr__(self, "attention_axes", axes)

    # -- structure -------------------------------------------------------------------
    def _inputs(self, inputs, what: str):
        """``(query, value, key)`` from ``[query, value]`` or ``[query, value, key]``."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise self.error(
                f"{what} must be a list [query, value] or [query, value, key], got {inputs!r}."
            )
        query, value = inputs[0], inputs[1]
        return query, value, inputs[2] if len(inputs) == 3 else value

    def _axes(self, rank: int) -> tuple[int, ...]:
        """Attention axes of the projected tensors (rank ``rank``), as Keras normalises them."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 2))
        axes = tuple(a if a >= 0 else rank - 1 + a for a in self.attention_axes)
        if any(not 1 <= a <= rank - 3 for a in axes) or len(set(axes)) != len(axes):
            raise self.error(
                f"attention_axes {self.attention_axes} must name distinct axes among the "
                f"non-batch, non-feature axes 1..{rank - 3} of the inputs."
            )
        return tuple(sorted(axes))

    def _children(self, query: InputSpec, value: InputSpec, key: InputSpec):
        """``{name: (EinsumDense spec, its input spec)}`` for these input specs."""
        for what, spec in (("query", query), ("value", value), ("key", key)):
            if not isinstance(spec, InputSpec):
                raise self.error(f"{what} must be an InputSpec, got {spec!r}.")
            if spec.rank < 3 or spec.shape[-1] is None:
                raise self.error(
                    f"{what} must have rank >= 3 (batch, ..., features) with a known last "
                    f"axis, got shape {spec.shape}."
                )
        if not query.rank == value.rank == key.rank:
            raise self.error(
                f"query, value and key must have the same rank, got shapes {query.shape}, "
                f"{value.shape} and {key.shape}."
            )
        if value.shape[1:-1] != key.shape[1:-1]:
            raise self.error(
                f"value and key must agree on every axis but the last, got value shape "
                f"{value.shape} and key shape {key.shape}."
            )
        rank = query.rank
        common = dict(kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
                      kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                      dtype=self.dtype)
        equation, bias_axes = _projection(rank - 1, 1, 2)
        free = [None] * (rank - 2)
        value_dim = self.value_dim or self.key_dim

        def dense(equation, bias_axes, output_shape):
            return EinsumDense(equation, tuple(output_shape), bias_axes=bias_axes if self.use_bias else None,
                               **common)

        out_shape = self.output_shape or (query.shape[-1],)
        out_equation, out_bias = _projection(rank - 1, 2, len(out_shape))
        heads_spec = InputSpec((*query.shape[:-1], self.num_heads, value_dim), query.dtype)
        return {
            "query_dense": (dense(equation, bias_axes, [*free, self.num_heads, self.key_dim]), query),
            "key_dense": (dense(equation, bias_axes, [*free, self.num_heads, self.key_dim]), key),
            "value_dense": (dense(equation, bias_axes, [*free, self.num_heads, value_dim]), value),
            "output_dense": (dense(out_equation, out_bias, [*free, *out_shape]), heads_spec),
        }

    # -- the three verbs ------------------------------------------------------------------
    def init(self, key, input_spec):
        children = self._children(*self._inputs(input_spec, "input_spec"))
        self._axes(input_spec[0].rank + 1)
        params: dict = {}
        state: dict = {}
        for name in _CHILDREN:
            layer, spec = children[name]
            init_child(layer, name, key, spec, params, state)
        return params, state

    @property
    def uses_rng(self) -> bool:
        return self.dropout > 0.0

    def apply(self, params, state, inputs, *, training=False, rng=None, attention_mask=None,
              use_causal_mask: bool = False, return_attention_scores: bool = False):
        query, value, key = self._inputs(inputs, "the input")
        specs = [InputSpec(ops.shape(t), ops.dtype(t)) for t in (query, value, key)]
        children = self._children(*specs)
        new_state: dict = {}

        def child(name, x):
            return apply_child(children[name][0], name, params, state, x, training=training, rng=rng,
                               new_state=new_state)

        q, k, v = child("query_dense", query), child("key_dense", key), child("value_dense", value)
        axes = self._axes(ops.ndim(q))
        dot_equation, combine_equation = _attention_equations(ops.ndim(q), axes)
        q = ops.multiply(q, 1.0 / math.sqrt(float(self.key_dim)))
        scores = ops.einsum(dot_equation, k, q)
        mask = self._mask(attention_mask, use_causal_mask, axes, q, k, ops.ndim(scores))
        probs = self._softmax(scores, mask, tuple(range(ops.ndim(scores) - len(axes), ops.ndim(scores))))
        dropped = probs
        if training and self.dropout > 0.0:  # Keras drops the probabilities, not the scores
            dropped, _ = Dropout(self.dropout, dtype=self.dtype).apply(
                {}, {}, probs, training=True, rng=require_rng(self, rng))
        out = child("output_dense", ops.einsum(combine_equation, dropped, v))
        return ((out, probs) if return_attention_scores else out), state

    def _mask(self, attention_mask, use_causal_mask, axes, q, k, scores_rank):
        """The boolean mask broadcastable to the scores, or None."""
        mask = None
        if attention_mask is not None:
            mask = attention_mask if ops.dtype(attention_mask) == "bool" else ops.not_equal(attention_mask, 0)
        if use_causal_mask:
            if axes != (1,):
                raise self.error(f"use_causal_mask needs attention over axis 1 only, got axes {axes}.")
            backend = ops.backend_name(q)
            rows = ops.expand_dims(ops.arange(ops.shape(q)[1], dtype="int32", backend=backend), -1)
            cols = ops.expand_dims(ops.arange(ops.shape(k)[1], dtype="int32", backend=backend), 0)
            causal = ops.greater_equal(rows, cols)  # (T, S): query t sees keys s <= t
            mask = causal if mask is None else ops.logical_and(mask, causal)
        if mask is None:
            return None
        if ops.ndim(mask) > scores_rank:
            raise self.error(
                f"attention_mask of shape {ops.shape(mask)} has more axes than the attention "
                f"scores {scores_rank}; pass (batch, T, S)."
            )
        while ops.ndim(mask) < scores_rank:  # broadcast over the heads axis (and batch)
            mask = ops.expand_dims(mask, -2 * len(axes) - 1)
        return mask

    def _softmax(self, scores, mask, axes):
        """Softmax over ``axes``; masked positions get probability 0. Low-precision
        scores are normalised in float32."""
        dtype = ops.dtype(scores)
        x = ops.cast(scores, "float32") if dtype in ("float16", "bfloat16") else scores
        if mask is not None:
            x = ops.where(mask, x, ops.full_like(x, -1e9))
        probs = ops.softmax(x, axis=axes if len(axes) > 1 else axes[0])
        if mask is not None:
            probs = ops.where(mask, probs, ops.zeros_like(probs))
        return ops.cast(probs, dtype)

    def output_spec(self, input_spec):
        query, value, key = self._inputs(input_spec, "input_spec")
        self._children(query, value, key)
        self._axes(query.rank + 1)
        out_shape = self.output_shape or (query.shape[-1],)
        return InputSpec((*query.shape[:-1], *out_shape), self.compute_dtype)

    def regularization_loss(self, params):
        """The kernel/bias regularizers applied to every child's kernel/bias."""
        total = None
        for name in _CHILDREN:
            for var, reg in (("kernel", self.kernel_regularizer), ("bias", self.bias_regularizer)):
                reg = regularizers.get(reg)
                if reg is not None and var in params.get(name, {}):
                    penalty = reg(params[name][var])
                    total = penalty if total is None else ops.add(total, penalty)
        return total
