"""Pooling over the last one or two dims: max, average, adaptive average and adaptive max.

Each op comes twice:

* ``*_reference``: the plain form, composed from recorded ops (pad, the windows cut out with
  ``F.unfold``, a max or a sum over each window; averaging matrices for the adaptive
  average).  Autograd gives its first and higher derivatives.
* the public function: the same map as one tape node whose forward works on arrays (windows are
  strided views of the padded input, walked one window offset at a time) and whose backward,
  when the backward is not recorded, also works on arrays.  When it is recorded
  (``create_graph=True``), the backward is itself a node, and the two nodes are each other's
  backward (a linear map and its transpose), so derivatives of every order exist.

The tests check that the two forms agree: values, first and second derivatives.

Geometry, per pooled dim (input size n, kernel k, stride s, padding p, dilation d): a window
starting at position t·s - p covers positions t·s - p + i·d, i = 0..k-1, and

    n_out = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1            (ceil_mode: ⌈·⌉ instead of ⌊·⌋,
                                                         but the last window must start
                                                         inside the input or the left padding)
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...devices import array_module
from ...errors import ShapeError
from ...ops.helpers import constant
from ...ops.matmul import matmul
from ...ops.shape import pad as constant_pad
from ...ops.shape import reshape, stack, transpose
from ...tensor import Tensor, make_tensor
from .conv import unfold

# -- arguments, shapes and window geometry -----------------------------------------------------


class Geometry(NamedTuple):
    """Where the windows of a 2-D pooling lie: input (H, W), kernel, stride, padding, dilation
    (each a pair), output (H_out, W_out), and the padding the windows reach on the bottom and
    right (less than ``padding`` when the last window stops short, more under ceil_mode)."""
    in_hw: tuple
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out_hw: tuple
    after: tuple


def _int_tuple(value: Any, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of n ints as an n-tuple."""
    if isinstance(value, (list, tuple)):
        items = tuple(value)
        if len(items) == 1 and n > 1:
            items = items * n
    else:
        items = (value,) * n
    if len(items) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return items


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """The number of windows along one dim (the formula in the module docstring)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:  # the last window would start in the right padding
        out -= 1
    return out


def _geometry(op: str, in_hw: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, nd: int) -> Geometry:
    """The windows of a pooling over the last ``nd`` (1 or 2) dims of a (.., H, W) input, with
    every argument checked as PyTorch does (1-D pooling is 2-D pooling with a 1-row kernel)."""
    k = _int_tuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else _int_tuple(stride, nd, "stride", op)
    p = _int_tuple(padding, nd, "padding", op)
    d = _int_tuple(dilation, nd, "dilation", op)
    if any(v <= 0 for v in k):
        raise ValueError(f"{op}: kernel_size must be positive, got {kernel_size!r}")
    if any(v <= 0 for v in s):
        raise ValueError(f"{op}: stride must be positive, got {stride!r}")
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    if any(v <= 0 for v in d):
        raise ValueError(f"{op}: dilation must be positive, got {dilation!r}")
    if any(2 * pv > kv for pv, kv in zip(p, k)):
        raise ValueError(f"{op}: padding must be at most half of kernel_size, got padding={padding!r} "
                         f"for kernel_size={kernel_size!r}")
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    out = tuple(pooled_size(n, kv, sv, pv, dv, ceil_mode) for n, kv, sv, pv, dv in zip(in_hw, k, s, p, d))
    if any(o <= 0 for o in out):
        shown = in_hw[-nd:]
        raise ShapeError(f"{op}: input of spatial size {shown} is too small for kernel_size={kernel_size!r}, "
                         f"padding={padding!r}, dilation={dilation!r}: output size {out[-nd:]}")
    after = tuple((o - 1) * sv + dv * (kv - 1) + 1 - n - pv
                  for n, kv, sv, pv, dv, o in zip(in_hw, k, s, p, d, out))
    return Geometry(tuple(in_hw), k, s, p, d, out, after)


def _batched(input: Any, op: str, nd: int) -> tuple:
    """``input`` as a (N, C, H, W) tensor (1-D pooling: (N, C, 1, L)) and whether it came without
    the batch dim.  Accepts (C, *spatial) or (N, C, *spatial) with every dim but N non-empty."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    shape = tuple(input.shape)
    layout = "(C, L) or (N, C, L)" if nd == 1 else "(C, H, W) or (N, C, H, W)"
    if len(shape) not in (nd + 1, nd + 2) or 0 in shape[len(shape) - nd - 1:]:
        raise ShapeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input {layout} with non-empty C and "
                         f"spatial dims, got shape {shape}")
    if input.dtype.kind == "b":
        raise TypeError(f"{op}: not implemented for bool tensors")
    unbatched = len(shape) == nd + 1
    full = ((1,) if unbatched else ()) + shape
    if nd == 1:
        full = full[:2] + (1,) + full[2:]
    return (input if full == shape else reshape(input, full)), unbatched


