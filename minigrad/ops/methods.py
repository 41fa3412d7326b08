"""Attach the ops to :class:`Tensor` as operators and methods (``x + y``, ``x.sum()``...).

One table, so it is easy to see which method is which op.
"""
from __future__ import annotations

from typing import Any

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


def _eq(self: Tensor, other: Any) -> Any:
    return C.eq(self, other)


def _ne(self: Tensor, other: Any) -> Any:
    return C.ne(self, other)


def _any(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    from ._util import constant

    return constant(self._data.any(axis=axis, keepdims=keepdims))


def _all(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    from ._util import constant

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
    "amax": R.max, "amin": R.min, "argmax": R.argmax, "argmin": R.argmin, "logsumexp": R.logsumexp,
    "prod": R.prod, "norm": N.norm, "cumsum": SC.cumsum, "any": _any, "all": _all,
    # shape
    "reshape": _reshape, "view": _reshape, "flatten": S.flatten, "permute": _permute,
    "transpose": _transpose, "swapaxes": S.transpose, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
    "expand": _expand, "broadcast_to": S.broadcast_to, "split": S.split, "chunk": S.chunk,
    "__getitem__": I.getitem, "__setitem__": P.setitem, "gather": I.gather, "masked_fill": I.masked_fill,
    # comparisons
    "__eq__": _eq, "__ne__": _ne, "__lt__": C.lt, "__le__": C.le, "__gt__": C.gt, "__ge__": C.ge,
    "eq": C.eq, "ne": C.ne, "lt": C.lt, "le": C.le, "gt": C.gt, "ge": C.ge,
    "__and__": C.logical_and, "__or__": C.logical_or, "__xor__": C.logical_xor, "__invert__": C.logical_not,
    "isnan": C.isnan, "isinf": C.isinf, "isfinite": C.isfinite,
    # copies
    "clone": V.clone,
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
