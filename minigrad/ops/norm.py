"""``norm``: vector p-norms over ``dim``, as ``torch.norm``.

p = 1, 2 and inf are built from other reductions (Σ|x|, √Σx² with a zero-safe √, max|x|);
any other p > 0 is one node, :class:`PNorm`.

Reference: :func:`norm_reference`, the formula (Σ|x|^p)^(1/p) (max|x| for p = inf) composed from
differentiable primitives; the tests check that it agrees with :func:`norm` in value, gradient
and second derivative.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..tensor import Tensor
from .helpers import axis_and_keepdims, constant, keepdims_shape
from .elementwise import abs, sign, where
from .reduction import Max, StdFromVar, Sum, _axes, _nonempty, _spread
from .shape import reshape


class PNorm(Function):
    """y = (Σ |x|^p)^(1/p) over ``axes``, for a finite p > 0.
    dx = dy · sign(x) · (|x| / y)^(p-1), and 0 where x = 0 (PyTorch's rule: the formula gives 0
    there for p > 1 and 0·∞ for p < 1; y = 0 only where the whole slice is 0).  Masked entries
    also get a safe |x| = 1 and y = 1 inside the formula, so no ∞ leaks into second derivatives."""

    saves_output = True

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool, p: float) -> Any:
        a = x._data
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims, self.p = a.shape, axes, keepdims, p
        return (array_module(a).abs(a) ** p).sum(axis=axes, keepdims=keepdims) ** (1 / p)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        g = _spread(g, self.in_shape, self.axes, self.keepdims)
        y = self.output if self.keepdims else reshape(self.output, keepdims_shape(self.in_shape, self.axes))
        zero = constant(x._data == 0)
        ratio = where(zero, 1.0, abs(x)) / where(constant(y._data == 0), 1.0, y)
        return where(zero, 0.0, g * sign(x) * ratio ** (self.p - 1)), None, None, None


def norm(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default), as ``torch.norm``:
    p = 2: √Σx², gradient x/‖x‖ and 0 at x = 0;  p = 1: Σ|x|;  p = inf: max|x| (ties share);
    any other p > 0: (Σ|x|^p)^(1/p).  ``p='fro'`` is p = 2."""
    axis, keepdims = axis_and_keepdims(axis, keepdim, dim, keepdims)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating point tensor, got dtype {x.dtype} (shape {x.shape})")
    p = 2 if p == "fro" else p
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    axes = _axes(x, axis, "norm")
    if p == math.inf:
        _nonempty(x, axes, None, "norm")
        return Max.apply(abs(x), axes, keepdims, True)
    if p == 1:
        return Sum.apply(abs(x), axes, keepdims)
    if p == 2:
        return StdFromVar.apply(Sum.apply(x * x, axes, keepdims))
    return PNorm.apply(x, axes, keepdims, float(p))


def norm_reference(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """(Σ |x|^p)^(1/p) over ``dim`` from ``abs``, ``**`` and ``sum``; for p = inf, max|x| as
    :func:`~minigrad.ops.reduction.amax_reference` (ties share).  It agrees with :func:`norm`
    wherever the formula's derivative exists: not at x = 0 for p < 1, and (a 0/0) not where a
    whole slice is 0 for p > 1, where :func:`norm` takes PyTorch's 0."""
    from .reduction import amax_reference

    p = 2 if p == "fro" else p
    if p == math.inf:
        return amax_reference(abs(x), dim, keepdim)
    return (abs(x) ** p).sum(axis=dim, keepdims=keepdim) ** (1 / p)
