"""Adamax (Kingma & Ba 2015, §7.1): Adam with the second moment replaced by an exponentially
weighted infinity norm.

The update rule is :func:`adamax_update`; :class:`Adamax` keeps its state and hyper-parameters.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_adam_group, cuda_effective_grad, cuda_kernel,
                        effective_grad_into, new_state_tensor, pieces_with_scratch)


def adamax_update(param: Any, grad: Any, exp_avg: Any, exp_inf: Any, *, step: int, lr: float, beta1: float,
                  beta2: float, eps: float, weight_decay: float, maximize: bool = False) -> None:
    """One Adamax step for one parameter, in place on ``param`` and its state.

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ), at step t:

        m ← β₁·m + (1 − β₁)·d                  (``exp_avg``)
        u ← max(β₂·u, |d| + eps)               (``exp_inf``)
        θ ← θ − lr/(1 − β₁ᵗ) · m / u

    u needs no bias correction (a max of decayed values is not biased towards 0); eps, which
    PyTorch adds to |d| rather than to u, keeps u > 0 before the first non-zero gradient.
    ``param``, ``grad`` and the state arrays share one shape; ``step`` counts from 1."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    exp_avg[...] = beta1 * exp_avg + (1 - beta1) * d
    exp_inf[...] = xp.maximum(beta2 * exp_inf, xp.abs(d) + eps)
    step_size = lr / (1 - beta1**step)
    param -= step_size * exp_avg / exp_inf


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False)``.

    State per parameter: ``step`` (int), ``exp_avg`` (m) and ``exp_inf`` (u).  Each step runs
    :func:`adamax_update` in one of its forms (``update_forms``, set at the end of this module;
    :meth:`Optimizer._update_form` picks one)."""

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_adam_group(group)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"step": 0, "exp_avg": new_state_tensor(p._data), "exp_inf": new_state_tensor(p._data)}

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        state["step"] += 1
        beta1, beta2 = group["betas"]
        update = self._update_form(p._data)  # adamax_update, or a fast form of it
        update(p._data, g, state["exp_avg"]._data, state["exp_inf"]._data, step=state["step"], lr=group["lr"],
               beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
               maximize=group["maximize"])


# -- fast forms: the same step as adamax_update, tested equal to it ------------------------------------
def adamax_update_chunked(param: Any, grad: Any, exp_avg: Any, exp_inf: Any, *, step: int, lr: float, beta1: float,
                          beta2: float, eps: float, weight_decay: float, maximize: bool = False,
                          scratch: Scratch | None = None) -> None:
    """:func:`adamax_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    step_size = lr / (1 - beta1**step)
    for p, g, m, u, w1, w2 in pieces_with_scratch((param, grad, exp_avg, exp_inf), 2, scratch):
        d = effective_grad_into(xp, p, g, weight_decay=weight_decay, maximize=maximize, out=w1)
        m *= beta1  # m ← β₁·m + (1 − β₁)·d
        xp.multiply(d, 1 - beta1, out=w2)
        m += w2
        u *= beta2  # u ← max(β₂·u, |d| + eps)
        xp.abs(d, out=w2)
        w2 += eps
        xp.maximum(u, w2, out=u)
        xp.multiply(m, step_size, out=w2)  # θ ← θ − step_size · m / u
        w2 /= u
        p -= w2


@cache
def _adamax_kernel_text(maximize: bool) -> tuple:
    body = cuda_effective_grad(maximize) + """
double m = beta1 * (double)exp_avg + (1.0 - beta1) * d;
double u_decayed = beta2 * (double)exp_inf, u_new = fabs(d) + eps;
double u = (u_decayed > u_new || u_decayed != u_decayed) ? u_decayed : u_new;
exp_avg = (T)m;
exp_inf = (T)u;
p = (T)(theta - step_size * m / u);
"""
    return ("T g, float64 step_size, float64 beta1, float64 beta2, float64 eps, float64 wd",
            "T p, T exp_avg, T exp_inf", body)


def adamax_update_cuda_fused(param: Any, grad: Any, exp_avg: Any, exp_inf: Any, *, step: int, lr: float,
                             beta1: float, beta2: float, eps: float, weight_decay: float,
                             maximize: bool = False) -> None:
    """:func:`adamax_update` on CUDA arrays as one kernel launch (each element read and written
    once, the arithmetic in double precision, rounded once on store)."""
    step_size = lr / (1 - beta1**step)
    cuda_kernel("adamax", *_adamax_kernel_text(maximize))(grad, step_size, beta1, beta2, eps, weight_decay, param,
                                                          exp_avg, exp_inf)


Adamax.update_forms = UpdateForms(plain=adamax_update, chunked=adamax_update_chunked,
                                  cuda_fused=adamax_update_cuda_fused)
