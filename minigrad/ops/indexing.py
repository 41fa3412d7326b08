"""Indexing ``t[...]`` (ints, slices, None, Ellipsis, integer arrays, bool masks) and its inverse.

Indices follow PyTorch's placement rule, which differs from NumPy's when ints and index
arrays are mixed; :func:`to_numpy_index` turns a PyTorch-style index into the NumPy index
that selects the same elements in the same layout, and every op here runs on that.

The gradient of ``y = x[idx]`` is a zero tensor of x's shape with dy *added* at
``idx`` (added, so repeated integer indices accumulate).
"""
from __future__ import annotations

import operator
from typing import Any

from ..devices import array_module, is_cuda_array
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .helpers import constant
from .shape import reshape, sum_to


def _is_advanced(index: tuple) -> bool:
    return any(not isinstance(i, (int, slice)) and i is not None and i is not Ellipsis for i in index)


def to_numpy_index(x: Tensor, index: Any) -> tuple:
    """The NumPy index that does what the PyTorch index ``x[index]`` does.

    Each part of the index becomes an int, a slice, None, Ellipsis or an array on x's device:
    a 0-d integer tensor (or array) is an int, as in PyTorch; a Python bool is a 0-d bool mask;
    lists and tensors are integer index arrays or bool masks.  Index arrays, lists and bool
    masks (0-d ones too) are the *advanced* indices.

    The two libraries place the advanced-index dimensions (the broadcast shape of the index
    arrays) by one rule, "where the advanced indices are if they are adjacent, else first",
    but they disagree on what an int is:

    * NumPy counts an int as an advanced index (a 0-d index array);
    * PyTorch applies ints first as basic indexing (each removes its dimension) and then
      places the advanced dimensions among the dimensions that are left.

    So they differ exactly when the index arrays are adjacent once the ints are gone, but
    a slice or None separates them from an int.  For ``a`` of shape (2, 3, 4)::

        a[0, :, [1, 2]]    NumPy:   0 and [1, 2] are separated by ':', so the (2,) broadcast
                                    dim goes first                         -> shape (2, 3)
                           PyTorch: a[0] has shape (3, 4); [:, [1, 2]] keeps
                                    the (2,) dim in place                  -> shape (3, 2)

    In that case the slices (and Nones) between the ints and the index arrays become index
    arrays too, ``arange(n)[slice]`` shaped to broadcast along a dimension of their own, which
    makes one adjacent block that NumPy keeps in place::

        a[0, arange(3)[:, None], [[1, 2]]]          -> shape (3, 2), the PyTorch result

    Every other index goes to NumPy as it is (the fast, common case), except that an Ellipsis
    among advanced indices is spelled out as slices.  The result is a tuple usable for reading
    (``a[idx]``), writing (``a[idx] = v``) and ``add.at``.

    Out-of-range values in an index array raise IndexError even where the result is empty
    (PyTorch checks nothing then, unless the indexed dim has size 0).
    """
    cls = index.__class__
    if cls is int or cls is slice:  # x[3], x[1:4]: nothing to convert
        return (index,)
    if cls is not tuple:
        index = (index,)
    out = []
    n_int = n_arr = n_ellipsis = 0
    xp = None
    for i in index:
        c = i.__class__
        if c is slice or i is None:
            out.append(i)
            continue
        if i is Ellipsis:
            n_ellipsis += 1
            out.append(i)
            continue
        if c is int:
            n_int += 1
            out.append(i)
            continue
        if xp is None:
            xp = array_module(x._data)
        i = _index_part(x, i, xp)
        if i.__class__ is int:
            n_int += 1
        else:
            n_arr += 1
        out.append(i)
    if n_arr and is_cuda_array(x._data):
        _check_on_device(x.shape, out)
    if n_arr and (n_int or n_ellipsis):
        return _place_like_pytorch(x.shape, out, xp)
    return tuple(out)


