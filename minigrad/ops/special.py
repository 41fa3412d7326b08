"""Special functions: the error function erf, its complement erfc and its inverse erfinv.

    erf(x) = (2/√π) ∫₀ˣ e^{-t²} dt,   erfc(x) = 1 - erf(x),   erf(erfinv(y)) = y on [-1, 1].

The values come from SciPy (CuPy's ``cupyx.scipy.special`` on the GPU) when it is installed,
else from the array-op forms of :mod:`minigrad.ops._erf`, good to about 1e-14 relative (see
there).  Integers and bools compute in the default float dtype, as in PyTorch.
"""
from __future__ import annotations

import math
from typing import Any

from ..autograd.function import Function
from ..devices import array_module
from ..tensor import Tensor
from . import _erf
from .elementwise import _float_array, _require_tensor, exp

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _special(name: str, a: Any) -> Any:
    """``name`` of a float array's values, in its dtype (SciPy computes float16 in float32)."""
    return _erf.special_function(array_module(a), name)(a).astype(a.dtype, copy=False)


class Erf(Function):
    """y = erf x.   dx = dy · (2/√π) e^{-x²}."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return _special("erf", _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * exp(-x * x) * _TWO_OVER_SQRT_PI


class Erfc(Function):
    """y = erfc x = 1 - erf x, which keeps its relative precision for large x (erfc 10 ≈ 2e-45).
    dx = -dy · (2/√π) e^{-x²}."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return _special("erfc", _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * exp(-x * x) * -_TWO_OVER_SQRT_PI


class Erfinv(Function):
    """y = erfinv x, for -1 ≤ x ≤ 1 (±inf at ±1, NaN outside).   dx = dy · (√π/2) e^{y²}
    (the reciprocal of erf's slope at y)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        a = _float_array(x)
        return array_module(a).copysign(_special("erfinv", a), a)  # (SciPy's erfinv(-0) is +0)

    def backward(self, g: Tensor) -> Tensor:
        y = self.output
        return g * exp(y * y) * (1 / _TWO_OVER_SQRT_PI)


def erf(x: Tensor) -> Tensor:
    """The error function (2/√π) ∫₀ˣ e^{-t²} dt element-wise, in (-1, 1)."""
    _require_tensor("erf", x)
    return Erf.apply(x)


def erfc(x: Tensor) -> Tensor:
    """The complementary error function 1 - erf(x) element-wise, accurate where it is tiny."""
    _require_tensor("erfc", x)
    return Erfc.apply(x)


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function element-wise: erf(erfinv(x)) = x for -1 ≤ x ≤ 1; ±inf at ±1 and
    NaN outside [-1, 1]."""
    _require_tensor("erfinv", x)
    return Erfinv.apply(x)
