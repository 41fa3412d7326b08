"""Adam (Kingma & Ba 2015) with bias correction, AMSGrad, and decoupled weight decay.

The update rule is :func:`adam_update`, written as the paper's Algorithm 1; :class:`Adam`
keeps its state and hyper-parameters.  ``decoupled_weight_decay=True`` (that is
:class:`AdamW`) shrinks θ ← θ·(1 − lr·λ) before the step and leaves the gradient alone.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..devices import array_module
from ..tensor import Tensor, make_tensor
from .optimizer import (Optimizer, ParamsT, Scratch, UpdateForms, check_adam_group, cuda_effective_grad, cuda_kernel,
                        effective_grad_into, new_state_tensor, pieces_with_scratch)


def adam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, lr: float, beta1: float,
                beta2: float, eps: float, weight_decay: float, amsgrad: bool, max_exp_avg_sq: Any = None,
                maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
    """One Adam step for one parameter, in place on ``param`` and its state.

    With d = ∇J(θ) (−∇J(θ) when maximizing) + λ·θ (``weight_decay`` λ, the L2 form), at step t:

        m ← β₁·m + (1 − β₁)·d                    first moment   (``exp_avg``)
        v ← β₂·v + (1 − β₂)·d²                   second moment  (``exp_avg_sq``)
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)     bias correction (m and v start at 0)
        θ ← θ − lr · m̂ / (√v̂ + eps)

    AMSGrad keeps v_max ← max(v_max, v) (``max_exp_avg_sq``) and uses it in place of v in v̂.
    ``decoupled_weight_decay`` (AdamW) first shrinks θ ← θ·(1 − lr·λ) and leaves d alone.
    ``param``, ``grad`` and the state arrays share one shape; ``step`` counts from 1."""
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            d = d + weight_decay * param
    exp_avg[...] = beta1 * exp_avg + (1 - beta1) * d
    exp_avg_sq[...] = beta2 * exp_avg_sq + (1 - beta2) * d**2
    v = exp_avg_sq
    if amsgrad:
        max_exp_avg_sq[...] = xp.maximum(max_exp_avg_sq, exp_avg_sq)
        v = max_exp_avg_sq
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = v / (1 - beta2**step)
    param -= lr * m_hat / (xp.sqrt(v_hat) + eps)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    capturable=False, decoupled_weight_decay=False)``.

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``; each state tensor has the parameter's shape.  With ``capturable=True``
    (PyTorch's flag) ``step`` is a 0-d tensor on the parameter's device, in the parameter's dtype
    (float32 at least), counted in place, and the bias corrections are computed from it with array
    operations in that dtype: nothing is read back to the host, so the step can be captured by
    ``mg.jit`` (CUDA Graphs included).  The result agrees with ``capturable=False`` (whose
    corrections are Python floats) up to the rounding of 1 − βᵗ.  Each step runs
    :func:`adam_update` in one of its forms (``update_forms``, set at the end of this module;
    :meth:`Optimizer._update_form` picks one)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 capturable: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, capturable=bool(capturable), decoupled_weight_decay=decoupled_weight_decay)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_adam_group(group)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        step = make_tensor(array_module(p._data).zeros((), dtype=_step_dtype(p._data)), False, None) \
            if group.get("capturable") else 0
        state = {"step": step, "exp_avg": new_state_tensor(p._data), "exp_avg_sq": new_state_tensor(p._data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = new_state_tensor(p._data)
        return state

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:
        if group.get("capturable") and not isinstance(state["step"], Tensor):  # (a state loaded from a plain run)
            state["step"] = make_tensor(array_module(p._data).full((), state["step"], dtype=_step_dtype(p._data)),
                                        False, None)
        if isinstance(state["step"], Tensor):  # capturable: counted in place, on the device
            state["step"]._data += 1
            step = state["step"]._data
        else:
            state["step"] += 1
            step = state["step"]
        amsgrad = group["amsgrad"]
        if amsgrad and "max_exp_avg_sq" not in state:  # amsgrad switched on after the first step
            state["max_exp_avg_sq"] = new_state_tensor(p._data)
        beta1, beta2 = group["betas"]
        update = self._update_form(p._data)  # adam_update, or a fast form of it
        update(p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, step=step, lr=group["lr"],
               beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"], amsgrad=amsgrad,
               max_exp_avg_sq=state["max_exp_avg_sq"]._data if amsgrad else None, maximize=group["maximize"],
               decoupled_weight_decay=group["decoupled_weight_decay"])


def _step_dtype(a: Any) -> Any:
    """The dtype of a capturable step count: the parameter's, float32 at least (exact to 2²⁴ steps)."""
    return a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else "float32"


