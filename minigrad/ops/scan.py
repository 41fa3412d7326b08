"""Scans along one dim: ``cumsum``, and the exclusive cumulative products that ``prod``'s
gradient is built from (see :class:`minigrad.ops.reduction.Prod`).

A scan's gradient is a scan running the other way: y_i = Σ_{j ≤ i} x_j gives
dx_j = Σ_{i ≥ j} dy_i, a cumulative sum of dy taken from the end.
"""
from __future__ import annotations

from typing import Any

from .._device import array_module
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_axes
from .shape import pad


class Flip(Function):
    """y = x reversed along ``axis``.   dx = dy reversed along it."""

    is_view = True

    def forward(self, x: Tensor, axis: int) -> Any:
        self.axis = axis
        return array_module(x._data).flip(x._data, axis)

    def backward(self, g: Tensor) -> tuple:
        return Flip.apply(g, self.axis), None


class Cumsum(Function):
    """y_i = Σ_{j ≤ i} x_j along ``axis`` (same shape as x).
    dx_j = Σ_{i ≥ j} dy_i = flip(cumsum(flip(dy))), itself recorded ops, so it differentiates again."""

    def forward(self, x: Tensor, axis: int) -> Any:
        a = x._data
        self.axis = axis
        return a.copy() if a.ndim == 0 else array_module(a).cumsum(a, axis=axis)

    def backward(self, g: Tensor) -> tuple:
        if g.ndim == 0:
            return g, None
        ax = self.axis
        return Flip.apply(Cumsum.apply(Flip.apply(g, ax), ax), ax), None


def cumsum(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Cumulative sum along ``dim`` (required, one int; negative counts from the end), as
    ``torch.cumsum``.  ``axis=`` is accepted instead of ``dim``."""
    if (dim is None) == (axis is None):
        raise TypeError("cumsum: pass the dim to sum along, as dim= or axis= (exactly one), "
                        f"for the tensor of shape {x.shape}")
    d = dim if axis is None else axis
    if not hasattr(d, "__index__"):
        raise TypeError(f"cumsum: dim must be one int, got {d!r}")
    try:
        (d,) = normalize_axes(d, x.ndim, "cumsum")
    except IndexError as e:
        raise IndexError(f"{e} (shape {x.shape})") from None
    return Cumsum.apply(x, d)


# -- exclusive cumulative products, for prod's gradient -------------------------------------------

def exclusive_cumprod(a: Any) -> Any:
    """[1, a₀, a₀a₁, ..., a₀⋯a_{n-2}] along the last axis of an array (n ≥ 1)."""
    xp = array_module(a)
    ones = xp.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    return xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)


def exclusive_cumprod_graph(t: Tensor) -> Tensor:
    """The same as recorded Tensor ops, so it can be differentiated: shift right by one (a 1 in
    front), then Hillis–Steele doubling, t ← t · (t shifted right by s, 1s in front) for
    s = 1, 2, 4, ... < n: ⌈log₂ n⌉ multiplications, only products, so zeros are exact."""
    t = pad(t[..., :-1], (1, 0), 1.0)
    n, s = t.shape[-1], 1
    while s < n:
        t = t * pad(t[..., :-s], (s, 0), 1.0)
        s *= 2
    return t
