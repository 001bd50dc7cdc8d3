"""Sequential: a stack of layers, each feeding the next."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ._compose import apply_child, children_regularization_loss, init_child
from ._layer import Layer
from ._naming import assign_names


@dataclass(frozen=True)
class Sequential(Layer):
    """Layers applied in order. Params are ``{layer_name: layer_params}``.

    >>> from purekeras import nn, random
    >>> model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(2)])
    >>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    >>> sorted(params)
    ['dense', 'dense_1']
    """

    layers: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer specs, got {layer!r}.")

    @cached_property
    def layer_names(self) -> tuple[str, ...]:
        return assign_names(self.layers)

    @property
    def named_layers(self):
        return tuple(zip(self.layer_names, self.layers))

    def init(self, key, input_spec):
        params, state = {}, {}
        spec = input_spec
        for name, layer in self.named_layers:
            spec = init_child(layer, name, key, spec, params, state)
        return params, state

    def apply(self, params, state, x, *, training=False, rng=None):
        new_state: dict = {}
        for name, layer in self.named_layers:
            x = apply_child(layer, name, params, state, x, training=training, rng=rng,
                            new_state=new_state)
        return x, new_state

    def output_spec(self, input_spec):
        spec = input_spec
        for layer in self.layers:
            spec = layer.output_spec(spec)
        return spec

    def regularization_loss(self, params):
        return children_regularization_loss(self.named_layers, params)
