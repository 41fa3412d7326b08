"""Attach the ops to :class:`Tensor` as operators and methods (``x + y``, ``x.sum()``...).

One table, so it is easy to see which method is which op.
"""
from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from ..tensor import Tensor
from . import activation as A
from . import arithmetic as M
from . import comparison as C
from . import conversion as V
from . import elementwise as E
from . import indexing as I
from . import inplace as P
from . import matmul as MM
from . import norm as N
from . import reduction as R
from . import scan as SC
from . import shape as S


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    return S.reshape(self, *shape)


def _permute(self: Tensor, *dims: Any) -> Tensor:
    return S.permute(self, *dims)


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    return S.expand(self, *sizes)


def _transpose(self: Tensor, *dims: Any) -> Tensor:
    """``transpose(d0, d1)`` swaps two dims (PyTorch); ``transpose()`` or ``transpose(perm)``
    follows NumPy."""
    if not dims:
        return S.T(self)
    if len(dims) == 2 and all(isinstance(d, int) for d in dims):
        return S.transpose(self, *dims)
    return S.permute(self, *dims)


def _shape_of(other: Any, name: str) -> tuple:
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}() expects a Tensor, got {type(other).__name__}")
    return other.shape


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` reshaped to ``other``'s shape."""
    return S.reshape(self, _shape_of(other, "view_as"))


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` broadcast to ``other``'s shape."""
    return S.expand(self, _shape_of(other, "expand_as"))


def _is_contiguous(self: Tensor) -> bool:
    """Whether the elements lie in memory in row-major order with no gaps (a transpose, a
    strided slice or a broadcast view does not)."""
    return bool(self._data.flags.c_contiguous)


def _contiguous(self: Tensor) -> Tensor:
    """``self`` when its memory is row-major and dense, else a row-major copy (differentiable)."""
    return self if self._data.flags.c_contiguous else V.clone(self)


def _t(self: Tensor) -> Tensor:
    """The transpose of a 2-D tensor; a 0-D or 1-D tensor is returned as it is (PyTorch's ``t``)."""
    if self.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but this one has shape {self.shape}; "
                         "use transpose(dim0, dim1) or mT")
    return S.transpose(self, 0, 1) if self.ndim == 2 else self


# ``x.new_zeros(...)`` and friends: a new tensor with x's dtype and device unless given.
def _new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    from ..creation import zeros

    return zeros(*size, dtype=self.dtype if dtype is None else dtype,
                 device=self.device if device is None else device, requires_grad=requires_grad)


def _new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    from ..creation import ones

    return ones(*size, dtype=self.dtype if dtype is None else dtype,
                device=self.device if device is None else device, requires_grad=requires_grad)


def _new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _new_zeros(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)


def _new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    from ..creation import full

    return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                device=self.device if device is None else device, requires_grad=requires_grad)


def _new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` (a new leaf) in ``self``'s dtype and on its device unless given."""
    from ..creation import tensor

    return tensor(data, dtype=self.dtype if dtype is None else dtype,
                  device=self.device if device is None else device, requires_grad=requires_grad)


def _eq(self: Tensor, other: Any) -> Any:
    """``==`` element-wise; an operand that is no tensor, array or number (None, a string)
    compares by identity, as in PyTorch: ``t == None`` is False."""
    try:
        return C.eq(self, other)
    except TypeError:
        return NotImplemented


def _ne(self: Tensor, other: Any) -> Any:
    try:
        return C.ne(self, other)
    except TypeError:
        return NotImplemented


def _any(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    from .helpers import constant

    return constant(self._data.any(axis=axis, keepdims=keepdims))


def _all(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    from .helpers import constant

    return constant(self._data.all(axis=axis, keepdims=keepdims))


_METHODS = {
    # arithmetic
    "__add__": M.add, "__radd__": M.add, "__sub__": M.sub, "__rsub__": M.rsub,
    "__mul__": M.mul, "__rmul__": M.mul, "__truediv__": M.div, "__rtruediv__": M.rdiv,
    "__pow__": M.pow, "__rpow__": M.rpow, "__neg__": M.neg, "__matmul__": MM.matmul,
    "__rmatmul__": MM.rmatmul, "__abs__": E.abs,
    "add": M.add, "sub": M.sub, "mul": M.mul, "div": M.div, "pow": M.pow, "neg": M.neg,
    "square": M.square, "matmul": MM.matmul, "dot": MM.dot,
    # element-wise
    "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt, "abs": E.abs, "sign": E.sign,
    "sin": E.sin, "cos": E.cos, "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum,
    "minimum": E.minimum,
    # activations
    "sigmoid": A.sigmoid, "tanh": A.tanh, "relu": A.relu, "softmax": A.softmax, "log_softmax": A.log_softmax,
    # reductions
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
    "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin, "logsumexp": R.logsumexp,
    "prod": R.prod, "norm": N.norm, "cumsum": SC.cumsum, "any": _any, "all": _all,
    # shape
    "reshape": _reshape, "view": _reshape, "flatten": S.flatten, "permute": _permute,
    "transpose": _transpose, "swapaxes": S.transpose, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
    "expand": _expand, "broadcast_to": S.broadcast_to, "split": S.split, "chunk": S.chunk,
    "view_as": _view_as, "expand_as": _expand_as, "t": _t,
    # indexing and sorting
    "__getitem__": I.getitem, "__setitem__": P.setitem, "gather": I.gather, "masked_fill": I.masked_fill,
    # linear algebra
    # conversions
    # comparisons
    "__eq__": _eq, "__ne__": _ne, "__lt__": C.lt, "__le__": C.le, "__gt__": C.gt, "__ge__": C.ge,
    "eq": C.eq, "ne": C.ne, "lt": C.lt, "le": C.le, "gt": C.gt, "ge": C.ge,
    # bitwise (logical on bools) and logical
    "__and__": C.bitwise_and, "__rand__": C.bitwise_and, "__or__": C.bitwise_or, "__ror__": C.bitwise_or,
    "__xor__": C.bitwise_xor, "__rxor__": C.bitwise_xor, "__invert__": C.bitwise_not,
    "bitwise_and": C.bitwise_and, "bitwise_or": C.bitwise_or, "bitwise_xor": C.bitwise_xor,
    "bitwise_not": C.bitwise_not, "logical_and": C.logical_and, "logical_or": C.logical_or,
    "logical_xor": C.logical_xor, "logical_not": C.logical_not,
    "isnan": C.isnan, "isinf": C.isinf, "isfinite": C.isfinite,
    # copies
    "clone": V.clone, "contiguous": _contiguous, "is_contiguous": _is_contiguous,
    # new tensors like self
    "new_zeros": _new_zeros, "new_ones": _new_ones, "new_empty": _new_empty, "new_full": _new_full,
    "new_tensor": _new_tensor,
    # in place
    "add_": P.add_, "sub_": P.sub_, "mul_": P.mul_, "div_": P.div_, "zero_": P.zero_, "fill_": P.fill_,
    "copy_": P.copy_, "clamp_": P.clamp_,
    "__iadd__": P.add_, "__isub__": P.sub_, "__imul__": P.mul_, "__itruediv__": P.div_,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(S.T)
Tensor.mT = property(S.mT)
Tensor.__hash__ = object.__hash__  # __eq__ is element-wise; hash by identity, as PyTorch
