"""Strategies: shapes (size-1 and empty dims included), mutually broadcastable shape
tuples, valid axes (negative too), float values and tensors."""
from __future__ import annotations

from typing import Any

import numpy

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover
    raise ImportError("minigrad.testing needs hypothesis: pip install 'minigrad[test]'") from e

from ..creation import tensor as _tensor


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes; ``min_side=0`` allows empty dims."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda r: r.input_shapes)


def floats(min_value: float = -5.0, max_value: float = 5.0, width: int = 64) -> st.SearchStrategy:
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)


def _default_elements(dtype: Any) -> st.SearchStrategy:
    """Small values of the dtype's kind: floats in [-5, 5], integers in [-5, 5] ([0, 5] unsigned), bools."""
    kind = numpy.dtype(dtype).kind
    if kind == "b":
        return st.booleans()
    if kind in "iu":
        return st.integers(0 if kind == "u" else -5, 5)
    return floats(width=min(64, 8 * numpy.dtype(dtype).itemsize))


def arrays(shape: Any, dtype: Any = numpy.float64, elements: st.SearchStrategy | None = None,
           unique: bool = False) -> st.SearchStrategy:
    """NumPy arrays of ``shape`` (a shape or a strategy of shapes); elements default to small
    values of ``dtype``'s kind."""
    return hnp.arrays(dtype, shape, elements=elements if elements is not None else _default_elements(dtype),
                      unique=unique)


def tensors(shape: Any = None, dtype: Any = numpy.float64, elements: st.SearchStrategy | None = None,
            requires_grad: bool = True, unique: bool = False, device: str | None = None) -> st.SearchStrategy:
    """Tensors (float64 and requiring grad by default, ready for gradcheck)."""
    shape = shapes() if shape is None else shape
    return arrays(shape, dtype, elements, unique).map(
        lambda a: _tensor(a, dtype=dtype, device=device, requires_grad=requires_grad and numpy.dtype(dtype).kind == "f"))


@st.composite
def axes(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True, allow_negative: bool = True) -> Any:
    """A valid ``axis`` argument for an ``ndim``-dim tensor: None, an int, or a tuple of distinct ints."""
    choices = ["int"] if ndim else []
    if allow_none:
        choices.append("none")
    if allow_tuple and ndim:
        choices.append("tuple")
    if not choices:
        return None
    kind = draw(st.sampled_from(choices))
    lo = -ndim if allow_negative else 0
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(lo, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    if allow_negative:
        flips = draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
        picked = [p - ndim if f else p for p, f in zip(picked, flips)]
    return tuple(picked)
