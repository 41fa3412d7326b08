"""Activations, in forms that never overflow (inputs of ±1e4 in float32 are fine).

sigmoid(x) = 1 / (1 + e⁻ˣ) is evaluated as e^{-|x|}-based branches; softplus as
max(x, 0) + log1p(e^{-|x|}); softmax / log_softmax subtract the row maximum first.

Each op here computes its forward on arrays and writes its derivative by hand (some as one
fused backward op: ``MaskGrad``, ``SigmoidGrad``, ``TanhGrad``).  Beside each one is its
*reference*: the same function composed from differentiable primitives, the way it is written
on paper, whose derivative autograd finds by itself.  The tests check that both agree in
value, gradient and second derivative:

* :func:`relu_reference`, :func:`leaky_relu_reference`, :func:`sigmoid_reference`,
  :func:`tanh_reference`, :func:`softplus_reference`, :func:`gelu_reference`,
  :func:`softmax_reference`, :func:`log_softmax_reference`.

The references are plain formulas: they overflow where the fused ops do not (e.g. eˣ for
x > 709 in float64).
"""
from __future__ import annotations

import functools
import math
from typing import Any

from ..devices import HostArray, array_module, is_cuda_array
from ..autograd.function import Function
from ..tensor import Tensor
from . import cuda_kernels
from . import _erf as _erf_series
from .helpers import constant, typed_scalar
from .elementwise import abs as tensor_abs, exp, log, log1p, where


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
        self.save_for_backward(g if self.needs_input_grad[1] else None, y)  # (dy reads g, both read y)
        b = y._data
        return g._data * (b * (1 - b))

    def backward(self, dz: Tensor) -> tuple:
        g, y = self.saved_tensors
        return (dz * (y * (1 - y)) if self.needs_input_grad[0] else None,
                dz * g * (1 - 2 * y) if self.needs_input_grad[1] else None)


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
        self.save_for_backward(g if self.needs_input_grad[1] else None, y)  # (dy reads g, both read y)
        b = y._data
        return g._data * (1 - b * b)

    def backward(self, dz: Tensor) -> tuple:
        g, y = self.saved_tensors
        return (dz * (1 - y * y) if self.needs_input_grad[0] else None,
                dz * g * y * -2 if self.needs_input_grad[1] else None)


class ReLU(Function):
    """y = max(x, 0).   dx = dy · 1[y ≠ 0]: 0 where x ≤ 0, and the gradient passes where x is
    NaN (y is NaN there), as PyTorch's rule "0 where the output is ≤ 0" does.

    Backward reads only ``mask`` = 1[y ≠ 0], made in forward (it shares no memory with x, so x
    may change in place afterwards).  It is kept as 0/1 in x's dtype: a float × float product is
    cheaper than float × bool."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        needs_mask = self.needs_input_grad[0]
        if needs_mask and a.__class__ is not HostArray and is_cuda_array(a):
            y, self.mask = cuda_kernels.relu_with_mask(a)  # one launch instead of three
            return y
        zero = typed_scalar(0, a)
        y = array_module(a).maximum(a, zero)
        if needs_mask:
            self.mask = (y != zero).astype(a.dtype)
        return y

    def backward(self, g: Tensor) -> Tensor:
        return MaskGrad.apply(g, self.mask)


class MaskGrad(Function):
    """The backward of ReLU as one op: z = g · mask (mask a constant array of 0s and 1s).
    dg = dz · mask: the op is its own derivative, so second derivatives work too (it is
    recorded only under ``create_graph=True``)."""

    def forward(self, g: Tensor, mask: Any) -> Any:
        self.mask = mask
        return g._data * mask

    def backward(self, dz: Tensor) -> tuple:
        return MaskGrad.apply(dz, self.mask), None


class LeakyReLU(Function):
    """y = x if x > 0 else slope·x.   dx = dy · (1 or slope).

    ``scale`` (1 or slope per element, made in forward) gives both: y = x · scale, and
    backward reads only it."""

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
        (x,) = self.saved_tensors
        z = x * self.beta
        s = sigmoid(z)
        linear = constant(z._data > self.threshold)
        return where(linear, g, g * s), None, None


def _float_input(x: Tensor, op: str) -> None:
    """Refuse an integer or bool tensor, as PyTorch does for activations it computes only in float."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")


