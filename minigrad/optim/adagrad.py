"""Adagrad: per-coordinate step sizes from the accumulated squared gradients.

    G ← G + d²                      (G starts at initial_accumulator_value)
    θ ← θ − lr_t · d / (√G + eps),  lr_t = lr / (1 + (t − 1)·lr_decay)

d is the gradient (+ weight_decay·θ, negated when maximizing); all operations are
element-wise, so this is the diagonal form of Duchi et al.'s G_t = Σ g gᵀ.
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, check_number, effective_grad, new_state_tensor


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.   State per parameter: ``step`` (int) and ``sum`` (G, shape of the parameter)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number("learning rate", group["lr"])
        check_number("lr_decay value", group["lr_decay"])
        check_number("weight_decay value", group["weight_decay"])
        check_number("initial_accumulator_value value", group["initial_accumulator_value"])
        check_number("epsilon value", group["eps"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"step": 0, "sum": new_state_tensor(p._data, group["initial_accumulator_value"])}

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        a = p._data
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
        s = state["sum"]._data
        if is_cuda_array(a):
            _fused.adagrad(a, g, s, clr, eps, wd, maximize)
        else:
            self._run_cpu(_adagrad, (a, g, s), 2, clr, eps, wd, maximize)


def _adagrad(xp: Any, a: Any, g: Any, s: Any, w1: Any, w2: Any, clr: float, eps: float, wd: float,
             maximize: bool) -> None:
    d = effective_grad(xp, a, g, wd, maximize, w1)
    xp.multiply(d, d, out=w2)
    s += w2
    xp.sqrt(s, out=w2)
    w2 += eps
    xp.divide(d, w2, out=w2)
    w2 *= clr
    a -= w2
