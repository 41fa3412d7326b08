"""dtype names (``mg.float32`` ...) and the default-dtype rules of PyTorch."""
from __future__ import annotations

from typing import Any

import numpy

float16 = half = numpy.dtype("float16")
float32 = float = numpy.dtype("float32")
float64 = double = numpy.dtype("float64")
int8 = numpy.dtype("int8")
uint8 = numpy.dtype("uint8")
int16 = short = numpy.dtype("int16")
int32 = int = numpy.dtype("int32")
int64 = long = numpy.dtype("int64")
bool_ = numpy.dtype("bool")

_default_float = float32


def get_default_dtype() -> numpy.dtype:
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Float dtype used for Python floats and random tensors (float32 unless changed)."""
    global _default_float
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"default dtype must be a floating point type, got {d}")
    _default_float = d


def as_dtype(dtype: Any) -> numpy.dtype:
    """Normalize ``dtype`` (a numpy dtype, a name like 'float32', a Python type)."""
    if dtype is None:
        return _default_float
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_bool:
        return bool_
    if dtype is builtins_int:
        return int64
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None


import builtins as _b  # noqa: E402  (after the names above shadow float/int)

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool
