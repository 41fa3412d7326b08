"""Element-wise math (exp log log1p sqrt abs sign sin cos clamp maximum minimum where) and the
comparisons: forward against NumPy, gradients by gradcheck (gradgradcheck for smooth ops)."""
import operator

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import (SMALL, arrays, assert_close, check_grads, grad_settings, grid, host, leaf, nonzero, plain,
                      positive, with_device)

# name -> (minigrad op, NumPy reference, inputs kept away from poles/kinks, smooth?)
UNARY = {
    "exp": (mg.exp, np.exp, plain(), True),
    "log": (mg.log, np.log, positive(), True),
    "log1p": (mg.log1p, np.log1p, plain(-0.8, 3.0), True),
    "sqrt": (mg.sqrt, np.sqrt, positive(), True),
    "abs": (mg.abs, np.abs, nonzero(), False),
    "sin": (mg.sin, np.sin, plain(), True),
    "cos": (mg.cos, np.cos, plain(), True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3))
def test_unary_forward_matches_numpy(device, name, data, shape):
    op, ref, elements, _ = UNARY[name]
    a = data.draw(arrays(shape, elements))
    out = op(leaf(a, device))
    assert_close(out, ref(a), rtol=1e-12, dtype=np.float64)
    assert out.requires_grad
    assert_close(getattr(leaf(a, device), name)(), ref(a), rtol=1e-12)  # the method spelling


@pytest.mark.parametrize("name", sorted(UNARY))
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_unary_gradients(name, data, shape):
    op, _, elements, smooth = UNARY[name]
    check_grads(op, leaf(data.draw(arrays(shape, elements))), second_order=smooth)


def test_log1p_is_accurate_for_tiny_inputs():
    x = leaf([1e-12, -1e-12, 1e-300])
    assert_close(mg.log1p(x), np.log1p([1e-12, -1e-12, 1e-300]), rtol=1e-15, atol=0)


def test_abs_gradient_at_zero_is_zero():
    x = leaf([-2.0, 0.0, 3.0])
    mg.abs(x).sum().backward()
    assert_close(x.grad, [-1.0, 0.0, 1.0])
    assert_close(abs(leaf([-2.0, 0.0])), [2.0, 0.0])  # Python's abs()


@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3))
def test_sign_values_and_zero_gradient(device, data, shape):
    a = data.draw(arrays(shape, grid(-4, 4, 0.5)))  # 0 shows up often
    x = leaf(a, device)
    s = mg.sign(x)
    assert_close(s, np.sign(a), dtype=np.float64)
    assert_close(x.sign(), np.sign(a))
    s.sum().backward()  # differentiable, with derivative 0 everywhere (as in PyTorch)
    assert_close(x.grad, np.zeros_like(a))


# Bounds sit on odd multiples of 1/16 and inputs on multiples of 1/8: never closer than 1/16.
BOUNDS = st.integers(-16, 16).map(lambda k: k / 8 + 1 / 16)


@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3), lo=st.one_of(st.none(), BOUNDS),
       hi=st.one_of(st.none(), BOUNDS))
def test_clamp_forward(data, shape, lo, hi):
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    a = data.draw(arrays(shape, grid()))
    x = leaf(a)
    if lo is None and hi is None:  # as PyTorch: at least one bound
        with pytest.raises(RuntimeError, match="at least one of min and max"):
            mg.clamp(x, lo, hi)
        return
    want = np.clip(a, lo, hi)
    assert_close(mg.clamp(x, lo, hi), want)
    assert_close(mg.clip(x, min=lo, max=hi), want)
    assert_close(x.clamp(lo, hi), want)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), lo=st.one_of(st.none(), BOUNDS), hi=st.one_of(st.none(), BOUNDS))
def test_clamp_gradient_away_from_bounds(data, shape, lo, hi):
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    assume(lo is not None or hi is not None)  # no bound is refused (test_clamp_forward)
    a = data.draw(arrays(shape, grid()))
    x = leaf(a)
    check_grads(lambda t: mg.clamp(t, lo, hi), x, second_order=False)
    mg.clamp(x, lo, hi).sum().backward()
    inside = np.ones_like(a, dtype=bool)
    if lo is not None:
        inside &= a >= lo
    if hi is not None:
        inside &= a <= hi
    assert_close(x.grad, inside.astype(np.float64))


def test_clamp_gradient_at_the_bounds_is_one():
    """Inputs exactly on a bound count as inside (gradient 1), as in PyTorch."""
    x = leaf([-1.0, 0.0, 1.0, 2.0])
    mg.clamp(x, -1.0, 1.0).sum().backward()
    assert_close(x.grad, [1.0, 1.0, 1.0, 0.0])