def _index_part(x: Tensor, i: Any, xp: Any) -> Any:
    """One index part that is not an int, slice, None or Ellipsis, as an int or an array."""
    if isinstance(i, Tensor):
        a = i._data
        kind = a.dtype.kind
        if kind not in "iub":
            raise IndexError(f"tensors used as indices must be integer or bool tensors, got dtype {i.dtype}")
        if is_cuda_array(a) and not is_cuda_array(x._data):
            raise IndexError(f"index tensor is on {i.device} but the indexed tensor is on {x.device}: "
                             "indices must be on the CPU or on the indexed tensor's device")
        if not is_cuda_array(a) and is_cuda_array(x._data):
            a = xp.asarray(a)  # a CPU index into a CUDA tensor is copied over, as in PyTorch
    elif isinstance(i, (bool, xp.bool_)):
        return xp.asarray(bool(i))  # a 0-d mask: a new dim of size 1 (True) or 0 (False)
    elif isinstance(i, (list, tuple)) or hasattr(i, "__array_interface__") or hasattr(i, "__cuda_array_interface__"):
        try:
            a = xp.asarray(i)
        except (ValueError, TypeError) as e:
            raise IndexError(f"an index list must be rectangular, of ints or bools: {e}") from None
        if a.size == 0 and a.dtype != bool:  # [] parses as float; an empty bool mask stays a mask
            a = a.astype("int64")
        kind = a.dtype.kind
        if kind not in "iub":
            raise IndexError(f"arrays used as indices must be integer or bool, got dtype {a.dtype}")
    elif hasattr(i, "__index__"):
        return operator.index(i)
    else:
        raise IndexError(f"unsupported index {i!r} of type {type(i).__name__}: use ints, slices, None, ..., "
                         "integer or bool tensors, or lists")
    if kind == "u" and a.dtype.itemsize == 1:
        raise IndexError("uint8 index: PyTorch reads a uint8 index as a (deprecated) mask and NumPy as positions; "
                         "use a bool tensor for a mask or an int64 tensor for positions")
    if a.ndim == 0 and kind != "b":
        return int(a)  # a 0-d integer index selects, as an int does
    return a


def _dims_used(i: Any) -> int:
    """How many dims of the indexed tensor an index part consumes."""
    if i is None or i is Ellipsis:
        return 0
    if isinstance(i, (int, slice)):
        return 1
    return i.ndim if i.dtype == bool else 1


def _check_on_device(shape: tuple, index: list) -> None:
    """The checks NumPy makes and CuPy does not: bool masks must match the dims they index, and
    index array values must lie in [-n, n) for their dim of size n (CuPy would wrap them
    around).  The ranges of all index arrays are tested on the device with one sync."""
    used = sum(_dims_used(i) for i in index)
    if used > len(shape) or sum(i is Ellipsis for i in index) > 1:
        return  # CuPy raises for these
    d, ranges = 0, []
    for i in index:
        if i is Ellipsis:
            d += len(shape) - used
        elif i is None:
            continue
        elif isinstance(i, (int, slice)):
            d += 1
        elif i.dtype == bool:
            if i.ndim and tuple(i.shape) != shape[d:d + i.ndim]:
                raise IndexError(f"the shape of the mask {tuple(i.shape)} does not match the sizes "
                                 f"{shape[d:d + i.ndim]} of the dims it indexes, from dim {d}")
            d += i.ndim
        else:
            if i.size:
                ranges.append((d, i))
            d += 1
    if ranges:
        xp = array_module(ranges[0][1])
        outside = [((a < -shape[dim]) | (a >= shape[dim])).any() for dim, a in ranges]
        if bool(xp.stack(outside).any()):
            dim, a = next(r for r, bad in zip(ranges, outside) if bool(bad))
            raise IndexError(f"index values from {int(a.min())} to {int(a.max())} are out of bounds for dim {dim} "
                             f"with size {shape[dim]}")


