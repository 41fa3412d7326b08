"""Reductions along ``axis`` (int or tuple; ``dim`` is accepted too) with ``keepdims``.

The backward of a reduction spreads dy back over the reduced axes: reshape it to
the keep-dims shape, then broadcast to the input's shape.
"""
from __future__ import annotations

import math
from typing import Any

from .._device import array_module
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..tensor import Tensor
from ._util import axis_and_keepdims, constant, keepdims_shape, normalize_axes
from .scan import Flip, exclusive_cumprod, exclusive_cumprod_graph
from .shape import broadcast_to, permute, reshape


def _spread(g: Tensor, in_shape: tuple, axes: tuple | None, keepdims: bool) -> Tensor:
    """dy (reduced shape) -> broadcast over the input's shape."""
    if not keepdims:
        g = reshape(g, keepdims_shape(in_shape, axes))
    return broadcast_to(g, in_shape)


class Sum(Function):
    """y = Σ x over ``axes``.   dx = dy broadcast back over those axes."""

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool) -> Any:
        self.in_shape, self.axes, self.keepdims = x._data.shape, axes, keepdims
        return x._data.sum(axis=axes, keepdims=keepdims)

    def backward(self, g: Tensor) -> tuple:
        return _spread(g, self.in_shape, self.axes, self.keepdims), None, None


class Mean(Function):
    """y = Σ x / n over ``axes``.   dx = dy / n broadcast back."""

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool) -> Any:
        a = x._data
        self.in_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        self.count = a.size if axes is None else _count(a.shape, axes)
        if self.count == 0:
            xp = array_module(a)
            out_shape = a.sum(axis=axes, keepdims=keepdims).shape
            return xp.full(out_shape, xp.nan, dtype=a.dtype if a.dtype.kind == "f" else "float64")
        return a.mean(axis=axes, keepdims=keepdims)

    def backward(self, g: Tensor) -> tuple:
        # count == 0 only when x is empty: its gradient is empty too, so skip the 1/0.
        return _spread(g / self.count if self.count else g, self.in_shape, self.axes, self.keepdims), None, None


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Prod(Function):
    """y = Π x over ``axes``.   dx_i = dy · Π_{j≠i} x_j  (not dy · y / x_i, which is 0/0 at a zero).

    With the reduced axes moved last and flattened to one of length n, Π_{j≠i} x_j =
    (x₀⋯x_{i-1}) · (x_{i+1}⋯x_{n-1}): exclusive cumulative products from the left times those
    from the right.  Arrays when no graph of the backward is wanted; recorded ops under
    ``create_graph=True``, so second derivatives work (zeros included)."""

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool) -> Any:
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims = x._data.shape, axes, keepdims
        return x._data.prod(axis=axes, keepdims=keepdims)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved
        g = _spread(g, self.in_shape, self.axes, self.keepdims)
        if x.numel() == 0 or x.ndim == 0:  # nothing to differentiate / dy/dx = 1
            return g, None, None
        axes = tuple(range(x.ndim)) if self.axes is None else self.axes
        perm = [d for d in range(x.ndim) if d not in axes] + list(axes)  # reduced axes last
        inverse = [perm.index(d) for d in range(x.ndim)]
        moved = tuple(x.shape[d] for d in perm)
        flat = moved[:x.ndim - len(axes)] + (math.prod(moved[x.ndim - len(axes):]),)
        if GradMode.enabled:
            b = reshape(permute(x, *perm), flat)
            others = exclusive_cumprod_graph(b) * Flip.apply(exclusive_cumprod_graph(Flip.apply(b, -1)), -1)
            return g * permute(reshape(others, moved), *inverse), None, None
        b = x._data.transpose(perm).reshape(flat)
        xp = array_module(b)
        others = exclusive_cumprod(b) * xp.flip(exclusive_cumprod(xp.flip(b, -1)), -1)
        return g * constant(others.reshape(moved).transpose(inverse)), None, None


class Max(Function):
    """y = max x over ``axes``.   dx = dy at the maximum; ties share it equally
    (each of k tied entries gets dy / k), so the gradient sums to dy.  Where the maximum is NaN
    the NaN entries are the ones hit (PyTorch's rule for ``max()``)."""

    saves_output = True

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool, largest: bool) -> Any:
        a = x._data
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        return a.max(axis=axes, keepdims=keepdims) if largest else a.min(axis=axes, keepdims=keepdims)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved
        y = self.output._data
        if not self.keepdims:
            y = y.reshape(keepdims_shape(self.in_shape, self.axes))
        a = x._data
        hit = (a == y) | ((a != a) & (y != y))  # (v ≠ v only at NaN)
        mask = hit / hit.sum(axis=self.axes, keepdims=True)
        return _spread(g, self.in_shape, self.axes, self.keepdims) * constant(mask.astype(x.dtype)), None, None, None


class LogSumExp(Function):
    """y = log Σ eˣ over ``axes``, computed as m + log Σ e^{x-m} with m = max x.
    dx = dy · e^{x - y} (the softmax), evaluated as e^{(x - m) - log Σ e^{x-m}}."""

    saves_output = True

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool) -> Any:
        a = x._data
        xp = array_module(a)
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        if a.size == 0:  # log Σ over no terms = log 0 = -inf (without a divide-by-zero warning)
            return xp.full(a.sum(axis=axes, keepdims=keepdims).shape, -xp.inf, dtype=a.dtype)
        m = a.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows give -inf, not nan
        self.shift = m
        self.log_sum = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True))
        out = self.log_sum + m
        return out if keepdims else out.reshape(a.sum(axis=axes).shape)

    def backward(self, g: Tensor) -> tuple:
        from .elementwise import exp, where

        (x,) = self.saved
        g = _spread(g, self.in_shape, self.axes, self.keepdims)
        if x.numel() == 0:
            return g, None, None
        y = self.output
        if not self.keepdims:
            y = reshape(y, keepdims_shape(self.in_shape, self.axes))
        # Not exp(x - y): y = m + log Σ was rounded at the scale of m (1e4 in float32 is off by
        # ~5e-4), which would show in the softmax.  log Σ alone is small and exact enough;
        # adding y - y (the second one a constant; exactly 0) keeps dy/dx on the tape for
        # higher derivatives.  (Where y is ±inf, y - y would be NaN: those entries get 0 instead,
        # so an infinite logsumexp gives PyTorch's exp(x - y): 0 for finite x, NaN for x = y.)
        finite = constant(array_module(y._data).isfinite(y._data))
        y = where(finite, y, 0.0)
        log_sum = constant(self.log_sum) + (y - constant(y._data))
        return g * exp((x - constant(self.shift)) - log_sum), None, None


