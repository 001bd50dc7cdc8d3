"""Multi-tensor optimizer updates on PyTorch: ``torch._foreach_*`` over the leaf lists.

Eager PyTorch pays a Python dispatch per op and per tensor, so an update written
leaf by leaf with ``ops`` costs ~10 ops x the number of params. Here each step
of the math is ONE ``torch._foreach_*`` call over all the leaves (what
``torch.optim.Adam(foreach=True)`` does), with the same formulas as the ``ops``
version (Keras's); Adam's float32/float64 CPU leaves go through torch's fused
kernel instead, set up to compute Keras's rule (see ``_fused_adam``). ``lerp``,
``addcdiv`` and the fused kernel round differently from the ``ops`` path in
places, so results can differ from it (and from JAX) in the last bit: tested
within 1e-5. Everything is out of place:
the inputs are never modified, the results are new tensors (in-place ops touch
only tensors created here). Optimizers call this module only when
``multi_tensor(params)`` holds; it is imported lazily, so ``purekeras.optim``
imports no framework.

>>> import torch
>>> from purekeras.optim import _foreach
>>> params, grads, zeros = [torch.ones(2)], [torch.ones(2)], [torch.zeros(2)]
>>> alpha = torch.tensor(0.1 * (1 - 0.999) ** 0.5 / (1 - 0.9))  # lr 0.1, step 1
>>> new_params, m, v, _ = _foreach.adam(params, grads, zeros, zeros, None, alpha, 0.9, 0.999, 1e-7)
>>> [round(x, 4) for x in new_params[0].tolist()], [round(x, 4) for x in m[0].tolist()]
([0.9, 0.9], [0.1, 0.1])
"""
from __future__ import annotations

import optree
import torch


def multi_tensor(leaves: list) -> bool:
    """Whether the multi-tensor path can run on ``leaves``: plain PyTorch tensors
    (or Dynamo's stand-ins while ``torch.compile`` traces), not tensors wrapped by a
    ``torch.func`` transform (``vmap``/``grad`` over the optimizer keep the
    leaf-by-leaf ``ops`` path, which those transforms batch and differentiate)."""
    if not leaves or not all(isinstance(t, torch.Tensor) for t in leaves):
        return False
    if torch.compiler.is_compiling():
        return True
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    return not any(wrapped(t) for t in leaves)


def flatten(tree) -> tuple[list, object]:
    """The leaves of ``tree`` (``None`` is an empty node, as ``optim._base.tree_map``)
    and its structure."""
    return optree.tree_flatten(tree, none_is_leaf=False)


def unflatten(treedef, leaves: list):
    return optree.tree_unflatten(treedef, leaves)


def _groups(params: list) -> dict:
    """Leaf indices by dtype: scalars are cast once per dtype, as the ``ops`` path does."""
    groups: dict = {}
    for i, p in enumerate(params):
        groups.setdefault(p.dtype, []).append(i)
    return groups


def _take(values: list, index: list) -> list:
    return [values[i] for i in index]


def _put(out: list, index: list, values) -> None:
    for i, v in zip(index, values):
        out[i] = v


def _moving_average(average: list, target: list, weight: float, own_target: bool = False) -> list:
    """``average + (target - average) * weight``, new tensors; ``own_target``: ``target``
    holds temporaries of ours that may be overwritten."""
    if weight < 0.5:  # torch's lerp is this formula below 0.5 (above, it is rearranged)
        return torch._foreach_lerp(average, target, weight)
    if own_target:
        out = target
        torch._foreach_sub_(out, average)
    else:
        out = torch._foreach_sub(target, average)
    torch._foreach_mul_(out, weight)
    torch._foreach_add_(out, average)
    return out


# torch's fused Adam kernel computes p -= lr / (1 - b1**s) * m / (sqrt(v) / sqrt(1 - b2**s) + eps)
# for the step s it reads from a tensor. With s so large that b**s is 0 for every b < 1,
# that is Keras's rule p -= lr * m / (sqrt(v) + eps), where lr is Keras's bias-corrected
# step size alpha, computed on the device.
_STEP_WITHOUT_BIAS_CORRECTION = 2.0 ** 62
_FUSED_DTYPES = (torch.float32, torch.float64)