def _place_like_pytorch(shape: tuple, index: list, xp: Any) -> tuple:
    """:func:`to_numpy_index` for an index with arrays and ints or an Ellipsis.

    The Ellipsis is spelled out as slices (NumPy would count one that covers no dims as a
    separator between 0-d masks; PyTorch does not).  The rest is unchanged where NumPy's
    placement agrees with PyTorch's, else the slices and Nones between the ints and the index
    arrays become index arrays (see :func:`to_numpy_index`)."""
    used = sum(_dims_used(i) for i in index)
    if used > len(shape):
        raise IndexError(f"too many indices for a tensor of {len(shape)} dims: {used} dims are indexed")
    ellipses = [k for k, i in enumerate(index) if i is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        k = ellipses[0]
        index = index[:k] + [slice(None)] * (len(shape) - used) + index[k + 1:]
    is_int = [isinstance(i, int) for i in index]
    ints = [k for k in range(len(index)) if is_int[k]]
    if not ints:
        return tuple(index)
    is_basic = [isinstance(i, slice) or i is None for i in index]  # keeps or adds a dim
    arrays = [k for k, i in enumerate(index) if not (is_int[k] or is_basic[k])]
    first, last = arrays[0], arrays[-1]
    if any(is_basic[first:last + 1]):
        return tuple(index)  # the arrays are separated: both put their dims first
    lo, hi = min(first, ints[0]), max(last, ints[-1])
    if not any(is_basic[lo:hi + 1]):
        return tuple(index)  # ints and arrays form one block: both keep its dims in place

    dims, d = [], 0  # the dim of the indexed tensor where each part starts
    for i in index:
        dims.append(d)
        d += _dims_used(i)
    parts, shapes = {}, []  # the int arrays that replace each advanced part; their shapes
    for k in arrays:
        a = index[k]
        if a.dtype != bool:
            parts[k] = [a]
            shapes.append(a.shape)
        elif a.ndim == 0:  # a 0-d mask indexes a new dim of size 1 at 0 (True) or nowhere (False)
            parts[k] = []
            shapes.append((1,) if bool(a) else (0,))
        else:
            want = shape[dims[k]:dims[k] + a.ndim]
            if a.shape != want:
                raise IndexError(f"the shape of the mask {tuple(a.shape)} does not match the sizes {want} "
                                 f"of the dims it indexes, from dim {dims[k]}")
            parts[k] = list(a.nonzero())
            shapes.append(parts[k][0].shape)
    try:
        b = xp.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes "
                         + ", ".join(str(tuple(s)) for s in shapes)) from None

    # One broadcast layout: a dim per slice/None left of the arrays, then b, then one per
    # slice/None right of them.  Each part gets the size-1 dims that put it in its place.
    left = sum(is_basic[lo:first])
    right = sum(is_basic[last + 1:hi + 1])
    total = left + len(b) + right
    if 0 not in b and any(len(range(shape[dims[k]])[index[k]]) == 0 for k in range(lo, hi + 1)
                          if isinstance(index[k], slice)):
        # An empty slice empties the result, and NumPy checks no index of an empty result;
        # check the index arrays here, as NumPy checks them in the unconverted index.
        for k in arrays:
            a = index[k]
            if a.dtype != bool and a.size and not (-shape[dims[k]] <= int(a.min()) and int(a.max()) < shape[dims[k]]):
                raise IndexError(f"an index is out of bounds for dim {dims[k]} with size {shape[dims[k]]}")
    out = list(index[:lo])
    own_dim = 0  # the layout dim of the next slice/None
    # The reshaped arrays span the whole layout, but a 0-d mask leaves no array behind: its
    # size (1, or 0 for False) would be lost.  With one, the first int is broadcast to the
    # whole layout instead of staying a scalar, and carries every size of it.
    carrier = any(not parts[k] for k in arrays)
    for k in range(lo, hi + 1):
        i = index[k]
        if k == first:
            own_dim = left + len(b)
        if is_basic[k]:
            if i is not None:  # a None's size-1 dim comes from the layout alone
                r = xp.arange(shape[dims[k]])[i]
                out.append(r.reshape((1,) * own_dim + r.shape + (1,) * (total - own_dim - 1)))
            own_dim += 1
        elif is_int[k]:
            if carrier:  # (broadcast to an empty layout, NumPy would not check the int's range)
                n = shape[dims[k]]
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for dim {dims[k]} with size {n}")
                layout = (1,) * left + b + (1,) * right
                out.append(xp.broadcast_to(xp.asarray(i, dtype="int64"), layout))
                carrier = False
            else:
                out.append(i)
        else:
            out.extend(a.reshape((1,) * (left + len(b) - a.ndim) + a.shape + (1,) * right) for a in parts[k])
    out.extend(index[hi + 1:])
    return tuple(out)


