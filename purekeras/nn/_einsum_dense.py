"""EinsumDense: a dense layer whose contraction is an einsum equation.

Kernel and bias shapes are derived from the equation, the input shape and the
(partial) ``output_shape`` exactly as Keras 3 derives them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from .. import ops, random
from . import _activations as activations
from . import _initializers as initializers
from ._layer import Layer
from ._spec import InputSpec

_EQUATION = re.compile(
    r"(?P<left>\.\.\.)?(?P<x>[a-zA-Z]+)(?P<right>\.\.\.)?,(?P<w>[a-zA-Z]+)"
    r"->(?P<oleft>\.\.\.)?(?P<z>[a-zA-Z]+)(?P<oright>\.\.\.)?"
)


class EinsumShapes(NamedTuple):
    kernel: tuple  # kernel shape, in the weight spec's axis order
    bias: tuple | None  # bias shape (None without bias_axes)
    output: tuple  # full output shape, batch axis first
    input_axes: tuple  # kernel axes contracted with the input (fan_in)
    output_axes: tuple  # kernel axes that appear in the output (fan_out)


@dataclass(frozen=True)
class EinsumDense(Layer):
    """``y = activation(einsum(equation, x, kernel) + bias)``.

    ``output_shape`` gives the output's sizes without the batch axis (and without
    axes covered by ``...``); ``None`` entries are taken from the input.
    ``bias_axes`` names the output axes (letters) that get a bias.

    >>> from purekeras import nn, random, ops
    >>> layer = nn.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 5, 3)))
    >>> params["kernel"].shape, params["bias"].shape
    ((3, 2, 4), (2, 4))
    >>> layer.apply(params, state, ops.ones((1, 5, 3), backend="jax"))[0].shape
    (1, 5, 2, 4)
    """

    uses_rng: ClassVar[bool] = False

    equation: str
    output_shape: Any
    activation: Any = None
    bias_axes: str | None = None
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None

    def __post_init__(self):
        shape = self.output_shape
        shape = (shape,) if isinstance(shape, int) or shape is None else tuple(shape)
        object.__setattr__(self, "output_shape", shape)
        object.__setattr__(self, "equation", self.equation.replace(" ", ""))
        self._parse()

    def _parse(self):
        match = _EQUATION.fullmatch(self.equation)
        ok = match is not None and (
            (not match["left"] and not match["right"] and not match["oleft"] and not match["oright"])
            or (match["left"] and match["oleft"] and not match["right"] and not match["oright"])
            or (match["right"] and match["oright"] and not match["left"] and not match["oleft"]
                and len(match["x"]) >= 2)
        )
        if not ok:
            raise self.error(
                f"invalid equation {self.equation!r}; use the form 'X,Y->Z', '...X,Y->...Z' "
                "or 'X...,Y->Z...' (letters only, one input and one kernel)."
            )
        elided = "left" if match["left"] else "right" if match["right"] else None
        return match["x"], match["w"], match["z"], elided

    def shapes(self, input_shape) -> EinsumShapes:
        """Kernel, bias and output shapes for an input of ``input_shape``."""
        x, w, z, elided_side = self._parse()
        input_shape = tuple(input_shape)
        elided = len(input_shape) - len(x)
        if elided < 0 or (elided_side is None and elided) or (elided_side == "left" and elided < 1):
            raise self.error(
                f"equation {self.equation!r} does not fit input shape {input_shape} "
                f"(rank {len(input_shape)}); the input spec {x!r} needs rank "
                f"{len(x) + (elided_side == 'left')}{' or more' if elided_side else ''}."
            )
        partial = list(self.output_shape)
        expected = len(z) if elided_side == "left" else len(z) - 1
        if len(partial) != expected:
            raise self.error(
                f"output_shape {self.output_shape} must have {expected} entries for equation "
                f"{self.equation!r} (one per output letter after the batch axis)."
            )
        if elided_side == "left":
            output = [*input_shape[:elided], *partial]
            offset = elided
        else:
            output = [input_shape[0], *partial]
            if elided_side == "right":
                output += input_shape[len(input_shape) - elided:]
            offset = 0
        input_axis = {c: i + offset for i, c in enumerate(x)}
        output_axis = {c: i + offset for i, c in enumerate(z)}
        for c in z:
            if c not in x and c not in w:
                raise self.error(f"output letter {c!r} of {self.equation!r} is in neither input nor kernel.")
        for c, i in input_axis.items():
            if c in output_axis:
                j = output_axis[c]
                if output[j] is None:
                    output[j] = input_shape[i]
                elif input_shape[i] is not None and output[j] != input_shape[i]:
                    raise self.error(
                        f"output_shape {self.output_shape} gives {output[j]} for letter {c!r}, "
                        f"but the input shape {input_shape} has {input_shape[i]} there."
                    )
        kernel, in_axes, out_axes = [], [], []
        for k, c in enumerate(w):
            if c in output_axis:
                kernel.append(output[output_axis[c]])
                out_axes.append(k)
            elif c in input_axis:
                kernel.append(input_shape[input_axis[c]])
                in_axes.append(k)
            else:
                raise self.error(f"kernel letter {c!r} of {self.equation!r} is in neither input nor output.")
        if any(d is None for d in kernel):
            raise self.error(
                f"kernel shape {tuple(kernel)} has unknown sizes for input shape {input_shape} "
                f"and output_shape {self.output_shape}; the input axes the kernel uses must be known."
            )
        bias = None
        if self.bias_axes:
            missing = [c for c in self.bias_axes if c not in z]
            if missing:
                raise self.error(f"bias_axes {self.bias_axes!r} has letters {missing} not in the output {z!r}.")
            first = min(z.index(c) for c in self.bias_axes)
            bias = [output[output_axis[c]] if c in self.bias_axes else 1 for c in z[first:]]
            if elided_side == "right":
                bias += [1] * elided
            bias = tuple(bias)
        return EinsumShapes(tuple(kernel), bias, tuple(output), tuple(in_axes), tuple(out_axes))

    def init(self, key, input_spec):
        self.output_spec(input_spec)
        shapes = self.shapes(input_spec.shape)
        keys = random.split(key)
        kernel_key, bias_key = keys[0], keys[1]
        init = initializers.get(self.kernel_initializer)
        if isinstance(init, initializers.VarianceScaling):
            # Keras computes the fans from the contracted / produced axes; samples are
            # i.i.d., so draw a (fan_in, fan_out) matrix and reshape it to the kernel.
            fan_in = math.prod(shapes.kernel[a] for a in shapes.input_axes)
            fan_out = math.prod(shapes.kernel[a] for a in shapes.output_axes)
            kernel = ops.reshape(init(kernel_key, (fan_in, fan_out), self.variable_dtype), shapes.kernel)
        else:
            kernel = init(kernel_key, shapes.kernel, self.variable_dtype)
        params = {"kernel": kernel}
        if shapes.bias is not None:
            params["bias"] = initializers.get(self.bias_initializer)(
                bias_key, shapes.bias, self.variable_dtype)
        return params, {}

    def apply(self, params, state, x, *, training=False, rng=None):
        y = ops.einsum(self.equation, self.cast_input(x), self.cast_param(params["kernel"]))
        if "bias" in params:
            y = ops.add(y, self.cast_param(params["bias"]))
        return activations.get(self.activation)(y), state

    def output_spec(self, input_spec):
        if not isinstance(input_spec, InputSpec):
            raise self.error(f"expected one input (an InputSpec), got {input_spec!r}.")
        return InputSpec(self.shapes(input_spec.shape).output, self.compute_dtype)