def _fused_adam(params: list, grads: list, m: list, v: list, v_hat: list | None, alpha, beta_1: float,
                beta_2: float, epsilon: float) -> tuple[list, list, list, list | None]:
    """Keras's Adam through ``torch._fused_adam_`` (one pass over memory), on copies.
    The kernel walks memory linearly: every tensor it gets must be contiguous."""
    def copies(tensors):
        return [t.clone(memory_format=torch.contiguous_format) for t in tensors]

    new_p, new_m, new_v = copies(params), copies(m), copies(v)
    new_vh = copies(v_hat) if v_hat is not None else []
    step = torch.full((), _STEP_WITHOUT_BIAS_CORRECTION, device=new_p[0].device)
    torch._fused_adam_(new_p, [g.contiguous() for g in grads], new_m, new_v, new_vh, [step] * len(new_p),
                       lr=alpha, beta1=beta_1, beta2=beta_2, weight_decay=0.0, eps=epsilon,
                       amsgrad=v_hat is not None, maximize=False)
    return new_p, new_m, new_v, (new_vh if v_hat is not None else None)


def _foreach_adam(params: list, grads: list, m: list, v: list, v_hat: list | None, alpha, beta_1: float,
                  beta_2: float, epsilon: float) -> tuple[list, list, list, list | None]:
    """Keras's Adam in seven ``_foreach`` calls (eight with amsgrad), new tensors."""
    m1 = _moving_average(m, grads, 1 - beta_1)
    # Few new tensors: on CPU each large one costs page faults (glibc hands freed
    # blocks back to the OS), more than a pass over memory. In place on our own.
    v1 = _moving_average(v, torch._foreach_mul(grads, grads), 1 - beta_2, own_target=True)
    vh1 = None if v_hat is None else torch._foreach_maximum(v_hat, v1)
    denom = torch._foreach_sqrt(v1 if vh1 is None else vh1)
    torch._foreach_add_(denom, epsilon)
    step = torch._foreach_mul(m1, alpha)
    return torch._foreach_addcdiv(params, step, denom, value=-1), m1, v1, vh1  # p - m * alpha / denom


def _may_fuse(params, grads, m, v, v_hat, beta_1: float, beta_2: float) -> bool:
    """Whether the fused kernel computes this update: not under ``torch.compile`` (the
    kernel has no Meta implementation for Dynamo; Inductor fuses the ``_foreach``
    math itself), not where autograd records the update (the kernel is not
    differentiable), and not for a beta of 1 (its bias correction would divide by 0
    where Keras's step size is 0 or infinite)."""
    if torch.compiler.is_compiling() or not (beta_1 < 1.0 and beta_2 < 1.0):
        return False
    if torch.is_grad_enabled():
        tensors = [*params, *grads, *m, *v, *(v_hat or ())]
        return not any(t.requires_grad for t in tensors)
    return True


def adam(params: list, grads: list, m: list, v: list, v_hat: list | None, alpha, beta_1: float,
         beta_2: float, epsilon: float) -> tuple[list, list, list, list | None]:
    """One Adam update (Keras's rule) of the leaf lists; ``alpha`` is the float32
    step size ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` as a 0-d tensor, and
    ``v_hat`` the running max of ``v`` (amsgrad) or ``None``. Returns
    ``(params, m, v, v_hat)`` as new lists::

        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        p -= m * alpha / (sqrt(v or v_hat) + epsilon)

    float32/float64 leaves on the CPU go through torch's fused Adam kernel (one
    pass: 2-5x faster than the ``_foreach`` calls), which computes ``v`` as
    ``v * beta_2 + (1 - beta_2) * g**2`` (one rounding apart from Keras's form),
    where ``_may_fuse`` allows it.
    Others take seven ``_foreach`` calls: both moments are ``lerp`` (``a + w * (b - a)``
    for ``w < 0.5``, Keras's formula, with one rounding), the last line one
    ``addcdiv`` with value -1.
    """
    n = len(params)
    new_p, new_m, new_v = [None] * n, [None] * n, [None] * n
    new_vh = None if v_hat is None else [None] * n
    fused = _may_fuse(params, grads, m, v, v_hat, beta_1, beta_2)
    for dtype, index in _groups(params).items():
        g = [t if t.dtype == dtype else t.to(dtype) for t in _take(grads, index)]
        on_kernel = fused and dtype in _FUSED_DTYPES and all(params[i].is_cpu for i in index)
        update = _fused_adam if on_kernel else _foreach_adam
        results = update(_take(params, index), g, _take(m, index), _take(v, index),
                         None if v_hat is None else _take(v_hat, index), alpha.to(dtype), beta_1, beta_2, epsilon)
        for out, values in zip((new_p, new_m, new_v, new_vh), results):
            if out is not None:
                _put(out, index, values)
    return new_p, new_m, new_v, new_vh
