"""Element-wise math: exp, log, sqrt, abs, sign, the trigonometric and hyperbolic functions and
their inverses, rounding, atan2, hypot, logaddexp, copysign, lerp, nan_to_num, clamp,
maximum/minimum and where (erf, erfc and erfinv are in :mod:`minigrad.ops.special`).

Functions with real values take integer and bool tensors too and compute in the default float
dtype, as PyTorch does (``exp`` of an int64 tensor is float32); the rounding ops keep an integer
tensor as it is.

The ops with a kink write their derivative on arrays (a sign, a mask, a tie split); beside each
is its reference, the same function composed from differentiable primitives, which the tests
check against the op in value, gradient and second derivative: :func:`abs_reference`,
:func:`clamp_reference`, :func:`maximum_reference`, :func:`minimum_reference`.
"""
from __future__ import annotations

import math
import operator
from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..dtypes import get_default_dtype, is_number, result_type
from ..tensor import Tensor
from .helpers import array_module_of, as_tensor, binary_arrays, constant, data_of
from .shape import broadcast_error, sum_to


def _float_array(x: Tensor) -> Any:
    """x's array for a function with real values: an integer or bool array is converted to the
    default float dtype first, as PyTorch does (``exp`` of an int64 tensor is float32)."""
    a = x._data
    return a if a.dtype.kind == "f" else a.astype(get_default_dtype())


