"""Op table rows: arithmetic, comparison, bitwise and logical ops (see tests/op_table.py)."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_table import ALL_DTYPES, BOOL, FLOATS, INTS, Case, add_row, array, binary, elements, off_integers, unary

F = "element-wise"
NUMERIC = FLOATS + INTS

#: Float divisors for the rounding divisions: with a dividend off the integers and half-integers,
#: x / y stays away from the integers, where floor and trunc jump (finite differences fail there).
DIVISORS = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0)


def _two_shapes(draw):
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0,
                                                  max_side=3)).input_shapes


def division(rounding_modes=(None,)):
    """x and y for a division: float y away from 0; with a rounding mode (or for remainders)
    x off the integers and y from DIVISORS; integer y nonzero (division by 0 is tested apart)."""
    def draw_case(draw, dtype):
        mode = draw(st.sampled_from(rounding_modes))
        s1, s2 = _two_shapes(draw)
        kind = np.dtype(dtype).kind
        if kind == "f" and mode is None:
            x = array(draw, s1, dtype, elements(dtype, -3, 3))
            y = array(draw, s2, dtype, elements(dtype, -3, 3, avoid=(0.0,), margin=0.3))
        elif kind == "f":
            x = array(draw, s1, dtype, off_integers(-3, 3))
            y = array(draw, s2, dtype, st.sampled_from(DIVISORS))
        elif kind in "iu":
            x = array(draw, s1, dtype, elements(dtype, -7, 7))
            y = array(draw, s2, dtype, st.sampled_from((-3, -2, -1, 1, 2, 3)))
        else:
            x, y = array(draw, s1, dtype), array(draw, s2, dtype)
        return Case([x, y], {} if mode == "none" else {"rounding_mode": mode})
    return draw_case


def _div(L, x, y, rounding_mode=None):
    return L.div(x, y) if rounding_mode is None else L.div(x, y, rounding_mode=rounding_mode)


def with_alpha(draw, s1, s2):
    alpha = draw(st.sampled_from((None, 1, 2, -3, 0.5)))
    return {} if alpha is None else {"alpha": alpha}


def _alpha_call(fn):
    def call(L, x, y, alpha=None):
        op = getattr(L, fn)
        return op(x, y) if alpha is None else op(x, y, alpha=alpha)
    return call


def power(draw, dtype):
    """x ** y with y a tensor, x ** c with c a number (option ``exponent``), or c ** y (option
    ``base``).  Float bases are positive (a negative base to a fractional power is NaN, and its
    gradient too); integer exponents of integer bases may be negative (PyTorch: 0, 1 or ±1)."""
    kind = np.dtype(dtype).kind
    form = draw(st.sampled_from(("tensors", "exponent", "base")))
    s1, s2 = _two_shapes(draw)
    if kind == "f":
        base, exponent = elements(dtype, 0.5, 3), elements(dtype, -2, 2)
    elif kind in "iu":
        base, exponent = elements(dtype, -3, 3), elements(dtype, -2, 3)
    else:
        base = exponent = elements(dtype)
    if form == "tensors":
        return Case([array(draw, s1, dtype, base), array(draw, s2, dtype, exponent)])
    if form == "exponent":
        c = draw(st.sampled_from((0, 1, 2, 3, 0.5, -1, 2.5, -1.5)))
        return Case([array(draw, s1, dtype, base)], {"exponent": c})
    c = draw(st.sampled_from((2, 3, 0.5, 1.5)))
    return Case([array(draw, s2, dtype, exponent)], {"base": c})


def _pow(L, *tensors, exponent=None, base=None):
    if exponent is not None:
        return L.pow(tensors[0], exponent)
    if base is not None:
        return L.pow(base, tensors[0])
    return L.pow(*tensors)


def with_specials(shape=None):
    """One array whose floats include ±inf and NaN (integers and bools as usual)."""
    def draw_case(draw, dtype):
        s = draw(shape if shape is not None else hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
        if np.dtype(dtype).kind == "f":
            values = st.one_of(st.sampled_from((np.inf, -np.inf, np.nan)), elements(dtype, -3, 3))
            return Case([array(draw, s, dtype, values)])
        return Case([array(draw, s, dtype)])
    return draw_case


def near_values(draw, dtype):
    """Two arrays from a few values, some close to each other, with tolerances and equal_nan."""
    s1, s2 = _two_shapes(draw)
    if np.dtype(dtype).kind == "f":
        values = st.sampled_from((0.0, 1.0, 1.0 + 1e-6, 1.001, 1.1, -1.0, np.inf, -np.inf, np.nan))
    else:
        values = elements(dtype, -3, 3)
    options = {"rtol": draw(st.sampled_from((1e-5, 0.0, 0.01, 0.5))),
               "atol": draw(st.sampled_from((1e-8, 0.0, 1.0))),
               "equal_nan": draw(st.booleans())}
    return Case([array(draw, s1, dtype, values), array(draw, s2, dtype, values)], options)


def shifts(draw, dtype):
    """Values and shift amounts, including negative amounts and amounts past the bit width."""
    s1, s2 = _two_shapes(draw)
    if np.dtype(dtype).kind in "iu":
        return Case([array(draw, s1, dtype, elements(dtype, -100, 100)), array(draw, s2, dtype, elements(dtype, -2, 70))])
    return Case([array(draw, s1, dtype), array(draw, s2, dtype)])


# -- arithmetic ----------------------------------------------------------------------------------
add_row("add", F, _alpha_call("add"), binary(options=with_alpha), dtypes=ALL_DTYPES)
add_row("sub", F, _alpha_call("sub"), binary(options=with_alpha), dtypes=NUMERIC)
add_row("mul", F, lambda L, x, y: L.mul(x, y), binary(), dtypes=ALL_DTYPES)
add_row("div", F, _div, division((None, "none", "trunc", "floor")), dtypes=ALL_DTYPES, aliases=("true_divide",))
add_row("pow", F, _pow, power, dtypes=ALL_DTYPES, rtol=1e-5)
add_row("neg", F, lambda L, x: L.neg(x), unary(), dtypes=NUMERIC)
add_row("square", F, lambda L, x: L.square(x), unary(), dtypes=ALL_DTYPES)
add_row("remainder", F, lambda L, x, y: L.remainder(x, y), division(("none",)), dtypes=NUMERIC)
add_row("fmod", F, lambda L, x, y: L.fmod(x, y), division(("none",)), dtypes=NUMERIC)
# PyTorch's floor_divide has no derivative (its backward raises, as minigrad's): no input
# requires grad here; the raise is checked in tests/test_ops_arithmetic_more.py.
add_row("floor_divide", F, lambda L, x, y: L.floor_divide(x, y), division(("none",)), dtypes=NUMERIC,
        grad="none", grad_inputs=())

# -- comparisons ---------------------------------------------------------------------------------
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    add_row(_name, F, (lambda n: lambda L, x, y: getattr(L, n)(x, y))(_name), binary(), dtypes=ALL_DTYPES,
            grad="none")
add_row("equal", F, lambda L, x, y: L.equal(x, y), binary(-1, 1), dtypes=ALL_DTYPES, grad="none")
add_row("isclose", F, lambda L, x, y, **o: L.isclose(x, y, **o), near_values, dtypes=ALL_DTYPES, grad="none")
add_row("allclose", F, lambda L, x, y, **o: L.allclose(x, y, **o), near_values, dtypes=ALL_DTYPES, grad="none",
        differs="also takes a number or an array as `other` (promoted as in arithmetic); PyTorch needs a tensor")
for _name in ("isfinite", "isinf", "isnan"):
    add_row(_name, F, (lambda n: lambda L, x: getattr(L, n)(x))(_name), with_specials(), dtypes=ALL_DTYPES,
            grad="none")

# -- logical and bitwise -------------------------------------------------------------------------
for _name in ("logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"):
    add_row(_name, F, (lambda n: lambda L, x, y: getattr(L, n)(x, y))(_name), binary(-100, 100),
            dtypes=ALL_DTYPES if _name.startswith("logical") else INTS + BOOL, grad="none")
add_row("logical_not", F, lambda L, x: L.logical_not(x), with_specials(), dtypes=ALL_DTYPES, grad="none")
add_row("bitwise_not", F, lambda L, x: L.bitwise_not(x), unary(-100, 100), dtypes=INTS + BOOL, grad="none")
add_row("bitwise_left_shift", F, lambda L, x, y: L.bitwise_left_shift(x, y), shifts, dtypes=INTS,
        grad="none")
add_row("bitwise_right_shift", F, lambda L, x, y: L.bitwise_right_shift(x, y), shifts, dtypes=INTS,
        grad="none")