def _axes(x: Tensor, axis: Any, name: str) -> tuple | None:
    """``normalize_axes``, with the tensor's shape in the error; a 0-d tensor takes dim 0 or -1
    (and reduces over nothing), as in PyTorch."""
    try:
        axes = normalize_axes(axis, x.ndim, name)
    except IndexError as e:
        raise IndexError(f"{e} (shape {x.shape})") from None
    return None if x.ndim == 0 else axes


def _reduce(cls: type, x: Tensor, axis: Any, keepdims: Any, dim: Any, keepdim: Any, name: str, *extra: Any) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    axes = _axes(x, axis, name)
    return cls.apply(x, axes, keepdims, *extra)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Sum over ``axis`` (all by default)."""
    return _reduce(Sum, x, axis, keepdims, dim, keepdim, "sum")


def mean(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Mean over ``axis`` (all by default); nan over an empty axis, as NumPy and PyTorch."""
    return _reduce(Mean, x, axis, keepdims, dim, keepdim, "mean")


def prod(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Product over ``axis`` (all by default); 1 over an empty axis.  Exact gradients at zeros."""
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    return Prod.apply(x, _axes(x, axis, "prod"), keepdims)


def _nonempty(x: Tensor, axis: Any, dim: Any, name: str) -> None:
    axes = _axes(x, dim if dim is not None else axis, name)
    sizes = x.shape if axes is None else [x.shape[a] for a in axes]
    if x.numel() == 0 and (axes is None or 0 in sizes):
        raise RuntimeError(f"{name}: cannot reduce over an empty dimension (tensor of shape {x.shape}, axis {axis})")


def max(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Largest value over ``axis`` (values only, like ``amax``; use ``argmax`` for positions).
    Tied maxima share the gradient equally."""
    _nonempty(x, axis, dim, "max")
    return _reduce(Max, x, axis, keepdims, dim, keepdim, "max", True)


def min(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Smallest value over ``axis``; tied minima share the gradient equally."""
    _nonempty(x, axis, dim, "min")
    return _reduce(Max, x, axis, keepdims, dim, keepdim, "min", False)


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """log Σ exp(x) over ``axis``, without overflow."""
    return _reduce(LogSumExp, x, axis, keepdims, dim, keepdim, "logsumexp")


def var(x: Tensor, axis: Any = None, unbiased: bool = True, keepdims: bool = False, *, dim: Any = None,
        keepdim: Any = None, correction: int | None = None) -> Tensor:
    """Variance Σ(x - mean)² / (n - c), c = 1 if ``unbiased`` (or ``correction``) else 0."""
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    axes = _axes(x, axis, "var")
    c = (1 if unbiased else 0) if correction is None else correction
    n = x.numel() if axes is None else _count(x.shape, axes)
    centered = x - Mean.apply(x, axes, True)
    return Sum.apply(centered * centered, axes, keepdims) / (n - c if n - c > 0 else float("nan"))


class StdFromVar(Function):
    """y = √v.   dv = dy / (2y), and 0 where y = 0 (a constant slice), as PyTorch's std and
    2-norm: a plain √ would give 0 · ∞ = nan gradients for constant (or zero) inputs."""

    saves_output = True

    def forward(self, v: Tensor) -> Any:
        return array_module(v._data).sqrt(v._data)

    def backward(self, g: Tensor) -> Tensor:
        from .elementwise import where

        y = self.output
        zero = constant(y._data == 0)
        return where(zero, g * 0, g / (where(zero, 1.0, y) * 2))


def std(x: Tensor, axis: Any = None, unbiased: bool = True, keepdims: bool = False, *, dim: Any = None,
        keepdim: Any = None, correction: int | None = None) -> Tensor:
    """Standard deviation: √var (gradient 0 where it is 0)."""
    _axes(x, dim if dim is not None else axis, "std")  # errors name std, not var
    return StdFromVar.apply(var(x, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction))


def _arg(x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any, largest: bool) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    name = "argmax" if largest else "argmin"
    if axis is not None and not hasattr(axis, "__index__"):
        raise TypeError(f"{name}: axis must be None or one int, got {axis!r}")
    _nonempty(x, axis, None, name)
    a = x._data
    if axis is None or a.ndim == 0:
        idx = a.argmax() if largest else a.argmin()
        out = idx.reshape((1,) * a.ndim) if keepdims else idx
    else:
        ax = normalize_axes(axis, x.ndim, name)[0]
        out = a.argmax(axis=ax, keepdims=keepdims) if largest else a.argmin(axis=ax, keepdims=keepdims)
    return constant(array_module(a).asarray(out, dtype="int64"))


def argmax(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Index of the largest value (first one on ties); an int64 tensor without grad."""
    return _arg(x, axis, keepdims, dim, keepdim, True)


def argmin(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    return _arg(x, axis, keepdims, dim, keepdim, False)
