"""Adadelta (Zeiler 2012): step sizes from two running RMS averages, no global rate needed.

The update rule is :func:`adadelta_update`; :class:`Adadelta` keeps its state and
hyper-parameters.  With lr = 1 (the default) it is Zeiler's Δθ = −RMS[Δθ]_{t−1} / RMS[g]_t · g.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_number, cuda_effective_grad, cuda_kernel,
                        effective_grad_into, new_state_tensor, pieces_with_scratch)


def adadelta_update(param: Any, grad: Any, square_avg: Any, acc_delta: Any, *, lr: float, rho: float, eps: float,
                    weight_decay: float, maximize: bool = False) -> None:
    """One Adadelta step for one parameter, in place on ``param`` and its state.

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ):

        E[d²] ← ρ·E[d²] + (1 − ρ)·d²                    (``square_avg``)
        Δ     ← √(E[Δ²] + eps) / √(E[d²] + eps) · d       RMS[Δ]_{t−1} / RMS[d]_t · d
        E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²                    (``acc_delta``)
        θ     ← θ − lr·Δ

    ``param``, ``grad`` and the state arrays share one shape."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    square_avg[...] = rho * square_avg + (1 - rho) * d**2
    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * d
    acc_delta[...] = rho * acc_delta + (1 - rho) * delta**2
    param -= lr * delta


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``.

    State per parameter: ``step`` (int), ``square_avg`` (E[d²]) and ``acc_delta`` (E[Δ²]).
    Each step runs :func:`adadelta_update` in one of its forms (``update_forms``, set at the end
    of this module; :meth:`Optimizer._update_form` picks one)."""

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
        state["step"] += 1
        update = self._update_form(p._data)  # adadelta_update, or a fast form of it
        update(p._data, g, state["square_avg"]._data, state["acc_delta"]._data, lr=group["lr"], rho=group["rho"],
               eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])


# -- fast forms: the same step as adadelta_update, tested equal to it ----------------------------------
def adadelta_update_chunked(param: Any, grad: Any, square_avg: Any, acc_delta: Any, *, lr: float, rho: float,
                            eps: float, weight_decay: float, maximize: bool = False,
                            scratch: Scratch | None = None) -> None:
    """:func:`adadelta_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    for p, g, sq, acc, w1, w2, w3 in pieces_with_scratch((param, grad, square_avg, acc_delta), 3, scratch):
        d = effective_grad_into(xp, p, g, weight_decay=weight_decay, maximize=maximize, out=w1)
        sq *= rho  # E[d²] ← ρ·E[d²] + (1 − ρ)·d²
        xp.multiply(d, d, out=w2)
        w2 *= 1 - rho
        sq += w2
        xp.add(sq, eps, out=w2)  # RMS[d]_t
        xp.sqrt(w2, out=w2)
        xp.add(acc, eps, out=w3)  # RMS[Δ]_{t−1}
        xp.sqrt(w3, out=w3)
        w3 /= w2  # Δ
        w3 *= d
        acc *= rho  # E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
        xp.multiply(w3, w3, out=w2)
        w2 *= 1 - rho
        acc += w2
        if lr != 1:  # (1·Δ is Δ)
            w3 *= lr
        p -= w3


@cache
def _adadelta_kernel_text(maximize: bool) -> tuple:
    body = cuda_effective_grad(maximize) + """
double sq = rho * (double)square_avg + (1.0 - rho) * d * d;
square_avg = (T)sq;
double delta = sqrt((double)acc_delta + eps) / sqrt(sq + eps) * d;
acc_delta = (T)(rho * (double)acc_delta + (1.0 - rho) * delta * delta);
p = (T)(theta - lr * delta);
"""
    return "T g, float64 lr, float64 rho, float64 eps, float64 wd", "T p, T square_avg, T acc_delta", body


def adadelta_update_cuda_fused(param: Any, grad: Any, square_avg: Any, acc_delta: Any, *, lr: float, rho: float,
                               eps: float, weight_decay: float, maximize: bool = False) -> None:
    """:func:`adadelta_update` on CUDA arrays as one kernel launch (each element read and written
    once, the arithmetic in double precision, rounded once on store)."""
    cuda_kernel("adadelta", *_adadelta_kernel_text(maximize))(grad, lr, rho, eps, weight_decay, param, square_avg,
                                                              acc_delta)


Adadelta.update_forms = UpdateForms(plain=adadelta_update, chunked=adadelta_update_chunked,
                                    cuda_fused=adadelta_update_cuda_fused)