@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(3, **SMALL))
def test_clamp_with_tensor_bounds(data, shapes):
    """Tensor bounds broadcast with x and get the gradient where they are picked."""
    a = data.draw(arrays(shapes[0], grid()))
    lo = data.draw(arrays(shapes[1], grid(-16, -1, offset=1 / 16)))  # lo < hi: no kink between them
    hi = data.draw(arrays(shapes[2], grid(0, 16, offset=1 / 16)))
    out = mg.clamp(leaf(a), leaf(lo), leaf(hi))
    assert_close(out, np.clip(a, lo, hi))
    assert_close(mg.clamp(leaf(a), min=leaf(lo)), np.maximum(a, lo))
    assert_close(leaf(a).clamp(max=leaf(hi)), np.minimum(a, hi))
    check_grads(lambda t, u, v: mg.clamp(t, u, v), leaf(a), leaf(lo), leaf(hi), second_order=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, min_side=0, max_dims=3))
def test_maximum_minimum_forward(name, data, shapes):
    a = data.draw(arrays(shapes[0], grid(-8, 8)))
    b = data.draw(arrays(shapes[1], grid(-8, 8)))
    out = getattr(mg, name)(leaf(a), leaf(b))
    assert_close(out, getattr(np, name)(a, b))
    assert_close(getattr(leaf(a), name)(leaf(b)), getattr(np, name)(a, b))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, **SMALL))
def test_maximum_minimum_gradients_without_ties(name, data, shapes):
    # x on multiples of 1/8, y shifted by 1/16: no ties, no crossing within a finite-difference step.
    x = leaf(data.draw(arrays(shapes[0], grid())))
    y = leaf(data.draw(arrays(shapes[1], grid(offset=1 / 16))))
    check_grads(getattr(mg, name), x, y, second_order=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient(name):
    x = leaf([1.0, 2.0, 3.0])
    y = leaf([1.0, 0.0, 5.0])
    getattr(mg, name)(x, y).sum().backward()
    if name == "maximum":
        assert_close(x.grad, [0.5, 1.0, 0.0])
        assert_close(y.grad, [0.5, 0.0, 1.0])
    else:
        assert_close(x.grad, [0.5, 0.0, 1.0])
        assert_close(y.grad, [0.5, 1.0, 0.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), s=grid(offset=1 / 16))
def test_maximum_minimum_with_python_scalar(name, data, shape, s):
    a = data.draw(arrays(shape, grid()))
    x = leaf(a)
    fn = getattr(mg, name)
    assert_close(fn(x, s), getattr(np, name)(a, s))
    assert_close(fn(s, x), getattr(np, name)(s, a))
    check_grads(lambda t: fn(t, s), x, second_order=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, **SMALL))
def test_maximum_minimum_gradients_with_ties(name, data, shapes):
    # Whole numbers in [-2, 2]: ties are frequent, and distinct values differ by far more than the
    # finite-difference step.  At a tie the central difference is exactly the half-and-half split.
    x = leaf(data.draw(arrays(shapes[0], grid(-2, 2, 1.0))))
    y = leaf(data.draw(arrays(shapes[1], grid(-2, 2, 1.0))))
    check_grads(getattr(mg, name), x, y, second_order=False)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                   "float64"])
