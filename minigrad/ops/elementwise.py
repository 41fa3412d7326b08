"""Element-wise math: exp, log, sqrt, abs, sin, cos, clamp, maximum/minimum, where."""
from __future__ import annotations

from typing import Any

from .._device import array_module
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tensor, binary_arrays, constant
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
        return g / self.saved[0]


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dx = dy / (1 + x)."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).log1p(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return g / (self.saved[0] + 1)


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
        a = self.saved[0]._data
        xp = array_module(a)
        s = xp.sign(a)
        return g * constant(xp.where(s == s, s, 0))  # (s ≠ s only at NaN)


class Sin(Function):
    """y = sin x.   dx = dy · cos x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).sin(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return g * cos(self.saved[0])


class Cos(Function):
    """y = cos x.   dx = -dy · sin x."""

    def forward(self, x: Tensor) -> Any:
        self.save_for_backward(x)
        return array_module(x._data).cos(x._data)

    def backward(self, g: Tensor) -> Tensor:
        return -g * sin(self.saved[0])


class Clamp(Function):
    """y = min(max(x, lo), hi).   dx = dy where lo ≤ x ≤ hi, else 0."""

    def forward(self, x: Tensor, lo: Any, hi: Any) -> Any:
        a = x._data
        xp = array_module(a)
        inside = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        self.mask = inside
        return xp.clip(a, lo, hi) if (lo is not None or hi is not None) else a.copy()

    def backward(self, g: Tensor) -> tuple:
        return g * constant(self.mask), None, None


class Maximum(Function):
    """z = max(x, y).   The gradient goes to the larger input; ties split it half and half.

    dx = dy · (1 - 1[x < y] - ½·1[x = y]),   dy_ = dy · (1 - 1[x > y] - ½·1[x = y]):
    where x or y is NaN (z is NaN) both get the whole gradient, as in PyTorch."""

    def forward(self, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("maximum", x, y)
        try:
            half_tie = (a == b) * 0.5
            self.weights = ((1 - (a < b) - half_tie).astype(a.dtype),
                            (1 - (a > b) - half_tie).astype(a.dtype))
        except ValueError as e:
            raise broadcast_error("maximum", e, a, b) from None
        self.shapes = (a.shape, b.shape)
        return array_module(a).maximum(a, b)

    def backward(self, g: Tensor) -> tuple:
        wx, wy = self.weights
        sx, sy = self.shapes
        return (sum_to(g * constant(wx), sx) if self.next[0] is not None else None,
                sum_to(g * constant(wy), sy) if self.next[1] is not None else None)


class Where(Function):
    """z = x where cond else y.   dx = dy where cond, dy = dy where not cond."""

    def forward(self, cond: Any, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("where", x, y)
        self.cond = cond
        self.shapes = (a.shape, b.shape)
        try:
            return array_module(a).where(cond, a, b)
        except ValueError as e:
            raise broadcast_error("where", e, cond, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        c = constant(self.cond)
        zero = g * 0
        sx, sy = self.shapes
        return (None,
                sum_to(where(c, g, zero), sx) if self.next[1] is not None else None,
                sum_to(where(c, zero, g), sy) if self.next[2] is not None else None)


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


def sin(x: Tensor) -> Tensor:
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    return Cos.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or +1 (not differentiable: the result never requires grad)."""
    return constant(array_module(x._data).sign(x._data))


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max] (either bound may be None, a number, or a tensor that
    broadcasts with ``x``).  dx = dy where min ≤ x ≤ max; a tensor bound gets dy where it is
    the one picked (as PyTorch: max wins where min > max)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # Composed from where() so that tensor bounds receive their share of the gradient.
        from .comparison import gt, lt

        out = x
        if min is not None:
            out = where(lt(out, min), min, out)
        if max is not None:
            out = where(gt(out, max), max, out)
        return out
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min ({min}) is larger than max ({max})")
    return Clamp.apply(x, min, max)


clip = clamp


def maximum(x: Any, y: Any) -> Tensor:
    x, y = _both_tensors(x, y)
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """min(x, y) = -max(-x, -y), so ties split the gradient too."""
    x, y = _both_tensors(x, y)
    return -Maximum.apply(-x, -y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Pick from ``x`` where ``condition`` is true, else from ``y`` (all broadcast together)."""
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else condition
    if not isinstance(ref, Tensor):
        raise TypeError("where: expected at least one tensor argument")
    x, y = as_tensor(x, ref), as_tensor(y, ref)
    cond = condition._data if isinstance(condition, Tensor) else array_module(ref._data).asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    return Where.apply(cond, x, y)


def _both_tensors(x: Any, y: Any) -> tuple:
    if isinstance(x, Tensor):
        return x, as_tensor(y, x)
    if isinstance(y, Tensor):
        return as_tensor(x, y), y
    raise TypeError("expected at least one tensor argument")