def _as_float(x: Tensor, op: str) -> Tensor:
    """An integer tensor in the default float dtype (PyTorch's rule for float functions of
    integers); a bool tensor is refused."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    kind = x._data.dtype.kind
    if kind == "f":
        return x
    if kind == "b":
        raise TypeError(f"{op}: bool tensors are not supported")
    from ..dtypes import get_default_dtype
    from .conversion import cast

    return cast(x, get_default_dtype())


def sigmoid(x: Tensor) -> Tensor:
    if x._data.dtype.kind != "f":  # integers and bools: in the default float dtype
        from ..dtypes import get_default_dtype
        from .conversion import cast

        x = cast(x, get_default_dtype())
    return Sigmoid.apply(x)


def sigmoid_reference(x: Tensor) -> Tensor:
    """sigmoid(x) = 1 / (1 + e⁻ˣ) from ``exp``, ``+`` and ``/``; its derivative σ(1 - σ) is what
    :class:`SigmoidGrad` computes in one op.  (e⁻ˣ overflows for x < -709 in float64.)"""
    return 1 / (1 + exp(-x))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def tanh_reference(x: Tensor) -> Tensor:
    """tanh(x) = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ) from ``exp``, ``-``, ``+`` and ``/``; its derivative
    1 - tanh² is what :class:`TanhGrad` computes in one op.  (eˣ overflows for |x| > 709.)"""
    e, e_neg = exp(x), exp(-x)
    return (e - e_neg) / (e + e_neg)


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def relu_reference(x: Tensor) -> Tensor:
    """relu(x) = 0 where x ≤ 0, else x, with ``where``: the gradient goes to x where x > 0 and
    where x is NaN (the comparison is false there), as ReLU's mask has it."""
    return where(x <= 0, 0.0, x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    _float_input(x, "leaky_relu")
    return LeakyReLU.apply(x, float(negative_slope))


def leaky_relu_reference(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu(x) = x where x > 0, else slope·x, with ``where`` (slope·x at 0, so the
    derivative there is the slope, as :class:`LeakyReLU`'s)."""
    return where(x > 0, x, x * float(negative_slope))


class _Expm1(Function):
    """y = eˣ - 1, accurate for small |x| (eˣ - 1 would cancel).   dx = dy · (y + 1)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).expm1(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return g * (self.output + 1)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """y = x for x > 0, α(eˣ - 1) otherwise (composed from differentiable ops)."""
    _float_input(x, "elu")
    negative = constant(x._data <= 0)
    # expm1 of the clipped input: no overflow for large positive x in the unused branch (and a
    # constant 0 there, not x·0, which is NaN at x = inf and would send NaN back through x).
    safe = where(negative, x, 0.0)
    return where(negative, _Expm1.apply(safe) * alpha, x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    _float_input(x, "softplus")
    return Softplus.apply(x, float(beta), float(threshold))


def softplus_reference(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """softplus(x) = log(1 + e^{βx}) / β, and x itself where βx > ``threshold`` (PyTorch's
    switch to the linear function), from ``exp``, ``log1p`` and ``where``.  Its derivative is
    sigmoid(βx) (1 above the threshold).  (e^{βx} overflows for βx > 709.)"""
    z = x * float(beta)
    return where(z > float(threshold), x, log1p(exp(z)) / float(beta))


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
        (x,) = self.saved_tensors
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
        (x,) = self.saved_tensors
        return g * exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    _float_input(x, "gelu")
    return GELU.apply(x, approximate)


def gelu_reference(x: Tensor, approximate: str = "none") -> Tensor:
    """gelu(x) = x·Φ(x) as a product, with Φ the normal CDF (the primitive ``_Phi``, whose
    derivative is the density φ); ``approximate='tanh'`` is ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    from ``tanh``, ``*`` and ``+``.  Autograd's product rule gives GELU's Φ(x) + x·φ(x)."""
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * _Phi.apply(x)


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
    from .helpers import normalize_axes

    axis = dim if dim is not None else axis
    if axis is None:
        axis = -1
    return normalize_axes(axis, x.ndim, op)[0] if x.ndim else None


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:  # noqa: D401
    """Softmax along ``axis`` (default: the last)."""
    return Softmax.apply(x, _softmax_axis(x, axis, dim, "softmax"))


def softmax_reference(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """softmax(x) = eˣ / Σ eˣ along ``axis`` (default: the last), from ``exp``, ``sum`` and
    ``/``, without the shift by the maximum (so eˣ overflows for x > 709)."""
    e = exp(x)
    return e / e.sum(axis=_softmax_axis(x, axis, dim, "softmax"), keepdims=True)


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis`` (default: the last), computed stably."""
    return LogSoftmax.apply(x, _softmax_axis(x, axis, dim, "log_softmax"))


def log_softmax_reference(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log_softmax(x) = x - log Σ eˣ along ``axis`` (default: the last), from ``exp``, ``sum``,
    ``log`` and ``-``, without the shift by the maximum (so eˣ overflows for x > 709)."""
    return x - log(exp(x).sum(axis=_softmax_axis(x, axis, dim, "log_softmax"), keepdims=True))


# -- more activations, composed from the differentiable ops above ------------------------------
#
# Each is written the way it reads on paper, with ``where`` picking the branch of a piecewise
# function.  A branch condition is a constant mask made from the input's values, so the
# gradient at a kink is the one of the branch that holds there; the masks are chosen to give
# PyTorch's derivative at each kink (and at NaN, where every comparison is false).

#: SELU's constants (Klambauer et al., 2017): the fixed point of mean 0 and variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """Scaled ELU: y = λ·x for x > 0, λ·α(eˣ - 1) otherwise, with λ ≈ 1.0507 and α ≈ 1.6733
    (:data:`SELU_SCALE`, :data:`SELU_ALPHA`).  Same shape as x; float inputs only."""
    _float_input(x, "selu")
    return elu(x, SELU_ALPHA) * SELU_SCALE


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: y = x for x > 0, α(e^{x/α} - 1) otherwise.
    dy/dx = 1 for x > 0, e^{x/α} otherwise (1 at 0 from both sides).  Float inputs only."""
    _float_input(x, "celu")
    alpha = float(alpha)
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the negative branch divides by it)")
    negative = constant(x._data <= 0)
    safe = where(negative, x, 0.0)  # no overflow of e^{x/α} in the branch that is not taken
    return where(negative, _Expm1.apply(safe / alpha) * alpha, x)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val].  dy/dx = 1 strictly inside the interval, 0 at and
    beyond its ends (PyTorch's rule; clamp passes the gradient at the ends).  Integer tensors
    are clipped to the bounds truncated to integers, and give no gradient."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
    a = x._data
    xp = array_module(a)
    kind = a.dtype.kind
    if kind == "b":
        raise TypeError("hardtanh: bool tensors are not supported")
    if kind in "iu":
        return constant(xp.clip(a, int(min_val), int(max_val)).astype(a.dtype, copy=False))
    outside = constant((a <= min_val) | (a >= max_val))
    clipped = constant(xp.clip(a, min_val, max_val).astype(a.dtype, copy=False))
    return where(outside, clipped, x)


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6): hardtanh on [0, 6] (gradient 0 at 0 and at 6)."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """Piecewise-linear sigmoid: y = 0 for x ≤ -3, 1 for x ≥ 3, (x + 3)/6 between.
    dy/dx = 1/6 strictly between -3 and 3, else 0.  Float inputs only."""
    _float_input(x, "hardsigmoid")
    a = x._data
    xp = array_module(a)
    inside = constant((a > -3) & (a < 3))
    ends = constant(xp.clip((a + 3) / 6, 0, 1).astype(a.dtype, copy=False))
    return where(inside, (x + 3) / 6, ends)


def hardswish(x: Tensor) -> Tensor:
    """x · hardsigmoid(x): y = 0 for x ≤ -3, x for x ≥ 3, x(x + 3)/6 between.
    dy/dx = 0 for x ≤ -3, x/3 + 1/2 strictly between, 1 for x ≥ 3.  Float inputs only."""
    _float_input(x, "hardswish")
    a = x._data
    middle = constant((a > -3) & (a < 3))
    low = constant(a <= -3)
    inner = where(middle, x, 0.0)  # (no NaN or inf sent back through the branch not taken)
    zero = constant(a * 0)  # x · 0 on the low branch, as PyTorch's product: -0, and NaN at -inf
    return where(middle, inner * (inner + 3) / 6, where(low, zero, x))


def silu(x: Tensor) -> Tensor:
    """SiLU (swish): y = x · sigmoid(x).   dy/dx = σ(x)(1 + x(1 - σ(x))).  Float inputs only."""
    _float_input(x, "silu")
    return x * sigmoid(x)


def mish(x: Tensor) -> Tensor:
    """y = x · tanh(softplus(x)), softplus computed stably.  Float inputs only."""
    _float_input(x, "mish")
    return x * tanh(softplus(x))


def softsign(x: Tensor) -> Tensor:
    """y = x / (1 + |x|).   dy/dx = 1 / (1 + |x|)².  Integers give the default float dtype."""
    x = _as_float(x, "softsign")
    return x / (tensor_abs(x) + 1)


def logsigmoid(x: Tensor) -> Tensor:
    """y = log σ(x) = -softplus(-x), as -(max(-x, 0) + log1p(e^{-|x|})): finite for every
    finite x (about x for x ≪ 0, -e⁻ˣ for x ≫ 0).   dy/dx = σ(-x).  Float inputs only."""
    _float_input(x, "logsigmoid")
    return -softplus(-x, 1.0, math.inf)


def tanhshrink(x: Tensor) -> Tensor:
    """y = x - tanh x.   dy/dx = tanh² x.  Integers give the default float dtype."""
    x = _as_float(x, "tanhshrink")
    return x - tanh(x)


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """Soft thresholding: y = x - λ for x > λ, x + λ for x < -λ, 0 on [-λ, λ].
    dy/dx = 1 outside [-λ, λ], 0 on it (ends included).  λ ≥ 0; float inputs only."""
    _float_input(x, "softshrink")
    lambd = float(lambd)
    if not lambd >= 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    a = x._data
    inside = constant((a >= -lambd) & (a <= lambd))
    return where(inside, 0.0, where(constant(a > 0), x - lambd, x + lambd))


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """Hard thresholding: y = 0 on [-λ, λ], x elsewhere.   dy/dx = 0 on [-λ, λ], 1 elsewhere.
    Float inputs only."""
    _float_input(x, "hardshrink")
    lambd = float(lambd)
    a = x._data
    return where(constant((a >= -lambd) & (a <= lambd)), 0.0, x)


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """y = x where x > threshold, else ``value``.   dy/dx = 1 where x > threshold, else 0.
    Integer tensors keep their dtype (``threshold`` and ``value`` truncated to integers, as
    PyTorch converts them) and give no gradient."""
    a = x._data
    kind = a.dtype.kind
    if kind == "b":
        raise TypeError("threshold: bool tensors are not supported")
    if kind in "iu":
        xp = array_module(a)
        return constant(xp.where(a <= int(threshold), xp.asarray(int(value)).astype(a.dtype), a))
    return where(constant(a <= threshold), float(value), x)


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split x in halves a, b along ``dim``; y = a · sigmoid(b).
    Shape: x's, with ``dim`` halved (its size must be even).  Float inputs only."""
    from .helpers import normalize_axes

    _float_input(x, "glu")
    if x.ndim == 0:
        raise ValueError("glu: a 0-d tensor cannot be halved (expected at least one dim)")
    axis = normalize_axes(dim, x.ndim, "glu")[0]
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"glu: the halved dim must have an even size, but dim {axis} of shape "
                         f"{tuple(x.shape)} has size {size}")
    first = [slice(None)] * x.ndim
    second = list(first)
    first[axis], second[axis] = slice(0, size // 2), slice(size // 2, size)
    return x[tuple(first)] * sigmoid(x[tuple(second)])


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with learned slopes: y = x where x > 0, else w · x.

    ``weight`` is 0-d or 1-d with 1 or C elements, C = x.shape[1] (the channel dim; 1 when x
    has fewer than 2 dims): one slope for all, or one per channel.  Its dtype must be x's.
    dy/dx = 1 for x > 0, w otherwise (w at 0); dy/dw = x where x ≤ 0, summed per channel."""
    for name, t in (("input", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"prelu: {name} must be a tensor, got {type(t).__name__}")
    _float_input(x, "prelu")
    if weight.dtype != x.dtype:
        raise TypeError(f"prelu: weight dtype {weight.dtype} differs from input dtype {x.dtype}")
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-d, got shape {tuple(weight.shape)}")
    count = weight._data.size
    channels = x.shape[1] if x.ndim >= 2 else 1
    if count != 1 and count != channels:
        raise ValueError(f"prelu: weight has {count} elements, but input of shape {tuple(x.shape)} has "
                         f"{channels} channel(s) (expected 1 or {channels})")
    slope = weight.reshape(()) if count == 1 else weight.reshape((count,) + (1,) * (x.ndim - 2))
    positive = constant(x._data > 0)
    negative_part = where(positive, 0.0, x)  # (so dy/dw is 0, not 0·x, where x > 0: finite at x = inf)
    return where(positive, x, slope * negative_part)


def softmin(x: Tensor, dim: int | None = None) -> Tensor:
    """softmax(-x) along ``dim`` (default: the last): weights that favour small values.
    Float inputs only."""
    _float_input(x, "softmin")
    return softmax(-x, dim=dim)
