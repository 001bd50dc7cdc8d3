"""All layer cases, gathered from the case modules."""
from __future__ import annotations

from . import layers_core

LAYER_CASES = [*layers_core.CASES]