def _restore(out: Tensor, input: Tensor, unbatched: bool, nd: int) -> Tensor:
    """A (N, C, H, W) result in the input's layout (drop the batch dim, or the row dim of 1-D)."""
    shape = tuple(out.shape)
    if nd == 1:
        shape = shape[:2] + shape[3:]
    if unbatched:
        shape = shape[1:]
    return out if shape == tuple(out.shape) else reshape(out, shape)


def _lowest(dtype: Any, xp: Any) -> Any:
    """The padding value of max pooling: -inf, or the smallest integer."""
    return -math.inf if dtype.kind == "f" else xp.iinfo(dtype).min


# -- the windows as arrays ---------------------------------------------------------------------

def _padded(a: Any, g: Geometry, fill: Any) -> Any:
    """``a`` (N, C, H, W) grown by the padding the windows reach (top/left ``padding``, bottom/right
    ``after`` or cropped where ``after`` is negative), filled with ``fill``."""
    (ph, pw), (ah, aw) = g.padding, g.after
    if ph == pw == 0 and ah <= 0 and aw <= 0:
        return a
    xp = array_module(a)
    a = a[:, :, :a.shape[2] + min(ah, 0), :a.shape[3] + min(aw, 0)]
    return xp.pad(a, ((0, 0), (0, 0), (ph, max(ah, 0)), (pw, max(aw, 0))), mode="constant", constant_values=fill)


def _windows(a: Any, g: Geometry, fill: Any) -> Any:
    """The windows of a (N, C, H, W) array as a strided view (N, C, H_out, W_out, kh, kw) of the
    padded array (no copy beyond the padding)."""
    ap = _padded(a, g, fill)
    xp = array_module(ap)
    sn, sc, sh, sw = ap.strides
    (strh, strw), (dh, dw) = g.stride, g.dilation
    shape = ap.shape[:2] + g.out_hw + g.kernel
    return xp.lib.stride_tricks.as_strided(ap, shape, (sn, sc, sh * strh, sw * strw, sh * dh, sw * dw))


def _offset_slices(g: Geometry) -> list:
    """For each window offset (i, j), in window order, the strided slice of the padded plane that
    holds that element of every window."""
    (oh, ow), (sh, sw), (dh, dw) = g.out_hw, g.stride, g.dilation
    return [(slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))
            for i in range(g.kernel[0]) for j in range(g.kernel[1])]


def _scatter_windows(write: Any, shape: tuple, g: Geometry, dtype: Any, xp: Any) -> Any:
    """A (N, C, H, W) array holding, at each input position, the sum over the windows that read
    it of what ``write`` puts there: ``write(k, dest, accumulate)`` stores (or, with
    ``accumulate``, adds) into ``dest`` the values for the k-th element of every window, dest
    being the strided slice of a padded plane that holds those elements.  The padding is
    cropped off at the end.  Windows that do not overlap are written, not added; windows that
    tile the input exactly fill it all, so it needs no zeros first."""
    (ph, pw), (ah, aw), (h, w) = g.padding, g.after, g.in_hw
    extent = [dv * (kv - 1) + 1 for kv, dv in zip(g.kernel, g.dilation)]
    disjoint = g.stride[0] >= extent[0] and g.stride[1] >= extent[1]
    tiled = disjoint and g.stride == g.kernel and g.dilation == (1, 1) and ph == pw == ah == aw == 0
    padded_shape = shape[:2] + (ph + h + max(ah, 0), pw + w + max(aw, 0))
    grad = xp.empty(padded_shape, dtype=dtype) if tiled else xp.zeros(padded_shape, dtype=dtype)
    for k, (rows, cols) in enumerate(_offset_slices(g)):
        write(k, grad[:, :, rows, cols], not disjoint)
    if padded_shape[2:] == (h, w):
        return grad
    return xp.ascontiguousarray(grad[:, :, ph:ph + h, pw:pw + w])


