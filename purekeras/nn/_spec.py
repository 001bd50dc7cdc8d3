"""``InputSpec``: the shape and dtype of a value, used for init and shape inference."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputSpec:
    """Shape (``None`` for unknown sizes, usually the batch) and dtype of an input.

    >>> InputSpec((None, 8, 8, 1)).rank
    4
    """

    shape: tuple
    dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        object.__setattr__(self, "dtype", str(self.dtype))

    @property
    def rank(self) -> int:
        return len(self.shape)

    def with_shape(self, shape) -> "InputSpec":
        return InputSpec(tuple(shape), self.dtype)

    def with_dtype(self, dtype: str) -> "InputSpec":
        return InputSpec(self.shape, dtype)


def spec_of(x) -> InputSpec:
    """The ``InputSpec`` of an array (NumPy or any backend's)."""
    import numpy as np

    from .. import ops

    dtype = x.dtype.name if isinstance(x, np.ndarray) else ops.dtype(x)
    return InputSpec(tuple(x.shape), dtype)
