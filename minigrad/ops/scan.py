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
from .. import return_types


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


def cumsum(x: Tensor, dim: int | None = None, *, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim`` (required, one int; negative counts from the end), as
    ``torch.cumsum``.  ``axis=`` is accepted instead of ``dim``.  Integer and bool inputs
    give int64; ``dtype=`` casts the input first."""
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
    if dtype is not None or (x._data.dtype.kind in "biu" and x._data.dtype != "int64"):
        x = _scan_input(x, dtype)
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


# -- cumprod, cummax / cummin, logcumsumexp -------------------------------------------------------

cummax_result, cummin_result = return_types.cummax, return_types.cummin


def _along_last(fn: Any, axis: int, *tensors: Tensor) -> Tensor:
    """``fn`` applied with ``axis`` moved last in each tensor, its result moved back."""
    from .shape import permute

    ndim = tensors[0].ndim
    if axis == ndim - 1:
        return fn(*tensors)
    order = [d for d in range(ndim) if d != axis] + [axis]
    inverse = [order.index(d) for d in range(ndim)]
    return permute(fn(*(permute(t, *order) for t in tensors)), *inverse)


def _scan_dim(x: Tensor, dim: Any, name: str) -> int:
    """One dim (an int, negatives from the end) of ``x`` to scan along; a 0-d tensor takes 0 / -1."""
    if dim is None or isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{name}: dim must be one int, got {dim!r} (tensor of shape {x.shape})")
    try:
        (d,) = normalize_axes(dim, x.ndim, name)
    except IndexError as e:
        raise IndexError(f"{e} (shape {x.shape})") from None
    return d


def _scan_input(x: Tensor, dtype: Any) -> Tensor:
    """The input of cumsum / cumprod as PyTorch types it: ``dtype=`` casts first; integers and
    bools accumulate in int64."""
    from ..dtypes import as_dtype
    from .conversion import cast

    if dtype is not None:
        return cast(x, as_dtype(dtype))
    if x._data.dtype.kind in "biu" and x._data.dtype != "int64":
        return cast(x, as_dtype("int64"))
    return x


class Cumprod(Function):
    """y_i = Π_{j ≤ i} x_j along ``axis``.

    dx_j = Σ_{i ≥ j} dy_i · Π_{k ≤ i, k ≠ j} x_k.  Without zeros in x that is
    (Σ_{i ≥ j} dy_i y_i) / x_j, a reversed cumulative sum.  With a zero the division is 0/0, so
    the product leaving x_j out is formed directly: (x₀⋯x_{j-1}) · (x_{j+1}⋯x_i), the second
    factor for every pair i ≥ j at once as the cumprod of an n × n matrix (row j: x with the
    entries up to j set to 1).  Both are recorded ops, so second derivatives work."""

    saves_output = True

    def forward(self, x: Tensor, axis: int) -> Any:
        a = x._data
        self.save_for_backward(x)
        self.axis = axis
        return a.copy() if a.ndim == 0 else array_module(a).cumprod(a, axis=axis)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        if x.ndim == 0:
            return g, None
        ax = self.axis
        if x.numel() == 0 or not bool((x._data == 0).any()):
            reversed_sum = Flip.apply(Cumsum.apply(Flip.apply(g * self.output, ax), ax), ax)
            return reversed_sum / x, None
        return _along_last(_cumprod_grad_with_zeros, ax, x, g), None


def _cumprod_grad_with_zeros(x: Tensor, g: Tensor) -> Tensor:
    """:class:`Cumprod`'s dx along the last dim, exact at zeros (O(n²) per slice)."""
    from .elementwise import where

    n = x.shape[-1]
    xp = array_module(x._data)
    k = xp.arange(n)
    after_j = constant(k[None, :] > k[:, None])            # [j, k]: k > j
    rows = where(after_j, x[..., None, :], 1.0)            # row j: x_k for k > j, else 1
    partial = Cumprod.apply(rows, rows.ndim - 1)           # [j, i]: Π_{j<k≤i} x_k (for i ≥ j)
    upper = constant((k[None, :] >= k[:, None]).astype(x._data.dtype))
    inner = (partial * upper * g[..., None, :]).sum(axis=-1)
    return exclusive_cumprod(x) * inner


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative product along ``dim``, as ``torch.cumprod``: y_i = x₀ · x₁ ⋯ x_i.  Integer
    and bool inputs give int64; ``dtype=`` casts the input first.  The gradient is exact where x
    has zeros (see :class:`Cumprod`)."""
    d = _scan_dim(x, dim, "cumprod")
    return Cumprod.apply(_scan_input(x, dtype), d)


def _running_extreme(x: Tensor, dim: Any, largest: bool) -> Any:
    from .indexing import gather

    name = "cummax" if largest else "cummin"
    d = _scan_dim(x, dim, name)
    a = x._data
    xp = array_module(a)
    pair = cummax_result if largest else cummin_result
    if a.ndim == 0:
        return pair(gather(x, 0, constant(xp.zeros((), dtype="int64"))), constant(xp.zeros((), dtype="int64")))
    ufunc = xp.maximum if largest else xp.minimum
    running = ufunc.accumulate(a, axis=d)
    # A new running extreme (ties and NaN included) at position j; the index at i is the last such j ≤ i.
    hit = (a == running) | ((a != a) & (running != running))
    shape = [1] * a.ndim
    shape[d] = a.shape[d]
    position = xp.arange(a.shape[d], dtype="int64").reshape(shape)
    index = xp.maximum.accumulate(xp.where(hit, position, 0), axis=d) if a.size else \
        xp.zeros(a.shape, dtype="int64")
    index = constant(index.astype("int64", copy=False))
    return pair(gather(x, d, index), index)


def cummax(x: Tensor, dim: int) -> Any:
    """Running maximum along ``dim``, as ``torch.cummax``: the named pair
    ``return_types.cummax(values, indices)``; ``indices[i]`` is the position of ``values[i]``
    (the last one among ties; NaN propagates).  The gradient of ``values`` goes to the element
    at ``indices``."""
    return _running_extreme(x, dim, True)


def cummin(x: Tensor, dim: int) -> Any:
    """Running minimum along ``dim``: :func:`cummax`'s rules, as ``torch.cummin``."""
    return _running_extreme(x, dim, False)


def logcumsumexp_arrays(a: Any, axis: int) -> Any:
    """y_i = log Σ_{j ≤ i} e^{x_j} along ``axis`` of an array, without overflow or underflow:
    Hillis–Steele doubling with ``logaddexp``, t ← logaddexp(t, t shifted by s) for
    s = 1, 2, 4, ... < n (the shifted-in entries are -inf, the log of an empty sum)."""
    xp = array_module(a)
    t = xp.moveaxis(a, axis, -1)
    n, s = t.shape[-1], 1
    while s < n:
        shifted = xp.concatenate([xp.full(t.shape[:-1] + (s,), -xp.inf, dtype=t.dtype), t[..., :-s]], axis=-1)
        t = xp.logaddexp(t, shifted)
        s *= 2
    return xp.ascontiguousarray(xp.moveaxis(t, -1, axis))


class LogCumSumExp(Function):
    """y_i = log Σ_{j ≤ i} e^{x_j} along ``axis``, stable (:func:`logcumsumexp_arrays`).

    dx_j = Σ_{i ≥ j} dy_i · e^{x_j - y_i}, where every x_j - y_i ≤ 0 (y_i sums e^{x_j} in), so
    nothing overflows.  Recorded (under ``create_graph``) it is the n × n matrix of those
    weights; otherwise the same sum in O(n), split by the sign of dy:
    Σ_{i≥j} dy±_i e^{x_j - y_i} = exp(x_j + reversed logcumsumexp(log dy± - y)_j)."""

    saves_output = True

    def forward(self, x: Tensor, axis: int) -> Any:
        a = x._data
        self.save_for_backward(x)
        self.axis = axis
        if a.ndim == 0 or a.size == 0:
            return a.copy()
        return logcumsumexp_arrays(a, axis)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        if x.ndim == 0 or x.numel() == 0:
            return g, None
        if GradMode.enabled:
            return _along_last(_logcumsumexp_grad_recorded, self.axis, x, g, self.output), None
        return constant(_logcumsumexp_grad_arrays(x._data, g._data, self.output._data, self.axis)), None


def _logcumsumexp_grad_recorded(x: Tensor, g: Tensor, y: Tensor) -> Tensor:
    """dx_j = Σ_{i ≥ j} dy_i e^{x_j - y_i} along the last dim, as recorded ops (O(n²))."""
    from .elementwise import exp, where

    n = x.shape[-1]
    xp = array_module(x._data)
    k = xp.arange(n)
    upper = constant(k[None, :] >= k[:, None])  # [j, i]: i ≥ j
    exponent = where(upper, x[..., :, None] - y[..., None, :], -xp.inf)
    return (exp(exponent) * g[..., None, :]).sum(axis=-1)


def _logcumsumexp_grad_arrays(a: Any, g: Any, y: Any, axis: int) -> Any:
    """:func:`_logcumsumexp_grad_recorded`'s values in O(n), on arrays."""
    xp = array_module(a)

    def reversed_lcse(t: Any) -> Any:
        return xp.flip(logcumsumexp_arrays(xp.flip(t, axis), axis), axis)

    def log_or_minus_inf(t: Any) -> Any:  # log t, and -inf (log 0) where t ≤ 0, without a warning
        return xp.where(t > 0, xp.log(xp.where(t > 0, t, 1)), -xp.inf)

    plus = reversed_lcse(log_or_minus_inf(g) - y)
    minus = reversed_lcse(log_or_minus_inf(-g) - y)
    return xp.exp(a + plus) - xp.exp(a + minus)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log Σ_{j ≤ i} e^{x_j} along ``dim``, without overflow, as ``torch.logcumsumexp``.
    Integer and bool inputs give the default float dtype."""
    d = _scan_dim(x, dim, "logcumsumexp")
    if x._data.dtype.kind != "f":
        from ..dtypes import get_default_dtype
        from .conversion import cast

        x = cast(x, get_default_dtype())
    return LogCumSumExp.apply(x, d)
