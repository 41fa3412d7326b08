"""Shape ops (reshape/view flatten transpose/permute .T squeeze unsqueeze expand/broadcast_to
cat stack split chunk pad): forward against NumPy, gradients by gradcheck and gradgradcheck
(these ops are linear, so second derivatives must come out right too)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import SMALL, arrays, assert_close, check_grads, grad_settings, host, leaf, with_device

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _prime_factors(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


@st.composite
def reshape_cases(draw, **shape_kw):
    """(shape, target) with the same number of elements; the target may hold one -1."""
    shape = draw(mst.shapes(**shape_kw))
    n = math.prod(shape)
    if n == 0:
        return shape, tuple(draw(st.permutations(shape)))
    factors = draw(st.permutations(_prime_factors(n)))
    cuts = draw(st.lists(st.booleans(), min_size=len(factors), max_size=len(factors)))
    target, cur = [], 1
    for f, cut in zip(factors, cuts):
        cur *= f
        if cut:
            target.append(cur)
            cur = 1
    if cur != 1:
        target.append(cur)
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@with_device
@given(data=st.data(), case=reshape_cases(min_side=0))
def test_reshape_view_forward(device, data, case):
    shape, target = case
    a = data.draw(arrays(shape))
    x = leaf(a, device)
    want = a.reshape(target)
    assert_close(mg.reshape(x, target), want)
    assert_close(x.reshape(*target), want)
    assert_close(x.view(target), want)
    assert_close(mg.view(x, *target), want)


@grad_settings
@given(data=st.data(), case=reshape_cases(**SMALL))
def test_reshape_gradients(data, case):
    shape, target = case
    check_grads(lambda t: t.reshape(target) * 1.5, leaf(data.draw(arrays(shape))))


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3).reshape(4, 2)
    assert "(2, 3)" in str(info.value) and "(4, 2)" in str(info.value)


@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_flatten(data, shape):
    a = data.draw(arrays(shape))
    x = leaf(a)
    nd = max(a.ndim, 1)
    s, e = sorted(data.draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2)))
    if data.draw(st.booleans()):
        s, e = s - nd, e - nd
    lo, hi = s % nd, e % nd
    want = a.reshape(a.shape[:lo] + (math.prod(a.shape[lo:hi + 1]),) + a.shape[hi + 1:]) if a.ndim else a.reshape(1)
    assert_close(mg.flatten(x, s, e), want)
    assert_close(x.flatten(s, e), want)
    assert_close(x.flatten(), a.reshape(-1))


def test_flatten_errors():
    x = mg.ones(2, 3, 4)
    with pytest.raises(ValueError, match="start_dim"):
        x.flatten(2, 1)
    with pytest.raises(IndexError, match="axis 3.*3 dimension"):
        x.flatten(0, 3)


@st.composite
def permutations_of(draw, ndim):
    perm = draw(st.permutations(range(ndim)))
    flips = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    return tuple(p - ndim if f else p for p, f in zip(perm, flips))


@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_permute_transpose_forward(device, data, shape):
    a = data.draw(arrays(shape))
    x = leaf(a, device)
    perm = data.draw(permutations_of(a.ndim))
    want = np.transpose(a, [p % a.ndim for p in perm]) if a.ndim else a
    assert_close(mg.permute(x, perm), want)
    assert_close(x.permute(*perm), want)
    assert_close(x.transpose(perm) if a.ndim != 2 else x.permute(perm), want)  # NumPy-style with a tuple
    assert_close(x.T, a.T)
    assert_close(x.transpose(), a.T)
    if a.ndim >= 1:
        d0, d1 = data.draw(st.integers(-a.ndim, a.ndim - 1)), data.draw(st.integers(-a.ndim, a.ndim - 1))
        assert_close(mg.transpose(x, d0, d1), np.swapaxes(a, d0, d1))
        assert_close(x.transpose(d0, d1), np.swapaxes(a, d0, d1))
        assert_close(x.swapaxes(d0, d1), np.swapaxes(a, d0, d1))
    if a.ndim >= 2:
        assert_close(x.mT, np.swapaxes(a, -1, -2))


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_permute_gradients(data, shape):
    a = data.draw(arrays(shape))
    perm = data.draw(permutations_of(a.ndim))
    check_grads(lambda t: mg.permute(t, perm) * 2.0, leaf(a))
    check_grads(lambda t: t.T * t.T, leaf(a))


@pytest.mark.parametrize("dims", [(0,), (0, 0, 1), (0, 2), (1, -3), (1, 1)])
def test_permute_rejects_non_permutations(dims):
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3).permute(*dims)
    assert "(2, 3)" in str(info.value)


def test_transpose_out_of_range_dim_names_it():
    with pytest.raises(IndexError, match="axis 2.*2 dimension"):
        mg.ones(2, 3).transpose(0, 2)
    with pytest.raises(IndexError, match="axis 3.*1 dimension"):
        mg.ones(3).transpose(0, 3)


@given(data=st.data(), shape=mst.shapes(min_side=0, max_side=2))  # many size-1 dims
def test_squeeze_unsqueeze_forward(data, shape):
    a = data.draw(arrays(shape))
    x = leaf(a)
    assert_close(mg.squeeze(x), np.squeeze(a))
    assert_close(x.squeeze(), np.squeeze(a))
    dims = data.draw(mst.axes(a.ndim, allow_none=False)) if a.ndim else 0
    # PyTorch semantics: only the listed dims that have size 1 go away.
    listed = (dims,) if isinstance(dims, int) else dims
    drop = tuple(d % max(a.ndim, 1) for d in listed if a.ndim and a.shape[d] == 1)
    assert_close(mg.squeeze(x, dims), np.squeeze(a, drop) if a.ndim else a)
    d = data.draw(st.integers(-a.ndim - 1, a.ndim))
    assert_close(mg.unsqueeze(x, d), np.expand_dims(a, d))
    assert_close(x.unsqueeze(d), np.expand_dims(a, d))


@grad_settings
@given(data=st.data(), shape=mst.shapes(max_side=2, max_dims=3))
def test_squeeze_unsqueeze_gradients(data, shape):
    a = data.draw(arrays(shape))
    d = data.draw(st.integers(-a.ndim - 1, a.ndim))
    check_grads(lambda t: mg.unsqueeze(mg.squeeze(t) * 3.0, 0) * mg.unsqueeze(t, d).sum(), leaf(a))


def test_unsqueeze_out_of_range_names_dim():
    with pytest.raises(IndexError, match="dim 3.*3 dims"):
        mg.ones(2, 3).unsqueeze(3)


@st.composite
def expand_cases(draw, **kw):
    s_in, s_other = draw(mst.broadcastable_shapes(2, **kw))
    return s_in, tuple(np.broadcast_shapes(s_in, s_other))


@with_device
@given(data=st.data(), case=expand_cases(min_side=0))
def test_expand_broadcast_to_forward(device, data, case):
    s_in, target = case
    a = data.draw(arrays(s_in))
    x = leaf(a, device)
    want = np.broadcast_to(a, target)
    assert_close(mg.broadcast_to(x, target), want)
    assert_close(x.broadcast_to(*target), want)
    lead = len(target) - a.ndim
    keep = data.draw(st.lists(st.booleans(), min_size=len(target), max_size=len(target)))
    sizes = tuple(-1 if k and i >= lead and s_in[i - lead] == t else t
                  for i, (t, k) in enumerate(zip(target, keep)))
    assert_close(mg.expand(x, sizes), want)
    assert_close(x.expand(*sizes), want)


@grad_settings
@given(data=st.data(), case=expand_cases(**SMALL))
def test_expand_gradients_sum_over_broadcast_dims(data, case):
    s_in, target = case
    a = data.draw(arrays(s_in))
    x = leaf(a)
    check_grads(lambda t: mg.broadcast_to(t, target) * mg.broadcast_to(t, target), x)
    mg.broadcast_to(x, target).sum().backward()
    assert_close(x.grad, np.full(s_in, math.prod(target) / max(math.prod(s_in), 1)) if a.size else np.zeros(s_in))


def test_expand_errors_name_shapes():
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3).broadcast_to(4, 3)
    assert "(2, 3)" in str(info.value) and "(4, 3)" in str(info.value)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        mg.ones(2, 3).expand(3)


@st.composite
def cat_cases(draw, max_side=3):
    """k arrays equal outside ``axis`` (sizes along it may be 0) and the axis (maybe negative)."""
    base = draw(mst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=max_side))
    axis = draw(st.integers(-len(base), len(base) - 1))
    k = draw(st.integers(1, 3))
    shapes = []
    for _ in range(k):
        s = list(base)
        s[axis] = draw(st.integers(0, max_side))
        shapes.append(tuple(s))
    return [draw(arrays(s)) for s in shapes], axis


@with_device
@given(case=cat_cases())
def test_cat_forward(device, case):
    arrs, axis = case
    ts = [leaf(a, device) for a in arrs]
    want = np.concatenate(arrs, axis)
    assert_close(mg.cat(ts, axis), want)
    assert_close(mg.concatenate(ts, axis=axis), want)
    assert_close(mg.cat(ts, dim=axis), want)


@grad_settings
@given(case=cat_cases(max_side=2))
def test_cat_gradients(case):
    arrs, axis = case
    check_grads(lambda *ts: mg.cat(list(ts), axis) * 2.0, *[leaf(a) for a in arrs])


def test_cat_errors():
    with pytest.raises(ValueError) as info:
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)], 0)
    assert "(2, 3)" in str(info.value) and "(2, 4)" in str(info.value)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        mg.cat([mg.ones(2, 3), mg.ones(3)], 1)
    with pytest.raises(ValueError, match="zero-dim"):
        mg.cat([mg.tensor(1.0), mg.tensor(2.0)])
    with pytest.raises(IndexError, match="axis 2.*2 dimension"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 3)], 2)
    with pytest.raises(ValueError, match="non-empty"):
        mg.cat([])


@st.composite
def stack_cases(draw, **kw):
    shape = draw(mst.shapes(**kw))
    k = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return [draw(arrays(shape)) for _ in range(k)], axis


@given(case=stack_cases(min_side=0))
def test_stack_forward(case):
    arrs, axis = case
    assert_close(mg.stack([leaf(a) for a in arrs], axis), np.stack(arrs, axis))
    assert_close(mg.stack([leaf(a) for a in arrs], dim=axis), np.stack(arrs, axis))


@grad_settings
@given(case=stack_cases(max_dims=2, max_side=3))
def test_stack_gradients(case):
    arrs, axis = case
    check_grads(lambda *ts: mg.stack(list(ts), axis) ** 2, *[leaf(a) for a in arrs])


def test_stack_errors():
    with pytest.raises(ValueError) as info:
        mg.stack([mg.ones(2, 3), mg.ones(3, 2)])
    assert "(2, 3)" in str(info.value) and "(3, 2)" in str(info.value)
    with pytest.raises(IndexError, match="dim 3"):
        mg.stack([mg.ones(2), mg.ones(2)], 3)


def _torch_split_sizes(n, size):
    """PyTorch's split with an int: pieces of ``size``, the last one smaller; one empty piece if n = 0."""
    return [min(size, n - i) for i in range(0, n, size)] or [0]


