"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode, and the
integer-valued selections nonzero and unique.

Each op finds *positions* with the array module (argsort and friends) and then reads the
values with :func:`gather`, so the values are differentiable for free: the gradient of a
selected value goes back to the one element it was read from (the selected index, also
among ties), and second derivatives work too.  Positions, ``nonzero`` and ``unique``
results are int64 or copies that never require grad.
"""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from .. import return_types
from ..tensor import Tensor
from .helpers import constant
from .indexing import gather
from .shape import reshape


_Sort, _TopK, _KthValue, _Median, _Mode = (return_types.sort, return_types.topk, return_types.kthvalue,
                                           return_types.median, return_types.mode)


def _dim(dim: Any, ndim: int, op: str) -> int:
    """``dim`` as a non-negative int; a 0-d tensor accepts dim 0 and -1."""
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    dim = int(dim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s)")
    return dim % n


def _order(a: Any, axis: int, descending: bool) -> Any:
    """Stable argsort along ``axis`` as int64 (NaN counts as the largest value).  Descending
    keeps tied elements in their original order: the ascending stable sort of the reversed
    slice, reversed back."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype("int64", copy=False)
    n = a.shape[axis]
    order = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable").astype("int64", copy=False)
    return xp.flip(n - 1 - order, axis)


def _as_1d(x: Tensor) -> Tensor:
    return reshape(x, (1,)) if x.ndim == 0 else x


def _pick(x: Tensor, axis: int, index: Any, keepdim: bool, pair: type) -> Any:
    """The named pair (values, indices) for positions ``index`` (a size-1 dim at ``axis``) of an
    at least 1-d x; ``keepdim=False`` drops that dim from both."""
    values = gather(x, axis, constant(index))
    if not keepdim:
        values = reshape(values, values.shape[:axis] + values.shape[axis + 1:])
        index = index.squeeze(axis)
    return pair(values, constant(index))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """The elements of each slice along ``dim`` in ascending (or descending) order, as the named
    pair ``(values, indices)`` with ``values = gather(x, dim, indices)``; both of x's shape.

    The sort is always stable (``stable=`` is accepted for PyTorch's signature): equal elements
    keep their order, descending too.  NaN sorts as the largest value.  The gradient of
    ``values`` goes back to the element each value came from."""
    axis = _dim(dim, x.ndim, "sort")
    x1 = _as_1d(x)
    index = _order(x1._data, axis, descending)
    values = gather(x1, axis, constant(index))
    if x.ndim == 0:
        return _Sort(reshape(values, ()), constant(index.reshape(())))
    return _Sort(values, constant(index))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 positions that sort each slice along ``dim``: ``sort(x, dim).indices``."""
    axis = _dim(dim, x.ndim, "argsort")
    index = _order(_as_1d(x)._data, axis, descending)
    return constant(index.reshape(x.shape))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) elements of each slice along ``dim`` and
    their positions, as the named pair ``(values, indices)``; the dim has size k in both.
    Always in sorted order (largest first, or smallest first); among equal elements the first
    ones are picked (PyTorch may pick other positions among ties)."""
    axis = _dim(dim, x.ndim, "topk")
    x1 = _as_1d(x)
    n = x1.shape[axis]
    if isinstance(k, bool) or not hasattr(k, "__index__") or not 0 <= int(k) <= n:
        raise IndexError(f"topk: k={k!r} is out of range for a dim of size {n} (shape {x.shape}, dim {dim})")
    k = int(k) if x.ndim else 1  # (PyTorch gives a 0-d x back for k = 0 too)
    index = _order(x1._data, axis, largest)
    index = index[(slice(None),) * axis + (slice(0, k),)]
    values = gather(x1, axis, constant(index))
    if x.ndim == 0:
        return _TopK(reshape(values, ()), constant(index.reshape(())))
    return _TopK(values, constant(index))


