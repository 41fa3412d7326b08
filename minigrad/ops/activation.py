"""Activations, in forms that never overflow (inputs of ±1e4 in float32 are fine).

sigmoid(x) = 1 / (1 + e⁻ˣ) is evaluated as e^{-|x|}-based branches; softplus as
max(x, 0) + log1p(e^{-|x|}); softmax / log_softmax subtract the row maximum first.
"""
from __future__ import annotations

import functools
import math
from typing import Any

from .._device import HostArray, array_module, is_cuda_array
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..tensor import Tensor, _make
from . import _cuda_kernels
from . import _erf as _erf_series
from ._util import constant, typed_scalar
from .elementwise import exp, where


def _stable_sigmoid(xp: Any, a: Any) -> Any:
    e = xp.exp(-xp.abs(a))  # in (0, 1]: never overflows
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ).   dx = dy · y (1 - y)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return _stable_sigmoid(array_module(x._data), x._data)

    def backward(self, g: Tensor) -> Tensor:
        return SigmoidGrad.apply(g, self.output)


class SigmoidGrad(Function):
    """The backward of sigmoid as one op: z = g · y (1 - y).  (One op instead of three
    keeps backward cheap; its own backward makes second derivatives work.)
    dg = dz · y (1 - y),  dy = dz · g (1 - 2y)."""

    def forward(self, g: Tensor, y: Tensor) -> Any:
        self.saved = (g, y)
        b = y._data
        return g._data * (b * (1 - b))

    def backward(self, dz: Tensor) -> tuple:
        g, y = self.saved
        return (dz * (y * (1 - y)) if self.next[0] is not None else None,
                dz * g * (1 - 2 * y) if self.next[1] is not None else None)


class Tanh(Function):
    """y = tanh x.   dx = dy · (1 - y²)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).tanh(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return TanhGrad.apply(g, self.output)


class TanhGrad(Function):
    """The backward of tanh as one op: z = g · (1 - y²).
    dg = dz · (1 - y²),  dy = -2 · dz · g · y."""

    def forward(self, g: Tensor, y: Tensor) -> Any:
        self.saved = (g, y)
        b = y._data
        return g._data * (1 - b * b)

    def backward(self, dz: Tensor) -> tuple:
        g, y = self.saved
        return (dz * (1 - y * y) if self.next[0] is not None else None,
                dz * g * y * -2 if self.next[1] is not None else None)


class ReLU(Function):
    """y = max(x, 0).   dx = dy · 1[y ≠ 0]: 0 where x ≤ 0, and the gradient passes where x is
    NaN (y is NaN there), as PyTorch's rule "0 where the output is ≤ 0" does.

    The mask is kept as 0/1 in x's dtype: a float × float product is cheaper than float × bool."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        if GradMode.enabled and a.__class__ is not HostArray and is_cuda_array(a):
            y, self.mask = _cuda_kernels.relu_with_mask(a)  # one launch instead of three
            return y
        zero = typed_scalar(0, a)
        y = array_module(a).maximum(a, zero)
        if GradMode.enabled:
            self.mask = (y != zero).astype(a.dtype)
        return y

    def backward(self, g: Tensor) -> Tensor:
        if GradMode.enabled:  # create_graph: a recorded op, so second derivatives work
            return MaskGrad.apply(g, self.mask)
        return _make(g._data * self.mask, False, None)


class MaskGrad(Function):
    """The backward of ReLU as one op: z = g · mask (mask a constant array of 0s and 1s).
    dg = dz · mask, so second derivatives work too."""

    def forward(self, g: Tensor, mask: Any) -> Any:
        self.mask = mask
        return g._data * mask

    def backward(self, dz: Tensor) -> tuple:
        return MaskGrad.apply(dz, self.mask), None


class LeakyReLU(Function):
    """y = x if x > 0 else slope·x.   dx = dy · (1 or slope)."""

    def forward(self, x: Tensor, slope: float) -> Any:
        a = x._data
        xp = array_module(a)
        self.scale = xp.where(a > 0, 1, slope).astype(a.dtype)
        return a * self.scale

    def backward(self, g: Tensor) -> tuple:
        return g * constant(self.scale), None