class GetItem(Function):
    """y = x[idx] (idx a NumPy index, see :func:`to_numpy_index`).   dx = zeros like x, with dy added at idx.

    ``index_tensors``: the tensors the index was written with.  The index arrays may share their
    memory, and backward reads them, so they are saved: changing one in place before backward
    is then an error, not a gradient sent to the wrong elements.  (The same for the two ops below.)"""

    is_view = True

    def forward(self, x: Tensor, index: tuple, index_tensors: tuple = ()) -> Any:
        self.in_shape, self.index = x._data.shape, index
        self.save_for_backward(*index_tensors)
        return x._data[index]

    def backward(self, g: Tensor) -> tuple:
        return ScatterAdd.apply(g, self.in_shape, self.index, index_tensors=self.saved_tensors), None


class ScatterAdd(Function):
    """y = zeros(shape) with x added at idx (the adjoint of indexing).   dx = dy[idx]."""

    def forward(self, x: Tensor, shape: tuple, index: tuple, index_tensors: tuple = ()) -> Any:
        self.index = index
        self.save_for_backward(*index_tensors)
        a = x._data
        xp = array_module(a)
        out = xp.zeros(shape, dtype=a.dtype)
        if _is_advanced(index):
            add_at = getattr(xp.add, "at", None)
            if add_at is None:  # older CuPy
                import cupyx

                cupyx.scatter_add(out, index, a)
            else:
                add_at(out, index, a)
        else:
            out[index] = a
        return out

    def backward(self, g: Tensor) -> tuple:
        return GetItem.apply(g, self.index, index_tensors=self.saved_tensors), None, None


class IndexPut(Function):
    """y = x with y[idx] = v (out of place; ``t[idx] = v`` builds on it).
    dx = dy with zeros at idx,  dv = dy[idx] summed to v's shape."""

    def forward(self, x: Tensor, index: tuple, v: Any, index_tensors: tuple = ()) -> Any:
        a = x._data
        self.index = index
        self.save_for_backward(*index_tensors)
        b = v._data if isinstance(v, Tensor) else v
        self.v_shape = b.shape if isinstance(v, Tensor) else ()
        out = a.copy()
        out[index] = b
        return out

    def backward(self, g: Tensor) -> tuple:
        index_tensors = self.saved_tensors
        gx = IndexPut.apply(g, self.index, 0.0, index_tensors=index_tensors) if self.needs_input_grad[0] else None
        gv = None
        if self.needs_input_grad[2]:
            gv = GetItem.apply(g, self.index, index_tensors=index_tensors)
            extra = len(self.v_shape) - gv.ndim
            if extra > 0:  # NumPy lets v carry extra leading 1-dims; give them back before sum_to
                gv = reshape(gv, (1,) * extra + gv.shape)
            gv = sum_to(gv, self.v_shape)
        return gx, None, gv


def _show(index: Any) -> str:
    """A one-line description of an index as it was written (arrays and tensors by dtype and shape)."""
    parts = []
    for i in index if isinstance(index, tuple) else (index,):
        if isinstance(i, Tensor):
            parts.append(f"<{i.dtype} tensor of shape {i.shape}>")
        elif hasattr(i, "shape") and hasattr(i, "dtype"):
            parts.append(f"<{i.dtype} array of shape {tuple(i.shape)}>")
        elif i is Ellipsis:
            parts.append("...")
        elif isinstance(i, slice):
            text = ("" if i.start is None else str(i.start)) + ":" + ("" if i.stop is None else str(i.stop))
            parts.append(text if i.step is None else f"{text}:{i.step}")
        else:
            r = " ".join(repr(i).split())
            parts.append(r if len(r) <= 40 else r[:37] + "...")
    return "[" + ", ".join(parts) + "]"


