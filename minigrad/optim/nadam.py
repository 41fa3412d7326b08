"""NAdam (Dozat 2016): Adam with Nesterov momentum and a momentum warm-up schedule.

The update rule is :func:`nadam_update`; :class:`NAdam` keeps its state and hyper-parameters.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_adam_group, check_number, cuda_effective_grad,
                        cuda_kernel, effective_grad_into, new_state_tensor, pieces_with_scratch)


def nadam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, mu_product: float, lr: float,
                 beta1: float, beta2: float, eps: float, weight_decay: float, momentum_decay: float,
                 decoupled_weight_decay: bool = False, maximize: bool = False) -> float:
    """One NAdam step for one parameter, in place on ``param`` and its state; returns the new
    μ-product Π_t (the caller keeps it for the next step, passing it back as ``mu_product``).

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ), at step t, with
    ψ = ``momentum_decay`` and ``mu_product`` = Π_{t−1} (1 before the first step):

        μ_t = β₁·(1 − ½·0.96^(t·ψ)),   Π_t = Π_{t−1}·μ_t       the momentum warm-up schedule
        m ← β₁·m + (1 − β₁)·d,   v ← β₂·v + (1 − β₂)·d²
        s = √(v / (1 − β₂ᵗ)) + eps
        θ ← θ − lr·(1 − μ_t)/(1 − Π_t) · d/s − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/s

    The last term is the Nesterov look-ahead: it uses the *next* step's momentum coefficient.
    ``decoupled_weight_decay`` first shrinks θ ← θ·(1 − lr·λ) (as AdamW) and leaves d alone.
    ``param``, ``grad`` and the state arrays share one shape; ``step`` counts from 1."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            d = d + weight_decay * param
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product = mu_product * mu
    exp_avg[...] = beta1 * exp_avg + (1 - beta1) * d
    exp_avg_sq[...] = beta2 * exp_avg_sq + (1 - beta2) * d**2
    s = xp.sqrt(exp_avg_sq / (1 - beta2**step)) + eps
    param -= lr * (1 - mu) / (1 - mu_product) * d / s
    param -= lr * mu_next / (1 - mu_product * mu_next) * exp_avg / s
    return mu_product


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False)``.

    State per parameter: ``step`` (int), ``mu_product`` (Π_t, float), ``exp_avg``, ``exp_avg_sq``.
    Each step runs :func:`nadam_update` in one of its forms (``update_forms``, set at the end of
    this module; :meth:`Optimizer._update_form` picks one)."""

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_adam_group(group)
        check_number("momentum_decay value", group["momentum_decay"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"step": 0, "mu_product": 1.0, "exp_avg": new_state_tensor(p._data),
                "exp_avg_sq": new_state_tensor(p._data)}

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        state["step"] += 1
        beta1, beta2 = group["betas"]
        update = self._update_form(p._data)  # nadam_update, or a fast form of it
        state["mu_product"] = update(
            p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, step=state["step"],
            mu_product=state["mu_product"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])


# -- fast forms: the same step as nadam_update, tested equal to it -------------------------------------
def _nadam_coefficients(step: int, mu_product: float, lr: float, beta1: float, momentum_decay: float) -> tuple:
    """(Π_t, lr·(1 − μ_t)/(1 − Π_t), lr·μ_{t+1}/(1 − Π_t·μ_{t+1})), computed as nadam_update does."""
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product = mu_product * mu
    return mu_product, lr * (1 - mu) / (1 - mu_product), lr * mu_next / (1 - mu_product * mu_next)


def nadam_update_chunked(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, mu_product: float,
                         lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, momentum_decay: float,
                         decoupled_weight_decay: bool = False, maximize: bool = False,
                         scratch: Scratch | None = None) -> float:
    """:func:`nadam_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    mu_product, grad_coef, avg_coef = _nadam_coefficients(step, mu_product, lr, beta1, momentum_decay)
    bias_correction2 = 1 - beta2**step
    l2 = 0 if decoupled_weight_decay else weight_decay
    for p, g, m, v, w1, w2, w3 in pieces_with_scratch((param, grad, exp_avg, exp_avg_sq), 3, scratch):
        if decoupled_weight_decay and weight_decay != 0:
            p *= 1 - lr * weight_decay
        d = effective_grad_into(xp, p, g, weight_decay=l2, maximize=maximize, out=w1)
        m *= beta1  # m ← β₁·m + (1 − β₁)·d
        xp.multiply(d, 1 - beta1, out=w2)
        m += w2
        v *= beta2  # v ← β₂·v + (1 − β₂)·d²
        xp.multiply(d, d, out=w2)
        w2 *= 1 - beta2
        v += w2
        xp.divide(v, bias_correction2, out=w2)  # s = √(v / (1 − β₂ᵗ)) + eps
        xp.sqrt(w2, out=w2)
        w2 += eps
        xp.multiply(d, grad_coef, out=w3)  # θ ← θ − grad_coef·d/s − avg_coef·m/s
        w3 /= w2
        p -= w3
        xp.multiply(m, avg_coef, out=w3)
        w3 /= w2
        p -= w3
    return mu_product


@cache
def _nadam_kernel_text(maximize: bool, decoupled_weight_decay: bool) -> tuple:
    body = cuda_effective_grad(maximize, decoupled_weight_decay) + """
double m = beta1 * (double)exp_avg + (1.0 - beta1) * d;
double v = beta2 * (double)exp_avg_sq + (1.0 - beta2) * d * d;
exp_avg = (T)m;
exp_avg_sq = (T)v;
double s = sqrt(v / bias_correction2) + eps;
p = (T)(theta - grad_coef * d / s - avg_coef * m / s);
"""
    return ("T g, float64 lr, float64 beta1, float64 beta2, float64 eps, float64 wd, float64 bias_correction2, "
            "float64 grad_coef, float64 avg_coef", "T p, T exp_avg, T exp_avg_sq", body)


def nadam_update_cuda_fused(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, mu_product: float,
                            lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                            momentum_decay: float, decoupled_weight_decay: bool = False,
                            maximize: bool = False) -> float:
    """:func:`nadam_update` on CUDA arrays as one kernel launch (each element read and written
    once, the arithmetic in double precision, rounded once on store; the coefficients are Python
    numbers, so nothing is read back from the GPU)."""
    mu_product, grad_coef, avg_coef = _nadam_coefficients(step, mu_product, lr, beta1, momentum_decay)
    kernel = cuda_kernel("nadam", *_nadam_kernel_text(maximize, decoupled_weight_decay))
    kernel(grad, lr, beta1, beta2, eps, weight_decay, 1 - beta2**step, grad_coef, avg_coef, param, exp_avg,
           exp_avg_sq)
    return mu_product


NAdam.update_forms = UpdateForms(plain=nadam_update, chunked=nadam_update_chunked, cuda_fused=nadam_update_cuda_fused)
