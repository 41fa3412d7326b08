"""dtype names (``mg.float32`` ...), the default-dtype rules and the type promotion of PyTorch.

Promotion (what dtype ``x + y`` has) follows ``torch.result_type``.  Operands fall in three
categories, bool < integer < float, and three priorities: dimensioned tensors, 0-d tensors, and
numbers (Python or NumPy scalars, PyTorch's "wrapped numbers").  A number counts by its kind
only: bool, int64, or the default float dtype.  The result is the highest-priority operands'
dtype (promoted among themselves: uint8 with int8 gives int16, float16 with float32 float32)
unless a lower-priority operand is of a higher category, which then decides it::

    int8 tensor + 1000 (int)         -> int8      a number never widens within its category
    float16 tensor + float64 0-d     -> float16   nor does a 0-d tensor beside a dimensioned one
    int32 tensor + 0.5 (float)       -> float32   a higher category wins: the default float dtype
    int32 tensor + float64 0-d       -> float64   ... or the 0-d tensor's own float dtype
"""
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


#: bool < integer < float (< complex): a higher category always wins in promotion.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(type1: Any, type2: Any) -> numpy.dtype:
    """The dtype both dtypes promote to (``torch.promote_types``): a higher category wins
    outright (int64 with float16 gives float16); within one category, the smallest type that
    holds both (int8 with uint8 gives int16, float16 with float32 gives float32)."""
    a, b = as_dtype(type1), as_dtype(type2)
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return numpy.promote_types(a, b)


def category(dtype: Any) -> builtins_int:
    """A dtype's promotion category: 0 bool, 1 integer, 2 float (3 complex)."""
    return _CATEGORY[as_dtype(dtype).kind]


def number_dtype(value: Any) -> numpy.dtype:
    """The dtype a number takes in promotion: bool, int64 or the default float dtype, by kind.
    NumPy scalars count as numbers of their kind (``np.float64(2.0)`` as a Python float)."""
    if isinstance(value, (builtins_bool, numpy.bool_)):
        return bool_
    if isinstance(value, (builtins_int, numpy.integer)):
        return int64
    if isinstance(value, (builtins_float, numpy.floating)):
        return _default_float
    raise TypeError(f"expected a tensor or a real number, got {type(value).__name__} {value!r}")


def is_number(value: Any) -> bool:
    """Python bool/int/float or a NumPy scalar: an operand that promotes as a number."""
    return isinstance(value, (builtins_int, builtins_float, numpy.generic))


def python_number(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds; a Python number as it is."""
    return value.item() if isinstance(value, numpy.generic) else value


#: NumPy >= 2 (and CuPy) treat a Python number beside an array as "weak": ``int8 array + 3``
#: stays int8.  NumPy 1 looks at the number's value instead.
_WEAK_PYTHON_NUMBERS = not numpy.__version__.startswith("1.")


def number_operand(value: Any, dtype: numpy.dtype, beside_array: bool) -> Any:
    """The number ``value`` ready for an op that computes in ``dtype``: beside an array, a Python
    number (which then takes the array's dtype); else (two numbers, or NumPy 1) a NumPy scalar
    of ``dtype``."""
    if beside_array and _WEAK_PYTHON_NUMBERS:
        return python_number(value)
    return dtype.type(value)


def result_type(*operands: Any) -> numpy.dtype:
    """dtype of an element-wise op's result on ``operands`` (``torch.result_type``): tensors
    (or arrays) and numbers, by the rule in this module's docstring.

    ``result_type(mg.ones(3, dtype=mg.int8), 2.5)`` is float32; ``result_type(int8 tensor, 1000)``
    stays int8."""
    if not operands:
        raise TypeError("result_type: expected at least one operand")
    dims = zeros = numbers = None  # promoted dtype of each priority level, None while empty
    for v in operands:
        if is_number(v):
            d = number_dtype(v)
            numbers = d if numbers is None else promote_types(numbers, d)
            continue
        d = getattr(v, "dtype", None)
        if d is None:
            raise TypeError(f"result_type: expected tensors or numbers, got {type(v).__name__}")
        if d.kind not in _CATEGORY:
            raise TypeError(f"result_type: unsupported dtype {d}")
        if v.ndim:
            dims = d if dims is None else promote_types(dims, d)
        else:
            zeros = d if zeros is None else promote_types(zeros, d)
    return _over(dims, _over(zeros, numbers))


def _over(high: Any, low: Any) -> Any:
    """The result of a priority level ``high`` over a lower one ``low``: ``high``'s dtype unless
    ``low`` is of a higher category (either may be None: no operand at that level)."""
    if high is None:
        return low
    if low is None or _CATEGORY[low.kind] <= _CATEGORY[high.kind]:
        return high
    return low


import builtins as _b  # noqa: E402  (after the names above shadow float/int)

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool
