"""Adamax (Kingma & Ba 2015, §7.1): Adam with the second moment replaced by an
exponentially weighted infinity norm.

    m ← β₁·m + (1 − β₁)·d
    u ← max(β₂·u, |d| + eps)
    θ ← θ − lr/(1 − β₁ᵗ) · m / u

u needs no bias correction (a max of decayed values is not biased towards 0); eps, which
PyTorch adds to |d| rather than to u, keeps u > 0 before the first non-zero gradient.
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, check_adam_group, effective_grad, lerp_, new_state_tensor


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False)``.

    State per parameter: ``step`` (int), ``exp_avg`` (m) and ``exp_inf`` (u)."""

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
        a = p._data
        state["step"] += 1
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        clr = lr / (1 - beta1 ** state["step"])
        if is_cuda_array(a):
            _fused.adamax(a, g, m, u, clr, beta1, beta2, eps, wd, maximize)
        else:
            self._run_cpu(_adamax, (a, g, m, u), 2, clr, beta1, beta2, eps, wd, maximize)


def _adamax(xp: Any, a: Any, g: Any, m: Any, u: Any, w1: Any, w2: Any, clr: float, beta1: float, beta2: float,
            eps: float, wd: float, maximize: bool) -> None:
    d = effective_grad(xp, a, g, wd, maximize, w1)
    lerp_(xp, m, d, 1 - beta1, w2)
    u *= beta2
    xp.abs(d, out=w2)
    w2 += eps
    xp.maximum(u, w2, out=u)
    xp.divide(m, u, out=w2)
    w2 *= clr
    a -= w2