def _torch_chunk_sizes(n, chunks):
    if n == 0:
        return [0] * chunks
    return _torch_split_sizes(n, -(-n // chunks))


@st.composite
def split_cases(draw, **kw):
    shape = draw(mst.shapes(min_dims=1, **kw))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    how = draw(st.sampled_from(["int", "list", "chunk"]))
    if how == "int":
        arg = draw(st.integers(1, 4))
        sizes = _torch_split_sizes(n, arg)
    elif how == "list":
        sizes = []
        while sum(sizes) < n or (not sizes and draw(st.booleans())):
            sizes.append(draw(st.integers(0, n - sum(sizes))))
        arg = sizes
    else:
        arg = draw(st.integers(1, 5))
        sizes = _torch_chunk_sizes(n, arg)
    return shape, dim, how, arg, sizes


def _pieces(a, dim, sizes):
    return np.split(a, np.cumsum(sizes)[:-1], axis=dim)


@with_device
@given(data=st.data(), case=split_cases(min_side=0))
def test_split_chunk_forward(device, data, case):
    shape, dim, how, arg, sizes = case
    a = data.draw(arrays(shape))
    x = leaf(a, device)
    out = mg.chunk(x, arg, dim) if how == "chunk" else mg.split(x, arg, dim)
    assert [p.shape[dim] for p in out] == sizes
    for got, want in zip(out, _pieces(a, dim, sizes)):
        assert_close(got, want)
    method = x.chunk(arg, dim) if how == "chunk" else x.split(arg, dim)
    assert [host(p).tolist() for p in method] == [host(p).tolist() for p in out]


@grad_settings
@given(data=st.data(), case=split_cases(**SMALL))
def test_split_chunk_gradients(data, case):
    shape, dim, how, arg, _ = case
    a = data.draw(arrays(shape))

    def fn(t):
        pieces = mg.chunk(t, arg, dim) if how == "chunk" else mg.split(t, arg, dim)
        return tuple(p * (i + 1.0) for i, p in enumerate(pieces))

    check_grads(fn, leaf(a))


def test_chunk_examples_follow_pytorch():
    x = mg.arange(6)
    assert [p.shape[0] for p in mg.chunk(x, 4)] == [2, 2, 2]  # fewer chunks than asked
    assert [p.shape[0] for p in mg.chunk(mg.arange(5), 4)] == [2, 2, 1]
    assert [p.shape for p in mg.chunk(mg.zeros(0, 2), 3)] == [(0, 2)] * 3


def test_split_accepts_numpy_integers():
    assert [p.shape for p in mg.split(mg.ones(5, 2), np.int64(2))] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in mg.split(mg.ones(5, 2), (np.int64(1), 1), 1)] == [(5, 1), (5, 1)]


def test_split_errors():
    with pytest.raises(ValueError, match=r"\[1, 1\].*3"):
        mg.split(mg.ones(3), [1, 1])
    with pytest.raises(ValueError, match="positive"):
        mg.split(mg.ones(3), 0)
    with pytest.raises(ValueError, match="positive"):
        mg.chunk(mg.ones(3), 0)


@st.composite
def pad_cases(draw, **kw):
    shape = draw(mst.shapes(**kw))
    k = draw(st.integers(0, len(shape)))
    widths = draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k))
    return shape, tuple(widths), draw(st.sampled_from([0.0, -1.5, 2.0]))


