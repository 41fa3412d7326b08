"""Convolution: ``unfold`` / ``fold`` (im2col / col2im), ``conv2d``, ``conv1d``, ``conv_transpose2d``
and ``conv_transpose1d``.

A 2-D convolution is a matrix product over sliding windows.  ``unfold`` cuts every kh x kw window
of every channel out of the (zero-padded) input and lays it out as one column,

    cols[n, (c, i, j), l] = x_pad[n, c, y_l·s_h + i·d_h, x_l·s_w + j·d_w]      (l = (y_l, x_l)),

so an (N, C, H, W) input gives columns of shape (N, C·kh·kw, L), L = H_out·W_out.  Then

    out[n, o, l] = Σ_(c,i,j) W[o, (c, i, j)] · cols[n, (c, i, j), l] + b[o]

is one matrix product per sample: ``W.reshape(O, C·kh·kw) @ cols``.  ``fold`` is unfold's adjoint:
it adds every column back onto the window it came from (overlapping windows add up).  So the
gradients are, with G = dL/dout reshaped to (N, O, L):

    dW = Σ_n G_n · cols_nᵀ,      d cols = Wᵀ · G_n,      dx = fold(d cols),      db = Σ_(n, l) G.

``conv2d_reference`` is exactly this: unfold, a matrix product, a reshape, an addition, each a
recorded op, so its derivatives of every order come from theirs.  ``conv2d`` computes the same map
as one tape node, ``Conv2dFunction``: it keeps the input (not the columns, k² times larger) and
rebuilds the columns in the backward; its first-order backward works on the arrays, and under
``create_graph=True`` it is the formulas above written with recorded ops.  The tests check the two
forms equal (values, gradients, second derivatives).

With groups g, the channels split into g independent convolutions: input channels [k·C/g,
(k+1)·C/g) feed output channels [k·O/g, (k+1)·O/g); W has shape (O, C/g, kh, kw).
"""
from __future__ import annotations

import math
from typing import Any

from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...devices import array_module, scratch
from ...errors import ShapeError
from ...ops.matmul import matmul
from ...ops.reduction import sum as _sum
from ...ops.shape import reshape, squeeze, transpose, unsqueeze
from ...tensor import Tensor, make_tensor
from ._common import dtype_device_mismatch
from .padding import pad as _pad


# -- geometry ----------------------------------------------------------------------------------

def _pair(value: Any, name: str, op: str, minimum: int = 0) -> tuple:
    """``value`` as a pair of ints (an int is used for both dims)."""
    if isinstance(value, (list, tuple)):
        pair = tuple(value)
        if len(pair) == 1:
            pair = pair * 2
    else:
        pair = (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return pair


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one dim: ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class _Windows:
    """The geometry of a 2-D sliding window: kernel, dilation, padding and stride, each (h, w)."""
    __slots__ = ("kernel", "dilation", "padding", "stride")

    def __init__(self, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple) -> None:
        self.kernel, self.dilation, self.padding, self.stride = kernel, dilation, padding, stride

    def output_size(self, height: int, width: int) -> tuple:
        return tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                     zip((height, width), self.kernel, self.stride, self.padding, self.dilation))

    def check_fits(self, height: int, width: int, op: str) -> None:
        """One line when a (dilated) kernel is larger than the padded input."""
        for dim, n, k, p, d in zip(("height", "width"), (height, width), self.kernel, self.padding, self.dilation):
            if d * (k - 1) + 1 > n + 2 * p:
                raise ShapeError(f"{op}: the kernel ({self.kernel[0]}x{self.kernel[1]}, dilation "
                                 f"{self.dilation[0]}x{self.dilation[1]}) is larger than the padded input "
                                 f"({height}x{width} padded by {self.padding[0]}x{self.padding[1]}): its {dim} "
                                 f"spans {d * (k - 1) + 1} > {n + 2 * p}")


