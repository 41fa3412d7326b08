"""Small helpers shared by the op families (no ops here)."""
from __future__ import annotations

from typing import Any

from .._device import HostArray, array_module
from ..tensor import Tensor, _make


_HOST_SCALARS: dict = {}


def typed_scalar(value: float, a: Any) -> Any:
    """``value`` as a read-only 0-d array of ``a``'s dtype when ``a`` is a host array (cached),
    else ``value`` itself.

    NumPy combines an array with a 0-d array of its own dtype noticeably faster than with a
    Python number, whose type it must first resolve (a few microseconds per call, which adds
    up over the small ops of a training step).  On the GPU the number is passed as is."""
    if a.__class__ is not HostArray:
        return value
    key = (value, a.dtype)
    s = _HOST_SCALARS.get(key)
    if s is None:
        if len(_HOST_SCALARS) > 256:  # e.g. a learning rate that changes every step
            _HOST_SCALARS.clear()
        s = _HOST_SCALARS[key] = array_module(a).array(value, dtype=a.dtype)
        s.flags.writeable = False
    return s


def data_of(x: Any) -> Any:
    """The array behind a tensor; constants pass through."""
    return x._data if isinstance(x, Tensor) else x


def binary_arrays(op: str, x: Any, y: Any) -> tuple:
    """Arrays of two operands, on the same device (checked), promoted as PyTorch does."""
    if x.__class__ is Tensor or isinstance(x, Tensor):
        a = x._data
        if y.__class__ is Tensor or isinstance(y, Tensor):
            b = y._data
            if a.__class__ is not b.__class__:
                raise RuntimeError(f"{op}: expected both tensors on the same device, but got {x.device} "
                                   f"(shape {x.shape}) and {y.device} (shape {y.shape})")
            if a.dtype is not b.dtype and a.dtype != b.dtype:
                return promote_arrays(a, b)
            return a, b
        if a.dtype.kind in "biu" and y.__class__ is not a.__class__:
            return a.astype(scalar_result_dtype(a.dtype, y), copy=False), y
        return a, y
    b = y._data if isinstance(y, Tensor) else y
    if b.__class__ is not int and b.__class__ is not float and b.__class__ is not bool:
        return x, b
    if b.dtype.kind in "biu":
        return x, b.astype(scalar_result_dtype(b.dtype, x), copy=False)
    return x, b


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def scalar_result_dtype(dtype: Any, scalar: Any) -> Any:
    """PyTorch's rule for tensor ⊕ Python number: a float number makes an integer/bool tensor's
    result the default float dtype; an int number makes a bool tensor's result int64."""
    from ..dtypes import get_default_dtype, int64

    if isinstance(scalar, float):
        return get_default_dtype()
    if isinstance(scalar, int) and not isinstance(scalar, bool) and dtype.kind == "b":
        return int64
    return dtype


def promote_arrays(a: Any, b: Any) -> tuple:
    """PyTorch's promotion for two tensors of different dtypes: the higher category
    (bool < integer < float) wins; within one category a dimensioned tensor beats a
    0-d one, else the wider dtype wins."""
    ra, rb = _KIND_RANK.get(a.dtype.kind, 2), _KIND_RANK.get(b.dtype.kind, 2)
    if ra != rb:
        dt = a.dtype if ra > rb else b.dtype
    elif (a.ndim == 0) != (b.ndim == 0):
        dt = b.dtype if a.ndim == 0 else a.dtype
    else:
        return a, b  # the array library's own widening (float32+float64 -> float64)
    return a.astype(dt, copy=False), b.astype(dt, copy=False)


def as_tensor(x: Any, like: Tensor) -> Tensor:
    """``x`` as a tensor on ``like``'s device (Python numbers take ``like``'s dtype)."""
    if isinstance(x, Tensor):
        return x
    from ..creation import tensor

    if isinstance(x, (int, float, bool)) and like.dtype.kind in "fc":
        return tensor(x, dtype=like.dtype, device=like.device)
    return tensor(x, device=like.device)


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple | None:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, int) or hasattr(axis, "__index__"):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    out = []
    for a in axes:
        if not isinstance(a, int) and not hasattr(a, "__index__"):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def axis_and_keepdims(axis: Any, keepdims: Any, dim: Any, keepdim: Any) -> tuple:
    """Accept NumPy's ``axis/keepdims`` and PyTorch's ``dim/keepdim`` spellings."""
    if dim is not None:
        if axis is not None:
            raise TypeError("pass either axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


def keepdims_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def constant(array: Any) -> Tensor:
    """Wrap an array as a tensor that never requires grad."""
    return _make(array, False, None)


def parse_size(size: tuple) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)
