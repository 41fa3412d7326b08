"""Shape ops: reshape, permute, broadcast/sum_to, concatenate, pad, triangles, flips, rolls,
diagonals, repeats, windows and grids, and the views built on them.

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


# -- triangles, flips, rolls and diagonals ------------------------------------------------------

class TriangularPart(Function):
    """y = the lower (``upper=False``) or upper triangle of each matrix in x, the rest zero; the
    triangle is shifted by ``diagonal``.  dx = the same triangle of dy."""

    def forward(self, x: Tensor, diagonal: int, upper: bool) -> Any:
        self.diagonal, self.upper = diagonal, upper
        a = x._data
        xp = array_module(a)
        above = xp.arange(a.shape[-1])[None, :] - xp.arange(a.shape[-2])[:, None]  # j - i
        keep = above >= diagonal if upper else above <= diagonal
        return xp.where(keep, a, xp.zeros((), dtype=a.dtype))

    def backward(self, g: Tensor) -> tuple:
        return (triu if self.upper else tril)(g, self.diagonal), None, None


def _triangle(x: Tensor, diagonal: int, upper: bool) -> Tensor:
    name = "triu" if upper else "tril"
    if x.ndim < 2:
        raise ShapeError(f"{name}: expected a tensor with at least 2 dims, got shape {x.shape}")
    return TriangularPart.apply(x, int(diagonal), upper)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (the last two dims): y[..., i, j] = x[..., i, j] where
    j - i <= diagonal, else 0.  Same shape as x."""
    return _triangle(x, diagonal, False)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix (the last two dims): y[..., i, j] = x[..., i, j] where
    j - i >= diagonal, else 0.  Same shape as x."""
    return _triangle(x, diagonal, True)


def _dims_tuple(dims: Any, ndim: int, op: str) -> tuple:
    """``dims`` (an int or a sequence, negatives allowed) as non-negative ints, in the given order."""
    dims = (dims,) if isinstance(dims, int) or hasattr(dims, "__index__") else tuple(dims)
    out = tuple(normalize_axes(int(d), ndim, op)[0] for d in dims)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated dim in {dims}")
    return out


class Flip(Function):
    """y = x with the order of the elements reversed along ``dims``.  dx = dy flipped back."""

    def forward(self, x: Tensor, dims: tuple) -> Any:
        self.dims = dims
        return array_module(x._data).flip(x._data, axis=dims).copy()

    def backward(self, g: Tensor) -> tuple:
        return flip(g, self.dims), None


def flip(x: Tensor, dims: Any) -> Tensor:
    """Reverse the order of the elements along each dim in ``dims`` (an int or a sequence).  Same shape."""
    dims = _dims_tuple(dims, x.ndim, "flip")
    return Flip.apply(x, dims if x.ndim else ())


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (None: along the flattened tensor).
    dx = dy rolled back by -shifts."""

    def forward(self, x: Tensor, shifts: Any, dims: Any) -> Any:
        self.shifts, self.dims = shifts, dims
        return array_module(x._data).roll(x._data, shifts, axis=dims)

    def backward(self, g: Tensor) -> tuple:
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return Roll.apply(g, back, self.dims), None, None


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift the elements cyclically: y[(i + shift) mod n] = x[i] along each dim of ``dims``
    (``shifts`` and ``dims`` ints or tuples of one length); ``dims=None`` rolls the flattened
    tensor and restores the shape."""
    if dims is None:
        if not isinstance(shifts, int):
            shifts = tuple(int(s) for s in shifts)
            if len(shifts) != 1:
                raise ValueError(f"roll: with dims=None, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return Roll.apply(x, int(shifts), None)
    one_shift = isinstance(shifts, int) or hasattr(shifts, "__index__")
    shifts_t = (int(shifts),) if one_shift else tuple(int(s) for s in shifts)
    dims_t = (dims,) if isinstance(dims, int) or hasattr(dims, "__index__") else tuple(dims)
    if len(shifts_t) != len(dims_t):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    if x.ndim == 0:
        raise IndexError(f"roll: dims {dims} given for a 0-d tensor, which has no dims (use dims=None)")
    dims_t = tuple(normalize_axes(int(d), x.ndim, "roll")[0] for d in dims_t)
    return Roll.apply(x, shifts_t, dims_t)


def _matrix_dims(ndim: int, dim1: int, dim2: int, op: str) -> tuple:
    d1, d2 = normalize_axes(dim1, ndim, op)[0], normalize_axes(dim2, ndim, op)[0]
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 must be different dims, both are {d1}")
    return d1, d2


class Diagonal(Function):
    """y = the ``offset`` diagonal of the matrices spanned by dims ``dim1``, ``dim2`` of x, as a
    new last dim.  dx = dy placed back on that diagonal of zeros shaped like x."""

    def forward(self, x: Tensor, offset: int, dim1: int, dim2: int) -> Any:
        self.in_shape, self.offset, self.dims = x._data.shape, offset, (dim1, dim2)
        return array_module(x._data).diagonal(x._data, offset, dim1, dim2).copy()

    def backward(self, g: Tensor) -> tuple:
        return DiagonalScatter.apply(g, self.in_shape, self.offset, *self.dims), None, None, None


class DiagonalScatter(Function):
    """y = zeros of ``shape`` with x's last dim written on the ``offset`` diagonal of the
    matrices spanned by dims ``dim1``, ``dim2`` (x's other dims run over the other dims of y).
    The adjoint of :class:`Diagonal`: dx = that diagonal of dy."""

    def forward(self, x: Tensor, shape: tuple, offset: int, dim1: int, dim2: int) -> Any:
        self.offset, self.dims = offset, (dim1, dim2)
        a = x._data
        xp = array_module(a)
        out = xp.zeros(shape, dtype=a.dtype)
        matrices = xp.moveaxis(out, (dim1, dim2), (-2, -1))  # a view: writing it writes out
        k = xp.arange(a.shape[-1])
        matrices[..., k + max(-offset, 0), k + max(offset, 0)] = a
        return out

    def backward(self, g: Tensor) -> tuple:
        return diagonal(g, self.offset, *self.dims), None, None, None, None


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal y[..., k] = x[i, j] with j - i = ``offset`` of the matrices spanned by dims
    ``dim1`` (rows) and ``dim2`` (columns): those two dims are removed and the diagonal becomes
    the last dim (length 0 when the offset is off the matrix)."""
    d1, d2 = _matrix_dims(x.ndim, dim1, dim2, "diagonal")
    return Diagonal.apply(x, int(offset), d1, d2)


def _embedded_shape(x: Tensor, offset: int, d1: int, d2: int) -> tuple:
    """The shape of :func:`diag_embed`'s result: x's leading dims in order, with two dims of
    size len + |offset| inserted at ``d1`` and ``d2``."""
    n = x.shape[-1] + abs(offset)
    batch = iter(x.shape[:-1])
    return tuple(n if i in (d1, d2) else next(batch) for i in range(x.ndim + 1))


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with x's last dim (length m) on their ``offset`` diagonal and zeros elsewhere:
    the result has one more dim than x, and dims ``dim1``, ``dim2`` (counted in the result) of
    size m + |offset| span the matrices; x's other dims fill the remaining dims in order."""
    if x.ndim == 0:
        raise ShapeError("diag_embed: expected a tensor with at least 1 dim, got a 0-d tensor")
    d1, d2 = _matrix_dims(x.ndim + 1, dim1, dim2, "diag_embed")
    offset = int(offset)
    return DiagonalScatter.apply(x, _embedded_shape(x, offset, d1, d2), offset, d1, d2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D x (length m) gives the square matrix (m + |diagonal| on a side) with x on its
    ``diagonal``; a 2-D x gives its ``diagonal`` as a 1-D tensor."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return Diagonal.apply(x, int(diagonal), 0, 1)
    raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")


# -- repeats, windows and grids (composed from reshape, expand and indexing) -------------------

def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile x: ``sizes[i]`` copies along dim i (PyTorch's ``Tensor.repeat``; NumPy's ``tile``).
    ``sizes`` may have more entries than x has dims (x gains leading size-1 dims).  Result
    shape: sizes[i] * shape[i].  Composed as reshape → expand → reshape, so the gradient sums
    the copies."""
    sizes = parse_size(sizes)
    if not sizes or len(sizes) < x.ndim:
        raise ShapeError(f"repeat: {len(sizes)} repeat counts {sizes} for a tensor with {x.ndim} dims (shape "
                         f"{x.shape}); give at least one per dim")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeat counts must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    interleaved = tuple(v for r, s in zip(sizes, shape) for v in (1, s))
    tiled = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    out = broadcast_to(reshape(x, interleaved), tiled)
    return reshape(out, tuple(r * s for r, s in zip(sizes, shape)))


def repeat_interleave(x: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (each slice along ``dim``) ``repeats`` times in place:
    [a, b] with repeats 2 gives [a, a, b, b].  ``repeats`` is an int or a 1-D integer tensor
    with one count per slice (or one count for all); ``dim=None`` works on the flattened x.
    ``repeat_interleave(counts)`` alone gives [0]*counts[0] + [1]*counts[1] + ...."""
    from .helpers import constant

    if repeats is None:  # the one-argument form: x holds the counts
        counts = x
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise ValueError(f"repeat_interleave: counts must be a 1-D integer tensor, got {counts.dtype} "
                             f"of shape {counts.shape}")
        xp = array_module(counts._data)
        return constant(xp.repeat(xp.arange(counts.shape[0] if counts.ndim else 1, dtype=xp.int64),
                                  counts._data.reshape(-1).tolist()))
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        d = normalize_axes(dim, x.ndim, "repeat_interleave")[0]
        if x.ndim == 0:
            x = reshape(x, (1,))
    n = x.shape[d]
    xp = array_module(x._data)
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype.kind not in "iu":
            raise ValueError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, got "
                             f"{repeats.dtype} of shape {repeats.shape}")
        counts = repeats._data.reshape(-1)
        if counts.shape[0] == 1:
            counts = xp.full((n,), int(counts[0]), dtype=xp.int64)
        if counts.shape[0] != n:
            raise ShapeError(f"repeat_interleave: {counts.shape[0]} repeat counts for dim {d} of size {n}")
        if counts.size and int(counts.min()) < 0:
            raise ValueError("repeat_interleave: repeat counts must be non-negative")
    else:
        if int(repeats) < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        counts = xp.full((n,), int(repeats), dtype=xp.int64)
    index = xp.repeat(xp.arange(n, dtype=xp.int64), counts.tolist())  # CuPy's repeat takes host counts
    if output_size is not None and int(output_size) != index.shape[0]:
        raise ValueError(f"repeat_interleave: output_size {output_size} differs from the {index.shape[0]} "
                         "repeated elements")
    from .indexing import getitem

    return getitem(x, (slice(None),) * d + (constant(index),))


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into dims of ``sizes`` (their product is its size; one may be -1,
    inferred).  The inverse of :func:`flatten`."""
    d = normalize_axes(dim, x.ndim, "unflatten")[0]
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise ShapeError(f"unflatten: at most one size may be -1, got {sizes}")
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    n = x.shape[d]
    if -1 in sizes:
        if known == 0 or n % known:
            raise ShapeError(f"unflatten: sizes {sizes} do not divide dim {dim} of size {n}")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise ShapeError(f"unflatten: sizes {sizes} multiply to {known}, not to the size {n} of dim {dim}")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Sliding windows (PyTorch's ``Tensor.unfold``): windows of ``size`` elements along
    ``dimension``, starting every ``step``, as a new last dim.  That dim of length n becomes
    (n - size) // step + 1; the result has shape [..., windows, ..., size]."""
    from .helpers import constant
    from .indexing import getitem

    if x.ndim == 0:
        x = reshape(x, (1,))
        if size > 1:
            raise ShapeError(f"unfold: size {size} exceeds the size 1 of a 0-d tensor")
        return reshape(x, (1,)) if size == 1 else reshape(x, (1,))[:0]
    d = normalize_axes(dimension, x.ndim, "unfold")[0]
    n = x.shape[d]
    if size < 0 or size > n:
        raise ShapeError(f"unfold: size {size} must lie in [0, {n}] (dim {dimension} of shape {x.shape})")
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    xp = array_module(x._data)
    count = (n - size) // step + 1
    index = (xp.arange(count, dtype=xp.int64)[:, None] * step + xp.arange(size, dtype=xp.int64)[None, :])
    windows = getitem(x, (slice(None),) * d + (constant(index.reshape(-1)),))
    windows = reshape(windows, x.shape[:d] + (count, size) + x.shape[d + 1:])
    perm = list(range(windows.ndim))
    perm.append(perm.pop(d + 1))
    return permute(windows, *perm)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple:
    """Coordinate grids: for 1-D tensors of lengths n1, ..., nk, k tensors of shape
    (n1, ..., nk) where the i-th varies along dim i (``indexing="ij"``); ``"xy"`` swaps the
    first two dims (shape (n2, n1, ...)), as in plotting.  0-D tensors count as length 1."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = _check_same(tensors, "meshgrid")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {t.shape}")
    sizes = [t.shape[0] if t.ndim else 1 for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    out = []
    for i, t in enumerate(tensors):
        position = order.index(i)
        view_shape = tuple(sizes[i] if k == position else 1 for k in range(len(shape)))
        out.append(broadcast_to(reshape(t, view_shape), shape))
    return tuple(out)


# -- padding ------------------------------------------------------------------------------------

def _pad_widths(x: Tensor, pad: Sequence[int], op: str) -> list:
    """PyTorch's pad list (left, right of the last dim, then of the dim before...) as
    (before, after) per dim of x."""
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"{op}: expected an even number of at most {2 * x.ndim} widths for shape {x.shape}, "
                         f"got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return widths


class ConstantPad(Function):
    """y = x with ``value`` added around it (negative widths crop instead).
    dx = dy with the padding cropped off (and the cropped parts zero)."""

    def forward(self, x: Tensor, widths: tuple, value: Any) -> Any:
        self.widths = widths
        a = x._data
        xp = array_module(a)
        crop = tuple(slice(max(-lo, 0), a.shape[i] - max(-hi, 0)) for i, (lo, hi) in enumerate(widths))
        a = a[crop]
        grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if not widths:  # a 0-d tensor: nothing to pad (and xp.pad rejects empty widths)
            return a.copy()
        return xp.pad(a, grow, mode="constant", constant_values=value)

    def backward(self, g: Tensor) -> tuple:
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in self.widths), 0), None, None


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding (PyTorch's ``constant_pad_nd``, the constant mode of ``F.pad``):
    ``pad`` = (left, right) of the last dim, then (top, bottom) of the one before, and so on;
    negative widths crop.  Each padded dim grows by its two widths."""
    widths = _pad_widths(x, pad, "pad")
    for i, (lo, hi) in enumerate(widths):
        if x.shape[i] + lo + hi < 0:
            raise ShapeError(f"pad: widths {tuple(pad)} crop dim {i} of shape {x.shape} below size 0")
    return ConstantPad.apply(x, tuple(widths), value)


def pad_by_index(x: Tensor, pad: Sequence[int], mode: str) -> Tensor:
    """Padding that repeats x's own elements (``mode`` "reflect", "replicate" or "circular"):
    each padded dim of size n becomes positions -left .. n + right - 1, each read from x at
    the position the mode maps it to (reflect: mirrored about the edge elements; replicate:
    the nearest edge element; circular: modulo n).  Composed from indexing, so the gradient
    adds each output's gradient back where it was read."""
    from .helpers import constant
    from .indexing import getitem

    widths = _pad_widths(x, pad, "pad")
    xp = array_module(x._data)
    out = x
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = x.shape[d]
        if mode == "reflect" and (max(lo, hi) >= n):
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {n} of dim {d}")
        if mode == "circular" and (max(lo, hi) > n):
            raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the size {n} of dim {d}")
        if mode == "replicate" and n == 0:
            raise ValueError(f"pad: replicate padding needs a non-empty dim {d}, shape {x.shape}")
        if n + lo + hi < 0:
            raise ShapeError(f"pad: widths {tuple(pad)} crop dim {d} of shape {x.shape} below size 0")
        positions = xp.arange(-lo, n + hi, dtype=xp.int64)
        if mode == "reflect":
            period = 2 * (n - 1)
            positions = xp.abs(positions) if period == 0 else xp.mod(positions, period)
            positions = xp.where(positions >= n, period - positions, positions)
        elif mode == "replicate":
            positions = xp.clip(positions, 0, n - 1)
        else:
            positions = xp.mod(positions, n) if n else positions
        out = getitem(out, (slice(None),) * d + (constant(positions),))
    return out
