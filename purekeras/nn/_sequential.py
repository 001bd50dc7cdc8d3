"""Sequential: a stack of layers, each feeding the next."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ._compose import any_uses_rng, apply_child, children_regularization_loss, init_child
from ._layer import Layer
from ._functional import SymbolicTensor
from ._naming import assign_names
from ._spec import InputSpec


@dataclass(frozen=True)
class Sequential(Layer):
    """Layers applied in order. Params are ``{layer_name: layer_params}``.

    >>> from purekeras import nn, random
    >>> model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(2)])
    >>> params, state = model.init(random.key(0, backend="jax"), nn.InputSpec((None, 4)))
    >>> sorted(params)
    ['dense', 'dense_1']

    As in Keras, the first element may be an ``nn.Input``; then ``init`` needs no spec:

    >>> model = nn.Sequential([nn.Input((4,)), nn.Dense(2)])
    >>> model.init(random.key(0, backend="jax"))[0]["dense"]["kernel"].shape
    (4, 2)
    """

    layers: tuple = ()
    input_spec: InputSpec | None = None

    def __post_init__(self):
        layers = tuple(self.layers)
        if layers and isinstance(layers[0], SymbolicTensor):
            if self.input_spec is not None:
                raise ValueError("Sequential: give the input as nn.Input or input_spec=, not both.")
            object.__setattr__(self, "input_spec", layers[0].spec)
            layers = layers[1:]
        object.__setattr__(self, "layers", layers)
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer specs, got {layer!r}.")

    @cached_property
    def layer_names(self) -> tuple[str, ...]:
        return assign_names(self.layers)

    @property
    def named_layers(self):
        return tuple(zip(self.layer_names, self.layers))

    def _input_spec(self, input_spec):
        spec = self.input_spec if input_spec is None else input_spec
        if spec is None:
            raise self.error(
                "needs an input spec: call init(key, nn.InputSpec((None, ...))) or start "
                "the layer list with nn.Input(shape)."
            )
        return spec

    def init(self, key, input_spec=None):
        params, state = {}, {}
        spec = self._input_spec(input_spec)
        for name, layer in self.named_layers:
            spec = init_child(layer, name, key, spec, params, state)
        return params, state

    @property
    def uses_rng(self) -> bool:
        return any_uses_rng(self.layers)

    def apply(self, params, state, x, *, training=False, rng=None):
        new_state: dict = {}
        for name, layer in self.named_layers:
            x = apply_child(layer, name, params, state, x, training=training, rng=rng,
                            new_state=new_state)
        return x, new_state

    def output_spec(self, input_spec=None):
        spec = self._input_spec(input_spec)
        for layer in self.layers:
            spec = layer.output_spec(spec)
        return spec

    def regularization_loss(self, params):
        return children_regularization_loss(self.named_layers, params)
