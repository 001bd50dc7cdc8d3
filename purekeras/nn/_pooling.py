"""Pooling layers (channels_last): Max/AveragePooling1D/2D and the global poolings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import ops
from ._core_layers import check_data_format, float_spec
from ._layer import Layer


def _as_tuple(layer: Layer, value, n: int, what: str) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, int) else tuple(value)
    if len(values) != n or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0
                               for v in values):
        raise layer.error(f"{what} must be a positive int or a tuple of {n} positive ints, "
                          f"got {what}={value!r}.")
    return values


@dataclass(frozen=True)
class _Pooling(Layer):
    """Windowed max/average over the spatial axes of ``(batch, *spatial, channels)``."""

    uses_rng: ClassVar[bool] = False

    _rank: ClassVar[int]
    _mode: ClassVar[str]  # "max" or "avg"

    pool_size: Any = 2
    strides: Any = None  # None: equal to pool_size
    padding: str = "valid"
    data_format: str | None = None

    def __post_init__(self):
        n = self._rank
        pool = _as_tuple(self, self.pool_size, n, "pool_size")
        strides = pool if self.strides is None else _as_tuple(self, self.strides, n, "strides")
        padding = self.padding.lower() if isinstance(self.padding, str) else self.padding
        if padding not in ("valid", "same"):
            raise self.error(f"padding must be 'valid' or 'same', got padding={self.padding!r}.")
        check_data_format(self, self.data_format)
        object.__setattr__(self, "pool_size", pool)
        object.__setattr__(self, "strides", strides)
        object.__setattr__(self, "padding", padding)

    def apply(self, params, state, x, *, training=False, rng=None):
        if self._mode == "max":
            return ops.max_pool(self.cast_input(x), self.pool_size, self.strides, self.padding), state
        x = ops.cast(x, self.compute_dtype)
        return ops.average_pool(x, self.pool_size, self.strides, self.padding), state

    def output_spec(self, input_spec):
        spec = self.check_rank(input_spec, self._rank + 2)
        spatial = []
        for size, pool, stride in zip(spec.shape[1:-1], self.pool_size, self.strides):
            if size is None:
                spatial.append(None)
            elif self.padding == "same":
                spatial.append(-(-size // stride))
            elif size < pool:
                raise self.error(
                    f"pool_size {self.pool_size} is larger than the spatial shape "
                    f"{spec.shape[1:-1]} of the input {spec.shape} with padding='valid'. "
                    "Use a smaller pool_size or padding='same'."
                )
            else:
                spatial.append((size - pool) // stride + 1)
        out = spec.with_shape((spec.shape[0], *spatial, spec.shape[-1]))
        return out.with_dtype(self.compute_dtype) if self._mode == "avg" else float_spec(self, out)


@dataclass(frozen=True)
class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of ``(batch, steps, features)``.

    ``strides`` default to ``pool_size``; ``padding`` is ``"valid"`` or ``"same"``.

    >>> from purekeras import nn
    >>> nn.MaxPooling1D(2).output_spec(nn.InputSpec((None, 7, 3))).shape
    (None, 3, 3)
    """

    _rank: ClassVar[int] = 1
    _mode: ClassVar[str] = "max"


@dataclass(frozen=True)
class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps of ``(batch, steps, features)``;
    with ``padding="same"`` the padded cells are not counted.

    >>> from purekeras import nn, ops
    >>> x = ops.reshape(ops.arange(4, dtype="float32", backend="jax"), (1, 4, 1))
    >>> nn.AveragePooling1D(2).apply({}, {}, x)[0].reshape(-1).tolist()
    [0.5, 2.5]
    """

    _rank: ClassVar[int] = 1
    _mode: ClassVar[str] = "avg"


@dataclass(frozen=True)
class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(batch, height, width, channels)``.

    >>> from purekeras import nn
    >>> nn.MaxPooling2D(2).output_spec(nn.InputSpec((None, 8, 8, 3))).shape
    (None, 4, 4, 3)
    """

    _rank: ClassVar[int] = 2
    _mode: ClassVar[str] = "max"

    pool_size: Any = (2, 2)


@dataclass(frozen=True)
class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows of ``(batch, height, width, channels)``;
    with ``padding="same"`` the padded cells are not counted.

    >>> from purekeras import nn
    >>> nn.AveragePooling2D(3, strides=2, padding="same").output_spec(nn.InputSpec((None, 5, 5, 1))).shape
    (None, 3, 3, 1)
    """

    _rank: ClassVar[int] = 2
    _mode: ClassVar[str] = "avg"

    pool_size: Any = (2, 2)


@dataclass(frozen=True)
class _GlobalPooling(Layer):
    """Max/mean over all spatial axes of ``(batch, *spatial, channels)``."""

    uses_rng: ClassVar[bool] = False

    _rank: ClassVar[int]
    _mode: ClassVar[str]

    data_format: str | None = None
    keepdims: bool = False

    def __post_init__(self):
        check_data_format(self, self.data_format)

    @property
    def _axes(self) -> tuple[int, ...]:
        return tuple(range(1, self._rank + 1))

    def apply(self, params, state, x, *, training=False, rng=None):
        if self._mode == "max":
            return ops.max(self.cast_input(x), axis=self._axes, keepdims=self.keepdims), state
        x = ops.cast(x, self.compute_dtype)
        return ops.mean(x, axis=self._axes, keepdims=self.keepdims), state

    def output_spec(self, input_spec):
        spec = self.check_rank(input_spec, self._rank + 2)
        if self.keepdims:
            shape = (spec.shape[0], *([1] * self._rank), spec.shape[-1])
        else:
            shape = (spec.shape[0], spec.shape[-1])
        out = spec.with_shape(shape)
        return out.with_dtype(self.compute_dtype) if self._mode == "avg" else float_spec(self, out)


@dataclass(frozen=True)
class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps of ``(batch, steps, features)``: ``(batch, features)``
    (``(batch, 1, features)`` with ``keepdims=True``).

    >>> from purekeras import nn
    >>> nn.GlobalAveragePooling1D().output_spec(nn.InputSpec((None, 5, 3))).shape
    (None, 3)
    """

    _rank: ClassVar[int] = 1
    _mode: ClassVar[str] = "avg"


@dataclass(frozen=True)
class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps of ``(batch, steps, features)``.

    >>> from purekeras import nn
    >>> nn.GlobalMaxPooling1D(keepdims=True).output_spec(nn.InputSpec((None, 5, 3))).shape
    (None, 1, 3)
    """

    _rank: ClassVar[int] = 1
    _mode: ClassVar[str] = "max"


@dataclass(frozen=True)
class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width of ``(batch, height, width, channels)``.

    >>> from purekeras import nn
    >>> nn.GlobalAveragePooling2D().output_spec(nn.InputSpec((None, 4, 4, 8))).shape
    (None, 8)
    """

    _rank: ClassVar[int] = 2
    _mode: ClassVar[str] = "avg"


@dataclass(frozen=True)
class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width of ``(batch, height, width, channels)``.

    >>> from purekeras import nn
    >>> nn.GlobalMaxPooling2D(keepdims=True).output_spec(nn.InputSpec((None, 4, 4, 8))).shape
    (None, 1, 1, 8)
    """

    _rank: ClassVar[int] = 2
    _mode: ClassVar[str] = "max"
