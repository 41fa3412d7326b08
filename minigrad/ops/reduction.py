"""Reductions along ``axis`` (int or tuple; ``dim`` is accepted too) with ``keepdims``.

The backward of a reduction spreads dy back over the reduced axes: reshape it to
the keep-dims shape, then broadcast to the input's shape.

Where an op writes its derivative in a fused form, its *reference* stands beside it: the same
function composed from differentiable primitives, the way it is written on paper (a loop of
multiplications for ``prod``, log Σ eˣ for ``logsumexp``), whose derivative autograd finds by
itself.  The tests check that op and reference agree in value, gradient and second derivative:

* :func:`prod_reference`, :func:`amax_reference` (also ``amin``, ``max()``, ``min()``),
  :func:`max_reference` (``max(x, dim)``'s values), :func:`logsumexp_reference`,
  :func:`var_reference`, :func:`std_reference`.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

from .. import return_types
from ..devices import array_module
from ..autograd.function import Function
from ..tensor import Tensor
from .helpers import axis_and_keepdims, constant, keepdims_shape, normalize_axes
from .scan import Flip, exclusive_cumprod
from .shape import broadcast_to, permute, reshape, squeeze


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
    (x₀⋯x_{i-1}) · (x_{i+1}⋯x_{n-1}): the exclusive cumulative product from the left times the
    one from the right (:func:`~minigrad.ops.scan.exclusive_cumprod`).  Only products, so zeros
    are exact, and second derivatives work.  :func:`prod_reference` is the loop of
    multiplications this stands for."""

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool) -> Any:
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims = x._data.shape, axes, keepdims
        return x._data.prod(axis=axes, keepdims=keepdims)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        g = _spread(g, self.in_shape, self.axes, self.keepdims)
        if x.numel() == 0 or x.ndim == 0:  # nothing to differentiate / dy/dx = 1
            return g, None, None
        axes = tuple(range(x.ndim)) if self.axes is None else self.axes
        perm = [d for d in range(x.ndim) if d not in axes] + list(axes)  # reduced axes last
        inverse = [perm.index(d) for d in range(x.ndim)]
        moved = tuple(x.shape[d] for d in perm)
        flat = moved[:x.ndim - len(axes)] + (math.prod(moved[x.ndim - len(axes):]),)
        rows = reshape(permute(x, *perm), flat)  # one row per slice: its n reduced elements
        before = exclusive_cumprod(rows)                                   # x₀⋯x_{i-1}
        after = Flip.apply(exclusive_cumprod(Flip.apply(rows, -1)), -1)    # x_{i+1}⋯x_{n-1}
        return g * permute(reshape(before * after, moved), *inverse), None, None