@with_device
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, max_dims=3))
def test_maximum_minimum_exact_for_every_dtype(device, dtype, data, shapes):
    """xp.maximum/xp.minimum in the operands' dtype: the extremes of each integer range (INT_MIN,
    whose negation overflows) and unsigned and bool values come out exact."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        elements = st.booleans()
    elif dt.kind == "f":
        elements = st.sampled_from([-np.inf, np.finfo(dt).min, -1.0, -0.5, 0.0, 2.0, np.finfo(dt).max, np.inf])
    else:
        info = np.iinfo(dt)
        elements = st.sampled_from([int(info.min), int(info.min) + 1, 0, 1, int(info.max)])
    a, b = (data.draw(mst.arrays(s, dt, elements)) for s in shapes)
    x, y = mg.tensor(a, device=device), mg.tensor(b, device=device)
    for name in ("maximum", "minimum"):
        out = getattr(mg, name)(x, y)
        assert out.dtype == dt
        np.testing.assert_array_equal(host(out), getattr(np, name)(a, b))


def test_minimum_regressions():
    int_min = -2 ** 31
    out = mg.minimum(mg.tensor([int_min, 5], dtype=mg.int32), mg.tensor([0, 1], dtype=mg.int32))
    np.testing.assert_array_equal(host(out), [int_min, 1])
    out = mg.minimum(mg.tensor([1, 2], dtype=mg.uint8), mg.tensor([0, 3], dtype=mg.uint8))
    assert out.dtype == mg.uint8
    np.testing.assert_array_equal(host(out), [0, 2])
    out = mg.minimum(mg.tensor([True, False, True]), mg.tensor([True, True, False]))
    assert out.dtype == mg.bool
    np.testing.assert_array_equal(host(out), [True, False, False])
    assert mg.minimum(mg.tensor([3], dtype=mg.int32), mg.tensor(7)).dtype == mg.int32  # a 0-d int64 stays below
    assert mg.minimum(mg.tensor(3, dtype=mg.int32), 7).dtype == mg.int32  # a number too


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_propagate_nan_and_pass_it_the_gradient(name):
    nan = float("nan")
    x = leaf([nan, 1.0, nan, 2.0])
    y = leaf([1.0, nan, nan, 2.0])
    out = getattr(mg, name)(x, y)
    assert np.isnan(host(out)[:3]).all() and host(out)[3] == 2.0
    out.sum().backward()
    # where either is NaN no comparison holds, so both get the whole gradient (as PyTorch)
    assert_close(x.grad, [1.0, 1.0, 1.0, 0.5])
    assert_close(y.grad, [1.0, 1.0, 1.0, 0.5])


def test_maximum_minimum_need_a_tensor():
    with pytest.raises(TypeError, match="at least one tensor"):
        mg.minimum(1, 2)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, max_dims=3))
def test_maximum_minimum_match_torch(name, data, shapes):
    """Forward and backward against torch, with frequent ties and NaNs."""
    torch = pytest.importorskip("torch")
    elements = st.sampled_from([-1.0, 0.0, 0.5, 2.0, float("nan")])
    a, b = (data.draw(arrays(s, elements)) for s in shapes)
    x, y = leaf(a), leaf(b)
    out = getattr(mg, name)(x, y)
    g = data.draw(arrays(out.shape, grid(-4, 4, 0.5)))
    out.backward(mg.tensor(g))
    tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
    tout = getattr(torch, name)(tx, ty)
    tout.backward(torch.tensor(g))
    assert_close(out, tout.detach().numpy())
    assert_close(x.grad, tx.grad.numpy())
    assert_close(y.grad, ty.grad.numpy())
    for dtype in (torch.int32, torch.uint8, torch.bool):  # whole numbers, INT_MIN among them
        ia, ib = (torch.from_numpy(np.where(v > 0.25, 3, np.where(v < 0, -2 ** 31, 0))).to(dtype) for v in (a, b))
        got = getattr(mg, name)(mg.tensor(ia.numpy()), mg.tensor(ib.numpy()))
        np.testing.assert_array_equal(host(got), getattr(torch, name)(ia, ib).numpy())


@with_device
@given(data=st.data(), shapes=mst.broadcastable_shapes(3, min_side=0, max_dims=3))
def test_where_forward(device, data, shapes):
    cond = data.draw(mst.arrays(shapes[0], bool, st.booleans()))
    a, b = data.draw(arrays(shapes[1])), data.draw(arrays(shapes[2]))
    c = mg.tensor(cond, device=device)
    assert_close(mg.where(c, leaf(a, device), leaf(b, device)), np.where(cond, a, b))
    assert_close(mg.where(cond, leaf(a, device), 0.5), np.where(cond, a, 0.5))  # an array condition, a scalar


@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(3, **SMALL))
def test_where_gradients(data, shapes):
    cond = mg.tensor(data.draw(mst.arrays(shapes[0], bool, st.booleans())))
    x, y = leaf(data.draw(arrays(shapes[1]))), leaf(data.draw(arrays(shapes[2])))
    check_grads(lambda u, v: mg.where(cond, u, v), x, y)
    check_grads(lambda u: mg.where(cond, 2.0, u * u), x)


def test_where_rejects_non_bool_condition_and_no_tensor():
    with pytest.raises(TypeError, match="bool"):
        mg.where(mg.tensor([1.0, 0.0]), leaf([1.0, 2.0]), 0.0)
    with pytest.raises(TypeError, match="tensor"):
        mg.where(np.array([True]), 1.0, 0.0)


COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
           "ge": operator.ge}


@pytest.mark.parametrize("name", sorted(COMPARE))
@with_device
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, min_side=0, max_dims=3), s=grid(-4, 4, 0.5))
def test_comparisons_are_bool_without_grad(device, name, data, shapes, s):
    op = COMPARE[name]
    a = data.draw(arrays(shapes[0], grid(-4, 4, 0.5)))  # a coarse grid: ties are common
    b = data.draw(arrays(shapes[1], grid(-4, 4, 0.5)))
    x, y = leaf(a, device), leaf(b, device)
    for out, want in [(op(x, y), op(a, b)), (getattr(mg, name)(x, y), op(a, b)), (getattr(x, name)(y), op(a, b)),
                      (op(x, s), op(a, s)), (op(s, x), op(s, a))]:
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(host(out), want)


def test_comparison_broadcast_error_names_shapes():
    with pytest.raises(ValueError) as info:
        mg.lt(mg.ones(2, 3), mg.ones(4))
    assert "(2, 3)" in str(info.value) and "(4,)" in str(info.value)


def test_elementwise_errors_name_shapes():
    for fn in (lambda: mg.maximum(mg.ones(2, 3), mg.ones(4)),
               lambda: mg.where(mg.ones(2, 3) > 0, mg.ones(4), 0.0)):
        with pytest.raises(ValueError) as info:
            fn()
        assert "(2, 3)" in str(info.value) and "(4,)" in str(info.value)
