"""Op table rows: element-wise math (see tests/op_table.py).

Inputs keep gradchecks away from kinks, poles and the edges of domains: ``unary(lo, hi)`` for
smooth functions on an interval, ``off_integers`` for the rounding ops, grids of integers and
half-integers for clamp and maximum/minimum (an element never ties with a bound or with the
other operand, so no finite difference crosses a kink).  Ties, NaN, ±inf and error messages are
tested in tests/test_ops_elementwise_more.py.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_table import ALL_DTYPES, FLOATS, INTS, Case, add_row, array, elements, off_integers, shapes, unary

F = "element-wise"

#: Integer and bool inputs of a float function give float32 results, which the runner compares
#: with the tolerance of the input dtype (int64: float64's 1e-9); float32 results differ from
#: PyTorch's by an ulp or two (6e-8 relative each).  This bound is below any real error.
FLOAT32_FROM_INTS = {"rtol": 1e-6, "atol": 1e-6}


def _broadcast_shapes(draw, n: int) -> list:
    return list(draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, min_side=0,
                                                       max_side=3)).input_shapes)


def _shape_into(draw, shape: tuple) -> tuple:
    """A shape that broadcasts to ``shape`` (a suffix of it, some sides set to 1)."""
    suffix = shape[len(shape) - draw(st.integers(0, len(shape))):]
    return tuple(1 if draw(st.booleans()) else side for side in suffix)


def _grid_values(dtype: str, offset: float, lo: int = -2, hi: int = 2) -> st.SearchStrategy:
    """Integers in [lo, hi] (+ ``offset`` for float dtypes)."""
    if np.dtype(dtype).kind == "b":
        return st.booleans()
    if np.dtype(dtype).kind in "iu":
        return st.integers(lo, hi)
    return st.integers(lo, hi).map(lambda k: k + offset)


def _x_values(dtype: str) -> st.SearchStrategy:
    """Floats off the integers and half-integers (so never at a grid value), or integers."""
    return off_integers(-3, 3) if np.dtype(dtype).kind == "f" else elements(dtype, -3, 3)


# -- existing smooth unary ops -------------------------------------------------------------------

add_row("exp", F, lambda L, x: L.exp(x), unary(-3, 3), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("log", F, lambda L, x: L.log(x), unary(0.0625, 5), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("log1p", F, lambda L, x: L.log1p(x), unary(-0.875, 3), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("sqrt", F, lambda L, x: L.sqrt(x), unary(0.0625, 5), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("sin", F, lambda L, x: L.sin(x), unary(-4, 4), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("cos", F, lambda L, x: L.cos(x), unary(-4, 4), dtypes=ALL_DTYPES, **FLOAT32_FROM_INTS)
add_row("abs", F, lambda L, x: L.abs(x), unary(-3, 3, avoid=(0.0,)), dtypes=ALL_DTYPES)
add_row("sign", F, lambda L, x: L.sign(x), unary(-3, 3), dtypes=ALL_DTYPES, grad="zero",
        differs="sign(NaN) is NaN, as NumPy's (PyTorch gives 0)")


# -- clamp ---------------------------------------------------------------------------------------

def _clamp_case(draw, dtype: str) -> Case:
    """x with a min and a max that are each None, a number or a tensor (not both None, and both
    of one kind, as PyTorch requires); tensor bounds broadcast to x's shape.  min is an integer,
    max an integer + ½, x off both grids: no element ties with a bound, and min ≠ max."""
    kinds = draw(st.sampled_from([("number", "number"), ("tensor", "tensor"), ("number", "none"),
                                  ("none", "number"), ("tensor", "none"), ("none", "tensor")]))
    if dtype == "bool" and kinds == ("tensor", "tensor"):  # (PyTorch has no kernel for this one)
        kinds = ("tensor", "none")
    sx = draw(shapes())
    s_lo, s_hi = _shape_into(draw, sx), _shape_into(draw, sx)
    arrays = [array(draw, sx, dtype, _x_values(dtype))]
    options = {"spelling": draw(st.sampled_from(["clamp", "clip", "method"]))}
    for name, kind, shape, offset in (("min", kinds[0], s_lo, 0.0), ("max", kinds[1], s_hi, 0.5)):
        if kind == "tensor":
            arrays.append(array(draw, shape, dtype, _grid_values(dtype, offset)))
            options[name] = "tensor"
        elif kind == "number":  # an int or a float number (an int tensor with a float bound is float32)
            k = draw(st.integers(-2, 2))
            options[name] = float(k + offset) if np.dtype(dtype).kind == "f" or draw(st.booleans()) else k
    return Case(arrays, options)


def _clamp_call(L, x, *bounds, spelling="clamp", min=None, max=None):
    given = iter(bounds)
    lo = next(given) if min == "tensor" else min
    hi = next(given) if max == "tensor" else max
    if spelling == "method":
        return x.clamp(lo, hi)
    return getattr(L, spelling)(x, lo, hi)


add_row("clamp", F, _clamp_call, _clamp_case, dtypes=ALL_DTYPES, grad="first", aliases=("clip",),
        differs="also takes a number bound beside a tensor one, tensor bounds that broadcast x to a larger shape "
                "(with gradients), and two bool tensor bounds on a bool tensor")


# -- maximum, minimum ----------------------------------------------------------------------------

def _two_off_grid(draw, dtype: str) -> Case:
    """x off the half-integers, y on them: no ties (ties are tested on their own)."""
    sx, sy = _broadcast_shapes(draw, 2)
    return Case([array(draw, sx, dtype, _x_values(dtype)), array(draw, sy, dtype, _grid_values(dtype, 0.5, -3, 3))])


add_row("maximum", F, lambda L, x, y: L.maximum(x, y), _two_off_grid, dtypes=ALL_DTYPES, grad="first")
add_row("minimum", F, lambda L, x, y: L.minimum(x, y), _two_off_grid, dtypes=ALL_DTYPES, grad="first")


# -- where ---------------------------------------------------------------------------------------

def _where_case(draw, dtype: str) -> Case:
    """A bool condition and two branches, all broadcast together; either branch may be a number
    (of the branches' kind, or of another kind, which then promotes)."""
    sc, sx, sy = _broadcast_shapes(draw, 3)
    arrays = [array(draw, sc, "bool")]
    options = {"method": draw(st.booleans())}
    number = st.one_of(st.floats(-3, 3, allow_nan=False, width=32), st.integers(-3, 3), st.booleans())
    scalar = draw(st.sampled_from(["none", "x", "y"]))
    for name, shape in (("x", sx), ("y", sy)):
        if scalar == name:
            options[name] = draw(number)
        else:
            arrays.append(array(draw, shape, dtype, elements(dtype, -3, 3)))
    if options["method"] and scalar == "x":
        options["method"] = False  # (x.where needs x to be a tensor)
    return Case(arrays, options)


def _where_call(L, cond, *branches, method=False, x=None, y=None):
    given = iter(branches)
    a = next(given) if x is None else x
    b = next(given) if y is None else y
    return a.where(cond, b) if method else L.where(cond, a, b)


add_row("where", F, _where_call, _where_case, dtypes=ALL_DTYPES)


# -- more smooth functions of one variable (every dtype: integers and bools give float32) --------

for _name, _lo, _hi, _aliases in [
        ("expm1", -3, 3, ()), ("log2", 0.0625, 5, ()), ("log10", 0.0625, 5, ()), ("rsqrt", 0.0625, 5, ()),
        ("tan", -1.375, 1.375, ()), ("sinh", -3, 3, ()), ("cosh", -3, 3, ()), ("asin", -0.9375, 0.9375, ("arcsin",)),
        ("acos", -0.9375, 0.9375, ("arccos",)), ("atan", -3, 3, ("arctan",)), ("asinh", -3, 3, ("arcsinh",)),
        ("acosh", 1.0625, 4, ("arccosh",)), ("atanh", -0.9375, 0.9375, ("arctanh",)), ("erf", -3, 3, ()),
        ("erfc", -3, 5, ()), ("erfinv", -0.9375, 0.9375, ())]:
    add_row(_name, F, lambda L, x, _n=_name: getattr(L, _n)(x), unary(_lo, _hi), dtypes=ALL_DTYPES, aliases=_aliases,
            **FLOAT32_FROM_INTS)


# -- rounding: a zero gradient; integer tensors come back as they are, bools are refused ---------

for _name in ("floor", "ceil", "trunc"):
    add_row(_name, F, lambda L, x, _n=_name: getattr(L, _n)(x), unary(-3, 3), dtypes=ALL_DTYPES, grad="zero")


def _round_call(L, x, decimals=0, method=False):
    kwargs = {"decimals": decimals} if decimals else {}
    return x.round(**kwargs) if method else L.round(x, **kwargs)


add_row("round", F, _round_call,
        unary(-30, 30, options=lambda draw, s: {"decimals": draw(st.sampled_from([0, 0, 1, 2, -1])),
                                                "method": draw(st.booleans())}),
        dtypes=ALL_DTYPES, grad="zero",
        differs="round(int tensor, decimals=0) returns a copy, as round(int tensor) does (PyTorch refuses it)")
add_row("frac", F, lambda L, x: L.frac(x), unary(-3, 3, avoid=(-3, -2, -1, 0, 1, 2, 3)), dtypes=ALL_DTYPES)


# -- functions of two tensors ---------------------------------------------------------------------

def _pair(x_values, y_values, options=None):
    """Two broadcasting arrays, x from ``x_values(dtype)``, y from ``y_values(dtype)``."""
    def draw_case(draw, dtype):
        sx, sy = _broadcast_shapes(draw, 2)
        return Case([array(draw, sx, dtype, x_values(dtype)), array(draw, sy, dtype, y_values(dtype))],
                    options(draw) if options else {})
    return draw_case


def _values(lo, hi, avoid=()):
    return lambda dtype: elements(dtype, lo, hi, avoid)


# atan2 jumps by 2π across y = 0 where x < 0: y stays away from 0.
add_row("atan2", F, lambda L, y, x: L.atan2(y, x), _pair(_values(-3, 3, (0.0,)), _values(-3, 3)),
        dtypes=ALL_DTYPES, aliases=("arctan2",), **FLOAT32_FROM_INTS)
add_row("hypot", F, lambda L, x, y: L.hypot(x, y), _pair(_values(-3, 3, (0.0,)), _values(-3, 3)), dtypes=ALL_DTYPES)
add_row("logaddexp", F, lambda L, x, y: L.logaddexp(x, y), _pair(_values(-30, 30), _values(-30, 30)),
        dtypes=ALL_DTYPES)


def _copysign_case(draw, dtype):
    """x away from 0 (|x| has a kink there), the sign from a tensor away from 0 or a number."""
    if draw(st.booleans()):
        return _pair(_values(-3, 3, (0.0,)), _values(-3, 3, (0.0,)))(draw, dtype)
    x = array(draw, draw(shapes()), dtype, elements(dtype, -3, 3, (0.0,)))
    return Case([x], {"other": draw(st.sampled_from([-2, 3, -1.5, 0.5, -0.0, 0.0, True]))})


add_row("copysign", F, lambda L, x, *y, other=None: L.copysign(x, y[0] if y else other), _copysign_case,
        dtypes=ALL_DTYPES)


def _lerp_case(draw, dtype):
    """input, end and a weight (a number, or a tensor of their dtype), all broadcast together;
    weights on both sides of ½, where the formula switches, and outside [0, 1]."""
    s_in, s_end, s_w = _broadcast_shapes(draw, 3)
    arrays = [array(draw, s_in, dtype, elements(dtype, -3, 3)), array(draw, s_end, dtype, elements(dtype, -3, 3))]
    options = {"method": draw(st.booleans())}
    if draw(st.booleans()):
        options["weight"] = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5, 2]))
    else:
        arrays.append(array(draw, s_w, dtype, elements(dtype, -1, 2)))
    return Case(arrays, options)


def _lerp_call(L, start, end, *w, weight=None, method=False):
    weight = w[0] if w else weight
    return start.lerp(end, weight) if method else L.lerp(start, end, weight)


add_row("lerp", F, _lerp_call, _lerp_case, dtypes=ALL_DTYPES)


# -- nan_to_num ----------------------------------------------------------------------------------

def _nan_to_num_case(draw, dtype):
    kind = np.dtype(dtype).kind
    values = elements(dtype, -3, 3)
    if kind == "f":
        values = st.one_of(values, st.sampled_from([np.nan, np.inf, -np.inf]))
    options = {}
    for name in ("nan", "posinf", "neginf"):
        if draw(st.booleans()):
            options[name] = draw(st.sampled_from([None, 0.0, 1.5, -2, 100.0])) if name != "nan" else \
                draw(st.sampled_from([0.0, 1.5, -2, 100.0]))
    return Case([array(draw, draw(shapes()), dtype, values)], options)


add_row("nan_to_num", F, lambda L, x, **o: L.nan_to_num(x, **o), _nan_to_num_case, dtypes=ALL_DTYPES)
