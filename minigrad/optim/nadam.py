"""NAdam (Dozat 2016): Adam with Nesterov momentum and a momentum warm-up schedule.

    μ_t = β₁·(1 − ½·0.96^(t·ψ)),   Π_t = μ₁·…·μ_t           (ψ = momentum_decay)
    m ← β₁·m + (1 − β₁)·d,   v ← β₂·v + (1 − β₂)·d²
    s = √(v / (1 − β₂ᵗ)) + eps
    θ ← θ − lr·(1 − μ_t)/(1 − Π_t) · d/s − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/s

The last term is the Nesterov look-ahead: it uses the *next* step's momentum coefficient.
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, adam_moments_, check_adam_group, check_number, new_state_tensor


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False)``.

    State per parameter: ``step`` (int), ``mu_product`` (Π_t, float), ``exp_avg``, ``exp_avg_sq``."""

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
        a = p._data
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2), eps, psi = group["lr"], group["betas"], group["eps"], group["momentum_decay"]
        wd, maximize, decoupled = group["weight_decay"], group["maximize"], group["decoupled_weight_decay"]
        bc2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        coef_grad = -lr * (1.0 - mu) / (1.0 - mu_product)
        coef_avg = (-lr * mu_next) / (1.0 - mu_product * mu_next)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        if is_cuda_array(a):
            _fused.nadam(a, g, m, v, lr, beta1, beta2, eps, wd, bc2, coef_grad, coef_avg, decoupled, maximize)
        else:
            self._run_cpu(_nadam, (a, g, m, v), 3, lr, beta1, beta2, eps, wd, bc2, coef_grad, coef_avg, decoupled,
                          maximize)


def _nadam(xp: Any, a: Any, g: Any, m: Any, v: Any, w1: Any, w2: Any, w3: Any, lr: float, beta1: float,
           beta2: float, eps: float, wd: float, bc2: float, coef_grad: float, coef_avg: float, decoupled: bool,
           maximize: bool) -> None:
    d = adam_moments_(xp, a, g, m, v, w1, w2, lr, beta1, beta2, wd, decoupled, maximize)
    xp.divide(v, bc2, out=w2)
    xp.sqrt(w2, out=w2)
    w2 += eps
    xp.divide(d, w2, out=w3)
    w3 *= coef_grad
    a += w3
    xp.divide(m, w2, out=w3)
    w3 *= coef_avg
    a += w3
