"""Gradient clipping and flat-vector views of parameters."""
from __future__ import annotations

import math
from typing import Any, Iterable

from .._device import array_module
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, _make


def _with_grads(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint norm ‖(g_1, g_2, ...)‖_p is at most ``max_norm``:

        g ← g · min(1, max_norm / (total + 1e-6)).

    Returns the total norm before clipping (``norm_type=inf`` gives the largest |g|).
    """
    grads = [p.grad for p in _with_grads(parameters)]
    if not grads:
        from ..creation import tensor

        return tensor(0.0)
    norm_type = float(norm_type)
    arrays = [g._data for g in grads]
    xp = array_module(arrays[0])
    if math.isinf(norm_type):
        total = max(float(xp.abs(a).max()) if a.size else 0.0 for a in arrays)
    else:
        total = sum(float((xp.abs(a.astype("float64")) ** norm_type).sum()) for a in arrays) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           "pass error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        with no_grad():
            for g in grads:
                g.mul_(coef)
    return _make(xp.asarray(total, dtype=arrays[0].dtype), False, None)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy, no graph)."""
    arrays = [p._data.reshape(-1) for p in parameters]
    if not arrays:
        raise ValueError("parameters_to_vector: no parameters given")
    return _make(array_module(arrays[0]).concatenate(arrays), False, None)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if not isinstance(vec, Tensor) or vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D tensor of {total} elements, got "
                         f"{getattr(vec, 'shape', type(vec).__name__)}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(_make(vec._data[start:start + n].reshape(p.shape), False, None))
            start += n
