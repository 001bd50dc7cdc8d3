"""``pk.export``: a model's inference pass as files another runtime loads without purekeras.

``format="openvino"`` writes OpenVINO IR: ``<name>.xml`` (the graph) and
``<name>.bin`` (the weights, float32), which plain ``openvino`` reads with
``openvino.Core().read_model(path)``. The forward pass is traced on the
openvino backend with the params baked in as constants (trained on any
backend). With ``batch_size=None`` the batch axis is left free: the model is
traced at batch 1, its inputs are reshaped to a dynamic batch, and the result
is checked against the traced model at batch 2 before anything is written
(a model that fixes its batch inside, e.g. by reshaping the batch away, raises
and asks for a fixed ``batch_size``). Files are written to temporary names and
moved into place, so a reader never sees half a model.

OpenVINO's CPU plugin runs float32 models in bfloat16 by default on CPUs with
AMX / AVX512-BF16; for float32 results compile with
``{"INFERENCE_PRECISION_HINT": "f32"}`` (stored in the model's ``rt_info`` under
``purekeras/compile_config`` as a reminder).

>>> import os, tempfile, numpy as np, openvino as ov
>>> import purekeras as pk
>>> from purekeras import nn
>>> m = pk.Model(nn.Sequential([nn.Dense(3)]), input_shape=(4,), backend="jax")
>>> path = pk.export(m, os.path.join(tempfile.mkdtemp(), "dense"), format="openvino")
>>> os.path.basename(path)
'dense.xml'
>>> compiled = ov.Core().compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
>>> x = np.ones((5, 4), "float32")
>>> bool(np.allclose(compiled(x)[0], m.predict(x, verbose=0), atol=1e-6))
True
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
import optree

FORMATS = ("openvino",)


class ExportError(ValueError):
    """A model could not be exported as asked; the message says why and what to change."""


def export(model, filepath: str | os.PathLike, format: str = "openvino", *, params=None, state=None,
           input_spec=None, batch_size: int | None = None) -> str:
    """Write ``model``'s inference pass (``training=False``) to ``filepath``; returns the path written.

    ``model``: a ``pk.Model`` (its weights and input spec are used), or a layer spec
    with ``params``, ``state`` and ``input_spec`` (an ``nn.InputSpec``, or a
    list / dict of them; a ``Functional`` knows its own). ``format``:
    ``"openvino"`` writes ``<name>.xml`` + ``<name>.bin`` (``filepath`` with or
    without ``.xml``). ``batch_size``: ``None`` leaves the batch axis dynamic,
    an int fixes it. Inputs are named ``input`` (several: ``input_<i>`` or
    ``input_<key>``), outputs likewise ``output``. See the module docstring.

    >>> import os, tempfile
    >>> import purekeras as pk
    >>> from purekeras import nn, random
    >>> layer = nn.Dense(2)
    >>> params, state = layer.init(random.key(0, backend="jax"), nn.InputSpec((None, 3)))
    >>> path = pk.export(layer, os.path.join(tempfile.mkdtemp(), "d.xml"), params=params, state=state,
    ...                  input_spec=nn.InputSpec((None, 3)), batch_size=8)
    >>> sorted(os.listdir(os.path.dirname(path)))
    ['d.bin', 'd.xml']
    """
    if format not in FORMATS:
        raise ExportError(f"export: format must be one of {FORMATS}, got {format!r}.")
    spec, params, state, input_spec = _parts(model, params, state, input_spec)
    xml_path = os.fspath(filepath)
    if not xml_path.endswith(".xml"):
        xml_path += ".xml"
    ov_model = _openvino_model(spec, params, state, input_spec, batch_size)
    _save_atomically(ov_model, xml_path)
    return xml_path


def _parts(model, params, state, input_spec):
    """``(spec, params, state, input_spec)`` from a facade or a spec plus its pieces."""
    from .train._model import Model

    if isinstance(model, Model):
        if params is not None or state is not None:
            raise ExportError("export: a pk.Model carries its own weights; do not pass params/state.")
        ts = model.train_state
        spec_tree = input_spec if input_spec is not None else model.input_spec
        return model.spec, ts.params, ts.state, _known_input_spec(model.spec, spec_tree)
    if params is None:
        raise ExportError(
            f"export: {type(model).__name__} is a spec and holds no weights; pass params=... and "
            "state=... (from model.init or a train state), or export a pk.Model.")
    return model, params, state if state is not None else {}, _known_input_spec(model, input_spec)


def _known_input_spec(spec, input_spec):
    from .nn import Functional

    if input_spec is None and isinstance(spec, Functional):
        return optree.tree_unflatten(spec.input_treedef, list(spec.input_specs))
    if input_spec is None:
        raise ExportError(
            f"export: the input spec of {type(spec).__name__} is unknown; pass input_spec=nn.InputSpec(...) "
            "(or build the pk.Model with input_shape=...).")
    return input_spec


def _leaves(input_spec):
    from .nn import InputSpec

    return optree.tree_flatten_with_path(input_spec, is_leaf=lambda v: isinstance(v, InputSpec))


def _names(prefix: str, paths) -> list[str]:
    if len(paths) == 1:
        return [prefix]
    return [prefix + "_" + "_".join(str(p) for p in path) for path in paths]


def _sample_inputs(input_spec, batch: int, seed: int):
    """Random inputs shaped like ``input_spec`` with ``batch`` rows."""
    paths, specs, treedef = _leaves(input_spec)
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        if any(d is None for d in spec.shape[1:]):
            raise ExportError(
                f"export: input shape {spec.shape} has unknown sizes beyond the batch axis; pass an "
                "input_spec with every size but the batch known.")
        shape = (batch, *spec.shape[1:])
        if spec.dtype.startswith(("int", "uint")):
            arrays.append(rng.integers(0, 2, size=shape).astype(spec.dtype))
        elif spec.dtype == "bool":
            arrays.append(rng.random(shape) < 0.5)
        else:
            arrays.append(rng.standard_normal(shape).astype(spec.dtype))
    return optree.tree_unflatten(treedef, arrays), paths


def _openvino_model(spec, params, state, input_spec, batch_size):
    from .backends.openvino_backend import predict_function

    function = predict_function(spec, params, state)
    traced_batch = 1 if batch_size is None else int(batch_size)
    sample, paths = _sample_inputs(input_spec, traced_batch, seed=0)
    input_names = _names("input", paths)
    traced = function.trace(sample, input_names=input_names)
    model = traced.model
    output_names = _names("output", optree.tree_paths(optree.tree_unflatten(
        traced.treedef, list(range(len(model.outputs))))))
    for output, name in zip(model.outputs, output_names):
        output.get_tensor().set_names({name})
    if batch_size is None:
        _free_batch(model, function, input_spec, input_names)
    model.set_rt_info("purekeras", ["framework", "name"])
    model.set_rt_info("INFERENCE_PRECISION_HINT=f32", ["purekeras", "compile_config"])
    return model


def _free_batch(model, function, input_spec, input_names) -> None:
    """Make the batch axis of every input dynamic, and check the model still computes
    each example as the traced function does (at batch 2)."""
    import openvino as ov

    from .backends._openvino._compile import compile_model

    shapes = {}
    for parameter, name in zip(model.get_parameters(), input_names):
        shape = parameter.get_partial_shape()
        shapes[name] = ov.PartialShape([ov.Dimension(), *list(shape)[1:]])
    try:
        model.reshape(shapes)
        for output in model.outputs:
            if output.get_partial_shape().rank.get_length() == 0 or output.get_partial_shape()[0].is_static:
                raise ExportError("an output does not keep the batch axis")
        sample, _ = _sample_inputs(input_spec, 2, seed=1)
        expected = optree.tree_leaves(function(sample))
        compiled = compile_model(model)
        got = compiled(optree.tree_leaves(sample))
        for index, want in enumerate(expected):
            np.testing.assert_allclose(got[index], want, rtol=1e-4, atol=1e-5)
    except (RuntimeError, AssertionError, ExportError) as error:
        raise ExportError(
            "export: the model does not run with a free batch size on OpenVINO (it fixes the batch "
            f"inside: {str(error).splitlines()[0][:200]}). Pass batch_size=N to export a fixed batch.") from None


def _save_atomically(model: Any, xml_path: str) -> None:
    """``model`` to ``xml_path`` and its ``.bin``: written under temporary names, flushed
    to disk, then moved (the ``.bin`` first, so an ``.xml`` never names a missing one)."""
    import openvino as ov

    from .state._checkpoint_fs import fsync_path

    directory = os.path.dirname(os.path.abspath(xml_path))
    os.makedirs(directory, exist_ok=True)
    stem = xml_path[: -len(".xml")]
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as scratch:
        tmp_xml, tmp_bin = os.path.join(scratch, "model.xml"), os.path.join(scratch, "model.bin")
        ov.save_model(model, tmp_xml, compress_to_fp16=False)
        fsync_path(tmp_bin)
        fsync_path(tmp_xml)
        os.replace(tmp_bin, stem + ".bin")
        os.replace(tmp_xml, xml_path)
        fsync_path(directory)
