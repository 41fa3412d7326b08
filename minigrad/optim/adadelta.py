"""Adadelta (Zeiler 2012): step sizes from two running RMS averages, no global rate needed.

    E[d²] ← ρ·E[d²] + (1 − ρ)·d²
    Δ     ← √(E[Δ²] + eps) / √(E[d²] + eps) · d
    E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
    θ     ← θ − lr·Δ

With lr = 1 (the default) this is Zeiler's Δθ = −RMS[Δθ]_{t−1} / RMS[g]_t · g.
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, add_square_, check_number, effective_grad, new_state_tensor


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``.

    State per parameter: ``step`` (int), ``square_avg`` (E[d²]) and ``acc_delta`` (E[Δ²])."""

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number("learning rate", group["lr"])
        check_number("rho value", group["rho"], 0.0, 1.0)
        check_number("epsilon value", group["eps"])
        check_number("weight_decay value", group["weight_decay"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"step": 0, "square_avg": new_state_tensor(p._data), "acc_delta": new_state_tensor(p._data)}

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        a = p._data
        state["step"] += 1
        lr, rho, eps, wd, maximize = group["lr"], group["rho"], group["eps"], group["weight_decay"], group["maximize"]
        sq, acc = state["square_avg"]._data, state["acc_delta"]._data
        if is_cuda_array(a):
            _fused.adadelta(a, g, sq, acc, lr, rho, eps, wd, maximize)
        else:
            self._run_cpu(_adadelta, (a, g, sq, acc), 3, lr, rho, eps, wd, maximize)


def _adadelta(xp: Any, a: Any, g: Any, sq: Any, acc: Any, w1: Any, w2: Any, w3: Any, lr: float, rho: float,
              eps: float, wd: float, maximize: bool) -> None:
    d = effective_grad(xp, a, g, wd, maximize, w1)
    add_square_(xp, sq, d, rho, w2)
    xp.add(sq, eps, out=w2)
    xp.sqrt(w2, out=w2)              # RMS[g]_t
    xp.add(acc, eps, out=w3)
    xp.sqrt(w3, out=w3)              # RMS[Δθ]_{t-1}
    w3 /= w2
    w3 *= d                          # Δ
    add_square_(xp, acc, w3, rho, w2)
    if lr != 1:
        w3 *= lr
    a -= w3
