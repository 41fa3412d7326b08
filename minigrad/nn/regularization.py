"""Weight penalties and the max-norm constraint.

``l2_penalty`` and ``l1_penalty`` return differentiable scalars to add to the loss:

    loss + λ·l2_penalty(W)  with l2 = ½ Σ w²   ->   gradient step w ← w - α(∂loss/∂w + λw) = (1 - αλ)w - α ∂loss/∂w

which is exactly "coupled" weight decay (docs/nn.md).  Given a Module, they use only its
weight matrices/kernels (``weight_parameters``): biases and normalization scales are not
penalized by default.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..devices import array_module
from ..autograd.grad_mode import no_grad
from ..ops.elementwise import abs as _abs
from ..ops.reduction import sum as _sum
from ..tensor import Tensor, make_tensor
from .module import Module


def weight_parameters(module: Module) -> list:
    """The parameters of ``module`` with 2 or more dims (Linear weights, conv kernels): the ones a
    weight penalty usually applies to.  Biases and BatchNorm's γ, β (1-D) are left out."""
    if not isinstance(module, Module):
        raise TypeError(f"weight_parameters expects a Module, got {type(module).__name__}")
    return [p for p in module.parameters() if p.ndim >= 2]


def _params(params: Any, op: str) -> list:
    if isinstance(params, Module):
        params = weight_parameters(params)
    elif isinstance(params, Tensor):
        params = [params]
    params = list(params)
    if not params:
        raise ValueError(f"{op}: no parameters given")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: item {i} is a {type(p).__name__}, expected a Tensor")
    return params


def l2_penalty(params: Iterable[Tensor] | Module | Tensor) -> Tensor:
    """½ Σ w² over all given tensors (a Module: its weight matrices only).  Gradient: w."""
    ps = _params(params, "l2_penalty")
    total = _sum(ps[0] * ps[0])
    for p in ps[1:]:
        total = total + _sum(p * p)
    return total * 0.5


def l1_penalty(params: Iterable[Tensor] | Module | Tensor) -> Tensor:
    """Σ |w| over all given tensors (a Module: its weight matrices only).
    Gradient: sign(w), with the subgradient 0 at w = 0."""
    ps = _params(params, "l1_penalty")
    total = _sum(_abs(ps[0]))
    for p in ps[1:]:
        total = total + _sum(_abs(p))
    return total


def max_norm_(params: Iterable[Tensor] | Module | Tensor, max_norm: float, eps: float = 1e-7) -> None:
    """Max-norm constraint, in place: rescale each unit's incoming weight vector — row i of a
    (out, in) weight, or slice i along dim 0 of a kernel — to norm ``max_norm`` if it is longer.

        w_i ← w_i · min(1, c / (‖w_i‖ + eps))

    Call it after each optimizer step (dropout paper, Srivastava et al. 2014).  A Module means
    its weight matrices; 1-D tensors are treated as a single vector.
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm_: max_norm must be positive, got {max_norm}")
    with no_grad():
        for p in _params(params, "max_norm_"):
            a = p._data
            xp = array_module(a)
            if a.ndim >= 2:
                norms = xp.sqrt((a.reshape(a.shape[0], -1).astype("float64") ** 2).sum(axis=1))
                shape = (a.shape[0],) + (1,) * (a.ndim - 1)
            else:
                norms = xp.sqrt((a.astype("float64") ** 2).sum()).reshape(())
                shape = ()
            factor = xp.minimum(1.0, max_norm / (norms + eps)).reshape(shape).astype(a.dtype)
            p.mul_(make_tensor(factor, False, None))
