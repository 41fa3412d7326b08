"""+ - * / ** and unary minus: forward against NumPy (broadcasting, empty dims), gradients
by gradcheck/gradgradcheck, Python-scalar and reflected forms, and broadcast errors."""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import (SMALL, arrays, assert_close, check_grads, grad_settings, host, leaf, nonzero, plain, positive,
                      with_device)

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


@pytest.mark.parametrize("name", sorted(BINARY))
@with_device
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, min_side=0, max_dims=3))
def test_binary_forward_matches_numpy(device, name, data, shapes):
    op = BINARY[name]
    a = data.draw(arrays(shapes[0]))
    b = data.draw(arrays(shapes[1], nonzero() if name == "div" else None))
    x, y = leaf(a, device), leaf(b, device)
    out = op(x, y)
    assert_close(out, op(a, b), dtype=np.float64)
    assert out.requires_grad
    # The functional spellings are the same op.
    assert_close(getattr(mg, name)(x, y), op(a, b))


@pytest.mark.parametrize("name", sorted(BINARY))
@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, **SMALL))
def test_binary_gradients_broadcast(name, data, shapes):
    op = BINARY[name]
    x = leaf(data.draw(arrays(shapes[0])))
    y = leaf(data.draw(arrays(shapes[1], nonzero() if name == "div" else None)))
    check_grads(op, x, y)


@pytest.mark.parametrize("name", sorted(BINARY))
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), s=nonzero(0.25, 3.0))
def test_binary_with_python_scalar_both_sides(name, data, shape, s):
    op = BINARY[name]
    a = data.draw(arrays(shape, nonzero() if name == "div" else None))
    x = leaf(a)
    assert_close(op(x, s), op(a, s))
    assert_close(op(s, x), op(s, a))  # reflected: __radd__, __rsub__, __rmul__, __rtruediv__
    check_grads(lambda t: op(t, s), x)
    check_grads(lambda t: op(s, t), x)


@given(shape=mst.shapes(**SMALL), s=nonzero(0.25, 3.0))
def test_scalar_operand_keeps_float32(shape, s):
    x = mg.tensor(np.ones(shape, dtype=np.float32))
    for op in BINARY.values():
        assert op(x, s).dtype == np.float32
        assert op(s, x).dtype == np.float32
    assert (x ** 2).dtype == np.float32 and (-x).dtype == np.float32


@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, **SMALL))
def test_pow_tensor_exponent(data, shapes):
    a = data.draw(arrays(shapes[0], positive()))
    b = data.draw(arrays(shapes[1], plain(-2.0, 2.0)))
    x, y = leaf(a), leaf(b)
    assert_close(x ** y, a ** b, rtol=1e-12)
    assert_close(mg.pow(x, y), a ** b, rtol=1e-12)
    check_grads(lambda u, v: u ** v, x, y)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), c=st.sampled_from([0, 1, 2, 3, -1, 0.5, -2.5, 1.5]))
def test_pow_scalar_exponent(data, shape, c):
    a = data.draw(arrays(shape, positive()))
    x = leaf(a)
    assert_close(x ** c, a ** c, rtol=1e-12)
    check_grads(lambda t: t ** c, x)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), c=st.sampled_from([2, 3, 4, -1]))
def test_pow_integer_exponent_negative_base(data, shape, c):
    a = data.draw(arrays(shape, nonzero(0.2)))
    x = leaf(a)
    assert_close(x ** c, a ** c, rtol=1e-12)
    assert_close(x.square(), a * a)
    check_grads(lambda t: t ** c, x)
    check_grads(lambda t: t.square(), x)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), base=positive(0.3, 3.0))
def test_reflected_pow_scalar_base(data, shape, base):
    """``s ** x``: d/dx = s**x · ln s."""
    a = data.draw(arrays(shape, plain(-2.0, 2.0)))
    x = leaf(a)
    out = base ** x
    assert_close(out, base ** a, rtol=1e-12)
    out.backward(mg.ones_like(out))
    assert_close(x.grad, base ** a * np.log(base), rtol=1e-12)
    check_grads(lambda t: base ** t, x)


