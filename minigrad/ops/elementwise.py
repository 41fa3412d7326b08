"""Element-wise math: exp, log, sqrt, abs, sin, cos, clamp, maximum/minimum, where.

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
from ..dtypes import is_number, result_type
from ..tensor import Tensor
from .helpers import array_module_of, as_tensor, binary_arrays, constant, data_of
from .shape import broadcast_error, sum_to


class Exp(Function):
    """y = eˣ.   dx = dy · y."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).exp(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return g * self.output


class Log(Function):
    """y = ln x.   dx = dy / x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).log(x._data)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dx = dy / (1 + x)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).log1p(x._data)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g / (x + 1)


class Sqrt(Function):
    """y = √x.   dx = dy / (2y)."""

    saves_output = True

    def forward(self, x: Tensor) -> Any:
        return array_module(x._data).sqrt(x._data)

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
        return array_module(x._data).sin(x._data)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.saved_tensors
        return g * cos(x)


class Cos(Function):
    """y = cos x.   dx = -dy · sin x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).cos(x._data)

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
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def log1p(x: Tensor) -> Tensor:
    return Log1p.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    return Abs.apply(x)


def abs_reference(x: Tensor) -> Tensor:
    """|x| = x · sign(x), with ``sign`` a function of derivative 0: autograd's product rule
    then gives dx = dy · sign(x), 0 at x = 0, as :class:`Abs`."""
    return x * sign(x)


def sin(x: Tensor) -> Tensor:
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
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