# -- fast forms: the same step as adam_update, tested equal to it --------------------------------------
def adam_update_chunked(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, lr: float, beta1: float,
                        beta2: float, eps: float, weight_decay: float, amsgrad: bool, max_exp_avg_sq: Any = None,
                        maximize: bool = False, decoupled_weight_decay: bool = False,
                        scratch: Scratch | None = None) -> None:
    """:func:`adam_update` with every array operation writing into reused scratch
    buffers (``scratch``, or the thread's), over cache-sized pieces of a large parameter.  The
    moments are bitwise those of adam_update; the last line uses the paper's rearrangement (its
    Section 2), which saves two passes over memory and differs from adam_update only in rounding:

        θ ← θ − (lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)) · m / (√v + eps·√(1 − β₂ᵗ))"""
    xp = array_module(param)
    bias_correction2 = 1 - beta2**step
    # (with capturable=True a 0-d array: xp.sqrt, which a captured replay computes the same way; a
    # NumPy scalar's ** 0.5 is pow(), which can differ from sqrt in the last bit)
    bias_correction2_sqrt = bias_correction2 ** 0.5 if isinstance(step, int) else xp.sqrt(bias_correction2)
    step_size = lr / (1 - beta1**step) * bias_correction2_sqrt
    eps_hat = eps * bias_correction2_sqrt
    l2 = 0 if decoupled_weight_decay else weight_decay
    arrays = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    for p, g, m, v, v_max, w1, w2 in pieces_with_scratch(arrays, 2, scratch):
        if decoupled_weight_decay and weight_decay != 0:
            p *= 1 - lr * weight_decay
        d = effective_grad_into(xp, p, g, weight_decay=l2, maximize=maximize, out=w1)
        m *= beta1  # m ← β₁·m + (1 − β₁)·d
        xp.multiply(d, 1 - beta1, out=w2)
        m += w2
        v *= beta2  # v ← β₂·v + (1 − β₂)·d²
        xp.multiply(d, d, out=w2)
        w2 *= 1 - beta2
        v += w2
        if amsgrad:
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        xp.sqrt(v, out=w2)  # θ ← θ − step_size · m / (√v + eps_hat)
        w2 += eps_hat
        xp.divide(m, w2, out=w2)
        w2 *= step_size
        p -= w2


@cache
def _adam_kernel_text(amsgrad: bool, maximize: bool, decoupled_weight_decay: bool) -> tuple:
    body = cuda_effective_grad(maximize, decoupled_weight_decay) + """
double m = beta1 * (double)exp_avg + (1.0 - beta1) * d;
double v = beta2 * (double)exp_avg_sq + (1.0 - beta2) * d * d;
exp_avg = (T)m;
exp_avg_sq = (T)v;
"""
    outs = "T p, T exp_avg, T exp_avg_sq"
    if amsgrad:  # NaN-propagating maximum, as numpy.maximum
        body += """double v_max = (double)max_exp_avg_sq;
v = (v_max > v || v_max != v_max) ? v_max : v;
max_exp_avg_sq = (T)v;
"""
        outs += ", T max_exp_avg_sq"
    body += "p = (T)(theta - lr * (m / bc1) / (sqrt(v / bc2) + eps));\n"
    return ("T g, float64 lr, float64 beta1, float64 beta2, float64 eps, float64 wd, float64 bc1, float64 bc2",
            outs, body)


def adam_update_cuda_fused(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, lr: float,
                           beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
                           max_exp_avg_sq: Any = None, maximize: bool = False,
                           decoupled_weight_decay: bool = False) -> None:
    """:func:`adam_update` on CUDA arrays as one kernel launch (each element read and written once,
    the arithmetic in double precision, rounded once on store; the bias corrections are Python
    numbers, so nothing is read back from the GPU)."""
    kernel = cuda_kernel("adam", *_adam_kernel_text(amsgrad, maximize, decoupled_weight_decay))
    state = (exp_avg, exp_avg_sq, max_exp_avg_sq) if amsgrad else (exp_avg, exp_avg_sq)
    bc1, bc2 = 1 - beta1**step, 1 - beta2**step
    if not isinstance(step, int):  # capturable: 0-d device arrays, in the kernel's float64 (no host read)
        bc1, bc2 = bc1.astype("float64"), bc2.astype("float64")
    kernel(grad, lr, beta1, beta2, eps, weight_decay, bc1, bc2, param, *state)


Adam.update_forms = UpdateForms(plain=adam_update, chunked=adam_update_chunked, cuda_fused=adam_update_cuda_fused)
