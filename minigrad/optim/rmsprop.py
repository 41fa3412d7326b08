"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum (PyTorch's form).

    v ← α·v + (1 − α)·d²
    centered:  ḡ ← α·ḡ + (1 − α)·d,   s = √(v − ḡ²) + eps      else  s = √v + eps
    momentum μ > 0:  b ← μ·b + d / s,   θ ← θ − lr·b
    otherwise:       θ ← θ − lr·d / s

Note eps is added *outside* the square root (TensorFlow puts it inside).
"""
from __future__ import annotations

from typing import Any

from .._device import is_cuda_array
from ..tensor import Tensor
from . import _fused
from .optimizer import Optimizer, ParamsT, add_square_, check_number, effective_grad, lerp_, new_state_tensor


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.   State per parameter: ``step`` (int), ``square_avg``, and ``grad_avg``
    (centered) / ``momentum_buffer`` (momentum > 0)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number("learning rate", group["lr"])
        check_number("epsilon value", group["eps"])
        check_number("momentum value", group["momentum"])
        check_number("weight_decay value", group["weight_decay"])
        check_number("alpha value", group["alpha"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = {"step": 0, "square_avg": new_state_tensor(p._data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = new_state_tensor(p._data)
        if group["centered"]:
            state["grad_avg"] = new_state_tensor(p._data)
        return state

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        a = p._data
        state["step"] += 1
        lr, alpha, eps, mom = group["lr"], group["alpha"], group["eps"], group["momentum"]
        wd, maximize, centered = group["weight_decay"], group["maximize"], group["centered"]
        if centered and "grad_avg" not in state:  # options changed after the first step
            state["grad_avg"] = new_state_tensor(a)
        if mom > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = new_state_tensor(a)
        sq = state["square_avg"]._data
        ga = state["grad_avg"]._data if centered else None
        buf = state["momentum_buffer"]._data if mom > 0 else None
        if is_cuda_array(a):
            _fused.rmsprop(a, g, sq, ga, buf, lr, alpha, eps, wd, mom, maximize)
        else:
            self._run_cpu(_rmsprop, (a, g, sq, ga, buf), 2, lr, alpha, eps, wd, mom, maximize)


def _rmsprop(xp: Any, a: Any, g: Any, sq: Any, ga: Any, buf: Any, w1: Any, w2: Any, lr: float, alpha: float,
             eps: float, wd: float, mom: float, maximize: bool) -> None:
    d = effective_grad(xp, a, g, wd, maximize, w1)
    add_square_(xp, sq, d, alpha, w2)
    if ga is not None:
        lerp_(xp, ga, d, 1 - alpha, w2)
        xp.multiply(ga, ga, out=w2)
        xp.subtract(sq, w2, out=w2)
        xp.sqrt(w2, out=w2)
    else:
        xp.sqrt(sq, out=w2)
    w2 += eps
    xp.divide(d, w2, out=w2)
    if buf is not None:
        buf *= mom
        buf += w2
        xp.multiply(buf, lr, out=w2)
    else:
        w2 *= lr
    a -= w2