def _tensors_in(index: Any) -> tuple:
    """The tensors among the parts of an index as written (saved by the indexing ops)."""
    if isinstance(index, Tensor):
        return (index,)
    if index.__class__ is tuple:
        return tuple(i for i in index if isinstance(i, Tensor))
    return ()


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with PyTorch's indexing rules (see :func:`to_numpy_index`)."""
    try:
        return GetItem.apply(x, to_numpy_index(x, index), index_tensors=_tensors_in(index))
    except (IndexError, ValueError) as e:  # (CuPy raises ValueError for index arrays that do not broadcast)
        raise IndexError(f"index {_show(index)} is invalid for a tensor of shape {x.shape}: {e}") from None


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """Out-of-place ``x[index] = value``: x with the elements ``x[index]`` selects (PyTorch's
    rules, see :func:`to_numpy_index`) replaced by ``value`` broadcast to their shape."""
    from .helpers import as_tensor

    v = as_tensor(value, x)
    try:
        return IndexPut.apply(x, to_numpy_index(x, index), v, index_tensors=_tensors_in(index))
    except (IndexError, ValueError) as e:  # (a value that does not broadcast: a ShapeError, as PyTorch's RuntimeError)
        raise (IndexError if isinstance(e, IndexError) else ShapeError)(
            f"cannot assign a value of shape {v.shape} at index {_show(index)} of a tensor of shape {x.shape}: "
            f"{e}") from None


def masked_fill(x: Tensor, mask: Tensor, value: float) -> Tensor:
    """x with ``value`` where ``mask`` is true (mask broadcasts)."""
    from .elementwise import where

    if not isinstance(value, Tensor):  # a number takes x's dtype, as PyTorch (True into a bool x, 2.7 into int: 2)
        value = constant(array_module(x._data).asarray(value).astype(x._data.dtype))
    return where(mask, value, x)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """PyTorch's ``gather``: out[i][j] = x[i][index[i][j]] along ``dim``."""
    xp = array_module(x._data)
    idx = index._data
    if idx.ndim != x.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dims but the input has {x.ndim} (shape {x.shape})")
    if x.ndim == 0:
        return reshape(gather(reshape(x, (1,)), 0, reshape(index, (1,))), ())
    dim %= x.ndim
    _check_positions(idx, x.shape[dim], "gather", dim)
    grids = [constant(gr) for gr in xp.indices(idx.shape, sparse=True)]
    grids[dim] = index  # the tensor itself, so that indexing saves it for backward
    return getitem(x, tuple(grids))


# -- scatter, index_add, index_select, take_along_dim, masked_select --------------------------------

def _check_positions(idx: Any, size: int, op: str, dim: int) -> None:
    """An index array along a dim of ``size`` must be integer with values in [0, size)."""
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: the index must be an integer tensor, got dtype {idx.dtype}")
    if idx.size and bool(((idx < 0) | (idx >= size)).any()):
        raise IndexError(f"{op}: index values from {int(idx.min())} to {int(idx.max())} are out of bounds "
                         f"for dim {dim} with size {size}")


def _scatter_index(x: Tensor, dim: int, index: Tensor, src: Tensor | None, op: str) -> tuple:
    """The NumPy index of the elements ``scatter(x, dim, index, src)`` writes: position
    (i, j, ..) of index names x[.., index[i, j, ..] (at dim), ..].  Checks PyTorch's rules."""
    idx = index._data
    if idx.ndim != x.ndim or (src is not None and src.ndim != x.ndim):
        raise ShapeError(f"{op}: index (shape {index.shape}) and src must have as many dims as the input "
                         f"(shape {x.shape})")
    for d in range(x.ndim):
        if (d != dim and idx.shape[d] > x.shape[d]) or (src is not None and idx.shape[d] > src.shape[d]):
            raise ShapeError(f"{op}: index of shape {index.shape} is larger than the input (shape {x.shape}) "
                             f"or src (shape {None if src is None else src.shape}) at dim {d}")
    _check_positions(idx, x.shape[dim], op, dim)
    xp = array_module(x._data)
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[dim] = idx
    return tuple(grids)


