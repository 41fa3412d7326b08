"""Arithmetic and bitwise behaviour the op table (tests/op_rows_arithmetic.py) cannot express:
rounding divisions and remainders on every float (zeros, infinities, NaN, signed zeros) against
PyTorch, integer division by zero, refused dtypes, floor_divide's missing derivative, the
operators and their reflected forms, add/sub's ``alpha``, isclose/allclose options, integer
powers, and shifts past the bit width."""
import numpy as np
import pytest

import minigrad as mg

from _helpers import host

SPECIALS = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 0.3, np.inf, -np.inf, np.nan])


def _torch():
    return pytest.importorskip("torch")


def _pairs(dtype):
    """Every pair of SPECIALS, as two flat arrays."""
    a, b = np.meshgrid(SPECIALS, SPECIALS, indexing="ij")
    return a.ravel().astype(dtype), b.ravel().astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide", "div_floor", "div_trunc"])
def test_rounding_divisions_match_pytorch_on_special_floats(name, dtype):
    torch = _torch()
    a, b = _pairs(dtype)

    def run(L, x, y):
        if name.startswith("div_"):
            return L.div(x, y, rounding_mode=name[4:])
        return getattr(L, name)(x, y)

    ours = host(run(mg, mg.tensor(a), mg.tensor(b)))
    theirs = run(torch, torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    # signed zeros too (remainder takes the divisor's sign, fmod the dividend's)
    np.testing.assert_array_equal(np.signbit(ours[ours == 0]), np.signbit(theirs[theirs == 0]))


@pytest.mark.parametrize("fn", [lambda x, y: x // y, lambda x, y: x % y, mg.fmod,
                                lambda x, y: mg.div(x, y, rounding_mode="trunc"),
                                lambda x, y: mg.div(x, y, rounding_mode="floor")])
def test_integer_division_by_zero_raises(fn):
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        fn(mg.tensor([5, 6]), mg.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError):
        fn(mg.tensor([5, 6]), 0)


def test_integer_true_division_by_zero_gives_inf_as_pytorch():
    np.testing.assert_array_equal(host(mg.tensor([1, -1, 0]) / mg.tensor([0, 0, 0])), [np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("fn", [mg.remainder, mg.fmod, mg.floor_divide,
                                lambda x, y: mg.div(x, y, rounding_mode="floor")])
def test_rounding_divisions_refuse_bools(fn):
    with pytest.raises(TypeError, match="bool"):
        fn(mg.tensor([True, False]), mg.tensor([True, True]))


def test_div_rounding_mode_is_checked():
    with pytest.raises(ValueError, match="rounding_mode"):
        mg.div(mg.tensor([1.0]), 2.0, rounding_mode="round")


def test_div_rounding_modes_keep_the_promoted_dtype():
    x = mg.tensor([7, -7], dtype=mg.int32)
    assert mg.div(x, 2, rounding_mode="trunc").dtype == mg.int32
    np.testing.assert_array_equal(host(mg.div(x, 2, rounding_mode="trunc")), [3, -3])
    np.testing.assert_array_equal(host(x.div(2, rounding_mode="floor")), [3, -4])
    assert mg.div(x, 2.0, rounding_mode="floor").dtype == mg.float32
    assert mg.div(x, 2).dtype == mg.float32  # true division
    np.testing.assert_array_equal(host(mg.true_divide(x, 2)), [3.5, -3.5])


def test_operators_and_reflected_forms_match_pytorch():
    torch = _torch()
    a = np.array([7, -7, 5, -5, 0], dtype=np.int64)
    b = np.array([2, 2, -3, -3, 4], dtype=np.int64)
    x, y = mg.tensor(a), mg.tensor(b)
    tx, ty = torch.from_numpy(a), torch.from_numpy(b)
    cases = [(x % y, tx % ty), (x // y, tx // ty), (x % 3, tx % 3), (17 % y, 17 % ty), (17 // y, 17 // ty),
             (x // 2.5, tx // 2.5), (x % 2.5, tx % 2.5), (7.5 % y, 7.5 % ty),
             (x << 2, tx << 2), (1 << y.abs(), 1 << ty.abs()), (x >> 1, tx >> 1), (64 >> y.abs(), 64 >> ty.abs())]
    for ours, theirs in cases:
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(ours), theirs.numpy())


def test_promotion_of_int32_with_a_float_number():
    x = mg.tensor([5, -5], dtype=mg.int32)
    assert (x % 2.5).dtype == mg.float32
    assert (x // 2).dtype == mg.int32
    assert mg.fmod(x, mg.tensor([2, 3])).dtype == mg.int64


def test_remainder_and_fmod_gradients_are_as_pytorch():
    a = mg.tensor([5.0, -5.0, 5.5], requires_grad=True)
    b = mg.tensor([3.0, 3.0, -2.0], requires_grad=True)
    (a % b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [1, 1, 1])
    np.testing.assert_array_equal(host(b.grad), [-1, 2, 3])  # -floor(a / b)
    a.grad = b.grad = None
    mg.fmod(a, b).sum().backward()
    np.testing.assert_array_equal(host(b.grad), [-1, 1, 2])  # -trunc(a / b)


def test_rounded_div_has_a_zero_gradient():
    a = mg.tensor([5.0, -5.0], requires_grad=True)
    b = mg.tensor([3.0, 2.0], requires_grad=True)
    mg.div(a, b, rounding_mode="floor").sum().backward()
    np.testing.assert_array_equal(host(a.grad), [0, 0])
    np.testing.assert_array_equal(host(b.grad), [0, 0])


def test_floor_divide_has_no_derivative_as_in_pytorch():
    a = mg.tensor([5.0, -5.0], requires_grad=True)
    out = a // 2
    with pytest.raises(RuntimeError, match="floor_divide.*not implemented"):
        out.sum().backward()


def test_add_and_sub_alpha():
    torch = _torch()
    x, y = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    out = mg.add(x, y, alpha=-2)
    np.testing.assert_array_equal(host(out), [-5, -6])
    out.sum().backward()
    np.testing.assert_array_equal(host(y.grad), [-2, -2])
    np.testing.assert_array_equal(host(mg.sub(x, y, alpha=0.5)), [-0.5, 0])
    np.testing.assert_array_equal(host(x.sub(y, alpha=2)), [-5, -6])
    with pytest.raises(TypeError, match="alpha"):
        mg.add(mg.tensor([1, 2]), mg.tensor([1, 2]), alpha=0.5)
    with pytest.raises(TypeError, match="alpha"):
        mg.add(mg.tensor([1.0]), 1.0, alpha="2")
    for alpha in (2, 0, True):
        ours = mg.add(mg.tensor([True, False]), mg.tensor([True, True]), alpha=alpha)
        theirs = torch.add(torch.tensor([True, False]), torch.tensor([True, True]), alpha=alpha)
        assert ours.dtype == mg.bool_
        np.testing.assert_array_equal(host(ours), theirs.numpy())


def test_isclose_options_and_errors():
    x = mg.tensor([1.0, np.nan, np.inf, 1.0])
    y = mg.tensor([1.0 + 1e-7, np.nan, np.inf, 1.5])
    np.testing.assert_array_equal(host(mg.isclose(x, y)), [True, False, True, False])
    np.testing.assert_array_equal(host(x.isclose(y, equal_nan=True)), [True, True, True, False])
    np.testing.assert_array_equal(host(mg.isclose(x, y, atol=0.5, equal_nan=True)), [True] * 4)
    assert mg.allclose(x, y, atol=0.5, equal_nan=True) and not mg.allclose(x, y, atol=0.5)
    assert x.allclose(x, equal_nan=True)
    assert mg.allclose(mg.tensor([1.0, 2.0]), 1.5, atol=0.5)  # a number as `other`
    with pytest.raises(TypeError, match="one dtype"):
        mg.isclose(mg.tensor([1.0]), mg.tensor([1.0], dtype=mg.float64))
    with pytest.raises(ValueError, match="rtol"):
        mg.isclose(mg.tensor([1.0]), mg.tensor([1.0]), rtol=-1)


def test_isclose_on_integers_and_bools_matches_pytorch():
    torch = _torch()
    for a, b in (([5, 5, 0], [7, 6, 0]), ([True, False, True], [True, True, False])):
        for rtol, atol in ((0.3, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0)):
            ours = mg.isclose(mg.tensor(a), mg.tensor(b), rtol=rtol, atol=atol)
            theirs = torch.isclose(torch.tensor(a), torch.tensor(b), rtol=rtol, atol=atol)
            np.testing.assert_array_equal(host(ours), theirs.numpy())


def test_integer_powers_with_negative_exponents_follow_pytorch():
    torch = _torch()
    base, exponent = [0, 1, -1, -1, 2, -2, 3], [-1, -1, -3, -2, -2, -1, 2]
    ours = mg.pow(mg.tensor(base), mg.tensor(exponent))
    np.testing.assert_array_equal(host(ours), torch.pow(torch.tensor(base), torch.tensor(exponent)).numpy())
    np.testing.assert_array_equal(host(2 ** mg.tensor([-1, 3])), [0, 8])
    with pytest.raises(ValueError, match="negative integer powers"):
        mg.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match="negative integer powers"):
        mg.tensor(np.zeros(0, dtype=np.int64)) ** -1


def test_shifts_past_the_bit_width_and_negative_amounts():
    x32 = mg.tensor([1, -8, 8], dtype=mg.int32)
    np.testing.assert_array_equal(host(x32 << 40), [0, 0, 0])
    assert (x32 << 40).dtype == mg.int32
    np.testing.assert_array_equal(host(x32 >> 40), [0, -1, 0])
    np.testing.assert_array_equal(host(x32 << mg.tensor([31, 1, -1], dtype=mg.int32)), [-2**31, -16, 0])
    np.testing.assert_array_equal(host(mg.tensor([-8, 8]) >> mg.tensor([-1, 63])), [-1, 0])


@pytest.mark.parametrize("fn", [mg.bitwise_left_shift, mg.bitwise_right_shift, mg.bitwise_and])
def test_bitwise_ops_refuse_floats(fn):
    with pytest.raises(TypeError, match="integer"):
        fn(mg.tensor([1.5]), mg.tensor([1.0]))


@pytest.mark.parametrize("fn", [mg.bitwise_left_shift, mg.bitwise_right_shift])
def test_shifts_refuse_bools(fn):
    with pytest.raises(TypeError, match="integer"):
        fn(mg.tensor([True]), mg.tensor([True]))


def test_comparison_results_never_require_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for out in (x == 1, x < 2, mg.isclose(x, x), mg.isnan(x), mg.logical_not(x)):
        assert not out.requires_grad and out.dtype == mg.bool_


def test_isclose_with_zero_tolerances_still_honours_equal_nan():
    nan = mg.tensor(np.array([np.nan, 1.0], dtype=np.float32))
    assert mg.isclose(nan, nan, rtol=0.0, atol=0.0, equal_nan=True).tolist() == [True, True]
    assert mg.isclose(nan, nan, rtol=0.0, atol=0.0, equal_nan=False).tolist() == [False, True]
