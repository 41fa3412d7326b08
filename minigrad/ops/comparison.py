"""Comparisons, logic and bitwise ops: their results are bool or integer tensors and never
require grad.

Operands promote as in arithmetic (PyTorch's ``torch.result_type``) before the op runs, so
``int tensor == 2.5`` compares in the default float dtype.  The ``logical_*`` ops take any dtype
(nonzero is true) and give bool; the ``bitwise_*`` ops (``& | ^ ~``) take bool and integer
tensors only: on bools they are the logical ops, on integers they act on the two's-complement
bits (``~x = -x - 1``).
"""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..tensor import Tensor
from .helpers import array_module_of, as_array, binary_arrays, constant, describe_operand
from .shape import broadcast_error


def _binary(name: str, fn: Any, integers_only: bool = False) -> Any:
    """The op ``name``: ``fn`` on the two operands' arrays after promotion (``integers_only``:
    refuse a float result dtype, as the bitwise ops do)."""
    def op(x: Any, y: Any) -> Tensor:
        a, b = binary_arrays(name, x, y)
        if integers_only and (a.dtype if hasattr(a, "dtype") else b.dtype).kind not in "biu":
            raise TypeError(f"{name}: expected bool or integer operands, got {describe_operand(x)} and "
                            f"{describe_operand(y)}")
        try:
            return constant(as_array(array_module_of(a, b), fn(a, b)))
        except ValueError as e:
            raise broadcast_error(name, e, a, b) from None

    op.__name__ = op.__qualname__ = name
    return op


eq = _binary("eq", lambda a, b: a == b)
ne = _binary("ne", lambda a, b: a != b)
lt = _binary("lt", lambda a, b: a < b)
le = _binary("le", lambda a, b: a <= b)
gt = _binary("gt", lambda a, b: a > b)
ge = _binary("ge", lambda a, b: a >= b)
for _f, _sym in ((eq, "=="), (ne, "!="), (lt, "<"), (le, "<="), (gt, ">"), (ge, ">=")):
    _f.__doc__ = f"``x {_sym} y`` element-wise, after promotion (bool result, no gradient)."

logical_and = _binary("logical_and", lambda a, b: array_module_of(a, b).logical_and(a, b))
logical_or = _binary("logical_or", lambda a, b: array_module_of(a, b).logical_or(a, b))
logical_xor = _binary("logical_xor", lambda a, b: array_module_of(a, b).logical_xor(a, b))
for _f in (logical_and, logical_or, logical_xor):
    _f.__doc__ = (f"``{_f.__name__}(x, y)``: element-wise {_f.__name__[8:]} of ``x != 0`` and ``y != 0``, "
                  "any dtypes (bool result, no gradient).")

bitwise_and = _binary("bitwise_and", lambda a, b: a & b, integers_only=True)
bitwise_or = _binary("bitwise_or", lambda a, b: a | b, integers_only=True)
bitwise_xor = _binary("bitwise_xor", lambda a, b: a ^ b, integers_only=True)
for _f, _sym in ((bitwise_and, "&"), (bitwise_or, "|"), (bitwise_xor, "^")):
    _f.__doc__ = (f"``x {_sym} y`` element-wise on bool or integer tensors (or numbers), in their promoted "
                  "dtype; float operands raise TypeError.  No gradient.")


def bitwise_not(x: Tensor) -> Tensor:
    """``~x``: logical not for a bool tensor, the bitwise complement ``-x - 1`` for an integer
    one; float tensors raise TypeError.  No gradient."""
    a = x._data
    if a.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): expected a bool or integer tensor, got {a.dtype} (shape {x.shape}); "
                        "use logical_not for a float tensor")
    return constant(~a)


def logical_not(x: Tensor) -> Tensor:
    return constant(~x._data if x.dtype == bool else x._data == 0)


def isnan(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isfinite(x._data))


def _shift(name: str, x: Any, y: Any, left: bool) -> Tensor:
    """``x << y`` or ``x >> y`` on integer operands (promoted).  As PyTorch, a shift by a
    negative amount or by the dtype's bit width or more gives 0 (or -1 for a right shift of a
    negative value), where C leaves it undefined."""
    a, b = binary_arrays(name, x, y)
    dtype = a.dtype if hasattr(a, "dtype") else b.dtype
    if dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer operands, got {describe_operand(x)} and {describe_operand(y)}")
    xp = array_module_of(a, b)
    bits = 8 * dtype.itemsize
    try:
        in_range = (b >= 0) & (b < bits)
        amount = xp.where(in_range, b, 0).astype(dtype)
        if left:
            out = xp.where(in_range, xp.left_shift(a, amount), 0)
        else:
            out = xp.where(in_range, xp.right_shift(a, amount), xp.right_shift(a, bits - 1))
    except ValueError as e:
        raise broadcast_error(name, e, a, b) from None
    return constant(as_array(xp, out).astype(dtype, copy=False))


def bitwise_left_shift(x: Any, y: Any) -> Tensor:
    """``x << y``: x · 2ʸ in x's (promoted) integer dtype, wrapping; a shift by a negative amount
    or by the bit width or more gives 0.  Integer operands only; no gradient."""
    return _shift("bitwise_left_shift", x, y, left=True)


def bitwise_right_shift(x: Any, y: Any) -> Tensor:
    """``x >> y``: ⌊x / 2ʸ⌋ (arithmetic shift) in the promoted integer dtype; a shift by a
    negative amount or by the bit width or more gives 0, or -1 for a negative x.  Integer
    operands only; no gradient."""
    return _shift("bitwise_right_shift", x, y, left=False)


def rlshift(x: Tensor, y: Any) -> Tensor:
    return bitwise_left_shift(y, x)


def rrshift(x: Tensor, y: Any) -> Tensor:
    return bitwise_right_shift(y, x)


def isclose(x: Tensor, y: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Element-wise ``|x - y| <= atol + rtol·|y|`` (bool, broadcasting, no gradient); equal
    values (infinities included) are close, NaN is close to NaN only with ``equal_nan``.
    Two tensors must share a dtype, as in PyTorch (a number or an array ``y`` promotes as in
    arithmetic); bools count as 0 and 1."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype != y.dtype:
        raise TypeError(f"isclose: expected tensors of one dtype, got {describe_operand(x)} and {describe_operand(y)}")
    a, b = binary_arrays("isclose", x, y)
    xp = array_module_of(a, b)
    try:
        close = a == b
        if rtol == 0 and atol == 0:
            if equal_nan and xp.asarray(a).dtype.kind in "fc":
                close = close | (xp.isnan(a) & xp.isnan(b))
            return constant(as_array(xp, close))
        if (a.dtype if hasattr(a, "dtype") else b.dtype).kind == "b":  # bools count as 0 and 1
            a, b = xp.asarray(a).astype(xp.int8), xp.asarray(b).astype(xp.int8)
        finite = xp.isfinite(a) & xp.isfinite(b)  # (infinities are close only when equal)
        difference = xp.abs(xp.where(finite, a, 0) - xp.where(finite, b, 0))
        close = close | (finite & xp.isfinite(difference) & (difference <= atol + rtol * xp.abs(b)))
        if equal_nan:
            close = close | (xp.isnan(a) & xp.isnan(b))
    except ValueError as e:
        raise broadcast_error("isclose", e, a, b) from None
    return constant(as_array(xp, close))


def allclose(x: Tensor, y: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere (a Python bool)."""
    return bool(isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)._data.all())


def equal(x: Tensor, y: Tensor) -> bool:
    """True when shapes and all values match."""
    return x.shape == y.shape and bool((x._data == y._data).all())
