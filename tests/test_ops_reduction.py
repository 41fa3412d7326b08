"""Reductions (sum mean var std amax amin max min argmax argmin logsumexp) over random axes (None,
int, negative, tuple) with keepdims and the PyTorch spellings ``dim=`` / ``keepdim=``."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import SMALL, arrays, assert_close, check_grads, grad_settings, grid, host, leaf, with_device

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axis = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axis]))


def _case(data, shape):
    return data.draw(mst.axes(len(shape))), data.draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean"])
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_sum_mean_forward(device, name, data, shape):
    a = data.draw(arrays(shape))
    axis, keep = _case(data, shape)
    x = leaf(a, device)
    if name == "mean" and _count(shape, axis) == 0:
        want = np.full(np.sum(a, axis=axis, keepdims=keep).shape, np.nan)  # mean over nothing is nan
    else:
        want = getattr(np, name)(a, axis=axis, keepdims=keep)
    fn = getattr(mg, name)
    assert_close(fn(x, axis, keep), want, rtol=1e-12, atol=1e-12, dtype=np.float64)
    assert_close(fn(x, dim=axis, keepdim=keep), want, rtol=1e-12, atol=1e-12)
    assert_close(getattr(x, name)(dim=axis, keepdim=keep), want, rtol=1e-12, atol=1e-12)
    assert_close(getattr(x, name)(axis=axis, keepdims=keep), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_sum_mean_gradients(name, data, shape):
    axis, keep = _case(data, shape)
    check_grads(lambda t: getattr(mg, name)(t, axis, keep), leaf(data.draw(arrays(shape))))


def test_sum_gradient_over_empty_input_is_empty():
    x = leaf(np.zeros((0, 3)))
    y = mg.sum(x, 0)
    assert_close(y, np.zeros(3))
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    x = leaf(np.zeros((0, 3)))
    m = mg.mean(x, 0)
    assert np.isnan(host(m)).all() and m.shape == (3,)
    m.backward(mg.ones_like(m))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")
@given(data=st.data(), shape=mst.shapes(min_side=0), unbiased=st.booleans())
def test_var_std_forward(name, data, shape, unbiased):
    a = data.draw(arrays(shape))
    axis, keep = _case(data, shape)
    ddof = int(unbiased)
    x = leaf(a)
    fn = getattr(mg, name)
    if _count(shape, axis) == 0:  # Σ over nothing / 0
        want = np.full(np.sum(a, axis=axis, keepdims=keep).shape, np.nan)
    elif _count(shape, axis) - ddof <= 0:  # no degrees of freedom left: Σ(x - x̄)² / 0, as PyTorch
        squares = np.sum((a - np.mean(a, axis=axis, keepdims=True)) ** 2, axis=axis, keepdims=keep)
        want = np.where(squares == 0, np.nan, np.inf)
    else:
        want = getattr(np, name)(a, axis=axis, ddof=ddof, keepdims=keep)
    assert_close(fn(x, axis, unbiased, keep), want, rtol=1e-10, atol=1e-12)
    assert_close(fn(x, dim=axis, unbiased=unbiased, keepdim=keep), want, rtol=1e-10, atol=1e-12)
    assert_close(fn(x, axis, keepdims=keep, correction=ddof), want, rtol=1e-10, atol=1e-12)
    assert_close(getattr(x, name)(axis, unbiased, keep), want, rtol=1e-10, atol=1e-12)


def test_var_std_default_is_unbiased():
    a = np.array([[1.0, 2.0, 4.0], [0.0, -1.0, 5.0]])
    assert_close(mg.var(leaf(a)), np.var(a, ddof=1), rtol=1e-12)
    assert_close(mg.std(leaf(a), 1), np.std(a, axis=1, ddof=1), rtol=1e-12)
    assert_close(mg.var(leaf(a), 0, unbiased=False), np.var(a, axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", ["var", "std"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL), unbiased=st.booleans())
def test_var_std_gradients(name, data, shape, unbiased):
    # Distinct values keep the variance away from 0, where √ is not differentiable.
    a = data.draw(arrays(shape, grid(), unique=True))
    axis, keep = _case(data, shape)
    if _count(shape, axis) - int(unbiased) <= 0 or (name == "std" and _count(shape, axis) < 2):
        axis = None
        if a.size - int(unbiased) <= 0 or (name == "std" and a.size < 2):
            return
    check_grads(lambda t: getattr(mg, name)(t, axis, unbiased, keep), leaf(a))


def test_std_of_a_constant_slice_has_zero_gradient():
    """√ is not differentiable at 0; like PyTorch, std's gradient there is 0 (not nan)."""
    x = leaf([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    s = mg.std(x, 1)
    assert_close(s, [0.0, np.std([1.0, 2.0, 4.0], ddof=1)], rtol=1e-12)
    s.sum().backward()
    assert np.isfinite(host(x.grad)).all()
    assert_close(x.grad[0], [0.0, 0.0, 0.0])


MAXMIN = {"amax": np.amax, "amin": np.amin, "max": np.amax, "min": np.amin}
ARG = {"max": np.argmax, "min": np.argmin}


@pytest.mark.parametrize("name", ["amax", "amin"])
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_amax_amin_forward(device, name, data, shape):
    a = data.draw(arrays(shape))
    axis, keep = _case(data, shape)
    x = leaf(a, device)
    fn = getattr(mg, name)
    if _count(shape, axis) == 0 and a.size == 0:
        with pytest.raises(RuntimeError, match="empty"):
            fn(x, axis, keep)
        return
    want = MAXMIN[name](a, axis=axis, keepdims=keep)
    assert_close(fn(x, axis, keep), want)
    assert_close(fn(x, dim=axis, keepdim=keep), want)
    assert_close(getattr(x, name)(axis, keep), want)
    if axis is None:  # max(x) and min(x) without a dim: the same single value
        assert_close(getattr(x, name[1:])(), want if not keep else want.reshape(()))


@pytest.mark.parametrize("name", ["max", "min"])
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0, min_dims=1), keep=st.booleans())
def test_max_min_over_a_dim_return_values_and_indices(device, name, data, shape, keep):
    a = data.draw(arrays(shape, grid(-2, 2, 1.0)))  # ties: the first index wins, as argmax
    axis = data.draw(mst.axes(len(shape), allow_none=False, allow_tuple=False))
    x = leaf(a, device)
    if shape[axis] == 0:
        with pytest.raises(RuntimeError, match="empty"):
            getattr(mg, name)(x, axis)
        return
    want_values = MAXMIN[name](a, axis=axis, keepdims=keep)
    want_indices = ARG[name](a, axis=axis, keepdims=keep)
    for out in (getattr(mg, name)(x, axis, keep), getattr(x, name)(dim=axis, keepdim=keep),
                getattr(x, name)(axis=axis, keepdims=keep)):
        assert isinstance(out, getattr(mg.return_types, name)) and isinstance(out, tuple) and len(out) == 2
        values, indices = out
        assert values is out.values is out[0] and indices is out.indices is out[1]
        assert_close(values, want_values)
        assert indices.dtype == np.int64 and not indices.requires_grad
        np.testing.assert_array_equal(host(indices), want_indices)
        assert indices.shape == want_indices.shape


