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
from . import linalg as LA
from . import matmul as MM
from . import norm as N
from . import reduction as R
from . import scan as SC
from . import shape as S
from . import sorting as SO
from . import special as SP


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    return S.reshape(self, *shape)


def _view(self: Tensor, *shape: Any) -> Tensor:
    """``view(*shape)``: reshape; ``view(dtype)``: the same bytes read as ``dtype`` (PyTorch's
    view(dtype): the last dim scales by the ratio of item sizes; the result is not differentiable)."""
    if len(shape) == 1 and not hasattr(shape[0], "__index__") and not isinstance(shape[0], (tuple, list)):
        from .. import dtypes as _dtypes
        from .helpers import constant

        dtype = _dtypes.as_dtype(shape[0])
        data = self._data
        if dtype.itemsize != data.dtype.itemsize:
            if data.ndim == 0 or (data.shape[-1] * data.dtype.itemsize) % dtype.itemsize or \
                    (data.strides[-1] != data.dtype.itemsize and data.shape[-1] > 1):
                raise RuntimeError(f"view({dtype}): a {data.dtype} tensor of shape {tuple(data.shape)} needs a "
                                   f"contiguous last dim whose byte size is a multiple of {dtype.itemsize}")
        return constant(data.view(dtype))
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


_METHODS = {
    # arithmetic
    "__mod__": M.remainder, "__rmod__": M.rremainder, "__floordiv__": M.floor_divide,
    "__rfloordiv__": M.rfloordiv, "remainder": M.remainder, "fmod": M.fmod, "floor_divide": M.floor_divide,
    "true_divide": M.true_divide,
    "__add__": M.add, "__radd__": M.add, "__sub__": M.sub, "__rsub__": M.rsub,
    "__mul__": M.mul, "__rmul__": M.mul, "__truediv__": M.div, "__rtruediv__": M.rdiv,
    "__pow__": M.pow, "__rpow__": M.rpow, "__neg__": M.neg, "__matmul__": MM.matmul,
    "__rmatmul__": MM.rmatmul, "__abs__": E.abs,
    "add": M.add, "sub": M.sub, "mul": M.mul, "div": M.div, "pow": M.pow, "neg": M.neg,
    "square": M.square, "matmul": MM.matmul, "dot": MM.dot,
    # element-wise
    "expm1": E.expm1, "log2": E.log2, "log10": E.log10, "rsqrt": E.rsqrt, "tan": E.tan, "sinh": E.sinh,
    "cosh": E.cosh, "asin": E.asin, "acos": E.acos, "atan": E.atan, "asinh": E.asinh, "acosh": E.acosh,
    "atanh": E.atanh, "arcsin": E.asin, "arccos": E.acos, "arctan": E.atan, "arcsinh": E.asinh,
    "arccosh": E.acosh, "arctanh": E.atanh, "atan2": E.atan2, "arctan2": E.atan2, "hypot": E.hypot,
    "logaddexp": E.logaddexp, "copysign": E.copysign, "lerp": E.lerp, "nan_to_num": E.nan_to_num,
    "floor": E.floor, "ceil": E.ceil, "trunc": E.trunc, "round": E.round, "frac": E.frac,
    "erf": SP.erf, "erfc": SP.erfc, "erfinv": SP.erfinv, "where": E._where_method,
    "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt, "abs": E.abs, "sign": E.sign,
    "sin": E.sin, "cos": E.cos, "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum,
    "minimum": E.minimum,
    # activations
    "prelu": A.prelu, "hardshrink": A.hardshrink,
    "sigmoid": A.sigmoid, "tanh": A.tanh, "relu": A.relu, "softmax": A.softmax, "log_softmax": A.log_softmax,
    # reductions
    "cumprod": SC.cumprod, "cummax": SC.cummax, "cummin": SC.cummin, "logcumsumexp": SC.logcumsumexp,
    "std_mean": R.std_mean, "var_mean": R.var_mean, "aminmax": R.aminmax, "count_nonzero": R.count_nonzero,
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
    "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin, "logsumexp": R.logsumexp,
    "prod": R.prod, "norm": N.norm, "cumsum": SC.cumsum, "any": R.any, "all": R.all,
    # shape
    "tril": S.tril, "triu": S.triu, "flip": S.flip, "roll": S.roll, "diag": S.diag, "diagonal": S.diagonal,
    "diag_embed": S.diag_embed, "repeat": S.repeat, "repeat_interleave": S.repeat_interleave,
    "unflatten": S.unflatten, "unfold": S.unfold,
    "reshape": _reshape, "view": _view, "flatten": S.flatten, "permute": _permute,
    "transpose": _transpose, "swapaxes": S.transpose, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
    "expand": _expand, "broadcast_to": S.broadcast_to, "split": S.split, "chunk": S.chunk,
    "view_as": _view_as, "expand_as": _expand_as, "t": _t,
    # indexing and sorting
    "masked_select": I.masked_select, "scatter": I.scatter, "scatter_add": I.scatter_add,
    "scatter_reduce": I.scatter_reduce, "index_select": I.index_select, "take_along_dim": I.take_along_dim,
    "index_add": I.index_add, "sort": SO.sort, "argsort": SO.argsort, "topk": SO.topk, "kthvalue": SO.kthvalue,
    "median": SO.median, "mode": SO.mode, "nonzero": SO.nonzero, "unique": SO.unique,
    "scatter_": I.scatter_, "scatter_add_": I.scatter_add_, "index_add_": I.index_add_,
    "__getitem__": I.getitem, "__setitem__": P.setitem, "gather": I.gather, "masked_fill": I.masked_fill,
    # linear algebra
    "bmm": MM.bmm, "mv": MM.mv, "outer": MM.outer, "kron": MM.kron, "cross": LA.cross, "det": LA.det,
    "inverse": LA.inv,
    # conversions
    # comparisons
    "isclose": C.isclose, "allclose": C.allclose, "equal": C.equal,
    "__eq__": _eq, "__ne__": _ne, "__lt__": C.lt, "__le__": C.le, "__gt__": C.gt, "__ge__": C.ge,
    "eq": C.eq, "ne": C.ne, "lt": C.lt, "le": C.le, "gt": C.gt, "ge": C.ge,
    # bitwise (logical on bools) and logical
    "__lshift__": C.bitwise_left_shift, "__rlshift__": C.rlshift, "__rshift__": C.bitwise_right_shift,
    "__rrshift__": C.rrshift, "bitwise_left_shift": C.bitwise_left_shift,
    "bitwise_right_shift": C.bitwise_right_shift,
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