def _require_tensor(op: str, x: Any, argument: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor as {argument}, got {type(x).__name__}")


class Exp(Function):
    """y = eˣ.   dx = dy · y."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return array_module(a).exp(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        return g * self.output


class Log(Function):
    """y = ln x.   dx = dy / x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        a = x._data
        return array_module(a).log(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dx = dy / (1 + x)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        a = x._data
        return array_module(a).log1p(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (x + 1)


class Sqrt(Function):
    """y = √x.   dx = dy / (2y)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return array_module(a).sqrt(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        return g / (self.output * 2)


class Abs(Function):
    """y = |x|.   dx = dy · sign(x)  (0 at x = 0, the subgradient PyTorch uses, and 0 at NaN as
    PyTorch's sign there)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).abs(x._data)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        a = x._data
        xp = array_module(a)
        s = xp.sign(a)
        return g * constant(xp.where(s == s, s, 0))  # (s ≠ s only at NaN)


class Sin(Function):
    """y = sin x.   dx = dy · cos x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        a = x._data
        return array_module(a).sin(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * cos(x)


class Cos(Function):
    """y = cos x.   dx = -dy · sin x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        a = x._data
        return array_module(a).cos(a if a.dtype.kind == "f" else _float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return -g * sin(x)


class Clamp(Function):
    """y = min(max(x, lo), hi), so y = hi everywhere where lo > hi (PyTorch's rule).  x, lo and
    hi share one dtype; a bound is a tensor (broadcasting with x), a 0-d array, or None.

    As PyTorch:  dx = dy · 1[lo ≤ x ≤ hi]  (a bound itself counts as inside),
                 dlo = dy · 1[x < lo and lo < hi],   dhi = dy · 1[x > hi or hi < lo],
    each summed back to its operand's shape.  Comparisons with NaN are false: a NaN x gets no
    gradient (its y is NaN)."""

    def forward(self, x: Tensor, lo: Any, hi: Any) -> Any:
        a, l, h = x._data, data_of(lo), data_of(hi)
        xp = array_module(a)
        self.save_for_backward(x, lo, hi)
        try:  # maximum/minimum: exact for every dtype, and NaN in, NaN out
            out = a if l is None else xp.maximum(a, l)
            return out if h is None else xp.minimum(out, h)
        except ValueError as e:
            raise broadcast_error("clamp", e, *[v for v in (a, l, h) if v is not None]) from None

    def backward(self, g: Tensor) -> tuple:
        x, lo, hi = self.saved_tensors
        a, l, h = x._data, data_of(lo), data_of(hi)

        def part(mask: Any, like: Tensor) -> Tensor:
            return sum_to(g * constant(mask.astype(g.dtype)), like.shape)

        dx = dlo = dhi = None
        if self.needs_input_grad[0]:
            inside = (True if l is None else a >= l) & (True if h is None else a <= h)
            dx = part(array_module(a).asarray(inside), x)
        if self.needs_input_grad[1]:
            dlo = part((a < l) if h is None else (a < l) & (l < h), lo)
        if self.needs_input_grad[2]:
            dhi = part((a > h) if l is None else (a > h) | (h < l), hi)
        return dx, dlo, dhi


class Maximum(Function):
    """z = max(x, y) element-wise, in the promoted dtype (exact for every dtype); NaN in either
    operand gives NaN, as in PyTorch.

    The gradient goes to the operand that wins, and ties split it half and half:

        dx = dz · (1 − 1[y wins] − ½·1[x = y]),   dy = dz · (1 − 1[x wins] − ½·1[x = y]),

    where "a wins" is a > b here (a < b for :class:`Minimum`).  Where x or y is NaN no
    comparison holds, so both get the whole gradient, as in PyTorch."""

    op = "maximum"
    wins = staticmethod(operator.gt)

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays(self.op, x, y)
        self.save_for_backward(x, y)
        try:
            return getattr(array_module_of(a, b), self.op)(a, b)
        except ValueError as e:
            raise broadcast_error(self.op, e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        a, b = binary_arrays(self.op, x, y)
        tie = a == b
        return (_share(g, self.wins(b, a), tie, x) if self.needs_input_grad[0] else None,
                _share(g, self.wins(a, b), tie, y) if self.needs_input_grad[1] else None)


class Minimum(Maximum):
    """z = min(x, y) element-wise: :class:`Maximum` with the smaller operand winning."""

    op = "minimum"
    wins = staticmethod(operator.lt)


def _share(g: Tensor, loses: Any, tie: Any, operand: Tensor) -> Tensor:
    """An operand's part of the gradient of maximum/minimum: dz · (1 − 1[loses] − ½·1[tie]),
    summed back to the operand's shape."""
    w = (1.0 - loses - 0.5 * tie).astype(g.dtype, copy=False)
    return sum_to(g * constant(w), operand.shape)


class Where(Function):
    """z = x where cond else y.   dx = dz where cond (0 elsewhere),  dy = dz where not cond.

    ``cond`` is a bool tensor that gets no gradient; the backward reads it, so it is saved."""

    def forward(self, cond: Tensor, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("where", x, y)
        self.save_for_backward(cond)
        self.shapes = (a.shape, b.shape)
        try:
            return array_module(a).where(cond._data, a, b)
        except ValueError as e:
            raise broadcast_error("where", e, cond._data, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        (cond,) = self.saved_tensors
        sx, sy = self.shapes
        return (None,
                sum_to(where(cond, g, 0.0), sx) if self.needs_input_grad[1] else None,
                sum_to(where(cond, 0.0, g), sy) if self.needs_input_grad[2] else None)


def exp(x: Tensor) -> Tensor:
    """eˣ element-wise (integers and bools in the default float dtype, as every function below)."""
    if not isinstance(x, Tensor):
        _require_tensor("exp", x)
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """The natural logarithm ln x element-wise (NaN for x < 0, -inf at 0)."""
    if not isinstance(x, Tensor):
        _require_tensor("log", x)
    return Log.apply(x)


def log1p(x: Tensor) -> Tensor:
    """ln(1 + x) element-wise, accurate where x is tiny."""
    if not isinstance(x, Tensor):
        _require_tensor("log1p", x)
    return Log1p.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """√x element-wise (NaN for x < 0)."""
    if not isinstance(x, Tensor):
        _require_tensor("sqrt", x)
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    """|x| element-wise, in x's dtype (bool tensors are refused, as in PyTorch)."""
    if not isinstance(x, Tensor):
        _require_tensor("abs", x)
    if x._data.dtype.kind == "b":
        raise TypeError(f"abs: not defined for bool tensors (shape {x.shape}); convert to an integer dtype first")
    return Abs.apply(x)


def abs_reference(x: Tensor) -> Tensor:
    """|x| = x · sign(x), with ``sign`` a function of derivative 0: autograd's product rule
    then gives dx = dy · sign(x), 0 at x = 0, as :class:`Abs`."""
    return x * sign(x)


def sin(x: Tensor) -> Tensor:
    """sin x element-wise (x in radians)."""
    if not isinstance(x, Tensor):
        _require_tensor("sin", x)
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    """cos x element-wise (x in radians)."""
    if not isinstance(x, Tensor):
        _require_tensor("cos", x)
    return Cos.apply(x)


class Sign(Function):
    """y = -1, 0 or +1 by the sign of x (NaN at NaN, as NumPy; a bool tensor is its own sign).
    dx = 0: the derivative is 0 wherever it exists, and PyTorch takes 0 at the jump too, so
    dx is a zero tensor off the tape (zero even where dy is NaN)."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return a.copy() if a.dtype.kind == "b" else array_module(a).sign(a)

    def backward(self, g: Tensor) -> Tensor:
        return constant(array_module(g._data).zeros_like(g._data))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or +1 (same dtype as x); differentiable with derivative 0, as in PyTorch."""
    _require_tensor("sign", x)
    return Sign.apply(x)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]:  y = min(max(x, min), max), so where min > max every element
    is max (PyTorch's rule, for number and tensor bounds alike).  Each bound is None, a number,
    or a tensor that broadcasts with ``x`` (the result has the broadcast shape); at least one
    must be given.  The result's dtype follows PyTorch's promotion (an int tensor clamped by a
    float bound is a float tensor).  Integers are compared exactly: a number bound outside the
    dtype's range that cannot change an element is ignored (min=-1 for uint8); one that every
    element would equal (min=300 for uint8) is an error.

    Gradients, as PyTorch: dx = dy where min ≤ x ≤ max (a bound itself counts as inside); a
    tensor min gets dy where x < min < max, a tensor max where x > max or max < min."""
    from .conversion import cast, clone

    if min is None and max is None:
        raise RuntimeError(f"clamp: at least one of min and max must be given (tensor of shape {x.shape})")
    dtype = _clamp_dtype(x, min, max)
    if min is not None and max is not None and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        if dtype.kind in "biu" and min > max:  # every element is max: min need not fit the dtype
            min = max
    lo = cast(min, dtype) if isinstance(min, Tensor) else _number_bound(min, dtype, x, "min")
    hi = cast(max, dtype) if isinstance(max, Tensor) else _number_bound(max, dtype, x, "max")
    if lo is None and hi is None:  # both bounds lie outside the integer dtype, on the harmless side
        out = cast(x, dtype)
        return clone(out) if out is x else out
    return Clamp.apply(cast(x, dtype), lo, hi)


def _clamp_dtype(x: Tensor, min: Any, max: Any) -> Any:
    """clamp's result dtype: PyTorch's promotion (``result_type``) of x and the bounds given."""
    operands = [x._data]
    for b in (min, max):
        if isinstance(b, Tensor):
            if b._data.__class__ is not x._data.__class__:
                raise RuntimeError(f"clamp: expected the bounds on the tensor's device {x.device}, got one on "
                                   f"{b.device} (shape {b.shape})")
            operands.append(b._data)
        elif b is not None:
            if not is_number(b):
                raise TypeError(f"clamp: a bound must be a number, a tensor or None, got {type(b).__name__}")
            operands.append(b)
    return result_type(*operands)


def _number_bound(value: Any, dtype: Any, x: Tensor, name: str) -> Any:
    """A number bound as a 0-d array of ``dtype``, or None if it can change no element."""
    if value is None:
        return None
    xp = array_module(x._data)
    if dtype.kind in "iu":
        info = xp.iinfo(dtype)
        v = int(value)
        if info.min <= v <= info.max:
            return xp.asarray(v, dtype=dtype)
        if (v < info.min) == (name == "min"):  # min below the range, or max above it: no effect
            return None
        raise RuntimeError(f"clamp: {name}={value} is out of range for dtype {dtype} (every element would be "
                           f"{value}; tensor of shape {x.shape})")
    if dtype.kind == "b":
        return xp.asarray(bool(value))
    largest = float(xp.finfo(dtype).max)
    if math.isfinite(value) and not -largest <= value <= largest:
        raise RuntimeError(f"clamp: {name}={value} overflows dtype {dtype} (tensor of shape {x.shape})")
    return xp.asarray(value, dtype=dtype)


clip = clamp


def clamp_reference(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """:func:`clamp` as two selections with ``where``: min where x < min, then max where that
    exceeds max (so max everywhere when min > max).  The gradient goes to whichever of x, min
    and max is selected, as :class:`Clamp`'s, except where a tensor min equals max: there
    PyTorch's rule gives neither bound the gradient, and this form gives it to min."""
    y = x
    if min is not None:
        y = where(y < min, min, y)
    if max is not None:
        y = where(y > max, max, y)
    return y


def maximum(x: Any, y: Any) -> Tensor:
    """Element-wise max(x, y) of tensors or numbers broadcast together, in their promoted dtype;
    NaN propagates.  Ties split the gradient (see :class:`Maximum`)."""
    _check_has_tensor("maximum", x, y)
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Element-wise min(x, y) of tensors or numbers broadcast together, in their promoted dtype;
    NaN propagates.  Ties split the gradient (see :class:`Maximum`)."""
    _check_has_tensor("minimum", x, y)
    return Minimum.apply(x, y)


def maximum_reference(x: Tensor, y: Tensor) -> Tensor:
    """max(x, y) = (x + y + |x - y|) / 2 from ``+``, ``-``, ``abs`` and ``/``.  Its derivative
    (1 ± sign(x - y)) / 2 is :class:`Maximum`'s rule: all of dz to the larger operand, half to
    each at a tie (|·|' = 0 at 0).  Both operands are summed back to their own shapes."""
    return (x + y + abs(x - y)) / 2


def minimum_reference(x: Tensor, y: Tensor) -> Tensor:
    """min(x, y) = (x + y - |x - y|) / 2: :func:`maximum_reference`'s formula with the other
    sign, so ties split the gradient half and half too."""
    return (x + y - abs(x - y)) / 2


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Pick from ``x`` where ``condition`` is true, else from ``y`` (all broadcast together)."""
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else condition
    if not isinstance(ref, Tensor):
        raise TypeError("where: expected at least one tensor argument")
    x, y = as_tensor(x, ref), as_tensor(y, ref)
    cond = condition if isinstance(condition, Tensor) else constant(array_module(ref._data).asarray(condition))
    if cond._data.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    return Where.apply(cond, x, y)


def _check_has_tensor(op: str, x: Any, y: Any) -> None:
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError(f"{op}: expected at least one tensor argument, got {type(x).__name__} and "
                        f"{type(y).__name__}")


# -- more smooth functions of one variable --------------------------------------------------------
# Each takes a tensor of any real dtype (integers and bools in the default float dtype) and
# returns a tensor of the same shape; the derivative is written with tensor ops, so second
# derivatives come from autograd.

_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Expm1(Function):
    """y = eˣ - 1, accurate for small x.   dx = dy · (y + 1)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).expm1(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        return g * (self.output + 1)


class Log2(Function):
    """y = log₂ x.   dx = dy / (x ln 2)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).log2(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (x * _LN2)


class Log10(Function):
    """y = log₁₀ x.   dx = dy / (x ln 10)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).log10(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (x * _LN10)


class Rsqrt(Function):
    """y = 1 / √x.   dx = -dy · y³ / 2."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return 1 / array_module(x._data).sqrt(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        y = self.output
        return g * (y * y * y) * -0.5


class Tan(Function):
    """y = tan x.   dx = dy · (1 + y²)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).tan(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        y = self.output
        return g * (y * y + 1)


class Sinh(Function):
    """y = sinh x.   dx = dy · cosh x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).sinh(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * cosh(x)


class Cosh(Function):
    """y = cosh x.   dx = dy · sinh x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).cosh(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * sinh(x)


class Asin(Function):
    """y = arcsin x, for -1 ≤ x ≤ 1.   dx = dy / √(1 - x²)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arcsin(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / sqrt(1 - x * x)


class Acos(Function):
    """y = arccos x, for -1 ≤ x ≤ 1.   dx = -dy / √(1 - x²)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arccos(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return -g / sqrt(1 - x * x)


class Atan(Function):
    """y = arctan x.   dx = dy / (1 + x²)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arctan(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (x * x + 1)


class Asinh(Function):
    """y = arsinh x = ln(x + √(x² + 1)).   dx = dy / √(x² + 1)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arcsinh(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / sqrt(x * x + 1)


class Acosh(Function):
    """y = arcosh x = ln(x + √(x² - 1)), for x ≥ 1.   dx = dy / √(x² - 1)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arccosh(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / sqrt(x * x - 1)


class Atanh(Function):
    """y = artanh x = ½ ln((1 + x) / (1 - x)), for -1 < x < 1.   dx = dy / (1 - x²)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).arctanh(_float_array(x))

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (1 - x * x)


def expm1(x: Tensor) -> Tensor:
    """eˣ - 1 element-wise, accurate where eˣ is close to 1 (|x| ≪ 1)."""
    _require_tensor("expm1", x)
    return Expm1.apply(x)


def log2(x: Tensor) -> Tensor:
    """log₂ x element-wise (NaN for x < 0, -inf at 0)."""
    _require_tensor("log2", x)
    return Log2.apply(x)


def log10(x: Tensor) -> Tensor:
    """log₁₀ x element-wise (NaN for x < 0, -inf at 0)."""
    _require_tensor("log10", x)
    return Log10.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    """1 / √x element-wise (inf at 0, -inf at -0, NaN for x < 0)."""
    _require_tensor("rsqrt", x)
    return Rsqrt.apply(x)


def tan(x: Tensor) -> Tensor:
    """tan x element-wise (x in radians)."""
    _require_tensor("tan", x)
    return Tan.apply(x)


def sinh(x: Tensor) -> Tensor:
    """sinh x = (eˣ - e⁻ˣ) / 2 element-wise."""
    _require_tensor("sinh", x)
    return Sinh.apply(x)


def cosh(x: Tensor) -> Tensor:
    """cosh x = (eˣ + e⁻ˣ) / 2 element-wise."""
    _require_tensor("cosh", x)
    return Cosh.apply(x)


def asin(x: Tensor) -> Tensor:
    """arcsin x element-wise, in [-π/2, π/2] (NaN outside [-1, 1])."""
    _require_tensor("asin", x)
    return Asin.apply(x)


def acos(x: Tensor) -> Tensor:
    """arccos x element-wise, in [0, π] (NaN outside [-1, 1])."""
    _require_tensor("acos", x)
    return Acos.apply(x)


def atan(x: Tensor) -> Tensor:
    """arctan x element-wise, in (-π/2, π/2)."""
    _require_tensor("atan", x)
    return Atan.apply(x)


def asinh(x: Tensor) -> Tensor:
    """The inverse hyperbolic sine element-wise."""
    _require_tensor("asinh", x)
    return Asinh.apply(x)


def acosh(x: Tensor) -> Tensor:
    """The inverse hyperbolic cosine element-wise, ≥ 0 (NaN for x < 1)."""
    _require_tensor("acosh", x)
    return Acosh.apply(x)


def atanh(x: Tensor) -> Tensor:
    """The inverse hyperbolic tangent element-wise (±inf at ±1, NaN outside [-1, 1])."""
    _require_tensor("atanh", x)
    return Atanh.apply(x)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# -- rounding -------------------------------------------------------------------------------------

class _Rounding(Function):
    """A step function (floor, ceil, trunc, round): its derivative is 0 wherever it exists, and
    PyTorch takes 0 at the jumps too, so dx is a zero tensor off the tape.  An integer tensor is
    already whole: the result is a copy of it, in its dtype."""

    def backward(self, g: Tensor) -> Tensor:
        return constant(array_module(g._data).zeros_like(g._data))


class Floor(_Rounding):
    """y = ⌊x⌋, the largest integer ≤ x.   dx = 0."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return a.copy() if a.dtype.kind in "iu" else array_module(a).floor(a)


class Ceil(_Rounding):
    """y = ⌈x⌉, the smallest integer ≥ x.   dx = 0."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return a.copy() if a.dtype.kind in "iu" else array_module(a).ceil(a)


class Trunc(_Rounding):
    """y = x rounded towards 0.   dx = 0."""

    def forward(self, x: Tensor) -> Any:
        a = x._data
        return a.copy() if a.dtype.kind in "iu" else array_module(a).trunc(a)


class Round(_Rounding):
    """y = x rounded to the nearest multiple of 10^-decimals, halves to the even neighbour.
    dx = 0.  With decimals = d ≠ 0 it is rint(x·10ᵈ) / 10ᵈ (rint(x / 10⁻ᵈ) · 10⁻ᵈ for d < 0),
    computed in x's dtype as PyTorch does."""

    def forward(self, x: Tensor, decimals: int) -> Any:
        a = x._data
        if a.dtype.kind in "iu":
            return a.copy()
        xp = array_module(a)
        if decimals == 0:
            return xp.rint(a)
        scale = xp.asarray(10.0, dtype=a.dtype) ** (decimals if decimals > 0 else -decimals)  # inf if too large
        return xp.rint(a * scale) / scale if decimals > 0 else xp.rint(a / scale) * scale


def _check_roundable(op: str, x: Any) -> None:
    _require_tensor(op, x)
    if x._data.dtype.kind == "b":
        raise TypeError(f"{op}: not defined for bool tensors (shape {x.shape})")


def floor(x: Tensor) -> Tensor:
    """⌊x⌋ element-wise, in x's dtype (an integer tensor is returned as a copy).  Gradient 0."""
    _check_roundable("floor", x)
    return Floor.apply(x)


def ceil(x: Tensor) -> Tensor:
    """⌈x⌉ element-wise, in x's dtype (an integer tensor is returned as a copy).  Gradient 0."""
    _check_roundable("ceil", x)
    return Ceil.apply(x)


def trunc(x: Tensor) -> Tensor:
    """x rounded towards zero, in x's dtype (an integer tensor is returned as a copy).  Gradient 0."""
    _check_roundable("trunc", x)
    return Trunc.apply(x)


def round(x: Tensor, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds...), halves to the
    even neighbour (round(2.5) = 2), in x's dtype.  An integer tensor with decimals = 0 is
    returned as a copy; with other decimals it is refused, as in PyTorch.  Gradient 0."""
    _check_roundable("round", x)
    if isinstance(decimals, bool) or not isinstance(decimals, int) and not hasattr(decimals, "__index__"):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    decimals = int(decimals)
    if decimals != 0 and x._data.dtype.kind in "iu":
        raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got {x.dtype} "
                        f"(shape {x.shape})")
    return Round.apply(x, decimals=decimals)


def frac(x: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with x's sign (frac(-1.25) = -0.25), for floating-point
    tensors.  Gradient dx = dy (trunc contributes 0)."""
    _require_tensor("frac", x)
    if x._data.dtype.kind != "f":
        raise TypeError(f"frac: needs a floating-point tensor, got {x.dtype} (shape {x.shape})")
    return x - trunc(x)


# -- functions of two tensors ---------------------------------------------------------------------

def _float_arrays(op: str, x: Any, y: Any) -> tuple:
    """Two operands as arrays (or a number) in their promoted dtype, as for arithmetic, with
    integers and bools then in the default float dtype."""
    a, b = binary_arrays(op, x, y)
    if (b if is_number(a) else a).dtype.kind != "f":
        dtype = get_default_dtype()
        a = a if is_number(a) else a.astype(dtype)
        b = b if is_number(b) else b.astype(dtype)
    return a, b


def _binary_float(op: str, xp_name: str, x: Any, y: Any) -> Any:
    a, b = _float_arrays(op, x, y)
    try:
        return getattr(array_module_of(a, b), xp_name)(a, b)
    except ValueError as e:
        raise broadcast_error(op, e, a, b) from None


def _check_two_tensors(op: str, x: Any, y: Any, floats_only: bool) -> None:
    _require_tensor(op, x, "input")
    _require_tensor(op, y, "other")
    if x._data.__class__ is not y._data.__class__:
        raise RuntimeError(f"{op}: expected both tensors on the same device, got {x.device} (shape {x.shape}) "
                           f"and {y.device} (shape {y.shape})")
    if floats_only and result_type(x._data, y._data).kind != "f":
        raise TypeError(f"{op}: needs floating-point tensors, got {x.dtype} (shape {x.shape}) and {y.dtype} "
                        f"(shape {y.shape})")


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y), in (-π, π].  With r² = x² + y²:
    dy = dz · x / r²,  dx = -dz · y / r²,  and both 0 where r² is 0 (at the origin, or where
    it underflows), as PyTorch."""

    def forward(self, y: Tensor, x: Tensor) -> Any:
        self.save_for_backward(y, x)
        return _binary_float("atan2", "arctan2", y, x)

    def backward(self, g: Tensor) -> tuple:
        y, x = self.saved_tensors
        r2 = x * x + y * y
        at_origin = constant(r2._data == 0)
        g_over_r2 = where(at_origin, 0.0, g / where(at_origin, 1.0, r2))
        return (sum_to(g_over_r2 * x, y.shape) if self.needs_input_grad[0] else None,
                sum_to(-g_over_r2 * y, x.shape) if self.needs_input_grad[1] else None)


class Hypot(Function):
    """z = √(x² + y²), without overflow or underflow in x² and y².   dx = dz · x / z,
    dy = dz · y / z."""

    saves_output = True

    def forward(self, x: Tensor, y: Tensor) -> Any:
        self.save_for_backward(x if self.needs_input_grad[0] else None, y if self.needs_input_grad[1] else None)
        return _binary_float("hypot", "hypot", x, y)

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        g_over_z = g / self.output
        return (sum_to(g_over_z * x, x.shape) if self.needs_input_grad[0] else None,
                sum_to(g_over_z * y, y.shape) if self.needs_input_grad[1] else None)


class LogAddExp(Function):
    """z = ln(eˣ + eʸ), as max(x, y) + ln(1 + e^{-|x - y|}) (the array module's ``logaddexp``):
    no overflow, and z = x where x = y = ±inf.   dx = dz · σ(x - y),  dy = dz · σ(y - x)."""

    def forward(self, x: Tensor, y: Tensor) -> Any:
        self.save_for_backward(x, y)
        return _binary_float("logaddexp", "logaddexp", x, y)

    def backward(self, g: Tensor) -> tuple:
        from .activation import sigmoid

        x, y = self.saved_tensors
        return (sum_to(g * sigmoid(x - y), x.shape) if self.needs_input_grad[0] else None,
                sum_to(g * sigmoid(y - x), y.shape) if self.needs_input_grad[1] else None)


class Copysign(Function):
    """z = |x| with the sign of y (the sign bit: -0.0 counts as negative).
    dx = dz · z / x (±1), and 0 where x = 0, as PyTorch;  dy = 0 (the sign is a step)."""

    saves_output = True

    def forward(self, x: Tensor, y: Any) -> Any:
        self.save_for_backward(x if self.needs_input_grad[0] else None)
        self.y_shape = getattr(data_of(y), "shape", ())
        return _binary_float("copysign", "copysign", x, y)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        gx = gy = None
        if self.needs_input_grad[0]:
            z, a = self.output._data, x._data
            xp = array_module(z)
            ratio = xp.where(a == 0, 0, z / xp.where(a == 0, 1, a)).astype(g.dtype, copy=False)
            gx = sum_to(g * constant(ratio), x.shape)
        if self.needs_input_grad[1]:
            gy = constant(array_module(g._data).zeros(self.y_shape, dtype=g.dtype))
        return gx, gy


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """atan2(input, other): the angle in (-π, π] of the point (other, input), i.e. arctan(input /
    other) placed in the right quadrant.  Two tensors broadcast together; integers and bools
    compute in the default float dtype."""
    _check_two_tensors("atan2", input, other, floats_only=False)
    return Atan2.apply(input, other)


arctan2 = atan2


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """√(input² + other²) element-wise without overflow, for two floating-point tensors broadcast
    together.  Gradient: dz · input / z and dz · other / z (NaN where both are 0)."""
    _check_two_tensors("hypot", input, other, floats_only=True)
    return Hypot.apply(input, other)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """ln(e^input + e^other) element-wise without overflow, for two floating-point tensors
    broadcast together.  Gradient: dz · σ(input - other) and dz · σ(other - input)."""
    _check_two_tensors("logaddexp", input, other, floats_only=True)
    return LogAddExp.apply(input, other)


def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign (bit) of ``other``, a tensor broadcasting with input or a number;
    the result is floating point (integers and bools in the default float dtype).  Gradient:
    ±dz to input (0 where input is 0); ``other`` gets a zero gradient."""
    _require_tensor("copysign", input)
    if isinstance(other, Tensor):
        _check_two_tensors("copysign", input, other, floats_only=False)
    elif not is_number(other):
        raise TypeError(f"copysign: other must be a tensor or a number, got {type(other).__name__}")
    return Copysign.apply(input, other)


class Lerp(Function):
    """z = start + w · (end - start), all three broadcast together; w is a tensor or a number.
    It is computed as start + w·(end - start) where |w| < ½ and as end + (w - 1)·(end - start)
    elsewhere (PyTorch's two forms), so w = 1 gives ``end`` exactly.  Both forms have the same
    derivatives:   d start = dz · (1 - w),  d end = dz · w,  d w = dz · (end - start)."""

    def forward(self, start: Tensor, end: Tensor, weight: Any) -> Any:
        a, b, w = start._data, end._data, data_of(weight)
        self.shapes = (a.shape, b.shape, getattr(w, "shape", ()))
        self.save_for_backward(start if self.needs_input_grad[2] else None,
                               end if self.needs_input_grad[2] else None, weight)
        try:
            step = b - a
            if is_number(w):
                return a + w * step if -0.5 < w < 0.5 else b + (w - 1) * step
            xp = array_module(a)
            return xp.where(xp.abs(w) < 0.5, a + w * step, b + (w - 1) * step)
        except ValueError as e:
            raise broadcast_error("lerp", e, a, b, *([] if is_number(w) else [w])) from None

    def backward(self, g: Tensor) -> tuple:
        start, end, weight = self.saved_tensors
        s_start, s_end, s_weight = self.shapes
        return (sum_to(g * (1 - weight), s_start) if self.needs_input_grad[0] else None,
                sum_to(g * weight, s_end) if self.needs_input_grad[1] else None,
                sum_to(g * (end - start), s_weight) if self.needs_input_grad[2] else None)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """Linear interpolation input + weight · (end - input), all broadcast together.  ``input`` and
    ``end`` are floating-point tensors of one dtype; ``weight`` is a number or a tensor of that
    dtype (a 0-d tensor may be of any dtype: it is converted).  Gradients: d input = dz·(1 - w),
    d end = dz·w, d weight = dz·(end - input) (see :class:`Lerp`)."""
    from .conversion import cast

    _require_tensor("lerp", input, "input")
    _require_tensor("lerp", end, "end")
    if input._data.dtype.kind != "f":
        raise TypeError(f"lerp: needs a floating-point input, got {input.dtype} (shape {input.shape})")
    if end.dtype != input.dtype:
        raise TypeError(f"lerp: expected end of dtype {input.dtype} like input, got {end.dtype} (shape {end.shape})")
    if end._data.__class__ is not input._data.__class__:
        raise RuntimeError(f"lerp: expected input and end on one device, got {input.device} and {end.device}")
    if isinstance(weight, Tensor):
        if weight._data.__class__ is not input._data.__class__:
            raise RuntimeError(f"lerp: expected weight on the device {input.device}, got {weight.device}")
        if weight.dtype != input.dtype:
            if weight.ndim:
                raise TypeError(f"lerp: expected weight of dtype {input.dtype} like input, got {weight.dtype} "
                                f"(shape {weight.shape})")
            weight = cast(weight, input.dtype)
    elif not is_number(weight) or isinstance(weight, bool):
        raise TypeError(f"lerp: weight must be a number or a tensor, got {type(weight).__name__}")
    return Lerp.apply(input, end, weight)


class NanToNum(Function):
    """y = x, with NaN, +inf and -inf replaced by given numbers.   dx = dy where x is finite,
    0 where it was replaced (as PyTorch)."""

    def forward(self, x: Tensor, nan: float, posinf: Any, neginf: Any) -> Any:
        a = x._data
        if a.dtype.kind != "f":  # integers and bools have nothing to replace
            return a.copy()
        self.save_for_backward(x)
        return array_module(a).nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        finite = array_module(x._data).isfinite(x._data)
        return g * constant(finite.astype(g.dtype)), None, None, None


def nan_to_num(input: Tensor, nan: float | None = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """A copy of ``input`` with NaN replaced by ``nan`` (None: 0), +inf by ``posinf`` and -inf by
    ``neginf`` (None: the dtype's largest and smallest finite values), in input's dtype.
    Integer and bool tensors are returned as copies.  The gradient passes where input is finite."""
    _require_tensor("nan_to_num", input)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and not is_number(value):
            raise TypeError(f"nan_to_num: {name} must be a number or None, got {type(value).__name__}")
    return NanToNum.apply(input, 0.0 if nan is None else nan, posinf, neginf)


def _where_method(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``x.where(condition, other)``, the Tensor method: ``where(condition, x, other)``."""
    return where(condition, self, other)