@pytest.mark.parametrize("name", ["amax", "amin"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_amax_amin_gradients_unique_values(name, data, shape):
    a = data.draw(arrays(shape, grid(), unique=True))
    axis, keep = _case(data, shape)
    check_grads(lambda t: getattr(mg, name)(t, axis, keep), leaf(a), second_order=False)


@pytest.mark.parametrize("name", ["max", "min"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(min_dims=1, **SMALL), keep=st.booleans())
def test_max_min_over_a_dim_gradients(name, data, shape, keep):
    a = data.draw(arrays(shape, grid(), unique=True))
    axis = data.draw(mst.axes(len(shape), allow_none=False, allow_tuple=False))
    check_grads(lambda t: getattr(mg, name)(t, axis, keep).values, leaf(a))


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_amax_amin_ties_share_the_gradient_equally(name, data, shape):
    """Tie convention: the k tied extremes of a slice each get dy / k (like PyTorch's amax/amin)."""
    a = data.draw(arrays(shape, grid(-2, 2, 1.0)))  # few distinct values: many ties
    axis, keep = _case(data, shape)
    g = data.draw(arrays(MAXMIN[name](a, axis=axis, keepdims=keep).shape))
    x = leaf(a)
    out = getattr(mg, name)(x, axis, keep)
    out.backward(mg.tensor(g))
    extreme = MAXMIN[name](a, axis=axis, keepdims=True)
    hit = (a == extreme).astype(np.float64)
    share = hit / hit.sum(axis=axis, keepdims=True)
    g_full = g if keep else np.reshape(g, extreme.shape)
    assert_close(x.grad, share * g_full, rtol=1e-12, atol=1e-12)
    # The gradient of every slice adds up to its dy.
    assert_close(x.grad.sum(axis, keep), g, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), shape=mst.shapes(min_dims=1, **SMALL), keep=st.booleans())
def test_max_min_over_a_dim_give_the_gradient_to_the_index(name, data, shape, keep):
    """max(x, dim) / min(x, dim): among ties only the element at ``indices`` (the first) gets dy."""
    a = data.draw(arrays(shape, grid(-2, 2, 1.0)))
    axis = data.draw(mst.axes(len(shape), allow_none=False, allow_tuple=False))
    g = data.draw(arrays(MAXMIN[name](a, axis=axis, keepdims=keep).shape))
    x = leaf(a)
    getattr(x, name)(axis, keep).values.backward(mg.tensor(g))
    index = ARG[name](a, axis=axis, keepdims=True)
    position = np.moveaxis(np.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - 1)), 0, axis)
    picked = position == index
    assert_close(x.grad, picked * (g if keep else np.expand_dims(g, axis)), rtol=0, atol=0)


