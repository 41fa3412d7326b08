"""Check analytic gradients against central differences, in float64.

``gradcheck`` compares the full Jacobian: column j numerically as
(f(x + ε·e_j) - f(x - ε·e_j)) / 2ε, row i analytically by one backward pass with
a one-hot output gradient.  ``gradgradcheck`` applies the same test to the
function (x, v) ↦ vᵀ·∂f/∂x built with ``create_graph=True``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy

from ..tensor import Tensor, make_tensor
from .engine import grad


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numeric one."""


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> tuple:
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _host(a: Any) -> numpy.ndarray:
    return a.get() if hasattr(a, "get") else numpy.asarray(a)


def _check_inputs(inputs: Sequence[Any]) -> list:
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t._requires_grad and t.dtype != numpy.float64:
            raise ValueError(
                f"gradcheck needs float64 inputs for accurate differences; input {i} (shape {t.shape}) is "
                f"{t.dtype}. Use .double()"
            )
    return inputs


def _flat_outputs(fn: Callable, inputs: Sequence[Any], n_out: int) -> numpy.ndarray:
    if not n_out:
        return numpy.zeros(0)
    return numpy.concatenate([_host(o._data).ravel() for o in _outputs(fn, inputs)]).astype(numpy.float64)


def numeric_jacobians(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6) -> list:
    """For each differentiable input, J[i] of shape (n_out_total, n_in) by central differences."""
    outs = _outputs(fn, inputs)
    n_out = sum(o.numel() for o in outs)
    result = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t._requires_grad):
            result.append(None)
            continue
        arr = t._data  # perturbed in place, element by element (works for any memory layout)
        jac = numpy.zeros((n_out, arr.size))
        for j in range(arr.size):
            idx = numpy.unravel_index(j, arr.shape) if arr.ndim else ()
            orig = arr[idx].item()
            arr[idx] = orig + eps
            plus = _flat_outputs(fn, inputs, n_out)
            arr[idx] = orig - eps
            minus = _flat_outputs(fn, inputs, n_out)
            arr[idx] = orig
            jac[:, j] = (plus - minus) / (2 * eps)
        result.append(jac)
    return result


def analytic_jacobians(fn: Callable, inputs: Sequence[Any]) -> list:
    """For each differentiable input, J[i] (n_out_total, n_in) by one backward pass per output element."""
    outs = _outputs(fn, inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t._requires_grad]
    n_out = sum(o.numel() for o in outs)
    jacs = [numpy.zeros((n_out, t.numel())) for t in diff]
    row = 0
    for k, out in enumerate(outs):
        for e in range(out.numel()):
            if not out._requires_grad:
                row += 1
                continue
            seeds = []
            for m, o in enumerate(outs):
                s = (o._data * 0).reshape(-1)
                if m == k:
                    s[e] = 1
                seeds.append(make_tensor(s.reshape(o.shape), False, None))
            live = [(o, s) for o, s in zip(outs, seeds) if o._requires_grad]
            grads = grad([o for o, _ in live], diff, [s for _, s in live], retain_graph=True, allow_unused=True)
            for i, (t, g) in enumerate(zip(diff, grads)):
                if g is None:
                    continue
                if g.shape != t.shape:
                    raise GradcheckError(f"gradient of input {i} has shape {g.shape}, expected {t.shape}")
                if g.dtype != t.dtype:
                    raise GradcheckError(f"gradient of input {i} has dtype {g.dtype}, expected {t.dtype}")
                jacs[i][row] = _host(g._data).ravel()
            row += 1
    full = []
    it = iter(jacs)
    for t in inputs:
        full.append(next(it) if isinstance(t, Tensor) and t._requires_grad else None)
    return full


def gradcheck(fn: Callable, inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True if ``fn``'s analytic Jacobian matches central differences for every input that
    requires grad: |analytic - numeric| <= atol + rtol·|numeric| element-wise.

    On a mismatch raises :class:`GradcheckError` naming the input, the input and output
    elements, and both values (or returns False with ``raise_exception=False``).
    """
    inputs = _check_inputs(inputs)
    numeric = numeric_jacobians(fn, inputs, eps)
    analytic = analytic_jacobians(fn, inputs)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if a is None:
            continue
        bad = ~(numpy.abs(a - n) <= atol + rtol * numpy.abs(n))
        if bad.any():
            r, c = map(int, numpy.argwhere(bad)[0])
            shape = inputs[i].shape
            elem = numpy.unravel_index(c, shape) if shape else ()
            msg = (f"gradcheck failed for input {i} (shape {shape}) at element {tuple(int(v) for v in elem)}, "
                   f"output element {r}: analytic {float(a[r, c])!r} vs numeric {float(n[r, c])!r} "
                   f"({int(bad.sum())} of {bad.size} Jacobian entries differ)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn: Callable, inputs: Any, grad_outputs: Any = None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) ↦ ∂(vᵀf)/∂inputs, built with create_graph."""
    inputs = _check_inputs(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = numpy.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=numpy.float64, device=o.device) for o in outs]
    grad_outputs = [g.detach().requires_grad_() if isinstance(g, Tensor) else Tensor(g, dtype=numpy.float64)
                    .requires_grad_() for g in ([grad_outputs] if isinstance(grad_outputs, Tensor) else grad_outputs)]
    n_in = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]

    def first_derivative(*args: Tensor) -> tuple:
        xs, vs = list(args[:n_in]), args[n_in:]
        outs = _outputs(fn, xs)
        live = [(o, v) for o, v in zip(outs, vs) if o._requires_grad]
        if not live:
            return tuple(xs[i] * 0 for i in diff_idx)
        gs = grad([o for o, _ in live], [xs[i] for i in diff_idx], [v for _, v in live], create_graph=True,
                  allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0 for g, i in zip(gs, diff_idx))

    return gradcheck(first_derivative, list(inputs) + list(grad_outputs), eps, atol, rtol, raise_exception)