def test_pow_zero_exponent_has_zero_gradient_everywhere():
    """x ** 0 is constant 1, so its gradient is 0 even at x = 0 (not 0 · 0⁻¹ = nan)."""
    x = leaf([0.0, 2.0, -3.0])
    (x ** 0).sum().backward()
    assert_close(x.grad, [0.0, 0.0, 0.0])


@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3))
def test_neg(data, shape):
    a = data.draw(arrays(shape))
    x = leaf(a)
    assert_close(-x, -a)
    assert_close(mg.neg(x), -a)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_neg_gradients(data, shape):
    check_grads(lambda t: -t, leaf(data.draw(arrays(shape))))


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_same_tensor_on_both_sides_accumulates(data, shape):
    """x * x and x / x: both operand paths add into one gradient."""
    a = data.draw(arrays(shape, nonzero()))
    x = leaf(a)
    (x * x + x / x).sum().backward()
    assert_close(x.grad, 2 * a, rtol=1e-12, atol=1e-12)
    check_grads(lambda t: t * t - t / (t + 10), leaf(a))


@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, **SMALL))
def test_numpy_array_operand_is_a_constant(data, shapes):
    a = data.draw(arrays(shapes[0], nonzero()))
    b = data.draw(arrays(shapes[1], nonzero()))
    x = leaf(a)
    for op in BINARY.values():
        assert_close(op(x, b), op(a, b))
        assert_close(op(b, x), op(b, a))  # ndarray on the left: NumPy defers to the Tensor's reflected op
    check_grads(lambda t: t * b - b / (t * t + 1), x)


def test_broadcast_result_gradient_sums_to_operand_shape():
    x = leaf(np.arange(3.0).reshape(3, 1))
    y = leaf(np.arange(4.0).reshape(1, 4))
    z = x * y + x - y
    assert z.shape == (3, 4)
    z.sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (1, 4)
    assert_close(x.grad, np.full((3, 1), np.arange(4.0).sum() + 4))
    assert_close(y.grad, np.full((1, 4), np.arange(3.0).sum() - 3))


@pytest.mark.parametrize("name", sorted(BINARY) + ["pow"])
def test_broadcast_mismatch_names_both_shapes(name):
    x, y = mg.ones(2, 3), mg.ones(4)
    op = {**BINARY, "pow": operator.pow}[name]
    with pytest.raises(ValueError) as info:
        op(x, y)
    msg = str(info.value)
    assert "(2, 3)" in msg and "(4,)" in msg, msg


@given(x=mst.tensors(mst.shapes(max_dims=3), dtype=np.int64), y=mst.tensors((), dtype=np.int64))
def test_integer_tensors_stay_integer_and_out_of_the_graph(x, y):
    a, b = host(x), host(y)
    for op in (operator.add, operator.sub, operator.mul):
        out = op(x, y)
        assert out.dtype == np.int64 and not out.requires_grad
        np.testing.assert_array_equal(host(out), op(a, b))
    np.testing.assert_array_equal(host(x * 2 + 1), a * 2 + 1)


# -- promotion (every dtype pair is in test_promotion.py; these pin the cases found broken) ------


def test_int_tensor_with_a_float_number_gives_the_default_dtype():
    a = np.array([1, 4, 9], dtype=np.int32)
    t = mg.tensor(a)
    f = a.astype(np.float32)
    cases = [(0.7 ** t, np.float32(0.7) ** f), (t ** 0.5, f ** np.float32(0.5)), (t ** np.float64(0.5), np.sqrt(f)),
             (2.5 - t, 2.5 - f), (1.5 / t, 1.5 / f), (t * 0.5, f * 0.5), (t + np.float32(0.5), f + 0.5)]
    for out, want in cases:
        assert out.dtype == np.float32
        np.testing.assert_allclose(host(out), want, rtol=1e-6)