def prod_reference(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """:func:`prod` as a loop of multiplications: with the reduced axes moved last and flattened
    to one of length n, y = ((1 · x₀) · x₁) ⋯ x_{n-1}.  Autograd differentiates the loop, which
    gives dx_i = dy · Π_{j≠i} x_j, exact at zeros.  (n recorded ops: a reference, not a fast path.)"""
    axes = _axes(x, axis, "prod")
    axes = tuple(range(x.ndim)) if axes is None else axes
    kept = [d for d in range(x.ndim) if d not in axes]
    n = math.prod(x.shape[d] for d in axes)
    rows = reshape(permute(x, *kept, *axes), tuple(x.shape[d] for d in kept) + (n,))
    y = constant(array_module(x._data).ones(rows.shape[:-1], dtype=x._data.dtype))
    for i in range(n):
        y = y * rows[..., i]
    return reshape(y, keepdims_shape(x.shape, axes)) if keepdims else y


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
        (x,) = self.saved_tensors
        y = self.output._data
        if not self.keepdims:
            y = y.reshape(keepdims_shape(self.in_shape, self.axes))
        a = x._data
        hit = (a == y) | ((a != a) & (y != y))  # (v ≠ v only at NaN)
        mask = hit / hit.sum(axis=self.axes, keepdims=True)
        return _spread(g, self.in_shape, self.axes, self.keepdims) * constant(mask.astype(x.dtype)), None, None, None


class SelectAlongDim(Function):
    """y = x at ``index`` along ``axis``: one element per slice (``index`` has x's shape with
    size 1 on ``axis``).  dx = dy at the selected element of each slice, 0 elsewhere.

    The values of ``max(x, dim)`` and ``min(x, dim)``: the index is argmax's, so among ties only
    that element gets the gradient (PyTorch's rule for these two; ``amax`` shares it)."""

    def forward(self, x: Tensor, axis: int, index: Any, keepdim: bool) -> Any:
        a = x._data
        self.in_shape, self.axis, self.index, self.keepdim = a.shape, axis, index, keepdim
        out = array_module(a).take_along_axis(a, index, axis)
        return out if keepdim else out.squeeze(axis)

    def backward(self, g: Tensor) -> tuple:
        n = self.in_shape[self.axis]
        position = array_module(self.index).arange(n).reshape((n,) + (1,) * (len(self.in_shape) - 1 - self.axis))
        picked = constant((position == self.index).astype(g.dtype))  # x's shape, one 1 per slice
        return _spread(g, self.in_shape, (self.axis,), self.keepdim) * picked, None, None, None


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

        (x,) = self.saved_tensors
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
    return None if x.ndim == 0 or axes == () else axes  # () means every dim, as in PyTorch


def _reduce(cls: type, x: Tensor, axis: Any, keepdims: Any, dim: Any, keepdim: Any, name: str, *extra: Any) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    axes = _axes(x, axis, name)
    return cls.apply(x, axes, keepdims, *extra)


def _as_dtype(x: Tensor, dtype: Any, name: str) -> Tensor:
    """``x`` cast to ``dtype`` (a reduction's ``dtype=``: the input is cast before reducing, so
    a float cast stays differentiable)."""
    from ..dtypes import as_dtype
    from .conversion import cast

    target = as_dtype(dtype)
    if x.requires_grad and target.kind != "f":
        raise TypeError(f"{name}: dtype={target} for a tensor that requires grad (shape {x.shape}): "
                        "an integer result cannot carry a gradient")
    return cast(x, target)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None,
        dtype: Any = None) -> Tensor:
    """Sum over ``axis`` (all by default; ``()`` is all too, as PyTorch).  Integer and bool
    inputs sum in int64; ``dtype=`` casts the input first."""
    if dtype is not None:
        x = _as_dtype(x, dtype, "sum")
    return _reduce(Sum, x, axis, keepdims, dim, keepdim, "sum")


def mean(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None,
         dtype: Any = None) -> Tensor:
    """Mean over ``axis`` (all by default); nan over an empty axis, as NumPy and PyTorch.  An
    integer or bool input needs ``dtype=`` (a float dtype it is cast to first), as in PyTorch."""
    if dtype is not None or x._data.dtype.kind != "f":
        if dtype is None:
            raise TypeError(f"mean: could not infer the output dtype of a {x.dtype} tensor (shape {x.shape}); "
                            "pass a floating point dtype= or cast the input")
        x = _as_dtype(x, dtype, "mean")
        if x.dtype.kind != "f":
            raise TypeError(f"mean: dtype= must be a floating point dtype, got {x.dtype}")
    return _reduce(Mean, x, axis, keepdims, dim, keepdim, "mean")


def prod(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None,
         dtype: Any = None) -> Tensor:
    """Product over ``axis`` (all by default); 1 over an empty axis.  Exact gradients at zeros.
    Integer and bool inputs multiply in int64; ``dtype=`` casts the input first."""
    if dtype is not None:
        x = _as_dtype(x, dtype, "prod")
    elif x._data.dtype.kind in "bi" and x._data.dtype != "int64":
        x = _as_dtype(x, "int64", "prod")
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    return Prod.apply(x, _axes(x, axis, "prod"), keepdims)


