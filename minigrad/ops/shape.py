"""Shape ops: reshape, permute, broadcast/sum_to, concatenate, pad, and the views built on them.

Each only moves elements around, so each backward moves the gradient back.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..devices import array_module
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .helpers import normalize_axes, parse_size


class Reshape(Function):
    """y = x viewed with another shape.  dx = dy reshaped back to x's shape."""

    is_view = True

    def forward(self, x: Tensor, shape: tuple) -> Any:
        self.in_shape = x._data.shape
        try:
            return x._data.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot view a tensor of shape {x.shape} ({x._data.size} elements) "
                             f"as shape {tuple(shape)}") from None

    def backward(self, g: Tensor) -> tuple:
        return reshape(g, self.in_shape), None


def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = parse_size(shape)
    if x._data.shape == shape:
        return x
    return Reshape.apply(x, shape)


class Permute(Function):
    """y = x with axes reordered by ``perm``.  dx = dy permuted by the inverse of ``perm``."""

    is_view = True

    def forward(self, x: Tensor, perm: tuple) -> Any:
        self.perm = perm
        return x._data.transpose(perm)

    def backward(self, g: Tensor) -> tuple:
        inverse = [0] * len(self.perm)
        for i, p in enumerate(self.perm):
            inverse[p] = i
        return permute(g, *inverse), None


