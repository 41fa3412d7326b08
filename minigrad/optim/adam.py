"""Adam (Kingma & Ba 2015) with bias correction, AMSGrad, and decoupled weight decay.

With d the gradient (negated when maximizing; + λθ for the L2 form of weight decay):

    m ← β₁·m + (1 − β₁)·d                 first moment
    v ← β₂·v + (1 − β₂)·d²                second moment (AMSGrad: v̂ ← max(v̂, v), used below)
    θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

which is the paper's θ ← θ − lr·m̂ / (√v̂ + eps) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ);
eps is added to the bias-corrected √v̂ (as in the paper and PyTorch).
``decoupled_weight_decay=True`` (that is :class:`AdamW`) instead shrinks θ ← θ·(1 − lr·λ)
before the step and leaves the gradient alone.
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, adam_moments_, check_adam_group, new_state_tensor


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False)``.

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``; each state tensor has the parameter's shape."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_adam_group(group)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = {"step": 0, "exp_avg": new_state_tensor(p._data), "exp_avg_sq": new_state_tensor(p._data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = new_state_tensor(p._data)
        return state

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        a = p._data
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, maximize, decoupled = group["weight_decay"], group["maximize"], group["decoupled_weight_decay"]
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = new_state_tensor(a)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        vmax = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        step_size = lr / (1 - beta1 ** step)
        bc2_sqrt = (1 - beta2 ** step) ** 0.5
        if is_cuda_array(a):
            _fused.adam(a, g, m, v, vmax, lr, beta1, beta2, eps, wd, step_size, bc2_sqrt, decoupled, maximize)
        else:
            self._run_cpu(_adam, (a, g, m, v, vmax), 2, lr, beta1, beta2, eps, wd, step_size, bc2_sqrt, decoupled,
                          maximize)


def _adam(xp: Any, a: Any, g: Any, m: Any, v: Any, vmax: Any, w1: Any, w2: Any, lr: float, beta1: float,
          beta2: float, eps: float, wd: float, step_size: float, bc2_sqrt: float, decoupled: bool,
          maximize: bool) -> None:
    adam_moments_(xp, a, g, m, v, w1, w2, lr, beta1, beta2, wd, decoupled, maximize)
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    # lr/bc₁ · m / (√v/√bc₂ + eps)  =  (lr·√bc₂/bc₁) · m / (√v + eps·√bc₂): one pass fewer
    xp.sqrt(v, out=w2)
    w2 += eps * bc2_sqrt
    xp.divide(m, w2, out=w2)
    w2 *= step_size * bc2_sqrt
    a -= w2
