"""Keras's dtype policies for a layer: the variable dtype and the compute dtype.

``None`` -> float32 for both; ``"bfloat16"`` -> both bfloat16;
``"mixed_bfloat16"`` / ``"mixed_float16"`` -> float32 variables, low-precision compute.
"""
from __future__ import annotations

_FLOATS = ("float16", "bfloat16", "float32", "float64")


def variable_and_compute_dtype(policy: str | None) -> tuple[str, str]:
    if policy is None:
        return "float32", "float32"
    if policy in _FLOATS:
        return policy, policy
    if policy in ("mixed_float16", "mixed_bfloat16"):
        return "float32", policy.removeprefix("mixed_")
    raise ValueError(
        f"Unknown dtype policy {policy!r}; use one of {_FLOATS} or "
        "'mixed_float16' / 'mixed_bfloat16'."
    )
