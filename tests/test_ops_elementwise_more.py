"""Element-wise math beyond what the op table draws (tests/op_rows_elementwise.py): NaN, ±inf,
±0 and huge values against PyTorch, values and gradients; the SciPy-free erf/erfc/erfinv;
rounding and dtype rules; lerp, copysign, nan_to_num, atan2 at their edges; and the errors.
The PyTorch comparisons skip without torch; the rest runs everywhere."""
import sys
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.errors import ShapeError
from minigrad.ops import _erf

from _helpers import assert_close, host, leaf

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-30, -1e-30, 1e30,
                     -1e30, 1e-310, 700.0, 800.0, -800.0])
PAIR_SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-30, 1e30, -1e30, 800.0,
                          -800.0, 1e200, 1e-200])

UNARY = ["exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "expm1", "log2", "log10", "rsqrt", "tan", "sinh",
         "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "erf", "erfc", "erfinv", "floor", "ceil",
         "trunc", "round", "frac", "nan_to_num"]
BINARY = ["atan2", "hypot", "logaddexp", "copysign", "maximum", "minimum"]


def _torch():
    return pytest.importorskip("torch")


def _same_values(ours: np.ndarray, theirs: np.ndarray, rtol: float, what: str) -> None:
    """Equal within rtol, NaN where PyTorch has NaN, and the same sign bit (so -0 is -0)."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True, err_msg=what)
    signs_differ = (np.signbit(ours) != np.signbit(theirs)) & ~np.isnan(theirs)
    assert not signs_differ.any(), f"{what}: sign differs at {np.flatnonzero(signs_differ)}"


def _against_torch(name: str, torch_fn, our_fn, arrays: list, rtol: float) -> None:
    """Values and gradients (of the sum) of one call, minigrad against PyTorch."""
    torch = _torch()
    theirs_in = [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    ours_in = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = torch_fn(*theirs_in), our_fn(*ours_in)
        _same_values(host(ours), theirs.detach().numpy(), rtol, f"{name}: values")
        theirs.backward(torch.ones_like(theirs))
        ours.backward(mg.ones_like(ours))
    for k, (t, o) in enumerate(zip(theirs_in, ours_in)):
        np.testing.assert_allclose(host(o.grad), t.grad.numpy(), rtol=rtol, atol=0, equal_nan=True,
                                   err_msg=f"{name}: gradient of input {k}")


# -- NaN, ±inf, ±0 and huge values against PyTorch --------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_at_special_values_match_pytorch(name, dtype):
    torch = _torch()
    _against_torch(name, getattr(torch, name), getattr(mg, name), [SPECIALS.astype(dtype)],
                   rtol=1e-12 if dtype == "float64" else 1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_at_every_pair_of_special_values_match_pytorch(name, dtype):
    torch = _torch()
    x, y = (a.ravel().astype(dtype) for a in np.meshgrid(PAIR_SPECIALS, PAIR_SPECIALS))
    _against_torch(name, getattr(torch, name), getattr(mg, name), [x, y], rtol=1e-12 if dtype == "float64" else 1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("weight", [0.0, 0.3, 0.5, 0.7, 1.0, 2.0, -1.0, "tensor"])
def test_lerp_at_special_values_matches_pytorch(weight):
    torch = _torch()
    x, y = (a.ravel() for a in np.meshgrid(PAIR_SPECIALS, PAIR_SPECIALS))
    if weight == "tensor":
        w = np.resize([0.0, 0.3, 0.5, 0.7, 1.0, 2.0, -1.0, np.nan], x.shape)
        _against_torch("lerp", torch.lerp, mg.lerp, [x, y, w], rtol=1e-12)
        _against_torch("lerp", torch.lerp, mg.lerp, [w, y, x], rtol=1e-12)  # infinite weights too
    else:
        _against_torch("lerp", lambda a, b: torch.lerp(a, b, weight), lambda a, b: mg.lerp(a, b, weight), [x, y],
                       rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"nan": 1.5, "posinf": 2.0, "neginf": -3.0}, {"posinf": 1e300}])
def test_nan_to_num_matches_pytorch(options):
    torch = _torch()
    for dtype in ("float64", "float32"):
        _against_torch("nan_to_num", lambda a: torch.nan_to_num(a, **options),
                       lambda a: mg.nan_to_num(a, **options), [SPECIALS.astype(dtype)], rtol=1e-12)


@pytest.mark.torch
def test_maximum_minimum_where_and_clamp_at_ties_and_specials_match_pytorch():
    torch = _torch()
    x, y = (a.ravel() for a in np.meshgrid(PAIR_SPECIALS, PAIR_SPECIALS))  # (the diagonal: ties)
    _against_torch("where", lambda a, b: torch.where(a > b, a, b), lambda a, b: mg.where(a > b, a, b), [x, y], 1e-12)
    _against_torch("clamp", torch.clamp, mg.clamp, [x, y, x[::-1].copy()], 1e-12)


# -- the special functions without SciPy ----------------------------------------------------------

def test_erfinv_fallback_is_double_precision():
    special = pytest.importorskip("scipy.special")
    tail = 1.0 - np.logspace(-16.5, -0.31, 3000)
    y = np.concatenate([np.linspace(-1, 1, 20001)[1:-1], tail, -tail, np.logspace(-300, -1, 300)])
    got, want = _erf.erfinv(np, y), special.erfinv(y)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert _erf.erfinv(np, y.astype(np.float32)).dtype == np.float32


def test_erfc_fallback_keeps_its_relative_precision_in_the_tail():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-6, 26, 32001), [0.0, -0.0, 2.0]])
    np.testing.assert_allclose(_erf.erfc(np, x), special.erfc(x), rtol=1e-12, atol=0)


def test_special_fallbacks_at_their_edges():
    """These run everywhere (no SciPy needed)."""
    got = _erf.erfinv(np, np.array([1.0, -1.0, 1.5, -1.5, np.nan, 0.0, -0.0, np.inf]))
    np.testing.assert_array_equal(got[:2], [np.inf, -np.inf])
    assert np.isnan(got[2:5]).all() and np.isnan(got[7])
    assert got[5] == 0 and not np.signbit(got[5]) and np.signbit(got[6])
    np.testing.assert_array_equal(_erf.erfc(np, np.array([np.inf, -np.inf, 40.0])), [0.0, 2.0, 0.0])
    assert np.isnan(_erf.erfc(np, np.array([np.nan]))).all()
    # erf(erfinv(y)) = y, and erfc(erfinv(1 - t)) = t in the tail
    y = np.linspace(-0.999, 0.999, 2001)
    np.testing.assert_allclose(_erf.erf(np, _erf.erfinv(np, y)), y, rtol=1e-14, atol=1e-16)
    z = 1.0 - np.logspace(-15, -1, 50)
    np.testing.assert_allclose(_erf.erfc(np, _erf.erfinv(np, z)), 1.0 - z, rtol=1e-12)  # (1 - z is exact)


def test_the_ops_use_the_fallback_when_scipy_is_missing(monkeypatch):
    y = np.array([-0.999, -0.5, -0.0, 0.25, 0.9, 1 - 1e-12])
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.5, 9.0])
    with_scipy = [host(mg.erfinv(mg.tensor(y))), host(mg.erf(mg.tensor(x))), host(mg.erfc(mg.tensor(x)))]
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # (importing it now raises ImportError)
    monkeypatch.setattr(_erf, "_SPECIAL", {})
    without = [host(mg.erfinv(mg.tensor(y))), host(mg.erf(mg.tensor(x))), host(mg.erfc(mg.tensor(x)))]
    assert _erf._SPECIAL[("numpy", "erfinv")].__module__ == _erf.__name__
    for a, b in zip(with_scipy, without):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    assert np.signbit(without[0][2])


def test_erf_family_gradients_and_second_derivatives():
    x = leaf([-2.0, -0.3, 0.0, 0.4, 1.7])
    for fn in (mg.erf, mg.erfc):
        assert gradcheck(fn, [x]) and gradgradcheck(fn, [x])
    y = leaf([-0.9, -0.3, 0.0, 0.4, 0.95])
    assert gradcheck(mg.erfinv, [y]) and gradgradcheck(mg.erfinv, [y])
    assert_close(mg.erf(mg.erfinv(y)), host(y), rtol=1e-14)


# -- dtypes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tan", "erf", "erfinv", "rsqrt", "expm1", "atanh"])
def test_float_functions_of_integers_and_bools_give_the_default_float_dtype(name):
    for dtype in (mg.int64, mg.int32, mg.uint8, mg.bool_):
        assert getattr(mg, name)(mg.tensor([0, 1], dtype=dtype)).dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert getattr(mg, name)(mg.tensor([0, 1])).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert getattr(mg, name)(mg.tensor([0.5], dtype=mg.float16)).dtype == mg.float16


def test_binary_float_functions_promote_then_use_the_default_float_dtype():
    i, f64 = mg.tensor([1, 2]), mg.tensor([1.0, 2.0], dtype=mg.float64)
    assert mg.atan2(i, i).dtype == mg.float32
    assert mg.atan2(i, f64).dtype == mg.float64
    assert mg.atan2(mg.tensor([1.0, 2.0]), mg.tensor(1.0, dtype=mg.float64)).dtype == mg.float32  # (0-d)
    assert mg.copysign(i, -1).dtype == mg.float32
    assert mg.copysign(mg.tensor([1.0], dtype=mg.float16), mg.tensor([-1])).dtype == mg.float16
    assert mg.hypot(mg.tensor([3.0]), f64[:1]).dtype == mg.float64


# -- rounding -------------------------------------------------------------------------------------

def test_round_halves_to_even_and_takes_decimals():
    assert_close(mg.round(mg.tensor([0.5, 1.5, 2.5, -0.5, -2.5], dtype=mg.float64)), [0.0, 2.0, 2.0, -0.0, -2.0])
    assert np.signbit(host(mg.round(mg.tensor([-0.4])))).all()
    x = mg.tensor([1234.5678, -0.125, 2.5], dtype=mg.float64)
    assert_close(mg.round(x, decimals=2), [1234.57, -0.12, 2.5])
    assert_close(x.round(decimals=-2), [1200.0, -0.0, 0.0])
    assert np.isnan(host(mg.round(x, decimals=400))).all()  # 10^400 overflows, as in PyTorch
    with pytest.raises(TypeError, match="decimals"):
        mg.round(x, decimals=1.5)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
def test_rounding_integers_returns_a_copy_and_refuses_bools(name):
    for dtype in (mg.int64, mg.int32, mg.uint8):
        x = mg.tensor([3, 0, 7], dtype=dtype)
        y = getattr(mg, name)(x)
        assert y.dtype == dtype and host(y).tolist() == [3, 0, 7] and not y.requires_grad
        y._data[0] = 5
        assert host(x)[0] == 3  # a copy, not the same memory
    with pytest.raises(TypeError, match=f"{name}: not defined for bool"):
        getattr(mg, name)(mg.tensor([True]))


def test_rounding_with_decimals_and_frac_refuse_integers():
    with pytest.raises(TypeError, match="round: decimals=1 needs a floating-point tensor"):
        mg.round(mg.tensor([1, 2]), decimals=1)
    with pytest.raises(TypeError, match="frac: needs a floating-point tensor"):
        mg.frac(mg.tensor([1, 2]))


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
def test_rounding_has_a_zero_gradient_off_the_tape(name):
    x = leaf([-1.5, 0.0, 0.5, 2.7])
    (g,) = mg.grad(getattr(mg, name)(x).sum() * 3, [x], create_graph=True)
    assert host(g).tolist() == [0.0, 0.0, 0.0, 0.0] and not g.requires_grad


def test_frac_keeps_the_sign_and_passes_the_gradient():
    x = leaf([-1.25, 2.75, -0.0])
    y = mg.frac(x)
    assert_close(y, [-0.25, 0.75, -0.0])
    y.sum().backward()
    assert_close(x.grad, [1.0, 1.0, 1.0])


# -- lerp, copysign, atan2, hypot, logaddexp, nan_to_num --------------------------------------------

def test_lerp_reaches_end_exactly_and_checks_dtypes():
    start, end = mg.tensor([0.1, -3.0, 1e8]), mg.tensor([0.7, 0.3, -2e-8])
    assert host(mg.lerp(start, end, 1.0)).tolist() == host(end).tolist()
    assert host(mg.lerp(start, end, mg.ones(3))).tolist() == host(end).tolist()
    assert host(start.lerp(end, 0)).tolist() == host(start).tolist()
    assert mg.lerp(start, end, mg.tensor(1)).dtype == mg.float32  # a 0-d weight of another dtype is converted
    with pytest.raises(TypeError, match="lerp: expected end of dtype float32"):
        mg.lerp(start, end.double(), 0.5)
    with pytest.raises(TypeError, match="lerp: expected weight of dtype float32"):
        mg.lerp(start, end, mg.ones(3, dtype=mg.float64))
    with pytest.raises(TypeError, match="lerp: needs a floating-point input"):
        mg.lerp(mg.tensor([1, 2]), mg.tensor([1, 2]), 0.5)
    with pytest.raises(TypeError, match="lerp: expected a tensor as end"):
        mg.lerp(start, 2.0, 0.5)
    with pytest.raises(ShapeError, match=r"lerp: shapes \(3,\), \(2,\) and \(\) cannot"):
        mg.lerp(start, mg.ones(2), mg.tensor(0.5))


def test_lerp_gradients_for_every_operand():
    start, end, w = leaf([[0.5, -1.0, 2.0]]), leaf([[1.5], [-0.5]]), leaf([0.2, 0.6, 1.3])
    assert gradcheck(mg.lerp, [start, end, w]) and gradgradcheck(mg.lerp, [start, end, w])
    assert gradcheck(lambda a, b: mg.lerp(a, b, 0.75), [start, end])


def test_copysign_takes_the_sign_bit_and_gives_other_a_zero_gradient():
    x = leaf([1.5, -2.0, 0.0, 3.0])
    other = leaf([-0.0, 0.0, -1.0, 1.0])
    y = mg.copysign(x, other)
    assert_close(y, [-1.5, 2.0, -0.0, 3.0])
    assert np.signbit(host(y)[2])
    y.backward(mg.ones(4, dtype=mg.float64))
    assert_close(x.grad, [-1.0, -1.0, 0.0, 1.0])  # 0 where x = 0, as PyTorch
    assert_close(other.grad, [0.0, 0.0, 0.0, 0.0])
    assert_close(x.copysign(-1), [-1.5, -2.0, -0.0, -3.0])
    with pytest.raises(TypeError, match="copysign: other must be a tensor or a number"):
        mg.copysign(x, "minus")


def test_atan2_covers_the_four_quadrants_and_has_zero_gradient_at_the_origin():
    y, x = leaf([1.0, 1.0, -1.0, -1.0, 0.0, 0.0]), leaf([1.0, -1.0, -1.0, 1.0, -1.0, 0.0])
    z = mg.atan2(y, x)
    pi = np.pi
    assert_close(z, [pi / 4, 3 * pi / 4, -3 * pi / 4, -pi / 4, pi, 0.0])
    z.sum().backward()
    assert_close(y.grad[-1:], [0.0])
    assert_close(x.grad[-1:], [0.0])
    assert mg.arctan2 is mg.atan2


def test_hypot_and_logaddexp_do_not_overflow():
    big = mg.tensor([3e200, -1e4], dtype=mg.float64)
    assert_close(mg.hypot(big, big * (4 / 3)), [5e200, 1e4 * 5 / 3], rtol=1e-14)
    x32 = mg.tensor([1e4, -1e4, 88.0, 0.0])
    out = mg.logaddexp(x32, x32)
    assert out.dtype == mg.float32
    assert_close(out, [1e4 + np.log(2), -1e4 + np.log(2), 88 + np.log(2), np.log(2)], rtol=1e-6)
    a, b = leaf([1e4, -1e4, 3.0]), leaf([1e4 - 1, 0.0, np.inf])
    mg.logaddexp(a, b).sum().backward()
    sig = 1 / (1 + np.exp(-1.0))
    assert_close(a.grad, [sig, 0.0, 0.0])
    assert_close(b.grad, [1 - sig, 1.0, 1.0])


def test_hypot_and_logaddexp_refuse_integers():
    with pytest.raises(TypeError, match="hypot: needs floating-point tensors, got int64"):
        mg.hypot(mg.tensor([3]), mg.tensor([4]))
    with pytest.raises(TypeError, match="logaddexp: needs floating-point tensors"):
        mg.logaddexp(mg.tensor([True]), mg.tensor([False]))
    with pytest.raises(TypeError, match="logaddexp: expected a tensor as other, got float"):
        mg.logaddexp(mg.tensor([1.0]), 2.0)


def test_nan_to_num_defaults_integers_and_gradient():
    x = leaf([np.nan, np.inf, -np.inf, 2.0])
    y = mg.nan_to_num(x)
    big = np.finfo(np.float64).max
    assert_close(y, [0.0, big, -big, 2.0])
    y.backward(mg.ones(4, dtype=mg.float64))
    assert_close(x.grad, [0.0, 0.0, 0.0, 1.0])
    assert_close(mg.nan_to_num(mg.tensor([np.nan, np.inf]), nan=None, posinf=7), [0.0, 7.0], dtype=np.float32)
    ints = mg.tensor([1, 2])
    out = ints.nan_to_num(nan=5.0)
    assert out.dtype == mg.int64 and host(out).tolist() == [1, 2] and out._data is not ints._data
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a number or None"):
        mg.nan_to_num(x, posinf="big")


def test_where_method_and_number_branches():
    x = mg.tensor([1.0, -2.0, 3.0])
    assert_close(x.where(x > 0, 0.0), [1.0, 0.0, 3.0])
    assert_close(x.where(x > 0, mg.tensor([[9.0], [8.0]])), [[1.0, 9.0, 3.0], [1.0, 8.0, 3.0]])
    out = mg.where(x > 0, 1, 0)
    assert out.dtype == mg.int64 and host(out).tolist() == [1, 0, 1]


@pytest.mark.torch
def test_clamp_extensions_agree_with_pytorch_values():
    """Mixed number/tensor bounds, and bounds that broadcast x to a larger shape: the values are
    PyTorch's (computed with two tensor bounds there; PyTorch refuses the mixed call)."""
    torch = _torch()
    x = np.array([-2.0, 0.5, 3.0])
    lo = np.array([[0.0], [1.0]])
    ours = mg.clamp(mg.tensor(x), mg.tensor(lo), 2.0)
    theirs = torch.clamp(torch.from_numpy(x), torch.from_numpy(lo), torch.tensor(2.0, dtype=torch.float64))
    assert_close(ours, theirs.numpy())
    xg = leaf(x)
    mg.clamp(xg, mg.tensor(lo)).sum().backward()  # x is broadcast to (2, 3): its gradient is summed back
    assert_close(xg.grad, [0.0, 1.0, 2.0])