def _np_pad(a, pad, value):
    """PyTorch's convention: (left, right) of the last dim first, then the dim before, ..."""
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(a, widths, constant_values=value) if a.ndim else a.copy()


@with_device
@given(data=st.data(), case=pad_cases(min_side=0))
def test_pad_forward(device, data, case):
    shape, pad, value = case
    a = data.draw(arrays(shape))
    assert_close(mg.pad(leaf(a, device), pad, value), _np_pad(a, pad, value))


@grad_settings
@given(data=st.data(), case=pad_cases(max_dims=2, max_side=3))
def test_pad_gradients(data, case):
    shape, pad, value = case
    check_grads(lambda t: mg.pad(t, pad, value) ** 2, leaf(data.draw(arrays(shape))))


def test_pad_example_and_errors():
    x = mg.tensor([[1.0, 2.0]])
    assert host(mg.pad(x, (1, 0, 0, 1))).tolist() == [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        mg.pad(x, (1,))
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        mg.pad(x, (1, 1, 1, 1, 1, 1))
    assert host(mg.pad(x, (-1, 0))).tolist() == [[2.0]]  # a negative width crops, as PyTorch


@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_clone_gradients(data, shape):
    """clone copies memory but passes the gradient through unchanged (first and second order)."""
    x = leaf(data.draw(arrays(shape)))
    c = x.clone()
    assert c._data is not x._data and not np.shares_memory(c._data, x._data)
    check_grads(lambda t: t.clone() * t, x)