class Softplus(Function):
    """y = log(1 + e^{βx}) / β (linear above ``threshold``).   dx = dy · sigmoid(βx)."""

    def forward(self, x: Tensor, beta: float, threshold: float) -> Any:
        self.save_for_backward(x)
        self.beta, self.threshold = beta, threshold
        a = x._data
        xp = array_module(a)
        z = a * beta
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(z > threshold, a, soft).astype(a.dtype, copy=False)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved
        z = x * self.beta
        s = sigmoid(z)
        linear = constant(z._data > self.threshold)
        return where(linear, g, g * s), None, None


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, float(negative_slope))


class _Expm1(Function):
    """y = eˣ - 1, accurate for small |x| (eˣ - 1 would cancel).   dx = dy · (y + 1)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).expm1(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return g * (self.output + 1)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """y = x for x > 0, α(eˣ - 1) otherwise (composed from differentiable ops)."""
    negative = constant(x._data <= 0)
    # expm1 of the clipped input: no overflow for large positive x in the unused branch (and a
    # constant 0 there, not x·0, which is NaN at x = inf and would send NaN back through x).
    safe = where(negative, x, 0.0)
    return where(negative, _Expm1.apply(safe) * alpha, x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(x, float(beta), float(threshold))


_ERF: dict = {}  # array module name -> erf(a), looked up once (a failed import would be retried per call)


def _erf(xp: Any, a: Any) -> Any:
    erf = _ERF.get(xp.__name__)
    if erf is None:
        try:
            if xp.__name__ == "cupy":
                from cupyx.scipy.special import erf
            else:
                from scipy.special import erf
        except ImportError:  # no SciPy: Chebyshev series, good to ~2e-15 (see _erf.py)
            erf = functools.partial(_erf_series.erf, xp)
        _ERF[xp.__name__] = erf
    return erf(a)


class GELU(Function):
    """y = x·Φ(x) with Φ the standard normal CDF.   dx = dy · (Φ(x) + x·φ(x)).

    ``approximate='tanh'`` uses Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))), as PyTorch.
    """

    def forward(self, x: Tensor, approximate: str) -> Any:
        self.save_for_backward(x)
        self.approximate = approximate
        a = x._data
        xp = array_module(a)
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)
            return (0.5 * a * (1 + xp.tanh(inner))).astype(a.dtype, copy=False)
        return (a * 0.5 * (1 + _erf(xp, a / math.sqrt(2)))).astype(a.dtype, copy=False)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = tanh((x + x * x * x * 0.044715) * k)
            d = (1 + t) * 0.5 + x * 0.5 * (1 - t * t) * k * (1 + x * x * (3 * 0.044715))
            return g * d, None
        cdf = _Phi.apply(x)
        pdf = exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf), None


class _Phi(Function):
    """Φ(x), the standard normal CDF.   dx = dy · φ(x).  (Used by GELU's backward.)"""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        a = x._data
        return (0.5 * (1 + _erf(array_module(a), a / math.sqrt(2)))).astype(a.dtype, copy=False)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved
        return g * exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate)


class LogSoftmax(Function):
    """y = x - logsumexp(x).   dx = dy - softmax(x) · Σ dy  (sums along ``axis``)."""

    saves_output = True

    def forward(self, x: Tensor, axis: int) -> Any:
        a = x._data
        xp = array_module(a)
        self.axis = axis
        if not a.size:  # nothing to normalise (and log of an empty sum would warn)
            return a.copy()
        shifted = a - a.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, g: Tensor) -> tuple:
        p = exp(self.output)
        return g - p * g.sum(axis=self.axis, keepdims=True), None


class Softmax(Function):
    """y = eˣ / Σeˣ.   dx = y · (dy - Σ dy·y)  (sums along ``axis``)."""

    saves_output = True

    def forward(self, x: Tensor, axis: int) -> Any:
        a = x._data
        xp = array_module(a)
        self.axis = axis
        e = xp.exp(a - a.max(axis=axis, keepdims=True)) if a.size else a
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, g: Tensor) -> tuple:
        y = self.output
        return y * (g - (g * y).sum(axis=self.axis, keepdims=True)), None


def _softmax_axis(x: Tensor, axis: Any, dim: Any, op: str) -> int:
    from ._util import normalize_axes

    axis = dim if dim is not None else axis
    if axis is None:
        axis = -1
    return normalize_axes(axis, x.ndim, op)[0] if x.ndim else None


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:  # noqa: D401
    """Softmax along ``axis`` (default: the last)."""
    return Softmax.apply(x, _softmax_axis(x, axis, dim, "softmax"))


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis`` (default: the last), computed stably."""
    return LogSoftmax.apply(x, _softmax_axis(x, axis, dim, "log_softmax"))