def permute(x: Tensor, *dims: Any) -> Tensor:
    dims = parse_size(dims)
    if (len(dims) != x.ndim or any(not -x.ndim <= d < x.ndim for d in dims)
            or sorted(d % x.ndim for d in dims) != list(range(x.ndim))):
        raise ShapeError(f"permute: {dims} is not a permutation of the {x.ndim} dims of a tensor of shape {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dims (PyTorch's ``transpose``)."""
    d0, d1 = normalize_axes(dim0, x.ndim, "transpose")[0], normalize_axes(dim1, x.ndim, "transpose")[0]
    if x.ndim < 2:
        return x
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return permute(x, *perm)


def T(x: Tensor) -> Tensor:
    """All dims reversed (NumPy's ``.T``)."""
    return permute(x, *reversed(range(x.ndim)))


def mT(x: Tensor) -> Tensor:
    """The last two dims swapped (matrix transpose of each matrix in a batch)."""
    return transpose(x, -2, -1)


def broadcast_error(op: str, error: Exception | None, *arrays: Any) -> Exception | None:
    """The error to raise when ``op`` failed on ``arrays``: a clear one naming every shape if
    they do not broadcast together (NumPy rules), else ``error`` itself."""
    shapes = [tuple(getattr(a, "shape", ())) for a in arrays]
    ndim = max(len(s) for s in shapes)
    for dims in zip(*[(1,) * (ndim - len(s)) + s for s in shapes]):
        if len({d for d in dims if d != 1}) > 1:
            listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
            return ShapeError(f"{op}: shapes {listed} cannot be broadcast together")
    return error


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (NumPy rules).  dx = dy summed over the broadcast dims."""

    is_view = True

    def forward(self, x: Tensor, shape: tuple) -> Any:
        self.in_shape = x._data.shape
        try:
            return array_module(x._data).broadcast_to(x._data, shape)
        except ValueError:
            raise ShapeError(f"broadcast_to: shape {x.shape} cannot be broadcast to {tuple(shape)}") from None

    def backward(self, g: Tensor) -> tuple:
        return sum_to(g, self.in_shape), None


def broadcast_to(x: Tensor, *shape: Any) -> Tensor:
    shape = parse_size(shape)
    if x._data.shape == shape:
        return x
    return BroadcastTo.apply(x, shape)


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """PyTorch's ``expand``: broadcast, with -1 meaning "keep this size"."""
    sizes = parse_size(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {sizes} has fewer dims than the tensor's shape {x.shape}")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


class SumTo(Function):
    """y = x summed down to ``shape`` (undo a broadcast).  dx = dy broadcast back to x's shape."""

    def forward(self, x: Tensor, shape: tuple) -> Any:
        a = x._data
        self.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
        if axes:
            a = a.sum(axis=axes, keepdims=True)
        return a.reshape(shape) if lead else a

    def backward(self, g: Tensor) -> tuple:
        return broadcast_to(g, self.in_shape), None


def sum_to(x: Tensor, shape: tuple) -> Tensor:
    """Sum ``x`` down to ``shape``: the gradient of a broadcast."""
    if x._data.shape == shape:
        return x
    return SumTo.apply(x, shape)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dims (all of them, or those in ``dim``)."""
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = normalize_axes(dim, x.ndim, "squeeze") or ()
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at position ``dim`` (negative counts from the end of the result)."""
    nd = x.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a result with {nd} dims")
    dim %= nd
    shape = list(x.shape)
    shape.insert(dim, 1)
    return reshape(x, tuple(shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = normalize_axes(start_dim, x.ndim, "flatten")[0], normalize_axes(end_dim, x.ndim, "flatten")[0]
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def view(x: Tensor, *shape: Any) -> Tensor:
    return reshape(x, *shape)


class Concatenate(Function):
    """y = [x1, x2, ...] joined along ``axis``.  dx_i = the matching slice of dy."""

    def forward(self, *xs: Tensor, axis: int = 0) -> Any:
        arrays = [x._data for x in xs]
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return array_module(arrays[0]).concatenate(arrays, axis=axis)

    def backward(self, g: Tensor) -> tuple:
        from .indexing import getitem

        out, start = [], 0
        for n in self.sizes:
            index = (slice(None),) * self.axis + (slice(start, start + n),)
            out.append(getitem(g, index))
            start += n
        return tuple(out)


def _check_same(tensors: Sequence[Tensor], op: str) -> list:
    from .helpers import as_tensor

    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    if first is None:
        raise TypeError(f"{op}: expected tensors")
    tensors = [as_tensor(t, first) for t in tensors]
    devices = {str(t.device) for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: all tensors must be on one device, got {sorted(devices)}")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim (``concatenate`` is the same)."""
    tensors = _check_same(tensors, "cat")
    dim = dim if axis is None else axis
    nd = tensors[0].ndim
    if nd == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_axes(dim, nd, "cat")[0]
    for t in tensors:
        if t.ndim != nd or t.shape[:d] + t.shape[d + 1:] != tensors[0].shape[:d] + tensors[0].shape[d + 1:]:
            raise ShapeError(f"cat: shapes {[t.shape for t in tensors]} differ outside dim {dim}")
    if len(tensors) == 1:
        return tensors[0]
    return Concatenate.apply(*tensors, axis=d)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new dim."""
    tensors = _check_same(tensors, "stack")
    dim = dim if axis is None else axis
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    return cat([unsqueeze(t, dim) for t in tensors], dim % (tensors[0].ndim + 1))


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """PyTorch's ``split``: an int is the size of each piece (the last may be smaller);
    a list gives each piece's size."""
    from .indexing import getitem

    d = normalize_axes(dim, x.ndim, "split")[0]
    n = x.shape[d]
    if not isinstance(split_size_or_sections, (list, tuple)):  # an int (Python or NumPy)
        step = int(split_size_or_sections)
        if step <= 0:
            raise ShapeError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} do not add up to {n}, the size of dim {dim} of shape {x.shape}")
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * d + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small), as PyTorch;
    an empty dim gives ``chunks`` empty pieces."""
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_axes(dim, x.ndim, "chunk")[0]]
    if n == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


class Pad(Function):
    """Constant padding.  dx = the un-padded centre of dy."""

    def forward(self, x: Tensor, widths: tuple, value: float) -> Any:
        self.widths = widths
        if not widths:  # a 0-d tensor: nothing to pad (and xp.pad rejects empty widths)
            return x._data.copy()
        return array_module(x._data).pad(x._data, widths, mode="constant", constant_values=value)

    def backward(self, g: Tensor) -> tuple:
        from .indexing import getitem

        index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
        return getitem(g, index), None, None


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad`` (constant mode): ``pad`` = (left, right) of the last dim,
    then (top, bottom) of the one before, and so on."""
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: expected an even number of at most {2 * x.ndim} widths for shape {x.shape}, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative widths are not supported, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(x, tuple(widths), value)