def test_max_tie_examples():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    mg.amax(x, 1).sum().backward()
    assert_close(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-12)
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    mg.max(x, 1)[0].sum().backward()
    assert_close(x.grad, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], rtol=0, atol=0)
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.max().backward()  # no dim: one value, ties share (as PyTorch's max())
    assert_close(x.grad, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]], rtol=1e-12)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), shape=mst.shapes(min_side=1), keep=st.booleans())
def test_argmax_argmin(name, data, shape, keep):
    a = data.draw(arrays(shape, grid(-2, 2, 1.0)))  # ties: the first index wins, as NumPy
    axis = data.draw(mst.axes(len(shape), allow_tuple=False))
    x = leaf(a)
    out = getattr(mg, name)(x, axis, keep)
    want = getattr(np, name)(a, axis=axis, keepdims=keep)
    assert out.dtype == np.int64 and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(host(out), want)
    assert out.shape == np.shape(want)
    np.testing.assert_array_equal(host(getattr(x, name)(dim=axis, keepdim=keep)), want)


@pytest.mark.parametrize("name", ["argmax", "argmin", "max", "min"])
def test_arg_extreme_of_empty_raises(name):
    with pytest.raises(RuntimeError, match=r"empty.*\(0, 3\)"):
        getattr(mg, name)(leaf(np.zeros((0, 3))))


@with_device
@given(data=st.data(), shape=mst.shapes(min_side=1))
def test_logsumexp_forward(device, data, shape):
    a = data.draw(arrays(shape, st.floats(-50, 50)))
    axis, keep = _case(data, shape)
    want = np.log(np.sum(np.exp(a), axis=axis, keepdims=keep))  # no overflow risk within ±50
    x = leaf(a, device)
    assert_close(mg.logsumexp(x, axis, keep), want, rtol=1e-12, atol=1e-12)
    assert_close(mg.logsumexp(x, dim=axis, keepdim=keep), want, rtol=1e-12, atol=1e-12)
    assert_close(x.logsumexp(axis, keep), want, rtol=1e-12, atol=1e-12)


def test_logsumexp_of_empty_is_minus_infinity():
    out = mg.logsumexp(leaf(np.zeros((0, 2))), 0)
    assert_close(out, [-np.inf, -np.inf])
    with np.errstate(divide="ignore"):  # log(0) of an all -inf slice is the right answer here
        assert_close(mg.logsumexp(leaf(np.full(3, -np.inf))), -np.inf)


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_logsumexp_gradients(data, shape):
    axis, keep = _case(data, shape)
    check_grads(lambda t: mg.logsumexp(t, axis, keep), leaf(data.draw(arrays(shape))))


REDUCTIONS = ["sum", "mean", "var", "std", "amax", "amin", "max", "min", "logsumexp", "argmax", "argmin"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_out_of_range_axis_names_axis_and_ndim(name, axis):
    x = leaf(np.ones((2, 3)))
    if name in ("argmax", "argmin", "max", "min") and isinstance(axis, tuple):  # one dim only
        axis = 5
    with pytest.raises(IndexError) as info:
        getattr(mg, name)(x, axis)
    bad = axis if isinstance(axis, int) else 5
    msg = str(info.value)
    assert msg.startswith(name) and f"axis {bad}" in msg and "2 dimension" in msg, msg


@pytest.mark.parametrize("name", ["argmax", "argmin", "max", "min"])
def test_arg_extreme_takes_one_axis(name):
    with pytest.raises(TypeError, match=name):
        getattr(mg, name)(leaf(np.ones((2, 3))), (0, 1))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp"])
def test_axis_errors(name):
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError, match="repeated"):
        getattr(mg, name)(x, (1, -1))
    with pytest.raises(TypeError, match="axis"):
        getattr(mg, name)(x, axis=0, dim=1)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "amin", "logsumexp", "prod"])
@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_of_a_0d_tensor_over_dim_0_as_pytorch(name, dim):
    """PyTorch lets a 0-d tensor be reduced over dim 0 or -1 (it has one element): the value
    itself, gradient 1.  (This gave NumPy's AxisError / an IndexError before.)"""
    s = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
    y = getattr(s, name)(dim)
    if name in ("max", "min"):  # the (values, indices) pair
        y, index = y
        assert index.shape == () and int(index.item()) == 0
    assert y.shape == () and float(y.item()) == 3.0
    y.backward()
    assert float(s.grad.item()) == 1.0
    assert int(s.argmax(dim).item()) == 0
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(s.var(dim).item())  # 0 / (1 - 1)
    with pytest.raises(IndexError, match=r"axis 1 is out of range .*shape \(\)"):
        getattr(s, name)(1)
