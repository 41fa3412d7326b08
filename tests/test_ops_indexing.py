"""Indexing ``x[...]`` with ints, slices, None, Ellipsis, integer arrays (repeats accumulate in
backward) and bool masks; ``x[...] = v`` (forward values, and gradients through it)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import SMALL, arrays, assert_close, check_grads, grad_settings, host, leaf, with_device

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def basic_index_cases(**shape_kw):
    """(shape, index) with ints, slices (any step), None and Ellipsis."""
    return mst.shapes(**shape_kw).flatmap(
        lambda s: st.tuples(st.just(s), hnp.basic_indices(s, min_dims=0, allow_newaxis=True, allow_ellipsis=True)))


@with_device
@given(data=st.data(), case=basic_index_cases(min_dims=0, min_side=0))
def test_basic_indexing_forward(device, data, case):
    shape, index = case
    a = data.draw(arrays(shape))
    x = leaf(a, device)
    assert_close(x[index], a[index])
    assert_close(mg.getitem(x, index), a[index])


@grad_settings
@given(data=st.data(), case=basic_index_cases(**SMALL))
def test_basic_indexing_gradients(data, case):
    shape, index = case
    check_grads(lambda t: t[index] * 2.0, leaf(data.draw(arrays(shape))))


@st.composite
def advanced_index_cases(draw, **shape_kw):
    """One integer array (with repeats, negatives) on a random dim, slices elsewhere; as an
    array, a list, or a minigrad int64 tensor."""
    shape = draw(mst.shapes(min_dims=1, **shape_kw))
    dim = draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    idx_shape = draw(mst.shapes(min_dims=1, max_dims=2, min_side=0 if n == 0 else 1, max_side=4))
    idx = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1))) if n else np.zeros(
        (0,), np.int64)
    kind = draw(st.sampled_from(["array", "list", "tensor"]))
    return shape, dim, idx, kind


def _wrap(idx, kind):
    return {"array": idx, "list": idx.tolist(), "tensor": mg.tensor(idx)}[kind]


@with_device
@given(data=st.data(), case=advanced_index_cases(min_side=0))
def test_integer_array_indexing_forward(device, data, case):
    shape, dim, idx, kind = case
    a = data.draw(arrays(shape))
    index = (slice(None),) * dim + (_wrap(idx, kind) if kind != "tensor" else mg.tensor(idx, device=device),)
    want = a[(slice(None),) * dim + (idx,)]
    assert_close(leaf(a, device)[index], want)


@grad_settings
@given(data=st.data(), case=advanced_index_cases(**SMALL))
def test_integer_array_indexing_gradients_accumulate_repeats(data, case):
    shape, dim, idx, kind = case
    a = data.draw(arrays(shape))
    index = (slice(None),) * dim + (_wrap(idx, kind),)
    np_index = (slice(None),) * dim + (idx,)
    x = leaf(a)
    out = x[index]
    g = data.draw(arrays(out.shape))
    out.backward(mg.tensor(g))
    want = np.zeros_like(a)
    np.add.at(want, np_index, g)  # every occurrence of an index adds its share
    assert_close(x.grad, want, rtol=1e-12, atol=1e-12)
    check_grads(lambda t: t[index] ** 2, leaf(a))


def test_repeated_index_example():
    x = leaf([10.0, 20.0, 30.0])
    x[[0, 0, 2, 0]].sum().backward()
    assert_close(x.grad, [3.0, 0.0, 1.0])


@grad_settings
@given(data=st.data(), shape=mst.shapes(min_dims=2, **SMALL))
def test_several_integer_arrays_broadcast_together(data, shape):
    a = data.draw(arrays(shape))
    i = data.draw(hnp.arrays(np.int64, (2, 1), elements=st.integers(0, shape[0] - 1)))
    j = data.draw(hnp.arrays(np.int64, (3,), elements=st.integers(-shape[1], shape[1] - 1)))
    last = data.draw(hnp.arrays(np.int64, (3,), elements=st.integers(-shape[-1], shape[-1] - 1)))
    assert_close(leaf(a)[i, j], a[i, j])
    assert_close(leaf(a)[i, ..., last], a[i, ..., last])
    check_grads(lambda t: t[i, ..., last] * 2.0, leaf(a))
    check_grads(lambda t: t[i, j] * t[i, j], leaf(a))


@st.composite
def mask_cases(draw, **shape_kw):
    shape = draw(mst.shapes(min_dims=1, **shape_kw))
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(bool, shape[:k], elements=st.booleans()))
    return shape, mask, draw(st.booleans())


@with_device
@given(data=st.data(), case=mask_cases(min_side=0))
def test_bool_mask_forward(device, data, case):
    shape, mask, as_tensor = case
    a = data.draw(arrays(shape))
    m = mg.tensor(mask, device=device) if as_tensor else mask
    assert_close(leaf(a, device)[m], a[mask])


@grad_settings
@given(data=st.data(), case=mask_cases(**SMALL))
def test_bool_mask_gradients(data, case):
    shape, mask, as_tensor = case
    a = data.draw(arrays(shape))
    m = mg.tensor(mask) if as_tensor else mask
    x = leaf(a)
    x[m].sum().backward()
    assert_close(x.grad, np.broadcast_to(mask.reshape(mask.shape + (1,) * (a.ndim - mask.ndim)), shape) * 1.0)
    check_grads(lambda t: t[m] * 3.0, leaf(a))


def test_mask_from_comparison():
    x = leaf([-1.0, 2.0, -3.0, 4.0])
    y = x[x > 0]
    assert_close(y, [2.0, 4.0])
    (y * y).sum().backward()
    assert_close(x.grad, [0.0, 4.0, 0.0, 8.0])


@given(data=st.data(), case=basic_index_cases(min_dims=0, min_side=0), scalar=st.booleans())
def test_setitem_forward(data, case, scalar):
    shape, index = case
    a = data.draw(arrays(shape))
    target_shape = a[index].shape
    v = 7.5 if scalar else data.draw(arrays(target_shape))
    want = a.copy()
    want[index] = v
    t = mg.tensor(a.copy())
    t[index] = v if scalar else mg.tensor(v)
    assert_close(t, want)
    # Out of place: the original is untouched.
    assert_close(mg.index_put(mg.tensor(a), index, v), want)


@grad_settings
@given(data=st.data(), case=basic_index_cases(**SMALL))
def test_setitem_gradients(data, case):
    """y = x * 1; y[idx] = v: dy/dx is 1 outside idx and 0 inside; dy/dv is 1 inside."""
    shape, index = case
    a = data.draw(arrays(shape))
    v = data.draw(arrays(a[index].shape))

    def put(t, u):
        y = t * 1.0
        y[index] = u * u
        return y

    check_grads(put, leaf(a), leaf(v))
    check_grads(lambda t, u: mg.index_put(t, index, u), leaf(a), leaf(v))


@grad_settings
@given(data=st.data(), case=advanced_index_cases(**SMALL))
def test_setitem_with_integer_array_forward(data, case):
    shape, dim, idx, kind = case
    idx = np.unique(idx % shape[dim]) if idx.size else idx  # unique targets: the value written is defined
    a = data.draw(arrays(shape))
    index = (slice(None),) * dim + (idx,)
    v = data.draw(arrays(a[index].shape))
    want = a.copy()
    want[index] = v
    t = mg.tensor(a.copy())
    t[(slice(None),) * dim + (_wrap(idx, kind),)] = mg.tensor(v)
    assert_close(t, want)
    check_grads(lambda u, w: mg.index_put(u, index, w), leaf(a), leaf(v))


def test_setitem_value_with_extra_leading_unit_dims():
    """NumPy accepts a (1, 3) value for a (3,) slot; its gradient keeps the (1, 3) shape."""
    x, v = leaf(np.zeros((2, 3))), leaf(np.ones((1, 3)))
    y = x * 1.0
    y[0] = v
    assert_close(y, [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    (y * 2.0).sum().backward()
    assert_close(v.grad, np.full((1, 3), 2.0))
    assert_close(x.grad, [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])


def test_setitem_on_leaf_that_requires_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 3.0


def test_index_errors_name_the_shape():
    x = leaf(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[:, [0, 3]]
    with pytest.raises(IndexError, match="float"):
        x[mg.tensor([0.5])]
    with pytest.raises(IndexError, match="unsupported index"):
        x[1.5]
    t = mg.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        t[0] = mg.tensor(np.ones(4))


def test_index_result_is_not_a_bool_or_grad_when_constant():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    y = x[1]
    assert not y.requires_grad and host(y).tolist() == [3.0, 4.0, 5.0]