def _windows(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> _Windows:
    return _Windows(_pair(kernel_size, "kernel_size", op, 1), _pair(dilation, "dilation", op, 1),
                    _pair(padding, "padding", op), _pair(stride, "stride", op, 1))


# -- im2col and col2im on arrays ---------------------------------------------------------------

def pad_array(a: Any, padding: tuple, value: float = 0.0) -> Any:
    """``a`` (…, H, W) with ``padding`` = (ph, pw) rows/columns of ``value`` added on each side."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return a
    xp = array_module(a)
    out = xp.full(a.shape[:-2] + (a.shape[-2] + 2 * ph, a.shape[-1] + 2 * pw), value, dtype=a.dtype)
    out[..., ph:ph + a.shape[-2], pw:pw + a.shape[-1]] = a
    return out


def window_view(a: Any, win: _Windows) -> Any:
    """A read-only strided view of every window of ``a`` (N, C, H, W), already padded: shape
    (N, C, kh, kw, H_out, W_out), element [n, c, i, j, y, x] = a[n, c, y·s_h + i·d_h, x·s_w + j·d_w]."""
    xp = array_module(a)
    n, c, h, w = a.shape
    (kh, kw), (dh, dw), (sh, sw) = win.kernel, win.dilation, win.stride
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = a.strides
    return xp.lib.stride_tricks.as_strided(a, (n, c, kh, kw, ho, wo), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw))


def im2col_array(a: Any, win: _Windows) -> Any:
    """``unfold`` on an array: (N, C, H, W) -> columns (N, C·kh·kw, L), one column per window."""
    view = window_view(pad_array(a, win.padding), win)
    n, c, kh, kw, ho, wo = view.shape
    return array_module(a).ascontiguousarray(view).reshape(n, c * kh * kw, ho * wo)


def col2im_array(cols: Any, size: tuple, win: _Windows) -> Any:
    """``fold`` on an array: columns (N, C·kh·kw, L) -> (N, C, H, W), each column added onto its
    window (one strided addition per kernel offset (i, j); the padding is cut off at the end)."""
    xp = array_module(cols)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = win.kernel, win.dilation, win.padding, win.stride
    h, w = size
    ho, wo = win.output_size(h, w)
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    out = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += blocks[:, :, i, j]
    return out if ph == 0 and pw == 0 else xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])


# -- unfold and fold ---------------------------------------------------------------------------

class Unfold(Function):
    """im2col: x (N, C, H, W) -> cols (N, C·kh·kw, L).  Linear in x; its backward is ``fold``."""

    def forward(self, x: Tensor, win: _Windows) -> Any:
        self.win, self.size = win, x.shape[-2:]
        return im2col_array(x._data, win)

    def backward(self, g: Tensor) -> Tensor:
        return Fold.apply(g, self.size, self.win)


class Fold(Function):
    """col2im: cols (N, C·kh·kw, L) -> (N, C, H, W), overlaps summed.  Linear; its backward is ``unfold``."""

    def forward(self, cols: Tensor, size: tuple, win: _Windows) -> Any:
        self.win = win
        return col2im_array(cols._data, size, win)

    def backward(self, g: Tensor) -> Tensor:
        return Unfold.apply(g, self.win)


def _float_tensor(x: Any, name: str, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {x.dtype}")


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C·kh·kw, L), or (C, H, W) -> (C·kh·kw, L).

    Column l holds the window whose top-left corner is (y_l·s_h − p_h, x_l·s_w − p_w) in the
    input, channel-major: row (c, i, j) is element (i·d_h, j·d_w) of channel c's window.  L =
    H_out·W_out with H_out = ⌊(H + 2p_h − d_h(k_h − 1) − 1)/s_h⌋ + 1 (W_out likewise)."""
    op = "unfold"
    _float_tensor(input, "input", op)
    win = _windows(op, kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    win.check_fits(input.shape[-2], input.shape[-1], op)
    if input.ndim == 3:
        return squeeze(Unfold.apply(unsqueeze(input, 0), win), 0)
    return Unfold.apply(input, win)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Combine sliding local blocks into an image (col2im), the adjoint of :func:`unfold`:
    (N, C·kh·kw, L) -> (N, C, H, W) with (H, W) = ``output_size``; values that land on the same
    pixel are added.  L must equal the number of windows of an (H, W) image."""
    op = "fold"
    _float_tensor(input, "input", op)
    win = _windows(op, kernel_size, dilation, padding, stride)
    size = _pair(output_size, "output_size", op)
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-D (C·kh·kw, L) or 3-D (N, C·kh·kw, L) input, got shape "
                         f"{tuple(input.shape)}")
    win.check_fits(size[0], size[1], op)
    k = win.kernel[0] * win.kernel[1]
    ho, wo = win.output_size(*size)
    rows, blocks = input.shape[-2], input.shape[-1]
    if rows % k or blocks != ho * wo:
        raise ShapeError(f"{op}: input of shape {tuple(input.shape)} does not fit output_size {size} with kernel "
                         f"{win.kernel}: expected (N, C·{k}, {ho * wo}) (C·kh·kw rows, {ho}x{wo} blocks)")
    if input.ndim == 2:
        return squeeze(Fold.apply(unsqueeze(input, 0), size, win), 0)
    return Fold.apply(input, size, win)


# -- conv2d ------------------------------------------------------------------------------------

class _ConvArgs:
    """A checked conv2d call: the window geometry, groups, and the input's batch flag."""
    __slots__ = ("win", "groups", "unbatched", "explicit_pad")

    def __init__(self, win: _Windows, groups: int, unbatched: bool, explicit_pad: tuple | None) -> None:
        self.win, self.groups, self.unbatched, self.explicit_pad = win, groups, unbatched, explicit_pad


def _same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """(top, bottom, left, right) that keep the size at stride 1: d·(k − 1) in all, the odd one at the end."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)


def _check_operands(op: str, input: Any, weight: Any, bias: Any, transposed: bool) -> None:
    """Tensors of one floating dtype and device, a 3-D or 4-D input and a 4-D weight."""
    _float_tensor(input, "input", op)
    _float_tensor(weight, "weight", op)
    if bias is not None:
        _float_tensor(bias, "bias", op)
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if weight.ndim != 4:
        layout = "in_channels, out_channels/groups" if transposed else "out_channels, in_channels/groups"
        raise ShapeError(f"{op}: expected a 4-D weight ({layout}, kh, kw), got shape {tuple(weight.shape)}")
    mismatch = dtype_device_mismatch(op, input, weight, bias)
    if mismatch is not None:
        raise mismatch


def _check_channels(op: str, input: Tensor, weight: Tensor, bias: Any, groups: Any, transposed: bool) -> None:
    """groups a positive int dividing the channels; the input's channels and the bias fit the weight."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    in_channels = input.shape[-3]
    if transposed:
        out_channels = weight.shape[1] * groups
        if weight.shape[0] % groups:
            raise ValueError(f"{op}: groups={groups} must divide in_channels={weight.shape[0]} (weight of shape "
                             f"{tuple(weight.shape)})")
        if in_channels != weight.shape[0]:
            raise ShapeError(f"{op}: expected input with {weight.shape[0]} channels (weight of shape "
                             f"{tuple(weight.shape)}), got {in_channels} channels (input of shape {tuple(input.shape)})")
    else:
        out_channels, per_group = weight.shape[0], weight.shape[1]
        if out_channels % groups:
            raise ValueError(f"{op}: groups={groups} must divide out_channels={out_channels} (weight of shape "
                             f"{tuple(weight.shape)})")
        if in_channels != per_group * groups:
            raise ShapeError(f"{op}: expected input with {per_group * groups} channels (weight of shape "
                             f"{tuple(weight.shape)}, groups={groups}), got {in_channels} channels (input of shape "
                             f"{tuple(input.shape)})")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {tuple(bias.shape)}")


def _resolve_padding(op: str, padding: Any, kernel: tuple, stride: tuple, dilation: tuple, transposed: bool,
                     stride_arg: Any) -> tuple:
    """(padding pair, explicit (left, right, top, bottom) pad or None): "valid" is 0; "same" is
    d·(k − 1) in all, split evenly, the odd row/column at the end as an explicit pad."""
    if not isinstance(padding, str):
        return _pair(padding, "padding", op), None
    if transposed or padding not in ("same", "valid"):
        allowed = "an int or a pair" if transposed else "'same', 'valid', an int or a pair"
        raise ValueError(f"{op}: padding must be {allowed}, got {padding!r}")
    if padding == "valid":
        return (0, 0), None
    if stride != (1, 1):
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride_arg!r}")
    top, bottom, left, right = _same_padding(kernel, dilation)
    if (top, left) == (bottom, right):
        return (top, left), None
    return (0, 0), (left, right, top, bottom)  # an even kernel


def _check_conv(op: str, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
                groups: Any, transposed: bool = False) -> _ConvArgs:
    """Every check of a conv2d / conv_transpose2d call, each failing in one line."""
    _check_operands(op, input, weight, bias, transposed)
    _check_channels(op, input, weight, bias, groups, transposed)
    kernel = tuple(weight.shape[-2:])
    if kernel[0] < 1 or kernel[1] < 1:
        raise ShapeError(f"{op}: the weight's kernel must be at least 1x1, got weight of shape {tuple(weight.shape)}")
    pairs = _pair(stride, "stride", op, 1), _pair(dilation, "dilation", op, 1)
    padding, explicit = _resolve_padding(op, padding, kernel, *pairs, transposed, stride)
    stride, dilation = pairs
    win = _Windows(kernel, dilation, padding, stride)
    if not transposed:
        h, w = input.shape[-2:]
        if explicit is not None:
            h, w = h + explicit[2] + explicit[3], w + explicit[0] + explicit[1]
        win.check_fits(h, w, op)
    return _ConvArgs(win, groups, input.ndim == 3, explicit)


def conv2d_reference(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     dilation: Any = 1, groups: int = 1) -> Tensor:
    """conv2d from recorded ops: ``unfold``, a (grouped) matrix product, a reshape and a bias
    addition; the plain form of :func:`conv2d`.  Shapes: input (N, C, H, W), weight
    (O, C/g, kh, kw), bias (O,) -> (N, O, H_out, W_out)."""
    args = _check_conv("conv2d", input, weight, bias, stride, padding, dilation, groups)
    x = unsqueeze(input, 0) if args.unbatched else input
    if args.explicit_pad is not None:
        x = _pad(x, args.explicit_pad)
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    g, o = args.groups, weight.shape[0]
    ho, wo = args.win.output_size(h, w)
    cols = Unfold.apply(x, args.win)                                            # (N, C·kh·kw, L)
    cols = reshape(cols, (n, g, cols.shape[1] // g, ho * wo))                   # (N, g, C/g·kh·kw, L)
    kernel = reshape(weight, (g, o // g, weight.shape[1] * weight.shape[2] * weight.shape[3]))  # (g, O/g, C/g·kh·kw)
    out = reshape(matmul(kernel, cols), (n, o, ho, wo))                         # (N, g, O/g, L) -> (N, O, H_out, W_out)
    if bias is not None:
        out = out + reshape(bias, (1, o, 1, 1))
    return squeeze(out, 0) if args.unbatched else out


class Conv2dFunction(Function):
    """out = W ⊛ x + b for x (N, C, H, W), W (O, C/g, kh, kw), b (O,), as one node.

    Saves the input and the weight; the backward rebuilds the columns from the input:

        dW_k = Σ_n G_nk · cols_nkᵀ,   dx = fold(⊕_k W_kᵀ · G_nk),   db = Σ_(n, y, x) G

    for each group k (G: the incoming gradient as (N, g, O/g, L))."""

    def forward(self, x: Tensor, w: Tensor, b: Any, win: _Windows, groups: int) -> Any:
        self.win, self.groups = win, groups
        self.save_for_backward(x, w)
        if win.stride == (1, 1):
            out = conv2d_rows_forward(x._data, w._data, win, groups)
        else:
            out = conv2d_columns_forward(x._data, w._data, win, groups)
        if b is not None:
            out += b._data.reshape(1, -1, 1, 1)
        return out

    def backward(self, g: Tensor) -> tuple:
        if not GradMode.enabled:  # no graph of the backward wanted: the same formulas on arrays
            return _conv2d_backward_arrays(self, g)
        x, w = self.saved_tensors
        needs, groups = self.needs_input_grad, self.groups
        n, o, ho, wo = g.shape
        grad = reshape(g, (n, groups, o // groups, ho * wo))                    # (N, g, O/g, L)
        kernel = reshape(w, (groups, o // groups, -1))                          # (g, O/g, C/g·kh·kw)
        gx = gw = gb = None
        if needs[0]:
            dcols = matmul(transpose(kernel, 1, 2), grad)                       # (N, g, C/g·kh·kw, L)
            gx = Fold.apply(reshape(dcols, (n, math.prod(w.shape[1:]) * groups, ho * wo)), x.shape[-2:], self.win)
        if needs[1]:
            cols = reshape(Unfold.apply(x, self.win), (n, groups, math.prod(w.shape[1:]), ho * wo))
            gw = reshape(_sum(matmul(grad, transpose(cols, 2, 3)), 0), w.shape)
        if needs[2]:
            gb = _sum(g, (0, 2, 3))
        return gx, gw, gb


def _conv2d_backward_arrays(node: Conv2dFunction, g: Tensor) -> tuple:
    """Conv2dFunction's backward on the arrays (used when the backward is not recorded)."""
    (x, w), needs = node.saved_tensors, node.needs_input_grad
    backward = conv2d_rows_backward if node.win.stride == (1, 1) else conv2d_columns_backward
    gx, gw = backward(g._data, x._data, w._data, node.win, node.groups, needs[0], needs[1])
    gb = g._data.sum((0, 2, 3)) if needs[2] else None
    return tuple(None if a is None else make_tensor(a, False, None) for a in (gx, gw, gb))


# The two array-level forms of conv2d.  ``conv2d_columns_*`` is the im2col product as written
# above.  ``conv2d_rows_*`` computes the same for stride 1 with columns that are easier to copy
# and to add back: the column of kernel offset (i, j) is the run of whole padded rows it covers,
# read straight out of the flattened image (x_pad[n, c].ravel()[i·d_h·W_p + j·d_w : … + H_out·W_p]),
# one long contiguous copy instead of H_out short ones.  Each output row then comes out W_p wide,
# its last W_p − W_out entries wrapping into the next row; they are cut off after the product (and
# are zeros in the backward).  tests/nn/test_conv.py checks the two forms equal.

def conv2d_columns_forward(a: Any, wa: Any, win: _Windows, groups: int) -> Any:
    """out = W · im2col(x) per sample and group: (N, C, H, W), (O, C/g, kh, kw) -> (N, O, H_out, W_out)."""
    n, o = a.shape[0], wa.shape[0]
    ho, wo = win.output_size(a.shape[2], a.shape[3])
    cols = im2col_array(a, win)                                                 # (N, C·kh·kw, L)
    if groups == 1:
        out = wa.reshape(o, -1) @ cols                                          # (N, O, L)
    else:
        out = wa.reshape(groups, o // groups, -1) @ cols.reshape(n, groups, cols.shape[1] // groups, ho * wo)
    return out.reshape(n, o, ho, wo)


def conv2d_columns_backward(ga: Any, a: Any, wa: Any, win: _Windows, groups: int, need_x: bool,
                            need_w: bool) -> tuple:
    """(dx, dW) of :func:`conv2d_columns_forward` (None where not needed)."""
    n, o, ho, wo = ga.shape
    grad = ga.reshape(n, groups, o // groups, ho * wo)
    kernel = wa.reshape(groups, o // groups, -1)
    gx = gw = None
    if need_x:
        dcols = kernel.transpose(0, 2, 1) @ grad                                # (N, g, C/g·kh·kw, L)
        gx = col2im_array(dcols.reshape(n, wa[0].size * groups, ho * wo), a.shape[-2:], win)
    if need_w:
        cols = im2col_array(a, win).reshape(n, groups, wa[0].size, ho * wo)
        gw = (grad @ cols.transpose(0, 1, 3, 2)).sum(0).reshape(wa.shape)
    return gx, gw


def _row_columns(a: Any, win: _Windows) -> tuple:
    """The stride-1 columns of ``a`` (N, C, H, W) in the row layout: (N, C·kh·kw, H_out·W_p), and
    the padded sizes (H_p, W_p).  The image is padded with one more zero row at the bottom, where
    the last offsets' runs end.  (Both arrays are reused work buffers: see ``scratch``.)"""
    xp = array_module(a)
    n, c, h, w = a.shape
    (kh, kw), (dh, dw), (ph, pw) = win.kernel, win.dilation, win.padding
    hp, wp = h + 2 * ph, w + 2 * pw
    ho = hp - dh * (kh - 1)
    buf = scratch("conv2d padded input", (n, c, hp + 1, wp), a)
    buf.fill(0)
    buf[:, :, ph:ph + h, pw:pw + w] = a
    item = buf.itemsize
    runs = xp.lib.stride_tricks.as_strided(buf, (n, c, kh, kw, ho * wp),
                                           (buf.strides[0], buf.strides[1], dh * wp * item, dw * item, item))
    cols = scratch("conv2d columns", (n, c, kh, kw, ho * wp), a)
    xp.copyto(cols, runs)
    return cols.reshape(n, c * kh * kw, ho * wp), (hp, wp)


def conv2d_rows_forward(a: Any, wa: Any, win: _Windows, groups: int) -> Any:
    """conv2d at stride 1 in the row layout: W (g, O/g, C/g·kh·kw) @ cols (N, g, C/g·kh·kw, H_out·W_p),
    then the wrapped columns cut off: -> (N, O, H_out, W_out)."""
    xp = array_module(a)
    n, o = a.shape[0], wa.shape[0]
    cols, (hp, wp) = _row_columns(a, win)
    ho, wo = win.output_size(a.shape[2], a.shape[3])
    kernel = wa.reshape(groups, o // groups, wa[0].size)
    wide = xp.matmul(kernel, cols.reshape(n, groups, wa[0].size, ho * wp),
                     out=scratch("conv2d product", (n, groups, o // groups, ho * wp), a))
    return wide.reshape(n, o, ho, wp)[:, :, :, :wo].copy()  # (a copy: ``wide`` is a reused buffer)


def conv2d_rows_backward(ga: Any, a: Any, wa: Any, win: _Windows, groups: int, need_x: bool,
                         need_w: bool) -> tuple:
    """(dx, dW) of :func:`conv2d_rows_forward`: the gradient G widened to W_p columns with zeros,
    dW = Σ_n cols_n · G_nᵀ (transposed at the end), d cols = Wᵀ · G added back run by run."""
    xp = array_module(a)
    n, c, h, w = a.shape
    o, ho, wo = ga.shape[1], ga.shape[2], ga.shape[3]
    (kh, kw), (dh, dw), (ph, pw) = win.kernel, win.dilation, win.padding
    hp, wp = h + 2 * ph, w + 2 * pw
    per_group, rows = wa[0].size, ho * wp
    wide = scratch("conv2d wide gradient", (n, o, ho, wp), ga)
    wide[:, :, :, wo:] = 0
    wide[:, :, :, :wo] = ga
    grad = wide.reshape(n, groups, o // groups, rows)
    gx = gw = None
    if need_w:
        cols = _row_columns(a, win)[0].reshape(n, groups, per_group, rows)
        grad_t = scratch("conv2d gradient transposed", (n, groups, rows, o // groups), ga)
        xp.copyto(grad_t, grad.transpose(0, 1, 3, 2))
        per_sample = xp.matmul(cols, grad_t, out=scratch("conv2d product", (n, groups, per_group, o // groups), ga))
        gw = xp.ascontiguousarray(per_sample.sum(0).transpose(0, 2, 1)).reshape(wa.shape)
    if need_x:
        kernel_t = wa.reshape(groups, o // groups, per_group).transpose(0, 2, 1)
        dcols = xp.matmul(kernel_t, grad, out=scratch("conv2d columns", (n, groups, per_group, rows), ga))
        dcols = dcols.reshape(n, c, kh, kw, rows)
        canvas = scratch("conv2d canvas", (n, c, (hp + 1) * wp), ga)
        canvas.fill(0)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                canvas[:, :, start:start + rows] += dcols[:, :, i, j]
        gx = canvas.reshape(n, c, hp + 1, wp)[:, :, ph:ph + h, pw:pw + w].copy()
    return gx, gw


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning library):

        out[n, o, y, x] = b[o] + Σ_(c, i, j) W[o, c, i, j] · x_pad[n, g(o)·C/g + c, y·s_h + i·d_h, x·s_w + j·d_w]

    Shapes: input (N, C, H, W) or unbatched (C, H, W); weight (O, C/groups, kh, kw); bias (O,);
    output (N, O, H_out, W_out), H_out = ⌊(H + 2p_h − d_h(kh − 1) − 1)/s_h⌋ + 1.  ``padding``: an
    int, a pair, "valid" (0) or "same" (output size = input size; stride 1 only)."""
    args = _check_conv("conv2d", input, weight, bias, stride, padding, dilation, groups)
    x = unsqueeze(input, 0) if args.unbatched else input
    if args.explicit_pad is not None:
        x = _pad(x, args.explicit_pad)
    out = Conv2dFunction.apply(x, weight, bias, args.win, args.groups)
    return squeeze(out, 0) if args.unbatched else out


# -- conv_transpose2d --------------------------------------------------------------------------

def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed convolution, the adjoint (gradient) of conv2d with respect to its input: each
    input pixel scatters a weighted kernel onto the output, and overlaps add up.

        cols = Wᵀ · x_n   (per group),   out = fold(cols) + b

    Shapes: input (N, C, H, W) or (C, H, W); weight (C, O/groups, kh, kw); bias (O,); output
    (N, O, H_out, W_out), H_out = (H − 1)·s_h − 2p_h + d_h(kh − 1) + output_padding_h + 1.
    Written from recorded ops (a matrix product and ``fold``), so it is differentiable to any order."""
    op = "conv_transpose2d"
    args = _check_conv(op, input, weight, bias, stride, padding, dilation, groups, transposed=True)
    win, g = args.win, args.groups
    extra = _pair(output_padding, "output_padding", op)
    for e, s, d in zip(extra, win.stride, win.dilation):
        if e >= max(s, d):
            raise ValueError(f"{op}: output_padding must be smaller than stride or dilation, got output_padding "
                             f"{extra}, stride {win.stride}, dilation {win.dilation}")
    x = unsqueeze(input, 0) if args.unbatched else input
    n, c, h, w = x.shape
    out_size = tuple((m - 1) * s - 2 * p + d * (k - 1) + e + 1 for m, s, p, d, k, e in
                     zip((h, w), win.stride, win.padding, win.dilation, win.kernel, extra))
    if out_size[0] < 1 or out_size[1] < 1:
        raise ShapeError(f"{op}: input of shape {tuple(input.shape)} with padding {win.padding} gives an empty "
                         f"output of size {out_size}")
    o = weight.shape[1] * g
    kernel = reshape(weight, (g, c // g, -1))                                   # (g, C/g, O/g·kh·kw)
    cols = matmul(transpose(kernel, 1, 2), reshape(x, (n, g, c // g, h * w)))  # (N, g, O/g·kh·kw, H·W)
    # Every column added onto an unpadded canvas of (H − 1)·s + d·(k − 1) + 1 rows (and columns);
    # the output is that canvas less ``padding`` on each side, plus ``output_padding`` more at the end.
    canvas = tuple((m - 1) * s + d * (k - 1) + 1 for m, s, d, k in zip((h, w), win.stride, win.dilation, win.kernel))
    out = Fold.apply(reshape(cols, (n, o * win.kernel[0] * win.kernel[1], h * w)), canvas,
                     _Windows(win.kernel, win.dilation, (0, 0), win.stride))
    (ph, pw), (eh, ew) = win.padding, extra
    if ph or pw or eh or ew:
        out = _pad(out, (-pw, ew - pw, -ph, eh - ph))  # (negative widths crop)
    if bias is not None:
        out = out + reshape(bias, (1, o, 1, 1))
    return squeeze(out, 0) if args.unbatched else out


# -- one-dimensional forms ---------------------------------------------------------------------

def _single(value: Any, name: str, op: str) -> int:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return value


def _as_2d(op: str, input: Tensor, weight: Tensor) -> tuple:
    _float_tensor(input, "input", op)
    _float_tensor(weight, "weight", op)
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}")
    if weight.ndim != 3:
        raise ShapeError(f"{op}: expected a 3-D weight, got shape {tuple(weight.shape)}")
    return unsqueeze(input, -2), unsqueeze(weight, -2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution: conv2d over inputs of height 1.  Shapes: input (N, C, L) or (C, L), weight
    (O, C/groups, k), bias (O,) -> (N, O, L_out), L_out = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1."""
    op = "conv1d"
    x, w = _as_2d(op, input, weight)
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", op))
    out = conv2d(x, w, bias, (1, _single(stride, "stride", op)), padding, (1, _single(dilation, "dilation", op)),
                 groups)
    return squeeze(out, -2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution: conv_transpose2d over inputs of height 1.  Shapes: input
    (N, C, L) or (C, L), weight (C, O/groups, k) -> (N, O, (L − 1)·s − 2p + d(k − 1) + output_padding + 1)."""
    op = "conv_transpose1d"
    x, w = _as_2d(op, input, weight)
    out = conv_transpose2d(x, w, bias, (1, _single(stride, "stride", op)), (0, _single(padding, "padding", op)),
                           (0, _single(output_padding, "output_padding", op)), groups,
                           (1, _single(dilation, "dilation", op)))
    return squeeze(out, -2)

