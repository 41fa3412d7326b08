"""Stochastic gradient descent with momentum and Nesterov momentum (PyTorch's form).

With d = ∇J(θ) (+ λθ for weight decay, negated when maximizing), one step is

    momentum = 0:   θ ← θ − lr·d
    momentum μ:     b ← d on the first step, then b ← μ·b + (1 − dampening)·d
                    θ ← θ − lr·b                  (heavy ball)
                    θ ← θ − lr·(d + μ·b)          (nesterov=True)

"Batch", "mini-batch" or "stochastic" gradient descent is only a matter of how many
examples the loss that produced the gradient averaged over.  See docs/optimizers.md for
how this form relates to the textbook v ← γv + α∇J and to Nesterov's look-ahead gradient.
"""
from __future__ import annotations

from typing import Any

from .._device import HostArray, array_module, is_cuda_array
from ..tensor import Tensor, _make
from ..ops._util import typed_scalar
from ..ops.inplace import _bump_all
from . import _fused
from .optimizer import Optimizer, ParamsT, check_number, effective_grad


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    State per parameter: ``momentum_buffer`` (shape of the parameter), only when momentum ≠ 0.
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

    def _step_group(self, gi: int, group: dict, step_name: str) -> None:
        if group["momentum"] != 0 or group["weight_decay"] != 0 or group["maximize"]:
            return super()._step_group(gi, group, step_name)
        # Plain θ ← θ − lr·g, the most common step, in one tight loop (it runs every batch).
        lr, states = group["lr"], self.state
        lr_host = None  # lr as a 0-d array of the gradients' dtype (see typed_scalar)
        updated = []
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g, a = grad._data, p._data
            # _with_grads' check, inline: calling it (two lists and a zip) costs ~4,000 instructions
            # per MLP step, about 1% of it.
            if g.__class__ is not a.__class__ or g.shape != a.shape:
                raise self._grad_mismatch(gi, group, p)
            if a.__class__ is HostArray:
                if lr_host is None or lr_host.dtype is not g.dtype:
                    lr_host = typed_scalar(lr, g)
                a -= g * lr_host
            else:
                _fused.sgd(a, g, None, lr, 0, 0, 0, False, False, False)
            if p not in states:
                states[p] = {}  # (no state to keep, but listed in state_dict like the other parameters)
            updated.append(p)
        _bump_all(updated, step_name)

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        a = p._data
        lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        buf, first = None, False
        if mom != 0:
            if "momentum_buffer" not in state:  # the first step copies d into it
                state["momentum_buffer"] = _make(array_module(a).empty_like(a), False, None)
                first = True
            buf = state["momentum_buffer"]._data
        if is_cuda_array(a):
            _fused.sgd(a, g, buf, lr, mom, damp, wd, nesterov, maximize, first)
        else:
            self._run_cpu(_sgd, (a, g, buf), 2, lr, mom, damp, wd, nesterov, maximize, first)


def _sgd(xp: Any, a: Any, g: Any, buf: Any, w1: Any, w2: Any, lr: float, mom: float, damp: float, wd: float,
         nesterov: bool, maximize: bool, first: bool) -> None:
    d = effective_grad(xp, a, g, wd, maximize, w1)
    if buf is not None:
        if first:
            buf[...] = d
        else:
            buf *= mom
            if damp != 0:
                xp.multiply(d, 1 - damp, out=w2)
                buf += w2
            else:
                buf += d
        if nesterov:
            xp.multiply(buf, mom, out=w2)
            w2 += d
            d = w2
        else:
            d = buf
    xp.multiply(d, lr, out=w2)
    a -= w2
