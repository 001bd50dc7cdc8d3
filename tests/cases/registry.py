"""All layer cases, gathered from the case modules."""
from __future__ import annotations

from . import layers_advanced, layers_basic, layers_core

LAYER_CASES = [*layers_core.CASES, *layers_basic.CASES, *layers_advanced.CASES]
