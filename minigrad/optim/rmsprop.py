"""RMSprop (Hinton's lecture 6e), optionally centered (Graves 2013) and with momentum (PyTorch's form).

The update rule is :func:`rmsprop_update`; :class:`RMSprop` keeps its state and hyper-parameters.
Note eps is added *outside* the square root (TensorFlow puts it inside).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_number, cuda_effective_grad, cuda_kernel,
                        effective_grad_into, new_state_tensor, pieces_with_scratch)


def rmsprop_update(param: Any, grad: Any, square_avg: Any, *, lr: float, alpha: float, eps: float,
                   weight_decay: float, momentum: float, centered: bool, grad_avg: Any = None,
                   momentum_buffer: Any = None, maximize: bool = False) -> None:
    """One RMSprop step for one parameter, in place on ``param`` and its state.

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ):

        v ← α·v + (1 − α)·d²                          (``square_avg``)
        s = √v + eps
          centered:  ḡ ← α·ḡ + (1 − α)·d  (``grad_avg``),   s = √(v − ḡ²) + eps
        θ ← θ − lr·d / s
          momentum μ > 0:  b ← μ·b + d / s  (``momentum_buffer``),   θ ← θ − lr·b

    ``param``, ``grad`` and the state arrays share one shape."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    square_avg[...] = alpha * square_avg + (1 - alpha) * d**2
    if centered:
        grad_avg[...] = alpha * grad_avg + (1 - alpha) * d
        s = xp.sqrt(square_avg - grad_avg**2) + eps
    else:
        s = xp.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer[...] = momentum * momentum_buffer + d / s
        param -= lr * momentum_buffer
    else:
        param -= lr * d / s


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.   State per parameter: ``step`` (int), ``square_avg``, and ``grad_avg``
    (centered) / ``momentum_buffer`` (momentum > 0).

    Each step runs :func:`rmsprop_update` in one of its forms (``update_forms``, set at the end of
    this module; :meth:`Optimizer._update_form` picks one)."""

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
        state["step"] += 1
        momentum, centered = group["momentum"], group["centered"]
        if centered and "grad_avg" not in state:  # options changed after the first step
            state["grad_avg"] = new_state_tensor(p._data)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = new_state_tensor(p._data)
        update = self._update_form(p._data)  # rmsprop_update, or a fast form of it
        update(p._data, g, state["square_avg"]._data, lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
               weight_decay=group["weight_decay"], momentum=momentum, centered=centered,
               grad_avg=state["grad_avg"]._data if centered else None,
               momentum_buffer=state["momentum_buffer"]._data if momentum > 0 else None, maximize=group["maximize"])


# -- fast forms: the same step as rmsprop_update, tested equal to it -----------------------------------
def rmsprop_update_chunked(param: Any, grad: Any, square_avg: Any, *, lr: float, alpha: float, eps: float,
                           weight_decay: float, momentum: float, centered: bool, grad_avg: Any = None,
                           momentum_buffer: Any = None, maximize: bool = False, scratch: Scratch | None = None) -> None:
    """:func:`rmsprop_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    arrays = (param, grad, square_avg, grad_avg, momentum_buffer)
    for p, g, v, g_avg, b, w1, w2 in pieces_with_scratch(arrays, 2, scratch):
        d = effective_grad_into(xp, p, g, weight_decay=weight_decay, maximize=maximize, out=w1)
        v *= alpha  # v ← α·v + (1 − α)·d²
        xp.multiply(d, d, out=w2)
        w2 *= 1 - alpha
        v += w2
        if centered:
            g_avg *= alpha  # ḡ ← α·ḡ + (1 − α)·d
            xp.multiply(d, 1 - alpha, out=w2)
            g_avg += w2
            xp.multiply(g_avg, g_avg, out=w2)  # s = √(v − ḡ²) + eps
            xp.subtract(v, w2, out=w2)
            xp.sqrt(w2, out=w2)
        else:
            xp.sqrt(v, out=w2)  # s = √v + eps
        w2 += eps
        if momentum > 0:
            xp.divide(d, w2, out=w2)  # b ← μ·b + d / s;  θ ← θ − lr·b
            b *= momentum
            b += w2
            xp.multiply(b, lr, out=w2)
            p -= w2
        else:
            xp.multiply(d, lr, out=w1)  # θ ← θ − lr·d / s
            w1 /= w2
            p -= w1


@cache
def _rmsprop_kernel_text(centered: bool, with_momentum: bool, maximize: bool) -> tuple:
    body = cuda_effective_grad(maximize) + """
double v = alpha * (double)square_avg + (1.0 - alpha) * d * d;
square_avg = (T)v;
"""
    outs = "T p, T square_avg"
    if centered:
        body += """double g_avg = alpha * (double)grad_avg + (1.0 - alpha) * d;
grad_avg = (T)g_avg;
double s = sqrt(v - g_avg * g_avg) + eps;
"""
        outs += ", T grad_avg"
    else:
        body += "double s = sqrt(v) + eps;\n"
    if with_momentum:
        body += """double b = momentum * (double)momentum_buffer + d / s;
momentum_buffer = (T)b;
p = (T)(theta - lr * b);
"""
        outs += ", T momentum_buffer"
    else:
        body += "p = (T)(theta - lr * d / s);\n"
    return "T g, float64 lr, float64 alpha, float64 eps, float64 wd, float64 momentum", outs, body


def rmsprop_update_cuda_fused(param: Any, grad: Any, square_avg: Any, *, lr: float, alpha: float, eps: float,
                              weight_decay: float, momentum: float, centered: bool, grad_avg: Any = None,
                              momentum_buffer: Any = None, maximize: bool = False) -> None:
    """:func:`rmsprop_update` on CUDA arrays as one kernel launch (each element read and written
    once, the arithmetic in double precision, rounded once on store)."""
    with_momentum = momentum > 0
    kernel = cuda_kernel("rmsprop", *_rmsprop_kernel_text(centered, with_momentum, maximize))
    state = [square_avg] + ([grad_avg] if centered else []) + ([momentum_buffer] if with_momentum else [])
    kernel(grad, lr, alpha, eps, weight_decay, momentum, param, *state)


RMSprop.update_forms = UpdateForms(plain=rmsprop_update, chunked=rmsprop_update_chunked,
                                   cuda_fused=rmsprop_update_cuda_fused)
