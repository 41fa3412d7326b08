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

    return where(mask, value, x)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """PyTorch's ``gather``: out[i][j] = x[i][index[i][j]] along ``dim``."""
    xp = array_module(x._data)
    idx = index._data
    if idx.ndim != x.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dims but the input has {x.ndim} (shape {x.shape})")
    dim %= x.ndim
    grids = [constant(gr) for gr in xp.indices(idx.shape, sparse=True)]
    grids[dim] = index  # the tensor itself, so that indexing saves it for backward
    return getitem(x, tuple(grids))