# -- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", UNARY + ["sign"])
def test_unary_ops_refuse_non_tensors_with_one_clear_line(name):
    with pytest.raises(TypeError, match=f"^{name}: expected a tensor as input, got (float|list)"):
        getattr(mg, name)([0.5] if name == "sign" else 0.5)


def test_abs_refuses_bools():
    with pytest.raises(TypeError, match="abs: not defined for bool tensors"):
        mg.abs(mg.tensor([True, False]))


@pytest.mark.parametrize("name", BINARY[:4])
def test_binary_ops_name_the_shapes_that_do_not_broadcast(name):
    with pytest.raises(ShapeError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        getattr(mg, name)(mg.ones(2, 3), mg.ones(4))


def test_every_new_op_is_a_tensor_method_too():
    x = mg.tensor([0.25, 0.5])
    for name in ["expm1", "log2", "log10", "rsqrt", "tan", "sinh", "cosh", "asin", "acos", "atan", "asinh",
                 "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arctanh", "erf", "erfc", "erfinv", "floor",
                 "ceil", "trunc", "round", "frac", "nan_to_num"]:
        assert_close(getattr(x, name)(), host(getattr(mg, name)(x)))
    assert_close((x + 1).acosh(), host(mg.acosh(x + 1)))
    for name in ["atan2", "arctan2", "hypot", "logaddexp", "copysign"]:
        assert_close(getattr(x, name)(x), host(getattr(mg, name)(x, x)))