def _src_part(src: Tensor, index: Tensor) -> Tensor:
    """The leading ``index.shape`` block of src (the elements scatter reads)."""
    if src.shape == index.shape:
        return src
    return getitem(src, tuple(slice(0, n) for n in index.shape))


def _same_dtype(x: Tensor, src: Tensor, op: str) -> None:
    if src.dtype != x.dtype:
        raise TypeError(f"{op}: src (dtype {src.dtype}) must have the input's dtype {x.dtype}")


def _scatter_args(x: Tensor, dim: int, index: Tensor, src: Tensor | None, op: str) -> tuple:
    """Checks that index is a tensor and dim is in range; dim as a non-negative int (0 for a 0-d x)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a Tensor, got {type(index).__name__}")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {x.ndim} dimension(s)")
    return dim % max(x.ndim, 1)


def scatter(x: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
    """x with the elements of ``src`` (a tensor of x's dtype, or a number ``value``) written
    along ``dim`` at the positions ``index`` gives: for a 2-d x and dim 0,
    ``out[index[i][j]][j] = src[i][j]``.  index has x's number of dims and is no larger than x
    (except along dim) or src; its values lie in [0, x.shape[dim]).  Where index repeats a
    position, which write wins is unspecified (as PyTorch).

    Gradients: dx = dy with zeros at the written positions; dsrc = gather(dy, dim, index)."""
    if src is None and value is None:
        raise TypeError("scatter: pass src (a tensor) or value (a number)")
    dim = _scatter_args(x, dim, index, src, "scatter")
    if x.ndim == 0:
        src1 = reshape(src, (1,)) if isinstance(src, Tensor) else src
        return reshape(scatter(reshape(x, (1,)), 0, reshape(index, (1,)), src1, value=value), ())
    if isinstance(src, Tensor):
        _same_dtype(x, src, "scatter")
        where_ = _scatter_index(x, dim, index, src, "scatter")
        return IndexPut.apply(x, where_, _src_part(src, index), index_tensors=(index,))
    from .helpers import as_tensor

    where_ = _scatter_index(x, dim, index, None, "scatter")
    v = as_tensor(value if src is None else src, x)
    return IndexPut.apply(x, where_, v, index_tensors=(index,))


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """x with the elements of ``src`` added along ``dim`` at the positions ``index`` gives
    (repeated positions accumulate): for dim 0, ``out[index[i][j]][j] += src[i][j]``.
    Gradients: dx = dy; dsrc = gather(dy, dim, index)."""
    dim = _scatter_args(x, dim, index, src, "scatter_add")
    if x.ndim == 0:
        return reshape(scatter_add(reshape(x, (1,)), 0, reshape(index, (1,)), reshape(src, (1,))), ())
    _same_dtype(x, src, "scatter_add")
    where_ = _scatter_index(x, dim, index, src, "scatter_add")
    return x + ScatterAdd.apply(_src_part(src, index), x.shape, where_, index_tensors=(index,))


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Each element of x combined with the elements of ``src`` that ``index`` sends to it along
    ``dim`` (as :func:`scatter_add` sends them), by ``reduce``: "sum", "prod", "mean", "amax"
    or "amin".  With ``include_self=False`` x's own value takes no part where something is sent
    (and stays where nothing is).  Integer "mean" rounds down, as PyTorch.

    The contributions to each of x's P elements are laid out as the rows of a (P, K) matrix
    (K = the most sent to one element, plus one column for x itself), padded with the
    reduction's identity, and reduced along the rows with the differentiable reductions: so
    "prod" handles zeros, and "amax"/"amin" share the gradient equally among tied maxima."""
    from ..creation import full
    from .conversion import clone
    from .elementwise import where
    from .reduction import amax, amin, prod, sum as sum_
    from .shape import cat

    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    dim = _scatter_args(x, dim, index, src, "scatter_reduce")
    if x.ndim == 0:
        return reshape(scatter_reduce(reshape(x, (1,)), 0, reshape(index, (1,)), reshape(src, (1,)), reduce,
                                      include_self=include_self), ())
    _same_dtype(x, src, "scatter_reduce")
    grids = _scatter_index(x, dim, index, src, "scatter_reduce")
    xp = array_module(x._data)
    n_sent, size = index._data.size, x._data.size
    if n_sent == 0:
        return clone(x)
    # The flat position in x each contribution goes to, and its rank among those going there.
    strides = [1] * x.ndim
    for d in range(x.ndim - 2, -1, -1):
        strides[d] = strides[d + 1] * x.shape[d + 1]
    target = sum(g * s for g, s in zip(grids, strides))
    target = xp.broadcast_to(target, index.shape).reshape(-1).astype("int64")
    order = xp.argsort(target, kind="stable")
    sorted_target = target[order]
    rank = xp.empty_like(target)
    rank[order] = xp.arange(n_sent, dtype="int64") - xp.searchsorted(sorted_target, sorted_target, side="left")
    counts = xp.bincount(target, minlength=size)
    width = int(counts.max())
    kind = x._data.dtype.kind
    if reduce in ("amax", "amin"):
        big = float("inf") if kind == "f" else (True if kind == "b" else int(xp.iinfo(x._data.dtype).max))
        fill = -big if reduce == "amax" and kind != "b" else (False if reduce == "amax" else big)
    else:
        fill = 1 if reduce == "prod" else 0
    pad = full((size, width), fill, dtype=x.dtype, device=x.device)
    sent = IndexPut.apply(pad, (target, rank), reshape(_src_part(src, index), (-1,)), index_tensors=(index,))
    if include_self:
        sent = cat([reshape(x, (size, 1)), sent], dim=1)
    if reduce == "sum":
        combined = sum_(sent, dim=1)
    elif reduce == "prod":
        combined = prod(sent, dim=1)
    elif reduce == "amax":
        combined = amax(sent, dim=1)
    elif reduce == "amin":
        combined = amin(sent, dim=1)
    else:
        total = sum_(sent, dim=1)
        n = constant(xp.maximum(counts + int(bool(include_self)), 1).astype(x._data.dtype if kind == "f" else "int64"))
        if kind == "f":
            combined = total / n
        else:
            combined = constant(xp.floor_divide(total._data, n._data).astype(x._data.dtype))
    if combined.dtype != x.dtype:  # (sum and prod of int32 give int64; no gradient to keep for ints)
        combined = constant(combined._data.astype(x._data.dtype))
    combined = reshape(combined, x.shape)
    if include_self:
        return combined
    return where(constant(counts.reshape(x.shape) > 0), combined, x)


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """x with ``alpha * source`` added along ``dim`` at the positions a 1-d ``index`` lists:
    for dim 0, ``out[index[i]] += alpha * source[i]`` (repeated positions accumulate).  source
    has x's shape except ``len(index)`` along dim.
    Gradients: dx = dy; dsource = alpha * index_select(dy, dim, index)."""
    dim = _scatter_args(x, dim, index, source, "index_add")
    if x.ndim == 0:
        return reshape(index_add(reshape(x, (1,)), 0, reshape(index, (-1,)), reshape(source, (-1,)), alpha=alpha), ())
    _same_dtype(x, source, "index_add")
    idx = index._data
    if idx.ndim > 1:
        raise ShapeError(f"index_add: index must be 1-d, got shape {index.shape}")
    idx = idx.reshape(-1)
    want = x.shape[:dim] + (idx.size,) + x.shape[dim + 1:]
    if source.shape != want:
        raise ShapeError(f"index_add: source has shape {source.shape}, expected {want} (the input's shape {x.shape} "
                         f"with the index's length {idx.size} at dim {dim})")
    _check_positions(idx, x.shape[dim], "index_add", dim)
    if alpha != 1:
        source = source * alpha
    return x + ScatterAdd.apply(source, x.shape, (slice(None),) * dim + (idx,), index_tensors=(index,))


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x along ``dim`` that a 1-d (or 0-d) integer ``index`` lists, in its order:
    x's shape with ``len(index)`` at dim.  The gradient adds dy back at those slices."""
    dim = _scatter_args(x, dim, index, None, "index_select")
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-d or 0-d, got shape {index.shape}")
    if x.ndim == 0:
        return reshape(index_select(reshape(x, (1,)), 0, index), ())
    _check_positions(index._data, x.shape[dim], "index_select", dim)
    return getitem(x, (slice(None),) * dim + (reshape(index, (-1,)),))


def take_along_dim(x: Tensor, indices: Tensor, dim: Any = None) -> Tensor:
    """The elements of x at ``indices`` along ``dim``: :func:`gather` after broadcasting x and
    indices against each other in every other dim.  ``dim=None``: indices into the flattened x."""
    if dim is None:
        return gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)))
    if x.ndim != indices.ndim:
        raise ShapeError(f"take_along_dim: input (shape {x.shape}) and indices (shape {indices.shape}) "
                         "must have the same number of dims")
    dim = _scatter_args(x, dim, indices, None, "take_along_dim")
    if x.ndim == 0:
        return gather(x, 0, indices)
    from .shape import broadcast_to

    try:
        common = list(array_module(x._data).broadcast_shapes(
            x.shape[:dim] + (1,) + x.shape[dim + 1:], indices.shape[:dim] + (1,) + indices.shape[dim + 1:]))
    except ValueError:
        raise ShapeError(f"take_along_dim: input (shape {x.shape}) and indices (shape {indices.shape}) do not "
                         f"broadcast outside dim {dim}") from None
    x_shape, i_shape = list(common), list(common)
    x_shape[dim], i_shape[dim] = x.shape[dim], indices.shape[dim]
    return gather(broadcast_to(x, tuple(x_shape)), dim, broadcast_to(indices, tuple(i_shape)))


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where the bool ``mask`` is true, as a 1-d tensor in row-major order
    (x and mask broadcast against each other first).  The gradient goes back to those elements."""
    from .shape import broadcast_to

    if not isinstance(mask, Tensor) or mask.dtype != "bool":
        raise TypeError(f"masked_select: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    try:
        shape = tuple(array_module(x._data).broadcast_shapes(x.shape, mask.shape))
    except ValueError:
        raise ShapeError(f"masked_select: the input (shape {x.shape}) and mask (shape {mask.shape}) "
                         "do not broadcast") from None
    return getitem(broadcast_to(x, shape), broadcast_to(mask, shape) if mask.shape != shape else mask)


# -- in place ------------------------------------------------------------------------------------

def _in_place(t: Tensor, op: str, out_of_place: Any, operand: Any) -> Tensor:
    """Run ``out_of_place(t)`` and store its result in t (its checks, then the version bump of
    every in-place op; recorded on the tape when gradients are)."""
    from ..autograd import no_grad
    from .inplace import _apply_inplace

    def write(a: Any) -> None:
        with no_grad():
            result = out_of_place(t)._data
        a[...] = result

    return _apply_inplace(t, op, out_of_place, write, operand)


def scatter_(x: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
    """In-place :func:`scatter`."""
    return _in_place(x, "scatter_", lambda old: scatter(old, dim, index, src, value=value), src)


def scatter_add_(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place :func:`scatter_add`."""
    return _in_place(x, "scatter_add_", lambda old: scatter_add(old, dim, index, src), src)


def index_add_(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """In-place :func:`index_add`."""
    return _in_place(x, "index_add_", lambda old: index_add(old, dim, index, source, alpha=alpha), source)
