"""Einsum on OpenVINO as ``Transpose -> Reshape -> MatMul -> Reshape -> Transpose``.

A two-operand contraction (``EinsumDense``'s projections, attention's
``key . query`` and ``scores . value``) is lowered here to one batched
``MatMul``: the CPU plugin runs that on its GEMM kernels, folds the transposes
into the MatMul and fuses attention patterns, where an ``Einsum`` node would be
decomposed late, after those fusions. Letters are sorted into batch (in both
operands and the output), contracted (in both, not the output), and free (in
one operand and the output); a letter in one operand only and not the output
is summed first. Other equations (one or 3+ operands, repeated letters in an
operand) use OpenVINO's ``Einsum`` node.

>>> import numpy as np
>>> from purekeras.backends._openvino import _einsum, _tensor
>>> a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(20.0).reshape(4, 5)
>>> got = _einsum.einsum("...k,kn->...n", _tensor.asarray(a), _tensor.asarray(b)).numpy()
>>> bool(np.allclose(got, np.einsum("...k,kn->...n", a, b)))
True
"""
from __future__ import annotations

import math
import string

import openvino.opset15 as opset

from . import _reduce, _shape
from ._promote import operands
from ._tensor import OVTensor, node


def _expand_ellipsis(subscripts: str, tensors) -> tuple[list[str], str]:
    """Explicit letters for each operand and the output (``...`` replaced)."""
    lhs, _, out = subscripts.replace(" ", "").partition("->")
    terms = lhs.split(",")
    used = set(subscripts) - set(".,->")
    spare = iter(c for c in string.ascii_letters if c not in used)
    width = max((t.ndim - (len(term) - 3) for term, t in zip(terms, tensors) if "..." in term), default=0)
    fill = "".join(next(spare) for _ in range(width))
    expanded = []
    for term, t in zip(terms, tensors):
        if "..." in term:
            own = t.ndim - (len(term) - 3)
            term = term.replace("...", fill[width - own:])
        expanded.append(term)
    if not _:  # implicit output: the letters seen once, sorted (NumPy's rule), after the ellipsis
        counts = {c: "".join(expanded).count(c) for c in "".join(expanded)}
        out = fill + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in fill))
    else:
        out = out.replace("...", fill)
    return expanded, out


def _sum_out(t: OVTensor, term: str, keep: set) -> tuple[OVTensor, str]:
    """Sum ``t`` over the letters of ``term`` not in ``keep``."""
    axes = [i for i, c in enumerate(term) if c not in keep]
    if not axes:
        return t, term
    return _reduce.reduce("sum", t, tuple(axes), False), "".join(c for c in term if c in keep)


def _matmul_einsum(a: OVTensor, ta: str, b: OVTensor, tb: str, out: str) -> OVTensor:
    """``a`` as ``(*batch, *left, K)`` times ``b`` as ``(*batch, K, N)`` in one MatMul
    (the left letters but the last are MatMul batch axes): only contracted letters
    (``K``) and ``b``'s free letters (``N``) are merged, never a batch axis."""
    a, ta = _sum_out(a, ta, set(tb) | set(out))
    b, tb = _sum_out(b, tb, set(ta) | set(out))
    size_a, size_b = dict(zip(ta, a.shape)), dict(zip(tb, b.shape))
    batch = [c for c in out if c in ta and c in tb]
    contract = [c for c in ta if c in tb and c not in out]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]
    if any(size_a[c] != size_b[c] for c in batch + contract):
        raise ValueError(f"einsum: operands {a.shape} and {b.shape} disagree on a shared letter.")
    k = math.prod(size_a[c] for c in contract)
    n = math.prod(size_b[c] for c in right)
    am = _shape.transpose(a, [ta.index(c) for c in batch + left + contract])
    am = _shape.reshape(am, [*(size_a[c] for c in batch + left), k] if left else
                        [*(size_a[c] for c in batch), 1, k])
    bm = _shape.transpose(b, [tb.index(c) for c in batch + contract + right])
    units = [1] * max(len(left) - 1, 0) if batch else []
    bm = _shape.reshape(bm, [*(size_b[c] for c in batch), *units, k, n])
    product = node(opset.matmul(am.output, bm.output, False, False))
    order = batch + left + right
    full = _shape.reshape(product, [size_a.get(c) or size_b[c] for c in order])
    return _shape.transpose(full, [order.index(c) for c in out])


def einsum(subscripts: str, *operands_) -> OVTensor:
    tensors = operands(*operands_)
    terms, out = _expand_ellipsis(subscripts, tensors)
    simple = len(tensors) == 2 and all(len(set(t)) == len(t) for t in terms) and len(set(out)) == len(out)
    if simple and tensors[0].dtype != "bool":
        return _matmul_einsum(tensors[0], terms[0], tensors[1], terms[1], out)
    equation = ",".join(terms) + "->" + out
    return node(opset.einsum([t.output for t in tensors], equation))