def _nonempty(x: Tensor, axis: Any, dim: Any, name: str) -> None:
    axes = _axes(x, dim if dim is not None else axis, name)
    sizes = x.shape if axes is None else [x.shape[a] for a in axes]
    if x.numel() == 0 and (axes is None or 0 in sizes):
        raise RuntimeError(f"{name}: cannot reduce over an empty dimension (tensor of shape {x.shape}, axis {axis})")


def max(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Any:
    """The three forms of ``torch.max``:

    * ``max(x)``: the largest element, a 0-d tensor (tied maxima share the gradient equally);
    * ``max(x, dim, keepdim=False)``: the named pair ``return_types.max(values, indices)`` of each
      slice along one ``dim`` (``axis=`` / ``keepdims=`` are the same keywords, as PyTorch accepts
      them too).  ``indices`` is int64, the first position among ties, or the first NaN; only the
      element at ``indices`` gets the gradient of ``values``.  Several dims: use :func:`amax`;
    * ``max(x, other)`` with a tensor ``other``: the element-wise :func:`maximum`.
    """
    return _extreme(x, axis, keepdims, dim, keepdim, largest=True)


def min(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Any:
    """``min(x)``, ``min(x, dim, keepdim=False)`` (the named pair ``return_types.min(values,
    indices)``) or ``min(x, other)`` (element-wise :func:`minimum`): :func:`max`'s three forms."""
    return _extreme(x, axis, keepdims, dim, keepdim, largest=False)


def _extreme(x: Tensor, axis: Any, keepdims: Any, dim: Any, keepdim: Any, largest: bool) -> Any:
    name = "max" if largest else "min"
    if isinstance(axis, Tensor) and dim is None:  # max(x, other): PyTorch's element-wise form
        from .elementwise import maximum, minimum

        return maximum(x, axis) if largest else minimum(x, axis)
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    if axis is None:
        _nonempty(x, None, None, name)
        return Max.apply(x, None, keepdims, largest)
    if isinstance(axis, bool) or not hasattr(axis, "__index__"):
        raise TypeError(f"{name}: dim must be one int, got {axis!r}; a{name}() reduces over several dims")
    _nonempty(x, axis, None, name)
    pair = return_types.max if largest else return_types.min
    a = x._data
    xp = array_module(a)
    axes = _axes(x, axis, name)
    if axes is None:  # a 0-d tensor: its one element, at index 0 (as PyTorch; keepdim changes nothing)
        return pair(Max.apply(x, None, False, largest), constant(xp.zeros((), dtype="int64")))
    (ax,) = axes
    index = (a.argmax if largest else a.argmin)(axis=ax, keepdims=True).astype("int64", copy=False)
    values = SelectAlongDim.apply(x, ax, index, keepdims)
    return pair(values, constant(index if keepdims else index.squeeze(ax)))


def amax(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Largest value over ``dim`` (an int, a tuple, or None or () for all elements): values only.
    Tied maxima share the gradient equally: each of k ties gets dy / k, as PyTorch's amax."""
    return _amax(x, axis, keepdims, dim, keepdim, "amax", True)


def amin(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """Smallest value over ``dim``: :func:`amax`'s rules (ties share the gradient equally)."""
    return _amax(x, axis, keepdims, dim, keepdim, "amin", False)


def _amax(x: Tensor, axis: Any, keepdims: Any, dim: Any, keepdim: Any, name: str, largest: bool) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    if isinstance(axis, (tuple, list)) and len(axis) == 0:  # dim=() means every dim, as in PyTorch
        axis = None
    _nonempty(x, axis, None, name)
    return Max.apply(x, _axes(x, axis, name), keepdims, largest)


def amax_reference(x: Tensor, axis: Any = None, keepdims: bool = False, largest: bool = True) -> Tensor:
    """:func:`amax` (``largest=False``: :func:`amin`) as the mean of the entries that hit the
    maximum: y = Σ x·hit / Σ hit over ``axis``, with hit = 1[x = max x] a constant (which entries
    are largest does not change under a small change of x).  Autograd then gives each of k tied
    maxima dy / k, as :class:`Max` does.  (Slices with NaN are left out: NaN hits nothing.)"""
    axes = _axes(x, axis, "amax")
    a = x._data
    top = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
    hit = constant((a == top).astype(a.dtype))
    return sum(x * hit, axes, keepdims) / sum(hit, axes, keepdims)


def max_reference(x: Tensor, dim: Any = None, keepdim: bool = False, largest: bool = True) -> Tensor:
    """The values of :func:`max` (``largest=False``: :func:`min`).  Without ``dim``,
    :func:`amax_reference` (ties share the gradient); with one ``dim``, the element at the
    argmax picked by indexing (``gather``), so among ties only that one gets the gradient, as
    :class:`SelectAlongDim` does."""
    from .indexing import gather

    axes = _axes(x, dim, "max")
    if axes is None:  # no dim, or a 0-d tensor
        return amax_reference(x, None, keepdim, largest)
    (d,) = axes
    a = x._data
    index = constant((a.argmax if largest else a.argmin)(axis=d, keepdims=True).astype("int64", copy=False))
    picked = gather(x, d, index)
    return picked if keepdim else squeeze(picked, d)


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None) -> Tensor:
    """log Σ exp(x) over ``axis``, without overflow.  Integer and bool inputs give the default
    float dtype."""
    if x._data.dtype.kind != "f":
        from ..dtypes import get_default_dtype

        x = _as_dtype(x, get_default_dtype(), "logsumexp")
    return _reduce(LogSumExp, x, axis, keepdims, dim, keepdim, "logsumexp")


def logsumexp_reference(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log Σ eˣ over ``axis`` from ``exp``, ``sum`` and ``log``, without the shift by the maximum
    (so eˣ overflows for x > 709).  Autograd gives dx = dy · eˣ / Σ eˣ, the softmax that
    :class:`LogSumExp` writes directly."""
    from .elementwise import exp, log

    return log(sum(exp(x), _axes(x, axis, "logsumexp"), keepdims))


class Var(Function):
    """y = Σ(x - x̄)² / (n - c) over ``axes``: n elements per slice, c the ``correction``
    (1: the unbiased estimate).   dx = dy · 2(x - x̄) / (n - c)  (x̄'s own dependence on x
    drops out, as Σ(x - x̄) = 0); recorded ops, so it differentiates again.

    With no degrees of freedom left (n - c ≤ 0) the divisor is 0, as in PyTorch: y = inf, or NaN
    where Σ(x - x̄)² = 0 (a constant slice, or no elements), and dx = ±inf, NaN where x = x̄."""

    def forward(self, x: Tensor, axes: tuple | None, keepdims: bool, correction: float) -> Any:
        a = x._data
        xp = array_module(a)
        self.save_for_backward(x)
        self.in_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        n = a.size if axes is None else _count(a.shape, axes)
        self.dof = n - correction if n - correction > 0 else 0.0
        if n == 0:  # Σ over nothing / 0 (and no "mean of empty slice" warning)
            out_shape = a.sum(axis=axes, keepdims=keepdims).shape
            return xp.full(out_shape, xp.nan, dtype=a.dtype if a.dtype.kind == "f" else "float64")
        centered = a - a.mean(axis=axes, keepdims=True)
        squares = (centered * centered).sum(axis=axes, keepdims=keepdims)
        if self.dof > 0:
            return squares / self.dof
        # squares / 0, picked rather than divided (no divide-by-zero warnings): inf, or NaN for 0 / 0
        # and where squares is NaN already.
        return xp.where(squares > 0, xp.inf, xp.nan).astype(squares.dtype)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        g = _spread(g, self.in_shape, self.axes, self.keepdims)
        if x.numel() == 0:
            return g, None, None, None
        centered = x - Mean.apply(x, self.axes, True)
        if self.dof > 0:
            return g * (centered * (2.0 / self.dof)), None, None, None
        # dy · 2(x - x̄) / 0, by sign: ±inf, and NaN for 0 / 0 (as PyTorch where x = x̄).
        p = (g * centered)._data
        xp = array_module(p)
        return constant(xp.where(p > 0, xp.inf, xp.where(p < 0, -xp.inf, xp.nan)).astype(p.dtype)), None, None, None


def _var(x: Tensor, axis: Any, unbiased: Any, keepdims: Any, dim: Any, keepdim: Any, correction: Any,
         name: str) -> Tensor:
    if isinstance(axis, bool):  # var(x, False): PyTorch's var(x, unbiased=False) over all elements
        if unbiased is not None:
            raise TypeError(f"{name}: got unbiased twice ({axis!r} in the place of dim, and {unbiased!r})")
        axis, unbiased = None, axis
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: pass unbiased= or correction=, not both")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {x.dtype} (shape {x.shape})")
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    axes = _axes(x, axis, name)
    n = x.numel() if axes is None else _count(x.shape, axes)
    if n - c <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0 (correction {c} for {n} elements per slice of a "
                      f"tensor of shape {x.shape}); the result is inf, or nan where a slice is constant",
                      UserWarning, stacklevel=3)
    return Var.apply(x, axes, keepdims, c)


def var(x: Tensor, axis: Any = None, unbiased: bool | None = None, keepdims: bool = False, *, dim: Any = None,
        keepdim: Any = None, correction: float | None = None) -> Tensor:
    """Variance Σ(x - x̄)² / max(0, n - c) over ``dim`` (all elements by default), as
    ``torch.var``: c = ``correction``, or 1 (``unbiased=True``, the default) or 0
    (``unbiased=False``).  n - c ≤ 0 gives inf (NaN for a constant slice) with a UserWarning.
    ``var(x, False)`` is ``var(x, unbiased=False)``, as in PyTorch."""
    return _var(x, axis, unbiased, keepdims, dim, keepdim, correction, "var")


def var_reference(x: Tensor, axis: Any = None, correction: float = 1, keepdims: bool = False) -> Tensor:
    """Σ(x - x̄)² / (n - c) over ``axis`` from ``mean``, ``-``, ``*``, ``sum`` and ``/`` (for
    n - c > 0).  Autograd differentiates x̄ too; :class:`Var`'s first derivative leaves that
    term out, since it is dy · (-2/(n - c)) · Σ(x - x̄) = 0."""
    axes = _axes(x, axis, "var")
    n = x.numel() if axes is None else _count(x.shape, axes)
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) / (n - correction)


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


def std(x: Tensor, axis: Any = None, unbiased: bool | None = None, keepdims: bool = False, *, dim: Any = None,
        keepdim: Any = None, correction: float | None = None) -> Tensor:
    """Standard deviation √var (:func:`var`'s arguments and rules), gradient 0 where it is 0."""
    return StdFromVar.apply(_var(x, axis, unbiased, keepdims, dim, keepdim, correction, "std"))


def std_reference(x: Tensor, axis: Any = None, correction: float = 1, keepdims: bool = False) -> Tensor:
    """√(:func:`var_reference`) with the plain ``sqrt``: dv = dy / (2√v).  It agrees with
    :func:`std` wherever std > 0; at a constant slice (std = 0) this gives 0 · ∞ = NaN where
    :class:`StdFromVar` gives 0."""
    from .elementwise import sqrt

    return sqrt(var_reference(x, axis, correction, keepdims))


def _arg(x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any, largest: bool) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    name = "argmax" if largest else "argmin"
    if axis is not None and not hasattr(axis, "__index__"):
        raise TypeError(f"{name}: axis must be None or one int, got {axis!r}")
    if x.dtype.kind == "b":
        raise TypeError(f"{name}: a bool tensor has no {name} (shape {x.shape}); cast it to an integer dtype first")
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


def var_mean(x: Tensor, axis: Any = None, unbiased: bool | None = None, keepdims: bool = False, *,
             dim: Any = None, keepdim: Any = None, correction: float | None = None) -> tuple:
    """The pair ``(var(x), mean(x))`` over the same dims, as ``torch.var_mean``
    (:func:`var`'s arguments; both differentiable)."""
    if isinstance(axis, bool):  # var_mean(x, False): unbiased=False over all elements
        axis, unbiased = None, axis if unbiased is None else unbiased
    v = _var(x, axis, unbiased, keepdims, dim, keepdim, correction, "var_mean")
    return v, _mean_like(x, axis, keepdims, dim, keepdim)


def std_mean(x: Tensor, axis: Any = None, unbiased: bool | None = None, keepdims: bool = False, *,
             dim: Any = None, keepdim: Any = None, correction: float | None = None) -> tuple:
    """The pair ``(std(x), mean(x))`` over the same dims, as ``torch.std_mean``."""
    if isinstance(axis, bool):
        axis, unbiased = None, axis if unbiased is None else unbiased
    s = StdFromVar.apply(_var(x, axis, unbiased, keepdims, dim, keepdim, correction, "std_mean"))
    return s, _mean_like(x, axis, keepdims, dim, keepdim)


def _mean_like(x: Tensor, axis: Any, keepdims: Any, dim: Any, keepdim: Any) -> Tensor:
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim)
    return Mean.apply(x, _axes(x, axis, "mean"), keepdims)


class aminmax_result(tuple):
    """Result of :func:`aminmax`: the pair ``(min, max)``, also reachable as ``.min`` and ``.max``
    (``torch.return_types.aminmax``)."""

    __slots__ = ()

    def __new__(cls, min: Tensor, max: Tensor) -> "aminmax_result":  # noqa: A002
        return tuple.__new__(cls, (min, max))

    @property
    def min(self) -> Tensor:
        return self[0]

    @property
    def max(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"minigrad.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> aminmax_result:
    """The smallest and the largest value, over one ``dim`` or all elements (``dim=None``), as
    ``torch.aminmax``: the pair ``(min, max)`` with fields ``.min`` / ``.max``.  Each is
    :func:`amin` / :func:`amax` (ties share the gradient); an empty reduction is an error."""
    if dim is not None and (isinstance(dim, bool) or not hasattr(dim, "__index__")):
        raise TypeError(f"aminmax: dim must be None or one int, got {dim!r}")
    if dim is None and keepdim is False:
        return aminmax_result(amin(x), amax(x))
    return aminmax_result(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _logical_reduce(x: Tensor, dim: Any, keepdim: bool, largest: bool, name: str) -> Tensor:
    a = x._data
    if isinstance(dim, (tuple, list)) and len(dim) == 0:  # dim=(): no dim reduced, as PyTorch's all / any
        return constant(a != 0 if a.dtype != "uint8" else (a != 0).astype("uint8"))
    axes = _axes(x, dim, name)
    out = (a.all if largest else a.any)(axis=axes, keepdims=keepdim)
    if x.ndim == 0 or axes is None and keepdim:  # numpy keeps ndim; shape follows PyTorch
        out = out.reshape((1,) * x.ndim if keepdim else ())
    return constant(out.astype("uint8" if a.dtype == "uint8" else "bool", copy=False))


def all(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Whether every element is nonzero, over ``dim`` (an int, a tuple, or None for all): a bool
    tensor (uint8 for a uint8 input, as PyTorch); True over nothing.  No gradient."""
    dim, keepdim = axis_and_keepdims(axis, keepdim, dim, keepdims)
    return _logical_reduce(x, dim, keepdim, True, "all")


def any(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Whether any element is nonzero, over ``dim``: :func:`all`'s rules; False over nothing."""
    dim, keepdim = axis_and_keepdims(axis, keepdim, dim, keepdims)
    return _logical_reduce(x, dim, keepdim, False, "any")


def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """How many elements are nonzero over ``dim`` (an int, a tuple, or None for all): int64,
    no gradient, as ``torch.count_nonzero``."""
    axes = _axes(x, dim, "count_nonzero")
    a = x._data
    return constant(array_module(a).asarray((a != 0).sum(axis=axes), dtype="int64"))