def _select_kth(x: Tensor, k_of: Any, dim: int, keepdim: bool, op: str, pair: type) -> Any:
    """(values, indices) of the element at sorted position ``k_of(n, sorted_array, order)``."""
    axis = _dim(dim, x.ndim, op)
    x1 = _as_1d(x)
    a = x1._data
    xp = array_module(a)
    order = _order(a, axis, False)
    position = k_of(a.shape[axis], xp.take_along_axis(a, order, axis), axis)
    index = xp.take_along_axis(order, position, axis)
    out = _pick(x1, axis, index, keepdim or x.ndim == 0, pair)
    if x.ndim == 0:
        return pair(reshape(out.values, ()), constant(out.indices._data.reshape(())))
    return out


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest element (k counts from 1) of each slice along ``dim`` and its
    position, as the named pair ``(values, indices)``.  NaN counts as the largest value."""
    n = x.shape[_dim(dim, x.ndim, "kthvalue")] if x.ndim else 1
    if isinstance(k, bool) or not hasattr(k, "__index__") or not 1 <= int(k) <= n:
        raise IndexError(f"kthvalue: k={k!r} is out of range for a dim of size {n} (shape {x.shape}, dim {dim})")
    k = int(k)

    def at_k(size: int, sorted_values: Any, axis: int) -> Any:
        xp = array_module(sorted_values)
        shape = list(sorted_values.shape)
        shape[axis] = 1
        return xp.full(shape, k - 1, dtype="int64")

    return _select_kth(x, at_k, dim, keepdim, "kthvalue", _KthValue)


def _lower_median_position(size: int, sorted_values: Any, axis: int) -> Any:
    """The sorted position of the lower median, (n - 1) // 2, or of the first NaN when the
    slice has one (NaN sorts last; the median of a slice with NaN is NaN, as PyTorch)."""
    xp = array_module(sorted_values)
    middle = (size - 1) // 2
    if sorted_values.dtype.kind != "f":
        shape = list(sorted_values.shape)
        shape[axis] = 1
        return xp.full(shape, middle, dtype="int64")
    nans = xp.isnan(sorted_values).sum(axis=axis, keepdims=True).astype("int64")
    return xp.where(nans > 0, size - nans, middle)


def median(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median: the element at sorted position (n - 1) // 2 (NaN if the slice has a NaN).

    * ``median(x)``: of all elements, a 0-d tensor (NaN for an empty x);
    * ``median(x, dim, keepdim=False)``: the named pair ``(values, indices)`` of each slice.

    The gradient goes to the one element picked."""
    if dim is None:
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            from ..creation import full

            return full((), float("nan"), dtype=x.dtype, device=x.device)
        return reshape(_select_kth(flat, _lower_median_position, 0, False, "median", _Median).values, ())
    axis = _dim(dim, x.ndim, "median")
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"median: cannot take the median of an empty dim {dim} (shape {x.shape})")
    return _select_kth(x, _lower_median_position, dim, keepdim, "median", _Median)


def _mode_position(size: int, sorted_values: Any, axis: int) -> Any:
    """The sorted position of the mode: the last element of the longest run of equal values
    (the first such run, so the smallest value, when several are longest)."""
    xp = array_module(sorted_values)
    s = xp.moveaxis(sorted_values, axis, -1)
    positions = xp.arange(size, dtype="int64")
    new_run = xp.ones(s.shape, dtype=bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    last_of_run = xp.ones(s.shape, dtype=bool)
    last_of_run[..., :-1] = new_run[..., 1:]
    # Each element's run, numbered over all slices in row-major order, and where that run starts.
    flat_new_run = new_run.reshape(-1)
    run_starts = xp.flatnonzero(flat_new_run)
    run_start = run_starts[xp.cumsum(flat_new_run) - 1].reshape(s.shape) % max(size, 1)
    length = xp.where(last_of_run, positions - run_start + 1, 0)
    best = xp.argmax(length, axis=-1).astype("int64")[..., None]
    return xp.moveaxis(best, -1, axis)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value of each slice along ``dim`` (the smallest one among equally
    frequent values) and the position of its last occurrence, as the named pair
    ``(values, indices)``."""
    axis = _dim(dim, x.ndim, "mode")
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"mode: cannot take the mode of an empty dim {dim} (shape {x.shape})")
    return _select_kth(x, _mode_position, dim, keepdim, "mode", _Mode)


def nonzero(x: Tensor, *, as_tuple: bool = False) -> Any:
    """The positions of the non-zero elements, in row-major order: an int64 tensor of shape
    (count, x.ndim), or with ``as_tuple=True`` one 1-d tensor of size count per dim (a 0-d x
    counts as 1-d there).  Never requires grad."""
    a = x._data
    xp = array_module(a)
    if a.ndim == 0:
        hit = bool(a != 0)
        if as_tuple:
            return (constant(xp.zeros((int(hit),), dtype="int64")),)
        return constant(xp.zeros((int(hit), 0), dtype="int64"))
    found = tuple(p.astype("int64", copy=False) for p in xp.nonzero(a))
    if as_tuple:
        return tuple(constant(p) for p in found)
    return constant(xp.stack(found, axis=1))


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: Any = None) -> Any:
    """The distinct elements of x, ascending, as a 1-d tensor of x's dtype; with
    ``return_inverse`` also the int64 position in that list of each element of x (x's shape),
    with ``return_counts`` the int64 count of each distinct element.  Always sorted; the
    results never require grad.  Only ``dim=None`` (all elements) is supported."""
    if dim is not None:
        raise NotImplementedError("unique: dim= is not supported; only the distinct elements of the whole "
                                  "tensor (dim=None)")
    a = x._data
    xp = array_module(a)
    values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True)
    out = [constant(values)]
    if return_inverse:
        out.append(constant(inverse.reshape(a.shape).astype("int64", copy=False)))
    if return_counts:
        out.append(constant(counts.astype("int64", copy=False)))
    return out[0] if len(out) == 1 else tuple(out)

