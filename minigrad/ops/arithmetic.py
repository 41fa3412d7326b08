"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.  Operands promote as in
PyTorch (``torch.result_type``, see :mod:`minigrad.dtypes`): ``int32 tensor * 0.5`` is float32.

When an operand was broadcast, its gradient is summed back to its own shape
(``sum_to``).  Python numbers are constants: they get no gradient.
"""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..dtypes import is_number, number_dtype, python_number
from ..tensor import Tensor
from .helpers import binary_arrays, scalar_result_dtype
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


def _const_like(value: Any, like: Tensor) -> Tensor:
    from .helpers import constant

    return constant(array_module(like._data).asarray(value, dtype=like.dtype))


def add(x: Any, y: Any) -> Tensor:
    return Add.apply(x, y)


def sub(x: Any, y: Any) -> Tensor:
    return Sub.apply(x, y)


def mul(x: Any, y: Any) -> Tensor:
    return Mul.apply(x, y)


def div(x: Any, y: Any) -> Tensor:
    return Div.apply(x, y)


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
