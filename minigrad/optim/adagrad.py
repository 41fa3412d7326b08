"""Adagrad (Duchi et al. 2011, the diagonal form): per-coordinate step sizes from the
accumulated squared gradients.

The update rule is :func:`adagrad_update`; :class:`Adagrad` keeps its state and hyper-parameters.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_number, cuda_effective_grad, cuda_kernel,
                        effective_grad_into, new_state_tensor, pieces_with_scratch)


def adagrad_update(param: Any, grad: Any, state_sum: Any, *, step: int, lr: float, lr_decay: float,
                   weight_decay: float, eps: float, maximize: bool = False) -> None:
    """One Adagrad step for one parameter, in place on ``param`` and ``state_sum``.

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ), at step t:

        G ← G + d²                                    (``state_sum``; starts at initial_accumulator_value)
        θ ← θ − lr_t · d / (√G + eps),   lr_t = lr / (1 + (t − 1)·lr_decay)

    All operations are element-wise: the diagonal of Duchi et al.'s G_t = Σ g gᵀ.
    ``param``, ``grad`` and ``state_sum`` share one shape; ``step`` counts from 1."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    state_sum += d**2
    lr_t = lr / (1 + (step - 1) * lr_decay)
    param -= lr_t * d / (xp.sqrt(state_sum) + eps)


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.   State per parameter: ``step`` (int) and ``sum`` (G, shape of the parameter).

    Each step runs :func:`adagrad_update` in one of its forms (``update_forms``, set at the end of
    this module; :meth:`Optimizer._update_form` picks one)."""

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
        state["step"] += 1
        update = self._update_form(p._data)  # adagrad_update, or a fast form of it
        update(p._data, g, state["sum"]._data, step=state["step"], lr=group["lr"], lr_decay=group["lr_decay"],
               weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"])


# -- fast forms: the same step as adagrad_update, tested equal to it -----------------------------------
def adagrad_update_chunked(param: Any, grad: Any, state_sum: Any, *, step: int, lr: float, lr_decay: float,
                           weight_decay: float, eps: float, maximize: bool = False,
                           scratch: Scratch | None = None) -> None:
    """:func:`adagrad_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    lr_t = lr / (1 + (step - 1) * lr_decay)
    for p, g, s, w1, w2 in pieces_with_scratch((param, grad, state_sum), 2, scratch):
        d = effective_grad_into(xp, p, g, weight_decay=weight_decay, maximize=maximize, out=w1)
        xp.multiply(d, d, out=w2)  # G ← G + d²
        s += w2
        xp.sqrt(s, out=w2)  # θ ← θ − lr_t·d / (√G + eps)
        w2 += eps
        xp.multiply(d, lr_t, out=w1)
        w1 /= w2
        p -= w1


@cache
def _adagrad_kernel_text(maximize: bool) -> tuple:
    body = cuda_effective_grad(maximize) + """
double G = (double)state_sum + d * d;
state_sum = (T)G;
p = (T)(theta - lr_t * d / (sqrt(G) + eps));
"""
    return "T g, float64 lr_t, float64 eps, float64 wd", "T p, T state_sum", body


def adagrad_update_cuda_fused(param: Any, grad: Any, state_sum: Any, *, step: int, lr: float, lr_decay: float,
                              weight_decay: float, eps: float, maximize: bool = False) -> None:
    """:func:`adagrad_update` on CUDA arrays as one kernel launch (each element read and written
    once, the arithmetic in double precision, rounded once on store)."""
    lr_t = lr / (1 + (step - 1) * lr_decay)
    cuda_kernel("adagrad", *_adagrad_kernel_text(maximize))(grad, lr_t, eps, weight_decay, param, state_sum)


Adagrad.update_forms = UpdateForms(plain=adagrad_update, chunked=adagrad_update_chunked,
                                   cuda_fused=adagrad_update_cuda_fused)