def _first_offsets(g: Geometry, xp: Any) -> Any:
    """For each output position (H_out, W_out), the first window offset that falls inside the
    input (0 unless the window starts in the padding): the index a window of -inf gets."""
    def first(n: int, out: int, stride: int, pad: int, dil: int) -> Any:
        start = xp.arange(out, dtype=xp.int64) * stride - pad
        return xp.maximum(-(start // dil), 0)  # ⌈-start / dil⌉ for windows starting above 0
    i0 = first(g.in_hw[0], g.out_hw[0], g.stride[0], g.padding[0], g.dilation[0])
    j0 = first(g.in_hw[1], g.out_hw[1], g.stride[1], g.padding[1], g.dilation[1])
    return i0[:, None] * g.kernel[1] + j0[None, :]


def _flat_indices(offsets: Any, g: Geometry, xp: Any) -> Any:
    """Window offsets (N, C, H_out, W_out) as PyTorch's indices into each flattened (H·W) plane."""
    (oh, ow), (sh, sw), (ph, pw), (dh, dw), kw = g.out_hw, g.stride, g.padding, g.dilation, g.kernel[1]
    offsets = offsets.astype(xp.int64)
    rows = (xp.arange(oh, dtype=xp.int64) * sh - ph)[:, None] + (offsets // kw) * dh
    cols = (xp.arange(ow, dtype=xp.int64) * sw - pw)[None, :] + (offsets % kw) * dw
    return rows * g.in_hw[1] + cols


# -- max pooling -------------------------------------------------------------------------------

def _max_pool_arrays(a: Any, g: Geometry) -> tuple:
    """Each window's maximum and its offset in window order (row-major over the kernel): the
    first maximum, as PyTorch.

    The maxima come from a chain of element-wise maxima over the window offsets (one strided
    view each), and the offset of the first maximum from the comparisons ne_k = [w_k ≠ max]:
    offset = ne_0·(1 + ne_1·(1 + ne_2·(…))), which counts the leading mismatches.  A NaN, or a
    window holding only -inf (where padding would compare equal too), takes the exact walk of
    :func:`_max_pool_walk` instead."""
    xp = array_module(a)
    lowest = _lowest(a.dtype, xp)
    win = _windows(a, g, lowest)
    kw = g.kernel[1]
    views = [win[:, :, :, :, k // kw, k % kw] for k in range(g.kernel[0] * kw)]
    best = views[0].copy()
    for w in views[1:]:
        xp.maximum(best, w, out=best)  # (NaN propagates)
    if best.size:
        smallest = best.min()
        if smallest != smallest or smallest == lowest:
            return _max_pool_walk(views, g, lowest, xp)
    offset_dtype = xp.uint8 if len(views) <= 256 else xp.int32
    if len(views) == 1:
        return best, xp.zeros(best.shape, dtype=offset_dtype)
    offsets = (views[-2] != best).astype(offset_dtype)
    for w in views[-3::-1]:
        offsets += 1
        offsets *= w != best
    return best, offsets


def _max_pool_walk(views: list, g: Geometry, lowest: Any, xp: Any) -> tuple:
    """:func:`_max_pool_arrays` as PyTorch walks a window: take an element where it is greater
    than the running maximum or NaN (so a NaN wins, the last one), starting from the lowest
    value at the window's first element inside the input (padding never wins)."""
    best = xp.full(views[0].shape, lowest, dtype=views[0].dtype)
    offset_dtype = xp.uint8 if len(views) <= 256 else xp.int32
    offsets = xp.empty(best.shape, dtype=offset_dtype)
    offsets[...] = _first_offsets(g, xp).astype(offset_dtype)
    floating = best.dtype.kind == "f"
    for k, w in enumerate(views):
        take = w > best
        if floating:
            take |= xp.isnan(w)
        xp.copyto(best, w, where=take)
        xp.copyto(offsets, k, where=take, casting="unsafe")
    return best, offsets


class MaxPool2dFunction(Function):
    """y = the maximum of each window, as one node.  ``forward`` receives the values and window
    offsets already computed (:func:`_max_pool_arrays`, so that the indices can be returned too)
    and keeps the offsets.

    dx: each output's gradient goes to the one element its window took (the first maximum).  On
    arrays: one strided slice of the padded gradient per window offset.  Recorded: the scatter
    :class:`PlaneScatter`, whose own backward is the gather :class:`PlaneGather`."""

    def forward(self, x: Tensor, g: Geometry, out: Any, offsets: Any) -> Any:
        self.geometry = g
        if self.needs_input_grad[0]:
            self.save_for_backward(constant(offsets))
        return out

    def backward(self, grad: Tensor) -> tuple:
        (offsets,) = self.saved_tensors
        g, o = self.geometry, offsets._data
        ga = grad._data
        xp = array_module(ga)
        if not GradMode.enabled:
            def write(k: int, dest: Any, accumulate: bool) -> None:  # dest (+)= dy where offset k was taken
                if accumulate:
                    dest += xp.where(o == k, ga, 0)
                else:  # (not a product with the mask: an inf or NaN gradient times 0 would leak NaN)
                    dest[...] = xp.where(o == k, ga, 0)
            dx = _scatter_windows(write, ga.shape, g, ga.dtype, xp)
            return make_tensor(dx, False, None), None, None, None
        index = constant(_flat_indices(o, g, xp))
        return PlaneScatter.apply(grad, index, ga.shape[:2] + g.in_hw), None, None, None


def _plane_gather(a: Any, index: Any) -> Any:
    """out[n, c, i, j] = a[n, c].flat[index[n, c, i, j]] for a (N, C, H, W), index (N, C, h, w)."""
    xp = array_module(a)
    n, c = a.shape[:2]
    flat = a.reshape(n * c, a.shape[2] * a.shape[3])
    taken = xp.take_along_axis(flat, index.reshape(n * c, index.shape[2] * index.shape[3]), axis=1)
    return taken.reshape(index.shape)


def _plane_scatter(ga: Any, index: Any, shape: tuple) -> Any:
    """The transpose of :func:`_plane_gather`: ga (N, C, h, w) summed into a zero (N, C, H, W)
    array at the positions ``index`` names (repeated positions add up)."""
    xp = array_module(ga)
    planes, plane = shape[0] * shape[1], shape[2] * shape[3]
    where = (index.reshape(planes, -1 if planes else 0) + xp.arange(planes, dtype=xp.int64)[:, None] * plane)
    total = xp.bincount(where.reshape(-1), weights=ga.reshape(-1), minlength=planes * plane)
    return total.astype(ga.dtype, copy=False).reshape(shape)


class PlaneGather(Function):
    """y[n, c, i, j] = x[n, c].flat[index[n, c, i, j]]: the elements a max pooling took.
    Linear in x; its backward is the scatter :class:`PlaneScatter` (and that one's is this)."""

    def forward(self, x: Tensor, index: Tensor) -> Any:
        self.input_shape = tuple(x.shape)
        self.save_for_backward(index)
        return _plane_gather(x._data, index._data)

    def backward(self, grad: Tensor) -> tuple:
        (index,) = self.saved_tensors
        return PlaneScatter.apply(grad, index, self.input_shape), None


class PlaneScatter(Function):
    """dx = the gradient of each output added at the input position ``index`` names: the backward
    of a max pooling.  Linear in the gradient; its backward is :class:`PlaneGather`."""

    def forward(self, grad: Tensor, index: Tensor, shape: tuple) -> Any:
        self.save_for_backward(index)
        return _plane_scatter(grad._data, index._data, shape)

    def backward(self, gg: Tensor) -> tuple:
        (index,) = self.saved_tensors
        return PlaneGather.apply(gg, index), None, None


def _max_pool(op: str, input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Any:
    x, unbatched = _batched(input, op, nd)
    g = _geometry(op, tuple(x.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode, nd)
    values, offsets = _max_pool_arrays(x._data, g)
    out = _restore(MaxPool2dFunction.apply(x, g, values, offsets), input, unbatched, nd)
    if not return_indices:
        return out
    indices = make_tensor(_flat_indices(offsets, g, array_module(values)), False, None)
    return out, _restore(indices, input, unbatched, nd)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each (kh, kw) window of the last two dims.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out), with H_out and
    W_out from the module docstring's formula; ``stride`` defaults to ``kernel_size``.  Padding
    is -inf (at most half the kernel).  ``return_indices=True`` also returns, for each output,
    the index of the element taken in its flattened (H·W) input plane (int64).

    The gradient goes to one element per window: the first maximum in window order (a NaN in
    the window is taken instead, and the result is NaN)."""
    return _max_pool("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window of the last dim: (N, C, L) or (C, L) -> (N, C, L_out) or
    (C, L_out).  As :func:`max_pool2d` with one spatial dim (indices count along L)."""
    return _max_pool("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# -- average pooling ---------------------------------------------------------------------------

def _window_counts(n: int, out: int, kernel: int, stride: int, padding: int, include_pad: bool, xp: Any) -> Any:
    """How many positions each window covers along one dim: inside the padded input
    (``include_pad``; the part past the right padding under ceil_mode is never counted), or
    inside the input only."""
    start = xp.arange(out, dtype=xp.int64) * stride - padding
    end = xp.minimum(start + kernel, n + padding)
    if not include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, n)
    return end - start


class AvgGeometry(NamedTuple):
    """An average pooling: its windows and its divisor (a number, or an (H_out, W_out) array)."""
    windows: Geometry
    divisor: Any


def _avg_geometry(g: Geometry, count_include_pad: bool, divisor_override: Any, xp: Any, dtype: Any) -> AvgGeometry:
    """The divisor of each window: ``divisor_override`` if given, else the number of positions the
    window covers (the padding counted with ``count_include_pad``), as PyTorch."""
    if divisor_override is not None:
        return AvgGeometry(g, divisor_override)
    (h, w), (oh, ow), (kh, kw), (sh, sw), (ph, pw) = g.in_hw, g.out_hw, g.kernel, g.stride, g.padding
    if ph == pw == 0 and all(v <= 0 for v in g.after):  # every window inside the input
        return AvgGeometry(g, kh * kw)
    rows = _window_counts(h, oh, kh, sh, ph, count_include_pad, xp)
    cols = _window_counts(w, ow, kw, sw, pw, count_include_pad, xp)
    counts = rows[:, None] * cols[None, :]
    return AvgGeometry(g, counts if dtype.kind != "f" else counts.astype(dtype))


def _avg_pool_arrays(a: Any, ag: AvgGeometry) -> Any:
    """Σ over each window / its divisor: the sum walks the window offsets (one strided view each).
    Integer inputs divide rounding toward zero, as PyTorch."""
    xp = array_module(a)
    g = ag.windows
    win = _windows(a, g, 0)
    total = win[:, :, :, :, 0, 0].copy()
    for k in range(1, g.kernel[0] * g.kernel[1]):
        total += win[:, :, :, :, k // g.kernel[1], k % g.kernel[1]]
    if a.dtype.kind != "f":
        quotient = xp.abs(total) // xp.abs(xp.asarray(ag.divisor, dtype=a.dtype))
        return (xp.sign(total) * xp.sign(xp.asarray(ag.divisor, dtype=a.dtype)) * quotient).astype(a.dtype)
    total /= ag.divisor
    return total


def _avg_pool_transpose_arrays(ga: Any, ag: AvgGeometry) -> Any:
    """The transpose of average pooling: each output's gradient / its divisor, added to every
    input position of its window."""
    xp = array_module(ga)
    share = ga / ag.divisor

    def write(k: int, dest: Any, accumulate: bool) -> None:
        if accumulate:
            dest += share
        else:
            dest[...] = share
    return _scatter_windows(write, ga.shape, ag.windows, ga.dtype, xp)


class AvgPool2dFunction(Function):
    """y = Σ window / divisor, as one node.  Linear in x: dx spreads each output's gradient /
    divisor over its window (on arrays, or recorded as :class:`AvgPool2dTranspose`, whose
    backward is this node's forward again).  Keeps nothing but the geometry."""

    def forward(self, x: Tensor, ag: AvgGeometry) -> Any:
        self.geometry = ag
        return _avg_pool_arrays(x._data, ag)

    def backward(self, grad: Tensor) -> tuple:
        if not GradMode.enabled:
            return make_tensor(_avg_pool_transpose_arrays(grad._data, self.geometry), False, None), None
        return AvgPool2dTranspose.apply(grad, self.geometry), None


class AvgPool2dTranspose(Function):
    """The backward of :class:`AvgPool2dFunction` as a node: dx = each output's gradient /
    divisor spread over its window.  Linear; its backward is average pooling."""

    def forward(self, grad: Tensor, ag: AvgGeometry) -> Any:
        self.geometry = ag
        return _avg_pool_transpose_arrays(grad._data, ag)

    def backward(self, gg: Tensor) -> tuple:
        return AvgPool2dFunction.apply(gg, self.geometry), None


def _avg_pool(op: str, input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: Any) -> Tensor:
    x, unbatched = _batched(input, op, nd)
    if x.dtype.kind != "f" and x.dtype != "int64":
        raise TypeError(f"{op}: expected a floating-point or int64 input, got {x.dtype}")
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    g = _geometry(op, tuple(x.shape[2:]), kernel_size, stride, padding, 1, ceil_mode, nd)
    ag = _avg_geometry(g, count_include_pad, divisor_override, array_module(x._data), x.dtype)
    return _restore(AvgPool2dFunction.apply(x, ag), input, unbatched, nd)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each (kh, kw) window of the last two dims: y = Σ window / divisor.

    Shapes as :func:`max_pool2d`.  Padding is zero.  The divisor is ``divisor_override`` if given,
    else the window's size counting the padding it covers (``count_include_pad=True``; a window
    that ceil_mode lets run past the right padding does not count that part) or only the input
    positions it covers (``count_include_pad=False``).  Integer inputs round toward zero."""
    return _avg_pool("avg_pool2d", input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of the last dim: (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out).
    As :func:`avg_pool2d` with one spatial dim."""
    return _avg_pool("avg_pool1d", input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


# -- adaptive pooling --------------------------------------------------------------------------

def _adaptive_bounds(n: int, out: int) -> list:
    """PyTorch's adaptive windows along one dim: window i covers [⌊i·n/out⌋, ⌈(i+1)·n/out⌉)."""
    return [(i * n // out, -((-(i + 1) * n) // out)) for i in range(out)]


def _output_size(output_size: Any, in_size: tuple, nd: int, op: str) -> tuple:
    """``output_size`` (an int, or a tuple whose None entries keep the input's size) as a tuple."""
    items = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(items) != nd or not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
                                   for v in items):
        raise ValueError(f"{op}: output_size must be a non-negative int or a tuple of {nd} such ints "
                         f"(or None), got {output_size!r}")
    return tuple(n if v is None else v for v, n in zip(items, in_size[-nd:]))


def _averaging_matrix(n: int, out: int, xp: Any, dtype: Any) -> Any:
    """P (out, n) with P[i, j] = 1 / |window i| for j in adaptive window i, else 0: P v averages
    each window of v."""
    p = xp.zeros((out, n), dtype=dtype)
    for i, (lo, hi) in enumerate(_adaptive_bounds(n, out)):
        p[i, lo:hi] = 1.0 / (hi - lo)
    return p


class BilinearMap(Function):
    """y = A x Bᵀ over the last two dims of x, for constant matrices A (h, H) and B (w, W): an
    adaptive average pooling with averaging matrices.  Linear: dx = Aᵀ dy B, which is the same
    map with (Aᵀ, Bᵀ), so the recorded backward is this node again."""

    def forward(self, x: Tensor, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a @ (x._data @ b.T)

    def backward(self, grad: Tensor) -> tuple:
        if not GradMode.enabled:
            return make_tensor(self.a.T @ (grad._data @ self.b), False, None), None, None
        return BilinearMap.apply(grad, self.a.T, self.b.T), None, None


def _check_float(input: Tensor, op: str) -> None:
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")


def _adaptive_avg_pool(op: str, input: Tensor, output_size: Any, nd: int) -> Tensor:
    x, unbatched = _batched(input, op, nd)
    _check_float(input, op)
    (h, w) = x.shape[2:]
    oh, ow = ((1,) if nd == 1 else ()) + _output_size(output_size, (h, w), nd, op)
    if oh and ow and h % oh == 0 and w % ow == 0:  # equal windows tiling the input: a plain average pooling
        g = _geometry(op, (h, w), (h // oh, w // ow), None, 0, 1, False, 2)
        out = AvgPool2dFunction.apply(x, AvgGeometry(g, (h // oh) * (w // ow)))
    else:
        xp = array_module(x._data)
        out = BilinearMap.apply(x, _averaging_matrix(h, oh, xp, x.dtype), _averaging_matrix(w, ow, xp, x.dtype))
    return _restore(out, input, unbatched, nd)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a given output size (H_out, W_out): output (i, j) is the mean of rows
    [⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉) and columns likewise (windows may overlap or differ by one).

    ``output_size``: an int (square) or a pair, where None keeps the input's size.  Shapes:
    (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).  Written as
    y = P_h x P_wᵀ with averaging matrices; when the sizes divide, a plain average pooling."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of the last dim to ``output_size`` windows: (N, C, L) or (C, L) ->
    (N, C, L_out) or (C, L_out).  As :func:`adaptive_avg_pool2d` with one spatial dim."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", input, output_size, 1)


def _adaptive_max_arrays(a: Any, out_hw: tuple) -> tuple:
    """The maximum of each adaptive window and its index in the flattened (H·W) plane.

    Windows of unequal length are read through index arrays padded by repeating their last
    element (a repeat never beats the first occurrence); the walk over window positions is the
    one of :func:`_max_pool_arrays` (first maximum, NaN wins)."""
    xp = array_module(a)
    h, w = a.shape[2:]

    def positions(n: int, out: int) -> Any:
        bounds = _adaptive_bounds(n, out)
        longest = max((hi - lo for lo, hi in bounds), default=1)
        table = [[min(lo + k, hi - 1) for k in range(longest)] for lo, hi in bounds]
        return xp.asarray(table, dtype=xp.int64).reshape(out, longest)

    rows, cols = positions(h, out_hw[0]), positions(w, out_hw[1])
    out_shape = a.shape[:2] + tuple(out_hw)
    best = xp.full(out_shape, _lowest(a.dtype, xp), dtype=a.dtype)
    index = xp.empty(out_shape, dtype=xp.int64)
    index[...] = rows[:, :1] * w + cols[:, 0][None, :]
    for i in range(rows.shape[1]):
        band = a[:, :, rows[:, i], :]  # (N, C, H_out, W)
        for j in range(cols.shape[1]):
            v = band[:, :, :, cols[:, j]]
            take = (v > best) | xp.isnan(v)
            xp.copyto(best, v, where=take)
            xp.copyto(index, rows[:, i][:, None] * w + cols[:, j][None, :], where=take)
    return best, index


class AdaptiveMaxPool2dFunction(Function):
    """y = the maximum of each adaptive window, as one node (``forward`` receives the values and
    indices already computed).  dx: each output's gradient added at its window's first maximum
    (on arrays, or recorded as :class:`PlaneScatter`)."""

    def forward(self, x: Tensor, out: Any, index: Any) -> Any:
        self.input_shape = tuple(x.shape)
        if self.needs_input_grad[0]:
            self.save_for_backward(constant(index))
        return out

    def backward(self, grad: Tensor) -> tuple:
        (index,) = self.saved_tensors
        if not GradMode.enabled:
            return make_tensor(_plane_scatter(grad._data, index._data, self.input_shape), False, None), None, None
        return PlaneScatter.apply(grad, index, self.input_shape), None, None


def _adaptive_max_pool(op: str, input: Tensor, output_size: Any, return_indices: bool, nd: int) -> Any:
    x, unbatched = _batched(input, op, nd)
    _check_float(input, op)
    out_hw = ((1,) if nd == 1 else ()) + _output_size(output_size, tuple(x.shape[2:]), nd, op)
    values, index = _adaptive_max_arrays(x._data, out_hw)
    out = _restore(AdaptiveMaxPool2dFunction.apply(x, values, index), input, unbatched, nd)
    if not return_indices:
        return out
    return out, _restore(make_tensor(index, False, None), input, unbatched, nd)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a given output size, over the windows of :func:`adaptive_avg_pool2d`.
    ``return_indices=True`` also returns each taken element's index in its flattened (H·W)
    plane.  The gradient goes to the first maximum of each window (NaN wins, as PyTorch)."""
    return _adaptive_max_pool("adaptive_max_pool2d", input, output_size, return_indices, 2)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of the last dim to ``output_size`` windows: (N, C, L) or (C, L) -> (N, C, L_out)
    or (C, L_out).  As :func:`adaptive_max_pool2d` with one spatial dim."""
    return _adaptive_max_pool("adaptive_max_pool1d", input, output_size, return_indices, 1)


# -- the plain forms -----------------------------------------------------------------------------

def _window_tensor(x: Tensor, g: Geometry, fill: float) -> Tensor:
    """The windows of a (N, C, H, W) tensor from recorded ops: pad with ``fill`` (as far as the
    windows reach), cut them out with ``F.unfold`` and split the channel-major rows:
    (N, C, kh·kw, H_out, W_out), window order row-major."""
    (ph, pw), (ah, aw), (kh, kw) = g.padding, g.after, g.kernel
    padded = constant_pad(x, (pw, aw, ph, ah), fill)
    columns = unfold(padded, g.kernel, g.dilation, 0, g.stride)
    return reshape(columns, (x.shape[0], x.shape[1], kh * kw) + g.out_hw)


def max_pool2d_reference(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                         ceil_mode: bool = False) -> Tensor:
    """:func:`max_pool2d` from recorded ops: pad with -inf, cut the windows, take the max over
    each: y = max_k window_k.  Its gradient, from ``max(dim)``'s backward, goes to the index
    that max returns (the first maximum)."""
    x, unbatched = _batched(input, "max_pool2d", 2)
    g = _geometry("max_pool2d", tuple(x.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode, 2)
    return _restore(_window_tensor(x, g, -math.inf).max(dim=2).values, input, unbatched, 2)


def max_pool1d_reference(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                         ceil_mode: bool = False) -> Tensor:
    """:func:`max_pool1d` from recorded ops (as :func:`max_pool2d_reference`)."""
    x, unbatched = _batched(input, "max_pool1d", 1)
    g = _geometry("max_pool1d", tuple(x.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode, 1)
    return _restore(_window_tensor(x, g, -math.inf).max(dim=2).values, input, unbatched, 1)


def _avg_reference(op: str, input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
                   count_include_pad: bool, divisor_override: Any) -> Tensor:
    x, unbatched = _batched(input, op, nd)
    g = _geometry(op, tuple(x.shape[2:]), kernel_size, stride, padding, 1, ceil_mode, nd)
    ag = _avg_geometry(g, count_include_pad, divisor_override, array_module(x._data), x.dtype)
    total = _window_tensor(x, g, 0.0).sum(dim=2)
    divisor = ag.divisor if isinstance(ag.divisor, (int, float)) else constant(ag.divisor)
    return _restore(total / divisor, input, unbatched, nd)


def avg_pool2d_reference(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                         ceil_mode: bool = False, count_include_pad: bool = True,
                         divisor_override: int | None = None) -> Tensor:
    """:func:`avg_pool2d` from recorded ops: pad with zeros, cut the windows, y = Σ window /
    divisor (the divisor a constant per output position)."""
    return _avg_reference("avg_pool2d", input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override)


def avg_pool1d_reference(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                         ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """:func:`avg_pool1d` from recorded ops (as :func:`avg_pool2d_reference`)."""
    return _avg_reference("avg_pool1d", input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def adaptive_avg_pool2d_reference(input: Tensor, output_size: Any) -> Tensor:
    """:func:`adaptive_avg_pool2d` from recorded ops: y = P_h x P_wᵀ, two products with constant
    averaging matrices (P[i, j] = 1/|window i| on window i)."""
    x, unbatched = _batched(input, "adaptive_avg_pool2d", 2)
    h, w = x.shape[2:]
    oh, ow = _output_size(output_size, (h, w), 2, "adaptive_avg_pool2d")
    xp = array_module(x._data)
    p_h = constant(_averaging_matrix(h, oh, xp, x.dtype))
    p_w = constant(_averaging_matrix(w, ow, xp, x.dtype))
    return _restore(matmul(matmul(p_h, x), transpose(p_w, 0, 1)), input, unbatched, 2)


def adaptive_max_pool2d_reference(input: Tensor, output_size: Any) -> Tensor:
    """:func:`adaptive_max_pool2d` from recorded ops: each window sliced out, flattened, and
    its max taken (``max(dim)``: the gradient goes to the first maximum)."""
    x, unbatched = _batched(input, "adaptive_max_pool2d", 2)
    n, c, h, w = x.shape
    oh, ow = _output_size(output_size, (h, w), 2, "adaptive_max_pool2d")
    if oh == 0 or ow == 0:
        return _restore(reshape(x[:, :, :0, :0], (n, c, oh, ow)), input, unbatched, 2)
    rows = []
    for r0, r1 in _adaptive_bounds(h, oh):
        cells = [reshape(x[:, :, r0:r1, c0:c1], (n, c, (r1 - r0) * (c1 - c0))).max(dim=-1).values
                 for c0, c1 in _adaptive_bounds(w, ow)]
        rows.append(stack(cells, dim=-1))
    return _restore(stack(rows, dim=2), input, unbatched, 2)
