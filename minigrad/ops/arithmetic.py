"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.  Operands promote as in
PyTorch (``torch.result_type``, see :mod:`minigrad.dtypes`): ``int32 tensor * 0.5`` is float32.

When an operand was broadcast, its gradient is summed back to its own shape
(``sum_to``).  Python numbers are constants: they get no gradient.
"""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..dtypes import is_number, number_dtype, python_number, result_type
from ..tensor import Tensor
from .helpers import array_module_of, binary_arrays, constant, describe_operand, scalar_result_dtype
from .shape import broadcast_error, sum_to


class Add(Function):
    """z = x + y.   dx = dz,  dy = dz."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays("add", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))  # (a number: ())
        try:
            return a + b
        except ValueError as e:
            raise broadcast_error("add", e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        sx, sy = self.shapes
        return (sum_to(g, sx) if self.needs_input_grad[0] else None,
                sum_to(g, sy) if self.needs_input_grad[1] else None)


class Sub(Function):
    """z = x - y.   dx = dz,  dy = -dz."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays("sub", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))  # (a number: ())
        try:
            return a - b
        except ValueError as e:
            raise broadcast_error("sub", e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        sx, sy = self.shapes
        return (sum_to(g, sx) if self.needs_input_grad[0] else None,
                sum_to(-g, sy) if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y.   dx = dz * y,  dy = dz * x.

    dx reads y and dy reads x, so each operand is saved only when the other one needs a
    gradient: in ``d * 2`` nothing of ``d`` is kept, and changing ``d`` in place afterwards
    is fine."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays("mul", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))  # (a number: ())
        self.save_for_backward(x if self.needs_input_grad[1] else None, y if self.needs_input_grad[0] else None)
        try:
            return a * b
        except ValueError as e:
            raise broadcast_error("mul", e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        sx, sy = self.shapes
        return (sum_to(g * y, sx) if self.needs_input_grad[0] else None,
                sum_to(g * x, sy) if self.needs_input_grad[1] else None)


class Div(Function):
    """z = x / y, true division (integers and bools divide in the default float dtype, as
    PyTorch).   dx = dz / y,  dy = -dz * x / y².

    Both read y; only dy reads x, so x is saved only when y needs a gradient."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays("div", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))  # (a number: ())
        self.save_for_backward(x if self.needs_input_grad[1] else None, y)
        try:
            return a / b
        except ValueError as e:
            raise broadcast_error("div", e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        sx, sy = self.shapes
        gx = sum_to(g / y, sx) if self.needs_input_grad[0] else None
        gy = sum_to(-g * x / (y * y), sy) if self.needs_input_grad[1] else None
        return gx, gy


class Neg(Function):
    """z = -x.   dx = -dz."""

    def forward(self, x: Tensor) -> Any:
        return -x._data

    def backward(self, g: Tensor) -> Tensor:
        return -g


class PowScalar(Function):
    """z = x ** c for a constant c.   dx = dz * c * x ** (c - 1)."""

    def forward(self, x: Tensor, c: float) -> Any:
        self.save_for_backward(x)
        self.c = c
        a = x._data
        if a.dtype.kind != "f":  # an integer or bool base: PyTorch's promotion with the number c
            a = a.astype(scalar_result_dtype(a.dtype, c), copy=False)
            if a.dtype.kind in "iu" and c < 0:  # (PyTorch refuses it even for an empty tensor)
                raise ValueError(f"pow: integers to negative integer powers are not allowed ({a.dtype} tensor of "
                                 f"shape {tuple(a.shape)} ** {c})")
        return a ** c

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        c = self.c
        if c == 0:  # x ** 0 is constant; c·x^(c-1) would be 0·inf = nan at x = 0
            return g * 0, None
        if c == 2:
            return g * (2 * x), None
        return g * (c * x ** (c - 1)), None


class Pow(Function):
    """z = x ** y.   dx = dz * y * x ** (y - 1),  dy = dz * z * log(x).

    As PyTorch: dx = 0 where y = 0 (x⁰ is constant; at x = 0, y·x^(y-1) would be 0·∞), and
    dy = 0 where x = 0 and y ≥ 0 (where z·log x would be 0·(-∞))."""

    saves_output = True

    def forward(self, x: Any, y: Any) -> Any:
        a, b = binary_arrays("pow", x, y)
        self.save_for_backward(x, y)
        if is_number(b) and a.dtype.kind == "b":  # bool ** bool stays bool: x ** True = x, x ** False = 1
            return a | (not b)
        if (a.dtype if hasattr(a, "dtype") else b.dtype).kind in "iu":
            return _integer_power(a, b)
        try:
            return a ** b
        except ValueError as e:
            raise broadcast_error("pow", e, a, b) from None

    def backward(self, g: Tensor) -> tuple:
        from .helpers import constant
        from .elementwise import log, where

        x, y = self.saved_tensors
        # A constant operand (a number, a bool, a list or an array) as a tensor like the other one.
        x = x if isinstance(x, Tensor) else _const_like(x, y)
        y = y if isinstance(y, Tensor) else _const_like(y, x)
        gx = gy = None
        if self.needs_input_grad[0]:
            # (Only at x = 0 is y·x^(y-1) = 0·∞ a problem; elsewhere it is 0 at y = 0 anyway, and
            # left as is its derivative in y stays right for second derivatives.)
            dx = where(constant((y._data == 0) & (x._data == 0)), 0.0, y * x ** (y - 1))
            gx = sum_to(g * dx, x.shape)
        if self.needs_input_grad[1]:
            dy = where(constant((x._data == 0) & (y._data >= 0)), 0.0, self.output * log(x))
            gy = sum_to(g * dy, y.shape)
        return gx, gy


def _integer_power(a: Any, b: Any) -> Any:
    """``a ** b`` on integers, as PyTorch: a negative exponent gives 1 for a base of 1, ±1 for a
    base of -1 (by the exponent's parity) and 0 for any other base (NumPy would refuse it)."""
    xp = array_module_of(a, b)
    dtype = (a if hasattr(a, "dtype") else b).dtype
    try:
        negative = b < 0
        if not xp.any(negative):
            return a ** b
        out = a ** xp.where(negative, 0, b).astype(dtype)
        odd = (-b) % 2 == 1
        small = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
        return xp.where(negative, small, out).astype(dtype, copy=False)
    except ValueError as e:
        raise broadcast_error("pow", e, a, b) from None


def _const_like(value: Any, like: Tensor) -> Tensor:
    from .helpers import constant

    return constant(array_module(like._data).asarray(value, dtype=like.dtype))


def add(x: Any, y: Any, alpha: Any = None) -> Tensor:
    """``x + alpha * y`` (``alpha`` defaults to 1), broadcasting, after promotion."""
    if alpha is None:
        return Add.apply(x, y)
    return Add.apply(x, _scaled("add", x, y, alpha))


def sub(x: Any, y: Any, alpha: Any = None) -> Tensor:
    """``x - alpha * y`` (``alpha`` defaults to 1), broadcasting, after promotion."""
    if alpha is None:
        return Sub.apply(x, y)
    return Sub.apply(x, _scaled("sub", x, y, alpha))


def _scaled(op: str, x: Any, y: Any, alpha: Any) -> Any:
    """``alpha * y`` for ``add``/``sub`` with ``alpha``: a float alpha needs a float result, as
    in PyTorch (an integer result would have to round it)."""
    if not is_number(alpha):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    result = result_type(*(v._data if isinstance(v, Tensor) else v for v in (x, y)))
    if number_dtype(alpha).kind == "f" and result.kind != "f":
        raise TypeError(f"{op}: a float alpha ({alpha!r}) needs a float result, but the operands are "
                        f"{describe_operand(x)} and {describe_operand(y)}")
    if result.kind == "b":  # bools: alpha counts as a bool (x + y·bool(alpha))
        return y if alpha else mul(y, False)
    return y if alpha == 1 else mul(y, alpha)


def mul(x: Any, y: Any) -> Tensor:
    return Mul.apply(x, y)


def div(x: Any, y: Any, rounding_mode: str | None = None) -> Tensor:
    """``x / y`` element-wise, broadcasting.

    ``rounding_mode=None``: true division (integers and bools divide in the default float
    dtype).  ``"trunc"``: the quotient rounded towards zero, ``"floor"``: rounded down; both keep
    the promoted dtype (integers stay integers, an integer divisor of 0 raises
    ZeroDivisionError) and have a zero gradient, as in PyTorch."""
    if rounding_mode is None:
        return Div.apply(x, y)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return RoundedDiv.apply(x, y, rounding_mode)


def true_divide(x: Any, y: Any) -> Tensor:
    """``x / y``, true division (:func:`div` without a rounding mode)."""
    return Div.apply(x, y)


# -- integer-style division: floor and trunc quotients, remainders --------------------------------

def _division_operands(op: str, x: Any, y: Any) -> tuple:
    """The promoted arrays of a rounding division (bools refused; an integer divisor of 0
    raises ZeroDivisionError, as PyTorch on the CPU)."""
    a, b = binary_arrays(op, x, y)
    dtype = a.dtype if hasattr(a, "dtype") else b.dtype
    if dtype.kind == "b":
        raise TypeError(f"{op}: not supported for bool operands ({describe_operand(x)}, {describe_operand(y)})")
    if dtype.kind in "iu" and array_module_of(a, b).any(b == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor {describe_operand(y)})")
    return a, b


def _floor_quotient(a: Any, b: Any) -> Any:
    """⌊a / b⌋ (for floats: b = 0 gives a / b, as PyTorch)."""
    return array_module_of(a, b).floor_divide(a, b)


def _trunc_quotient(a: Any, b: Any) -> Any:
    """a / b rounded towards zero (exactly, for integers)."""
    xp = array_module_of(a, b)
    if (a.dtype if hasattr(a, "dtype") else b.dtype).kind == "f":
        return xp.trunc(a / b)
    return (a - xp.fmod(a, b)) // b  # a - fmod(a, b) is a multiple of b


def _remainder(a: Any, b: Any) -> Any:
    """x - ⌊x / y⌋·y with y's sign.  For floats: fmod, shifted by y where its sign differs from
    y's; a zero keeps fmod's sign (x's), as PyTorch."""
    xp = array_module_of(a, b)
    if (a.dtype if hasattr(a, "dtype") else b.dtype).kind != "f":
        return xp.remainder(a, b)
    mod = xp.fmod(a, b)
    return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def _run(op: str, fn: Any, a: Any, b: Any) -> Any:
    try:
        return fn(a, b)
    except ValueError as e:
        raise broadcast_error(op, e, a, b) from None


class RoundedDiv(Function):
    """z = trunc(x / y) or ⌊x / y⌋.   dx = dy = 0 (a step function; PyTorch's zero gradient)."""

    def forward(self, x: Any, y: Any, rounding_mode: str) -> Any:
        op = f"div(rounding_mode={rounding_mode!r})"  # (not "div": that name promotes integers to float)
        a, b = _division_operands(op, x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return _run(op, _floor_quotient if rounding_mode == "floor" else _trunc_quotient, a, b)

    def backward(self, g: Tensor) -> tuple:
        xp = array_module(g._data)
        return tuple(constant(xp.zeros(shape, dtype=g.dtype)) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad[:2])) + (None,)


class FloorDivide(Function):
    """z = ⌊x / y⌋ (``x // y``).  As in PyTorch it has no derivative: backward raises."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = _division_operands("floor_divide", x, y)
        return _run("floor_divide", _floor_quotient, a, b)

    def backward(self, g: Tensor) -> tuple:
        raise RuntimeError("floor_divide (//): the derivative is not implemented (as in PyTorch); "
                           "div(x, y, rounding_mode='floor') has a zero gradient")


class Remainder(Function):
    """z = x - ⌊x / y⌋ · y, the sign of y (``x % y``, Python's and PyTorch's remainder).
    dx = dz,  dy = -dz · ⌊x / y⌋."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = _division_operands("remainder", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        self.save_for_backward(*((x, y) if self.needs_input_grad[1] else (None, None)))
        return _run("remainder", _remainder, a, b)

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        sx, sy = self.shapes
        return (sum_to(g, sx) if self.needs_input_grad[0] else None,
                sum_to(-g * div(x, y, rounding_mode="floor"), sy) if self.needs_input_grad[1] else None)


class Fmod(Function):
    """z = x - trunc(x / y) · y, the sign of x (C's fmod).   dx = dz,  dy = -dz · trunc(x / y)."""

    def forward(self, x: Any, y: Any) -> Any:
        a, b = _division_operands("fmod", x, y)
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        self.save_for_backward(*((x, y) if self.needs_input_grad[1] else (None, None)))
        return _run("fmod", array_module_of(a, b).fmod, a, b)

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        sx, sy = self.shapes
        return (sum_to(g, sx) if self.needs_input_grad[0] else None,
                sum_to(-g * div(x, y, rounding_mode="trunc"), sy) if self.needs_input_grad[1] else None)


def floor_divide(x: Any, y: Any) -> Tensor:
    """``x // y``: ⌊x / y⌋ element-wise in the promoted dtype (integers stay integers; bools are
    refused; an integer divisor of 0 raises ZeroDivisionError).  No derivative, as in PyTorch:
    use ``div(x, y, rounding_mode="floor")`` for a zero gradient."""
    return FloorDivide.apply(x, y)


def remainder(x: Any, y: Any) -> Tensor:
    """``x % y``: x - ⌊x / y⌋·y, which has the sign of y (0 ≤ z < y for y > 0), in the promoted
    dtype.  Gradients: dx = dz, dy = -dz·⌊x / y⌋."""
    return Remainder.apply(x, y)


def fmod(x: Any, y: Any) -> Tensor:
    """C's fmod: x - trunc(x / y)·y, which has the sign of x, in the promoted dtype.
    Gradients: dx = dz, dy = -dz·trunc(x / y)."""
    return Fmod.apply(x, y)


def rfloordiv(x: Tensor, y: Any) -> Tensor:
    return FloorDivide.apply(y, x)


def rremainder(x: Tensor, y: Any) -> Tensor:
    return Remainder.apply(y, x)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def pow(x: Any, y: Any) -> Tensor:
    """``x ** y``; a constant exponent takes the cheaper ``PowScalar`` path."""
    if isinstance(x, Tensor):
        if y.__class__ is int or y.__class__ is float:
            return PowScalar.apply(x, y)
        if is_number(y) and number_dtype(y).kind != "b":  # a NumPy int or float scalar
            return PowScalar.apply(x, python_number(y))
    return Pow.apply(x, y)


def rsub(x: Tensor, y: Any) -> Tensor:
    return Sub.apply(y, x)


def rdiv(x: Tensor, y: Any) -> Tensor:
    return Div.apply(y, x)


def rpow(x: Tensor, y: Any) -> Tensor:
    return Pow.apply(y, x)


def square(x: Tensor) -> Tensor:
    return PowScalar.apply(x, 2)
