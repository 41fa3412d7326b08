"""Indexing ``t[...]`` (ints, slices, None, Ellipsis, integer arrays, bool masks) and its inverse.

The gradient of ``y = x[idx]`` is a zero tensor of x's shape with dy *added* at
``idx`` (added, so repeated integer indices accumulate).
"""
from __future__ import annotations

from typing import Any

from .._device import array_module, is_cuda_array
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import constant
from .shape import reshape, sum_to


def _is_advanced(index: tuple) -> bool:
    return any(not isinstance(i, (int, slice)) and i is not None and i is not Ellipsis for i in index)


def normalize_index(x: Tensor, index: Any) -> tuple:
    """Index as a tuple of ints, slices, None, Ellipsis and arrays on x's device."""
    if not isinstance(index, tuple):
        index = (index,)
    xp = array_module(x._data)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            if i.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be integer or bool tensors, got dtype {i.dtype}")
            if is_cuda_array(i._data) and not is_cuda_array(x._data):
                raise IndexError(f"index tensor is on {i.device} but the indexed tensor is on {x.device}: "
                                 "indices must be on the CPU or on the indexed tensor's device")
            # A CPU index into a CUDA tensor is copied over, as in PyTorch.
            out.append(i._data if is_cuda_array(i._data) or not is_cuda_array(x._data) else xp.asarray(i._data))
        elif isinstance(i, (list, tuple)) or hasattr(i, "__array_interface__") or hasattr(i, "__cuda_array_interface__"):
            arr = xp.asarray(i)
            if arr.size == 0 and arr.dtype != bool:  # [] parses as float; an empty bool mask stays a mask
                arr = arr.astype("int64")
            if arr.dtype.kind not in "iub":
                raise IndexError(f"arrays used as indices must be integer or bool, got dtype {arr.dtype}")
            out.append(arr)
        elif isinstance(i, bool) or (i is not None and i is not Ellipsis and not isinstance(i, slice)
                                     and not hasattr(i, "__index__")):
            raise IndexError(f"unsupported index {i!r} of type {type(i).__name__}")
        else:
            out.append(int(i) if hasattr(i, "__index__") and not isinstance(i, slice) and i is not None
                       and i is not Ellipsis else i)
    return tuple(out)


class GetItem(Function):
    """y = x[idx].   dx = zeros like x, with dy added at idx."""

    is_view = True

    def forward(self, x: Tensor, index: tuple) -> Any:
        self.in_shape, self.index = x._data.shape, index
        try:
            return x._data[index]
        except IndexError as e:
            raise IndexError(f"index {_show(index)} is invalid for a tensor of shape {x.shape}: {e}") from None

    def backward(self, g: Tensor) -> tuple:
        return ScatterAdd.apply(g, self.in_shape, self.index), None


class ScatterAdd(Function):
    """y = zeros(shape) with x added at idx (the adjoint of indexing).   dx = dy[idx]."""

    def forward(self, x: Tensor, shape: tuple, index: tuple) -> Any:
        self.index = index
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
        return GetItem.apply(g, self.index), None, None


class IndexPut(Function):
    """y = x with y[idx] = v (out of place; ``t[idx] = v`` builds on it).
    dx = dy with zeros at idx,  dv = dy[idx] summed to v's shape."""

    def forward(self, x: Tensor, index: tuple, v: Any) -> Any:
        a = x._data
        self.index = index
        b = v._data if isinstance(v, Tensor) else v
        self.v_shape = b.shape if isinstance(v, Tensor) else ()
        out = a.copy()
        try:
            out[index] = b
        except (IndexError, ValueError) as e:
            raise type(e)(f"cannot assign a value of shape {self.v_shape} at index {_show(index)} of a tensor "
                          f"of shape {x.shape}: {e}") from None
        return out

    def backward(self, g: Tensor) -> tuple:
        gx = IndexPut.apply(g, self.index, 0.0) if self.next[0] is not None else None
        gv = None
        if self.next[2] is not None:
            gv = GetItem.apply(g, self.index)
            extra = len(self.v_shape) - gv.ndim
            if extra > 0:  # NumPy lets v carry extra leading 1-dims; give them back before sum_to
                gv = reshape(gv, (1,) * extra + gv.shape)
            gv = sum_to(gv, self.v_shape)
        return gx, None, gv


def _show(index: tuple) -> str:
    parts = []
    for i in index:
        if hasattr(i, "shape") and not isinstance(i, (int, slice)):
            parts.append(f"<{i.dtype} array of shape {tuple(i.shape)}>")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


def getitem(x: Tensor, index: Any) -> Tensor:
    return GetItem.apply(x, normalize_index(x, index))


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """Out-of-place ``x[index] = value``."""
    from ._util import as_tensor

    return IndexPut.apply(x, normalize_index(x, index), as_tensor(value, x))


def masked_fill(x: Tensor, mask: Tensor, value: float) -> Tensor:
    """x with ``value`` where ``mask`` is true (mask broadcasts)."""
    from .elementwise import where

    return where(mask, value, x)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """PyTorch's ``gather``: out[i][j] = x[i][index[i][j]] along ``dim``."""
    xp = array_module(x._data)
    idx = index._data
    if idx.ndim != x.ndim:
        raise ValueError(f"gather: index has {idx.ndim} dims but the input has {x.ndim} (shape {x.shape})")
    dim %= x.ndim
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[dim] = idx
    return getitem(x, tuple(constant(gr) for gr in grids))
