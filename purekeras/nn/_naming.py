"""Deterministic layer names, per model: ``dense``, ``dense_1``, ... in order."""
from __future__ import annotations

import re


def snake_case(class_name: str) -> str:
    """Keras's name for a class: ``Conv2D`` -> ``conv2d``, ``MultiHeadAttention`` ->
    ``multi_head_attention``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def assign_names(layers) -> tuple[str, ...]:
    """Unique names for ``layers`` in order: a layer's own ``name`` if given,
    else its snake-cased class name; repeats get ``_1``, ``_2``, ..."""
    names: list[str] = []
    seen: dict[str, int] = {}
    explicit = {layer.name for layer in layers if layer.name}
    for layer in layers:
        if layer.name:
            if layer.name in names:
                raise ValueError(
                    f"Two layers in one model are both named {layer.name!r}; layer names "
                    "must be unique within a model. Rename one (name=...)."
                )
            names.append(layer.name)
            continue
        base = snake_case(type(layer).__name__)
        count = seen.get(base, 0)
        candidate = base if count == 0 else f"{base}_{count}"
        while candidate in explicit or candidate in names:
            count += 1
            candidate = f"{base}_{count}"
        seen[base] = count + 1
        names.append(candidate)
    return tuple(names)