@pytest.mark.parametrize("number", [np.float64(2.0), np.float32(2.0), np.float16(2.0), np.int64(2), np.int8(2)])
def test_numpy_scalars_promote_as_numbers(number):
    x = mg.tensor(np.array([1.0, 2.0, 4.0], dtype=np.float32))
    for op in list(BINARY.values()) + [operator.pow]:
        a, n = host(x), np.float32(number)
        for out, want in ((op(x, number), op(a, n)), (op(number, x), op(n, a))):
            assert out.dtype == np.float32, (op, type(number))
            np.testing.assert_allclose(host(out), want, rtol=1e-6)
    i = mg.tensor(np.array([1, 2], dtype=np.int16))
    assert (i * number).dtype == (np.int16 if isinstance(number, np.integer) else np.float32)


def test_integer_division_casts_to_the_default_dtype_first():
    # PyTorch divides float32(a) / float32(b); dividing in float64 and rounding the quotient to
    # float32 differs for large a (here by one float32 step).
    a, b = np.array([1105859001, 7]), np.array([798, 2])
    out = mg.tensor(a) / mg.tensor(b)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(host(out), a.astype(np.float32) / b.astype(np.float32))
    assert (mg.tensor([True, False]) / mg.tensor([True, True])).dtype == np.float32


@pytest.mark.parametrize("make", [lambda b: b - b, lambda b: b - 1, lambda b: 1.5 - b, lambda b: mg.ones(2) - True,
                                  lambda b: mg.sub(mg.ones(2), b), lambda b: b - np.bool_(True)])
def test_subtraction_with_bools_is_refused_in_one_line(make):
    with pytest.raises(TypeError) as info:
        make(mg.tensor([True, False]))
    msg = str(info.value)
    assert "bool" in msg and "\n" not in msg, msg


def test_bool_powers():
    b = mg.tensor([True, False])
    for out, want, dtype in ((b ** True, [True, False], np.bool_), (b ** False, [True, True], np.bool_),
                             (b ** 2, [1, 0], np.int64), (b ** 0.5, [1.0, 0.0], np.float32),
                             (2 ** b, [2, 1], np.int64)):
        assert out.dtype == dtype
        np.testing.assert_array_equal(host(out), want)
    with pytest.raises(TypeError, match="bool"):
        b ** b


def test_non_real_operands_are_refused_in_one_line():
    for bad in (1j, "2", None):
        with pytest.raises(TypeError) as info:
            mg.ones(2) * bad
        assert "\n" not in str(info.value)


def test_promotion_matches_torch_on_the_reported_cases():
    torch = pytest.importorskip("torch")
    a = np.array([1, 4, 9], dtype=np.int32)
    t, tt = mg.tensor(a), torch.from_numpy(a)
    x, tx = mg.ones(3), torch.ones(3)
    for got, want in ((0.7 ** t, 0.7 ** tt), (t ** 0.5, tt ** 0.5), (x * np.float64(2.0), tx * np.float64(2.0)),
                      (t / t, tt / tt), (mg.tensor([1105859001]) / 798, torch.tensor([1105859001]) / 798)):
        assert got.dtype == np.dtype(str(want.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(host(got), want.numpy())


@pytest.mark.skipif(np.__version__.startswith("1."), reason="NumPy 1 wraps such numbers with a DeprecationWarning")
def test_int_numbers_outside_the_dtype_are_refused_not_wrapped():
    # (PyTorch wraps them: int8 + 300 is int8 + 44.)  Comparisons stay exact.
    t = mg.tensor([1, 2], dtype=mg.int8)
    for make in (lambda: t + 300, lambda: 300 * t, lambda: mg.maximum(t, 300),
                 lambda: mg.where(mg.tensor([True, False]), t, np.int64(300))):
        with pytest.raises(OverflowError, match="300"):
            make()
    assert not bool((mg.tensor([1, 2], dtype=mg.uint8) < -1).any())
    assert bool((t < 300).all())
