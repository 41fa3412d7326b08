"""Gradient clipping, in place on ``p.grad``: ``mg.nn.utils.clip_grad_norm_`` /
``clip_grad_value_`` (PyTorch's names and place).

``clip_grad_norm_`` rescales all gradients together, so the update direction is kept and
only its length is capped:

    total = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p          (= the p-norm of all gradients concatenated)
    g ← g · min(1, max_norm / (total + 1e-6))

Everything stays on the gradients' device: the norm and the factor are 0-d device arrays
and the factor is applied unconditionally (multiplying by 1 when no clipping is needed),
so there is no host synchronisation unless ``error_if_nonfinite`` asks for a check.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from .. import devices
from ..tensor import Tensor, make_tensor


def _grads(parameters: Iterable[Tensor] | Tensor) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    out = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters must be Tensors, but item {i} is a {type(p).__name__}")
        if p.grad is not None:
            out.append(p.grad)
    return out


def _norm(xp: Any, a: Any, p: float) -> Any:
    """‖a‖_p as a 0-d array (p = inf: max |a|; p = 0: number of non-zeros)."""
    if a.size == 0:
        return xp.zeros((), dtype=a.dtype)
    if p == 2.0:
        flat = a.reshape(-1)
        return xp.sqrt(xp.dot(flat, flat))
    if math.isinf(p):
        return xp.abs(a).max() if p > 0 else xp.abs(a).min()
    if p == 0:
        return (a != 0).sum().astype(a.dtype)
    if p == 1.0:
        return xp.abs(a).sum()
    return (xp.abs(a) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their joint ``norm_type``-norm is at
    most ``max_norm``; returns the norm *before* clipping as a 0-d tensor (on the gradients'
    device, in the first gradient's dtype).

    ``norm_type`` may be any p ≥ 0 or ``inf``.  With ``error_if_nonfinite=True`` a NaN or infinite
    total norm raises RuntimeError instead of spreading NaN into every gradient.
    ``foreach`` is accepted for PyTorch compatibility and ignored.
    """
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        from ..creation import tensor

        return tensor(0.0)
    first = grads[0]._data
    dev = devices.device_of(first)
    xp = devices.array_module(first)
    norms = []
    for g in grads:
        a = g._data
        n = _norm(devices.array_module(a), a, norm_type)
        if devices.device_of(a) != dev:  # rare: gradients on several devices; gather the norms
            n = devices.move(n, dev)
        norms.append(xp.asarray(n, dtype=first.dtype))
    stacked = xp.stack(norms)
    # the p-norm of the concatenation is the p-norm of the per-tensor norms, except for the
    # "0-norm" (a count of non-zeros), where the counts add up
    total = stacked.sum() if norm_type == 0 else _norm(xp, stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite ({float(total)}), "
            "so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0).astype(first.dtype)
    for g in grads:
        a = g._data
        if devices.device_of(a) != dev:
            a *= devices.move(coef, devices.device_of(a)).astype(a.dtype)
        else:
            a *= coef.astype(a.dtype, copy=False)
    return make_tensor(total, False, None)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element of ``parameters`` into [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        a = g._data
        devices.array_module(a).clip(a, -clip_value, clip_value, out=a)
