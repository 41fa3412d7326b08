"""Stochastic gradient descent with momentum and Nesterov momentum (PyTorch's form).

The update rule is :func:`sgd_update`; :class:`SGD` keeps its state and hyper-parameters.
"Batch", "mini-batch" or "stochastic" gradient descent is only a matter of how many examples
the loss that produced the gradient averaged over.  See docs/optimizers.md for how this form
relates to the textbook v ← γv + α∇J and to Nesterov's look-ahead gradient.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import HostArray, array_module
from ..ops.helpers import typed_scalar
from ..ops.inplace import bump_versions
from ..tensor import Tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_number, cuda_effective_grad, cuda_flag,
                        cuda_kernel, effective_grad_into, new_state_tensor, pieces_with_scratch)


def sgd_update(param: Any, grad: Any, momentum_buffer: Any = None, *, lr: float, momentum: float, dampening: float,
               weight_decay: float, nesterov: bool, maximize: bool = False, first_step: bool = False) -> None:
    """One SGD step for one parameter, in place on ``param`` (and ``momentum_buffer``).

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ):

        momentum μ = 0:   θ ← θ − lr·d
        momentum μ ≠ 0:   b ← d on the first step, then b ← μ·b + (1 − τ)·d     (τ = dampening)
                          θ ← θ − lr·b                  (heavy ball)
                          θ ← θ − lr·(d + μ·b)          (nesterov=True)

    ``param``, ``grad`` and ``momentum_buffer`` (b; needed when μ ≠ 0) share one shape."""
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    if momentum != 0:
        if first_step:
            momentum_buffer[...] = d
        else:
            momentum_buffer[...] = momentum * momentum_buffer + (1 - dampening) * d
        d = d + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * d


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    State per parameter: ``momentum_buffer`` (shape of the parameter), only when momentum ≠ 0.
    Each step runs :func:`sgd_update` in one of its forms (``update_forms``, set at the end of this
    module; :meth:`Optimizer._update_form` picks one).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number("learning rate", group["lr"])
        check_number("momentum value", group["momentum"])
        check_number("weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        buf, first_step = None, False
        if momentum != 0:
            if state.get("momentum_buffer") is None:  # the first step fills it with d
                state["momentum_buffer"] = new_state_tensor(p._data)
                first_step = True
            buf = state["momentum_buffer"]._data
        update = self._update_form(p._data)  # sgd_update, or a fast form of it
        update(p._data, g, buf, lr=group["lr"], momentum=momentum, dampening=group["dampening"],
               weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
               first_step=first_step)

    def _step_group(self, gi: int, group: dict, step_name: str) -> None:
        if self.update_form == "fast" and group["momentum"] == 0 and group["weight_decay"] == 0 \
                and not group["maximize"]:
            # θ ← θ − lr·g, the most common step: one tight loop over the group (it runs every batch)
            return self._step_group_lr_only(gi, group, step_name)
        return super()._step_group(gi, group, step_name)

    def _step_group_lr_only(self, gi: int, group: dict, step_name: str) -> None:
        """:func:`sgd_update` without momentum, weight decay or maximize (θ ← θ − lr·g, bitwise the
        same) for every parameter of the group, checked and counted as the general loop does."""
        lr, states = group["lr"], self.state
        lr_host = None  # lr as a 0-d array of the gradients' dtype (see typed_scalar)
        updated = []
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g, a = grad._data, p._data
            if g.__class__ is not a.__class__ or g.shape != a.shape:  # (the check of _with_grads)
                raise self._grad_mismatch(gi, group, p)
            if a.__class__ is HostArray:
                if lr_host is None or lr_host.dtype is not g.dtype:
                    lr_host = typed_scalar(lr, g)
                a -= g * lr_host
            else:
                sgd_update_cuda_fused(a, g, lr=lr, momentum=0, dampening=0, weight_decay=0, nesterov=False)
            if p not in states:
                states[p] = {}  # (no state to keep, but listed in state_dict like the other parameters)
            updated.append(p)
        bump_versions(updated, step_name)


# -- fast forms: the same step as sgd_update, tested equal to it --------------------------------------
def sgd_update_chunked(param: Any, grad: Any, momentum_buffer: Any = None, *, lr: float, momentum: float,
                       dampening: float, weight_decay: float, nesterov: bool, maximize: bool = False,
                       first_step: bool = False, scratch: Scratch | None = None) -> None:
    """:func:`sgd_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter; the same
    operations in the same order, so bitwise the same result."""
    xp = array_module(param)
    for p, g, b, w1, w2 in pieces_with_scratch((param, grad, momentum_buffer), 2, scratch):
        d = effective_grad_into(xp, p, g, weight_decay=weight_decay, maximize=maximize, out=w1)
        if momentum != 0:
            if first_step:
                b[...] = d
            else:
                b *= momentum
                if dampening != 0:
                    xp.multiply(d, 1 - dampening, out=w2)
                    b += w2
                else:  # (1 − 0)·d is d
                    b += d
            if nesterov:
                xp.multiply(b, momentum, out=w2)
                w2 += d
                d = w2
            else:
                d = b
        xp.multiply(d, lr, out=w2)
        p -= w2


@cache
def _sgd_kernel_text(with_momentum: bool, nesterov: bool, maximize: bool) -> tuple:
    if not with_momentum:
        return "T g, float64 lr, float64 wd", "T p", cuda_effective_grad(maximize) + "p = (T)(theta - lr * d);\n"
    body = cuda_effective_grad(maximize) + f"""
double b = first_step ? d : momentum * (double)buf + (1.0 - dampening) * d;
buf = (T)b;
d = {cuda_flag(nesterov)} ? d + momentum * b : b;
p = (T)(theta - lr * d);
"""
    return "T g, float64 lr, float64 wd, float64 momentum, float64 dampening, int32 first_step", "T p, T buf", body


def sgd_update_cuda_fused(param: Any, grad: Any, momentum_buffer: Any = None, *, lr: float, momentum: float,
                          dampening: float, weight_decay: float, nesterov: bool, maximize: bool = False,
                          first_step: bool = False) -> None:
    """:func:`sgd_update` on CUDA arrays as one kernel launch (each element read and written once,
    the arithmetic in double precision, rounded once on store)."""
    if momentum == 0:
        cuda_kernel("sgd", *_sgd_kernel_text(False, False, maximize))(grad, lr, weight_decay, param)
        return
    kernel = cuda_kernel("sgd_momentum", *_sgd_kernel_text(True, nesterov, maximize))
    kernel(grad, lr, weight_decay, momentum, dampening, int(first_step), param, momentum_buffer)


SGD.update_forms = UpdateForms(plain=sgd_update, chunked=sgd_update_chunked, cuda_fused=sgd_update_cuda_fused)
