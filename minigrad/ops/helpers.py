"""Small helpers shared by the op families (no ops here)."""
from __future__ import annotations

from typing import Any

from ..devices import HostArray, array_module, is_cuda_array
from ..errors import ShapeError
from ..dtypes import (category, get_default_dtype, is_number, number_dtype, number_operand, python_number,
                      result_type)
from ..tensor import Tensor, make_tensor


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


def as_array(xp: Any, value: Any) -> Any:
    """``value`` as an array of ``xp``: arrays pass through as they are (an ndarray subclass keeps
    its class, which ``xp.asarray`` would drop), NumPy scalars and numbers become 0-d arrays."""
    return value if isinstance(value, HostArray) or is_cuda_array(value) else xp.asarray(value)


def data_of(x: Any) -> Any:
    """The array behind a tensor; constants pass through."""
    return x._data if isinstance(x, Tensor) else x


def binary_arrays(op: str, x: Any, y: Any) -> tuple:
    """The arrays of two operands (tensors, arrays or numbers), on one device (checked), in the
    dtype PyTorch's promotion gives the result of ``op`` (see :func:`promoted_arrays`).

    The common cases return at once: two tensors of one dtype, and a float tensor with a Python
    number or an integer tensor with a Python int (NumPy and CuPy keep the tensor's dtype), unless
    ``op`` has a dtype rule of its own for integers and bools (``_DTYPE_RULES``)."""
    if x.__class__ is Tensor or isinstance(x, Tensor):
        a = x._data
        if y.__class__ is Tensor or isinstance(y, Tensor):
            b = y._data
            if a.dtype is b.dtype and a.__class__ is b.__class__ and (op not in _DTYPE_RULES or a.dtype.kind == "f"):
                return a, b
        elif y.__class__ is float or y.__class__ is int:
            kind = a.dtype.kind
            if kind == "f" or (kind in "iu" and y.__class__ is int and op not in _DTYPE_RULES):
                return a, y
    elif (x.__class__ is float or x.__class__ is int) and y.__class__ is Tensor and y._data.dtype.kind == "f":
        return x, y._data
    return promoted_arrays(op, x, y)


def promoted_arrays(op: str, x: Any, y: Any) -> tuple:
    """``x`` and ``y`` converted for ``op`` as PyTorch does (``torch.result_type``, see
    :mod:`minigrad.dtypes`, then the op's own rule in ``_DTYPE_RULES``): tensors (and arrays) are
    cast to the result dtype; a number stays a Python number beside an array, which then keeps
    the array's dtype (two numbers become NumPy scalars of the result dtype)."""
    x_tensor, y_tensor = isinstance(x, Tensor), isinstance(y, Tensor)
    a, a_num = (x._data, False) if x_tensor else _operand(x, op)
    b, b_num = (y._data, False) if y_tensor else _operand(y, op)
    if x_tensor and y_tensor and a.__class__ is not b.__class__:
        raise RuntimeError(f"{op}: expected both tensors on the same device, but got {x.device} "
                           f"(shape {x.shape}) and {y.device} (shape {y.shape})")
    dt = result_type(a, b)
    rule = _DTYPE_RULES.get(op)
    if rule is not None:
        dt = rule(op, dt, a, b)
    return _as_dtype(a, a_num, dt, b_num), _as_dtype(b, b_num, dt, a_num)


def _true_division(op: str, dt: Any, a: Any, b: Any) -> Any:
    """Integers and bools divide in the default float dtype."""
    return get_default_dtype() if dt.kind in "biu" else dt


def _no_bools(op: str, dt: Any, a: Any, b: Any) -> Any:
    if _dtype_of(a).kind == "b" or _dtype_of(b).kind == "b":
        raise TypeError(f"{op}: subtraction with a bool operand ({describe_operand(a)} - {describe_operand(b)}) "
                        "is not supported; use ^ or logical_xor for bools")
    return dt


def _no_bool_tensor_exponent_on_bools(op: str, dt: Any, a: Any, b: Any) -> Any:
    if dt.kind == "b" and not is_number(b):
        raise TypeError(f"{op}: a bool base with a bool tensor exponent is not supported "
                        f"({describe_operand(a)} ** {describe_operand(b)})")
    return dt


#: Ops whose result dtype is not simply the promoted one, as in PyTorch: (op, promoted dtype,
#: operands) -> the dtype to compute in, or raise.  They concern integer and bool operands only,
#: so two float tensors of one dtype, or a float tensor and a number, pass them unchanged.
_DTYPE_RULES = {"div": _true_division, "sub": _no_bools, "pow": _no_bool_tensor_exponent_on_bools}


def _operand(v: Any, op: str) -> tuple:
    """A non-tensor operand as (a number or an array, whether it is a number); lists and the
    like become host arrays."""
    if is_number(v):
        return v, True
    if isinstance(v, HostArray) or is_cuda_array(v):
        return v, False
    try:
        arr = array_module(v).asarray(v)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected a tensor, an array or a real number, got {type(v).__name__}")
    return arr, False


def _as_dtype(v: Any, is_num: bool, dt: Any, other_is_num: bool) -> Any:
    """An array as dtype ``dt``; a number as :func:`~minigrad.dtypes.number_operand` has it."""
    if is_num:
        return number_operand(v, dt, beside_array=not other_is_num)
    return v if v.dtype == dt else v.astype(dt)


def _dtype_of(v: Any) -> Any:
    return number_dtype(v) if is_number(v) else v.dtype


def describe_operand(v: Any) -> str:
    """``float32 tensor of shape (2, 3)`` or ``int number``, for error messages (``v``: a tensor,
    an array or a number)."""
    v = v._data if isinstance(v, Tensor) else v
    if is_number(v):
        return f"{type(v).__name__} number"
    return f"{v.dtype} tensor of shape {tuple(v.shape)}"


def scalar_result_dtype(dtype: Any, scalar: Any) -> Any:
    """PyTorch's rule for a tensor of ``dtype`` with a number: the tensor's dtype, unless the
    number is of a higher category (a float number with an integer or bool tensor gives the
    default float dtype; an int number with a bool tensor gives int64)."""
    number = number_dtype(scalar)
    return number if category(number) > category(dtype) else dtype


def array_module_of(a: Any, b: Any) -> Any:
    """The array module of whichever of ``a``, ``b`` is an array (NumPy for two numbers)."""
    if a.__class__ is HostArray:
        return array_module(a)
    return array_module(b if is_number(a) else a)


def as_tensor(x: Any, like: Tensor) -> Tensor:
    """``x`` as a tensor on ``like``'s device.  A number (Python or NumPy scalar) becomes a 0-d
    tensor of the dtype it gives with ``like`` (``like``'s own dtype unless the number is of a
    higher category), so that it still promotes as a number would."""
    if isinstance(x, Tensor):
        return x
    from ..creation import tensor

    if is_number(x):  # (an int out of the dtype's range is refused, as in arithmetic)
        return tensor(python_number(x), dtype=result_type(like._data, x), device=like.device)
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
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
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
    return make_tensor(array, False, None)


def parse_size(size: tuple) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)
