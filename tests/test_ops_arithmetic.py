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
