"""Scans along one dim: ``cumsum``, and the exclusive cumulative products that ``prod``'s
gradient is built from (see :class:`minigrad.ops.reduction.Prod`).

A scan's gradient is a scan running the other way: y_i = Σ_{j ≤ i} x_j gives
dx_j = Σ_{i ≥ j} dy_i, a cumulative sum of dy taken from the end.

References (the same functions as loops of differentiable primitives, checked against the
ops by the tests): :func:`cumsum_reference`; :func:`exclusive_cumprod_recorded` is the plain,
differentiable form of :func:`exclusive_cumprod`, and :func:`exclusive_cumprod_arrays` its
fast sibling for backward passes that are not recorded.
"""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..tensor import Tensor
from .helpers import constant, normalize_axes
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


def cumsum_reference(x: Tensor, dim: int) -> Tensor:
    """:func:`cumsum` as a loop of additions: y₀ = x₀, y_i = y_{i-1} + x_i along ``dim``, the
    partial sums stacked.  Autograd differentiates the loop; :class:`Cumsum` writes the result
    of that, a cumulative sum of dy from the end, as one op."""
    from .conversion import clone
    from .shape import stack

    (d,) = normalize_axes(dim, x.ndim, "cumsum")
    if x.ndim == 0 or x.shape[d] == 0:  # nothing to accumulate
        return clone(x)
    before = (slice(None),) * d
    running = x[before + (0,)]
    sums = [running]
    for i in range(1, x.shape[d]):
        running = running + x[before + (i,)]
        sums.append(running)
    return stack(sums, d)


# -- exclusive cumulative products, for prod's gradient -------------------------------------------

def exclusive_cumprod(t: Tensor) -> Tensor:
    """[1, t₀, t₀t₁, ..., t₀⋯t_{n-2}] along the last dim of a tensor (n ≥ 1): element i is the
    product of the elements before it.

    The plain form is :func:`exclusive_cumprod_recorded`, built from recorded ops so that it can
    be differentiated again.  A backward pass that is not recorded (no ``create_graph``) needs
    only the values, and takes them from :func:`exclusive_cumprod_arrays`, one ``cumprod``
    instead of ⌈log₂ n⌉ passes.  This is the one place that chooses."""
    if GradMode.enabled:
        return exclusive_cumprod_recorded(t)
    return constant(exclusive_cumprod_arrays(t._data))


def exclusive_cumprod_recorded(t: Tensor) -> Tensor:
    """:func:`exclusive_cumprod` as recorded Tensor ops, so it can be differentiated: shift right
    by one (a 1 in front), then Hillis–Steele doubling, t ← t · (t shifted right by s, 1s in
    front) for s = 1, 2, 4, ... < n: ⌈log₂ n⌉ multiplications, only products, so zeros are exact."""
    t = pad(t[..., :-1], (1, 0), 1.0)
    n, s = t.shape[-1], 1
    while s < n:
        t = t * pad(t[..., :-s], (s, 0), 1.0)
        s *= 2
    return t


def exclusive_cumprod_arrays(a: Any) -> Any:
    """:func:`exclusive_cumprod` of an array (values only, no graph): ``cumprod`` of the array
    shifted right by one, with a 1 in front."""
    xp = array_module(a)
    ones = xp.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    return xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
