"""Comparisons and logic: results are bool tensors and never require grad."""
from __future__ import annotations

from typing import Any

from .._device import array_module
from ..tensor import Tensor
from ._util import binary_arrays, constant
from .shape import broadcast_error


def _compare(name: str, fn: Any) -> Any:
    def compare(x: Any, y: Any) -> Tensor:
        a, b = binary_arrays(name, x, y)
        try:
            return constant(array_module(a).asarray(fn(a, b)))
        except ValueError as e:
            raise broadcast_error(name, e, a, b) from None

    compare.__name__ = name
    compare.__doc__ = f"Element-wise ``{name}`` (bool result, no gradient)."
    return compare


eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
logical_and = _compare("logical_and", lambda a, b: a & b)
logical_or = _compare("logical_or", lambda a, b: a | b)
logical_xor = _compare("logical_xor", lambda a, b: a ^ b)


def logical_not(x: Tensor) -> Tensor:
    return constant(~x._data if x.dtype == bool else x._data == 0)


def isnan(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    return constant(array_module(x._data).isfinite(x._data))


def allclose(x: Tensor, y: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    a, b = binary_arrays("allclose", x, y)
    return bool(array_module(a).allclose(a, b, rtol=rtol, atol=atol))


def equal(x: Tensor, y: Tensor) -> bool:
    """True when shapes and all values match."""
    return x.shape == y.shape and bool((x._data == y._data).all())
