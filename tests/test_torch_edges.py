"""PyTorch's semantics at the edges, each pinned twice: against hand-computed (or NumPy) values,
which run everywhere, and against PyTorch itself where it is installed (the ``torch`` tests skip
cleanly without it).

Covered: clamp (min > max, no bound, tensor bounds, integer and bool dtypes, gradients at the
bounds), the exactness of amin/min for extreme integers, var/std with no degrees of freedom left,
integer linspace, the zero gradient of sign, the named (values, indices) pair of max/min over a
dim, and ShapeError (a ValueError and a RuntimeError at once)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import SMALL, arrays, assert_close, check_grads, grad_settings, grid, host, leaf


def _torch():
    return pytest.importorskip("torch")


def _t(a, requires_grad=False):
    """A float64 torch leaf holding a copy of ``a``."""
    torch = _torch()
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- clamp ------------------------------------------------------------------------------------------

X5 = [1.0, 2.0, 3.0, 4.0, 5.0]


def test_clamp_min_above_max_gives_max_everywhere_for_number_and_tensor_bounds():
    want = [2.0, 2.0, 2.0, 2.0, 2.0]
    assert_close(mg.clamp(leaf(X5), 4.0, 2.0), want)
    assert_close(leaf(X5).clip(min=4.0, max=2.0), want)
    assert_close(mg.clamp(leaf(X5), leaf([4.0] * 5), leaf([2.0] * 5)), want)
    assert_close(mg.clamp(leaf(X5), 4.0, leaf(2.0)), want)
    assert_close(mg.clamp(mg.tensor([1, 5, 9]), 7, 3), [3, 3, 3], dtype=np.int64)


def test_clamp_without_bounds_raises_one_line():
    with pytest.raises(RuntimeError, match=r"clamp: at least one of min and max .*shape \(5,\)"):
        mg.clamp(leaf(X5))
    with pytest.raises(RuntimeError, match="at least one"):
        leaf(X5).clamp(None, None)


def test_clamp_gradients_follow_pytorch_at_the_bounds():
    """dx = dy where lo ≤ x ≤ hi (bounds inclusive); dlo where x < lo < hi; dhi where x > hi or
    hi < lo.  (Where lo == hi and x < lo nobody gets the gradient, as in PyTorch.)"""
    cases = [  # lo, hi, dx, dlo, dhi
        (2.0, 4.0, [0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]),
        (3.0, 3.0, [0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 1, 1]),
        (4.0, 2.0, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]),
    ]
    for lo, hi, dx, dlo, dhi in cases:
        x, tlo, thi = leaf(X5), leaf([lo] * 5), leaf([hi] * 5)
        mg.clamp(x, tlo, thi).sum().backward()
        assert_close(x.grad, dx, rtol=0, atol=0)
        assert_close(tlo.grad, dlo, rtol=0, atol=0)
        assert_close(thi.grad, dhi, rtol=0, atol=0)
        x = leaf(X5)
        mg.clamp(x, lo, hi).sum().backward()  # number bounds: the same dx
        assert_close(x.grad, dx, rtol=0, atol=0)
    x, tlo = leaf(X5), leaf([2.0] * 5)
    x.clamp(min=tlo).sum().backward()
    assert_close(x.grad, [0, 1, 1, 1, 1], rtol=0, atol=0)
    assert_close(tlo.grad, [1, 0, 0, 0, 0], rtol=0, atol=0)


def test_clamp_bounds_broadcast_and_the_result_takes_the_broadcast_shape():
    x = leaf([1.0, 2.0])
    lo = leaf([[0.0], [1.5], [3.0]])
    out = mg.clamp(x, lo, 2.5)
    assert_close(out, [[1.0, 2.0], [1.5, 2.0], [2.5, 2.5]])
    out.sum().backward()
    assert_close(x.grad, [1.0, 2.0])  # summed over the rows where x is inside
    assert_close(lo.grad, [[0.0], [1.0], [0.0]])  # row 3: x < 3, but 3 > 2.5 and the max wins
    with pytest.raises(mg.ShapeError, match=r"clamp: shapes \(2,\) and \(3,\) cannot be broadcast"):
        mg.clamp(x, leaf([0.0, 0.0, 0.0]))


def test_clamp_is_exact_for_extreme_integers_unsigned_and_bool():
    i64 = mg.tensor([-2**63, -5, 0, 5, 2**63 - 1])
    assert host(mg.clamp(i64, -2**63, 2**63 - 1)).tolist() == host(i64).tolist()
    assert host(i64.clamp(max=-2**63)).tolist() == [-2**63] * 5
    assert host(i64.clamp(-10, 10)).tolist() == [-10, -5, 0, 5, 10]
    assert host(i64.clamp(min=-2**70)).tolist() == host(i64).tolist()  # below int64: no element changes
    u8 = mg.tensor([0, 3, 200, 255], dtype=mg.uint8)
    out = u8.clamp(-1, 100)  # -1 is below every uint8: only max acts
    assert out.dtype == np.uint8 and host(out).tolist() == [0, 3, 100, 100]
    assert host(u8.clamp(3, 300)).tolist() == [3, 3, 200, 255]
    with pytest.raises(RuntimeError, match="min=300 is out of range for dtype uint8"):
        u8.clamp(min=300)
    b = mg.tensor([True, False])
    assert mg.clamp(b, True).dtype == np.bool_ and host(mg.clamp(b, True)).tolist() == [True, True]
    assert host(mg.clamp(b, max=False)).tolist() == [False, False]
    assert host(mg.clamp(b, mg.tensor([False, True]))).tolist() == [True, True]


def test_clamp_result_dtype_follows_pytorch_promotion():
    out = mg.clamp(mg.tensor([1, 2, 3]), 1.5, 2.5)  # int tensor, float bounds: the default float dtype
    assert out.dtype == mg.get_default_dtype()
    assert_close(out, [1.5, 2.0, 2.5])
    assert mg.clamp(mg.tensor([True, False]), 0, 1).dtype == np.int64  # bool tensor, int bounds
    f32 = mg.tensor([1.0, 2.0])
    assert mg.clamp(f32, mg.tensor([1.5], dtype=mg.float64)).dtype == np.float64  # both dimensioned
    assert mg.clamp(f32, mg.tensor(1.5, dtype=mg.float64)).dtype == np.float32  # a 0-d bound does not widen
    assert mg.clamp(mg.tensor([1.0, 2.0], dtype=mg.float16), 0.5).dtype == np.float16
    with pytest.raises(RuntimeError, match="overflows dtype float16"):
        mg.clamp(mg.tensor([1.0], dtype=mg.float16), 1e6)


def test_clamp_propagates_nan():
    out = mg.clamp(leaf([np.nan, 1.0, 5.0]), 0.0, 2.0)
    assert_close(out, [np.nan, 1.0, 2.0])
    assert np.isnan(host(mg.clamp(leaf([0.0, 1.0]), np.nan, 2.0))).all()


# Inputs on multiples of 1/8, min on k/8 + 1/16, max on k/8 + 3/32: no two of x, min and max are
# ever within a gradcheck step of each other, so no finite difference crosses a kink.
LOW = st.integers(-16, 16).map(lambda k: k / 8 + 1 / 16)
HIGH = st.integers(-16, 16).map(lambda k: k / 8 + 3 / 32)


@grad_settings
@given(data=st.data(), shapes=mst.broadcastable_shapes(3, **SMALL), kinds=st.tuples(*[st.sampled_from(
    ["none", "number", "tensor"])] * 2))
def test_clamp_gradcheck_float64(data, shapes, kinds):
    """Scalar and tensor bounds in any order (min > max included), broadcasting with x."""
    if kinds == ("none", "none"):
        kinds = ("number", "tensor")
    a = data.draw(arrays(shapes[0], grid(-16, 16)))

    def bound(kind, shape, values):
        if kind == "none":
            return None
        if kind == "number":
            return data.draw(values)
        return leaf(data.draw(arrays(shape, values)))

    lo, hi = bound(kinds[0], shapes[1], LOW), bound(kinds[1], shapes[2], HIGH)
    tensors = [leaf(a)] + [b for b in (lo, hi) if isinstance(b, mg.Tensor)]

    def f(t, *bs):
        it = iter(bs)
        return mg.clamp(t, next(it) if isinstance(lo, mg.Tensor) else lo, next(it) if isinstance(hi, mg.Tensor) else hi)

    check_grads(f, *tensors)


@pytest.mark.torch
@settings(max_examples=60)
@given(data=st.data(), shapes=mst.broadcastable_shapes(3, max_dims=3, max_side=3),
       kinds=st.tuples(*[st.sampled_from(["none", "number", "tensor"])] * 2))
def test_clamp_values_and_gradients_match_torch(data, shapes, kinds):
    """Coarse grids, so x often sits exactly on a bound and min ≥ max happens often."""
    torch = _torch()
    if kinds == ("none", "none"):
        kinds = ("tensor", "number")
    coarse = grid(-2, 2, 1.0)
    a = data.draw(arrays(shapes[0], coarse))
    raw = [None if k == "none" else data.draw(coarse) if k == "number" else data.draw(arrays(s, coarse))
           for k, s in zip(kinds, shapes[1:])]
    mine = [leaf(r) if isinstance(r, np.ndarray) else r for r in raw]
    theirs = [_t(r, True) if isinstance(r, np.ndarray) else r for r in raw]
    if any(isinstance(r, np.ndarray) for r in raw):  # torch takes numbers or tensors, not one of each
        theirs = [_t(r) if isinstance(r, float) else r for r in theirs]
    x, t = leaf(a), _t(a, True)
    out, ref = mg.clamp(x, *mine), torch.clamp(t, *theirs)
    assert_close(out, ref.detach().numpy(), rtol=0, atol=0)
    g = data.draw(arrays(ref.shape))
    out.backward(mg.tensor(g))
    try:
        ref.backward(torch.tensor(g))
    except RuntimeError as e:  # PyTorch's own backward fails for some broadcasts of a smaller x
        assert "doesn't match the broadcast shape" in str(e)
        return
    assert_close(x.grad, t.grad.numpy())
    for m, th in zip(mine, theirs):
        if isinstance(m, mg.Tensor):
            assert_close(m.grad, th.grad.numpy())


@pytest.mark.torch
def test_clamp_integer_results_match_torch():
    torch = _torch()
    i64 = [-2**63, -5, 0, 5, 2**63 - 1]
    for lo, hi in [(-2**63, 2**63 - 1), (-10, 10), (None, -2**63), (7, 3), (0.5, 2.5)]:
        want = torch.clamp(torch.tensor(i64), lo, hi)
        got = mg.clamp(mg.tensor(i64), lo, hi)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(got), want.numpy())
    u8 = [0, 3, 200, 255]
    np.testing.assert_array_equal(host(mg.clamp(mg.tensor(u8, dtype=mg.uint8), 3, 100)),
                                  torch.clamp(torch.tensor(u8, dtype=torch.uint8), 3, 100).numpy())


# -- amin / min / amax / max: exact for every dtype ---------------------------------------------------

INT_EDGES = {
    np.int64: [5, -2**63, 2**63 - 1, 0],
    np.int32: [5, -2**31, 2**31 - 1, 0],
    np.int8: [5, -128, 127, 0],
    np.uint8: [5, 0, 255, 1],
    np.bool_: [True, False, True, True],
}


@pytest.mark.parametrize("dtype", list(INT_EDGES))
def test_min_max_are_exact_for_extreme_integers_unsigned_and_bool(dtype):
    a = np.array(INT_EDGES[dtype], dtype=dtype)
    x = mg.tensor(a)
    for got, want in [(mg.amin(x), a.min()), (x.amax(), a.max()), (x.min(), a.min()), (mg.max(x), a.max()),
                      (x.min(0).values, a.min()), (x.max(0).values, a.max())]:
        assert got.dtype == a.dtype and host(got).item() == want.item()
    assert int(x.min(0).indices) == int(a.argmin()) and int(x.max(0).indices) == int(a.argmax())
    two = mg.tensor(np.stack([a, a[::-1]]))
    assert host(two.amin(1)).tolist() == [a.min().item()] * 2
    assert host(two.min(dim=1).values).tolist() == [a.min().item()] * 2


@pytest.mark.torch
@pytest.mark.parametrize("dtype", list(INT_EDGES))
def test_min_max_of_integers_match_torch(dtype):
    torch = _torch()
    a = np.array(INT_EDGES[dtype], dtype=dtype)
    x, t = mg.tensor(a), torch.from_numpy(a.copy())
    for name in ("amin", "amax"):
        assert host(getattr(x, name)()).item() == getattr(t, name)().item()
    for name in ("min", "max"):
        got, want = getattr(x, name)(0), getattr(t, name)(0)
        assert host(got.values).item() == want.values.item() and int(got.indices) == int(want.indices)


# -- max(dim) / min(dim): the (values, indices) pair ---------------------------------------------------

def test_max_over_a_dim_is_a_named_pair():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    out = x.max(dim=1)
    assert type(out) is mg.return_types.max and isinstance(out, tuple)
    assert repr(out).startswith("minigrad.return_types.max(\nvalues=tensor(")
    v, i = x.max(1)
    assert_close(v, [3.0, 2.0])
    assert host(i).tolist() == [1, 0] and i.dtype == np.int64
    assert_close(x.max(dim=1)[0], [3.0, 2.0])
    assert_close(x.max(1, keepdim=True).values, [[3.0], [2.0]])
    assert host(x.max(1, keepdim=True).indices).tolist() == [[1], [0]]
    assert host(mg.min(x, 0).indices).tolist() == [0, 1, 1]
    assert_close(x.min(axis=0).values, [1.0, 0.0, 2.0])  # axis= is dim=, as PyTorch accepts
    assert host(x.max(axis=1, keepdims=True).indices).tolist() == [[1], [0]]
    whole = x.max()
    assert isinstance(whole, mg.Tensor) and whole.shape == ()  # no dim: a tensor
    assert_close(mg.max(x, leaf([2.5, 2.5, 2.5])), [[2.5, 3.0, 3.0], [2.5, 2.5, 2.5]])  # torch.max(x, other)
    with pytest.raises(TypeError, match=r"max: dim must be one int, got \(0, 1\); amax\(\)"):
        x.max((0, 1))


def test_max_over_a_dim_with_nan_picks_the_nan():
    x = leaf([[1.0, np.nan, np.nan], [2.0, 2.0, 1.0]])
    v, i = x.max(1)
    assert_close(v, [np.nan, 2.0])
    assert host(i).tolist() == [1, 0]
    v.sum().backward()
    assert_close(x.grad, [[0, 1, 0], [1, 0, 0]], rtol=0, atol=0)


@pytest.mark.torch
@settings(max_examples=60)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4), keep=st.booleans(),
       name=st.sampled_from(["max", "min"]))
def test_max_min_over_a_dim_match_torch(data, shape, keep, name):
    torch = _torch()
    a = data.draw(arrays(shape, st.sampled_from([-1.0, 0.0, 1.0, np.nan])))  # ties and NaN
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x, t = leaf(a), _t(a, True)
    out, ref = getattr(x, name)(dim, keep), getattr(t, name)(dim, keep)
    assert_close(out.values, ref.values.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_array_equal(host(out.indices), ref.indices.numpy())
    g = data.draw(arrays(ref.values.shape))
    out.values.backward(mg.tensor(g))
    ref.values.backward(torch.tensor(g))
    assert_close(x.grad, t.grad.numpy(), rtol=0, atol=0)


# -- var / std with no degrees of freedom left --------------------------------------------------------

def test_var_std_without_degrees_of_freedom_are_inf_or_nan_with_a_warning():
    x = leaf([1.0, 2.0, 4.0])
    for c in (3, 4):
        with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
            assert host(x.var(correction=c)).item() == np.inf
        with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
            assert host(mg.std(x, correction=c)).item() == np.inf
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(host(leaf([3.0, 3.0]).var(correction=2)))  # 0 / 0
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(host(leaf([3.0]).var()))  # n = 1, the unbiased default
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(host(leaf(np.zeros(0)).var(correction=0)))  # n = 0
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert_close(leaf([[1.0, 2.0], [3.0, 5.0], [3.0, 3.0]]).var(1, correction=2), [np.inf, np.inf, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # enough degrees of freedom: no warning
        assert_close(x.var(), np.var([1.0, 2.0, 4.0], ddof=1), rtol=1e-12)


def test_var_gradient_without_degrees_of_freedom_is_signed_inf_and_nan_at_the_mean():
    x = leaf([1.0, 2.0, 4.0, 7 / 3])
    with pytest.warns(UserWarning):
        v = x.var(correction=4)
    v.backward()
    assert host(x.grad)[:3].tolist() == [-np.inf, -np.inf, np.inf]
    x = leaf([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning):
        x.var(correction=3).backward()
    g = host(x.grad)
    assert g[0] == -np.inf and np.isnan(g[1]) and g[2] == np.inf  # 2(x - x̄)/0, 0/0 at x = x̄


def test_var_spellings_as_pytorch():
    a = np.array([[1.0, 2.0], [3.0, 5.0]])
    x = leaf(a)
    assert_close(x.var(False), np.var(a), rtol=1e-12)  # var(x, unbiased) over all elements
    assert_close(x.std(False), np.std(a), rtol=1e-12)
    assert_close(x.var(0, False), np.var(a, axis=0), rtol=1e-12)
    assert_close(x.var(0, correction=0.5), np.sum((a - a.mean(0)) ** 2, 0) / 1.5, rtol=1e-12)
    assert_close(x.var(0, correction=-1), np.sum((a - a.mean(0)) ** 2, 0) / 3, rtol=1e-12)
    with pytest.raises(TypeError, match="unbiased= or correction="):
        x.var(0, unbiased=True, correction=1)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("case", [
    ([1.0, 2.0, 4.0], {"correction": 3}), ([1.0, 2.0, 4.0], {"correction": 5}), ([3.0, 3.0], {"correction": 2}),
    ([3.0], {}), ([], {}), ([], {"correction": 0}), ([[1.0, 2.0], [3.0, 5.0]], {"dim": 0, "correction": 2}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": 1, "unbiased": False}), ([[1.0, 2.0], [3.0, 3.0]], {"dim": 1, "correction": 2}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": 0, "correction": 0.5, "keepdim": True}),
])
def test_var_std_values_and_warnings_match_torch(name, case):
    torch = _torch()
    a, kw = case
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = getattr(torch, name)(_t(a), **kw)
    with warnings.catch_warnings(record=True) as mine:
        warnings.simplefilter("always")
        got = getattr(mg, name)(leaf(a), **kw)
    assert_close(got, want.numpy(), rtol=1e-12)
    assert any("degrees of freedom" in str(w.message) for w in mine) == \
        any("degrees of freedom" in str(w.message) for w in theirs)


# -- linspace with an integer dtype ------------------------------------------------------------------

def test_integer_linspace_truncates_toward_zero():
    assert host(mg.linspace(-1, 1, 4, dtype=mg.int64)).tolist() == [-1, 0, 0, 1]
    assert host(mg.linspace(-2.5, 2.5, 6, dtype=mg.int64)).tolist() == [-2, -1, 0, 0, 1, 2]
    assert host(mg.linspace(10, 0, 4, dtype=mg.int32)).tolist() == [10, 6, 3, 0]
    assert host(mg.linspace(0.7, 5.9, 3, dtype=mg.int64)).tolist() == [0, 2, 5]
    assert host(mg.linspace(-3, 3, 7, dtype=mg.int8)).tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert host(mg.linspace(0, 255, 4, dtype=mg.uint8)).tolist() == [0, 85, 170, 255]
    assert host(mg.linspace(0, 10, 1, dtype=mg.int64)).tolist() == [0]
    assert mg.linspace(0, 10, 0, dtype=mg.int64).shape == (0,)
    ends = host(mg.linspace(-2**63, 2**63 - 1, 5, dtype=mg.int64))
    assert ends[0] == -2**63 and ends[-1] == 2**63 - 1 and (np.diff(ends) > 0).all()


def test_linspace_refuses_bool_and_values_outside_the_integer_dtype():
    with pytest.raises(NotImplementedError, match="linspace: dtype bool"):
        mg.linspace(0, 1, 3, dtype=mg.bool)
    with pytest.raises(RuntimeError, match="must fit dtype uint8"):
        mg.linspace(-1, 10, 3, dtype=mg.uint8)
    with pytest.raises(ValueError, match="steps must be non-negative"):
        mg.linspace(0, 1, -1)


@pytest.mark.torch
@settings(max_examples=100)
@given(start=st.one_of(st.integers(-100, 100), st.floats(-100, 100)), end=st.one_of(st.integers(-100, 100),
       st.floats(-100, 100)), steps=st.integers(0, 3), dtype=st.sampled_from(["int64", "int32", "int16", "int8"]))
def test_integer_linspace_matches_torch(start, end, steps, dtype):
    """Up to 3 steps: PyTorch's CPU kernel then computes every value by its scalar formula (longer
    ranges go through vector code whose rounding depends on the CPU's vector width)."""
    torch = _torch()
    want = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
    got = host(mg.linspace(start, end, steps, dtype=getattr(mg, dtype)))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.torch
@settings(max_examples=50)
@given(start=st.integers(-100, 100), step=st.integers(-5, 5), steps=st.integers(2, 40))
def test_integer_linspace_with_whole_steps_matches_torch(start, step, steps):
    torch = _torch()
    end = start + step * (steps - 1)
    np.testing.assert_array_equal(host(mg.linspace(start, end, steps, dtype=mg.int64)),
                                  torch.linspace(start, end, steps, dtype=torch.int64).numpy())


# -- sign: differentiable, derivative 0 ------------------------------------------------------------------

def test_sign_has_a_zero_gradient():
    x = leaf([-2.0, 0.0, 3.0, np.nan])
    s = x.sign()
    assert s.requires_grad and s.grad_fn is not None
    s.sum().backward()
    assert_close(x.grad, [0.0, 0.0, 0.0, 0.0], rtol=0, atol=0)
    x = leaf([-2.0, 3.0])
    (g,) = mg.grad((mg.sign(x) * x).sum(), [x], create_graph=True)
    assert_close(g, [-1.0, 1.0])  # d(sign(x)·x)/dx = sign(x): sign contributes nothing


def test_sign_values_for_every_dtype():
    assert_close(mg.sign(leaf([np.nan, -0.0, 0.0, -2.0, np.inf])), [np.nan, 0.0, 0.0, -1.0, 1.0])  # NaN stays NaN
    assert host(mg.sign(mg.tensor([True, False]))).tolist() == [True, False]
    u8 = mg.sign(mg.tensor([0, 7], dtype=mg.uint8))
    assert u8.dtype == np.uint8 and host(u8).tolist() == [0, 1]
    assert host(mg.sign(mg.tensor([-2**63, 0, 5]))).tolist() == [-1, 0, 1]


@pytest.mark.torch
def test_sign_gradient_matches_torch():
    torch = _torch()
    a = np.array([-2.0, 0.0, 3.0])
    x, t = leaf(a), _t(a, True)
    (x.sign() * 3).sum().backward()
    (t.sign() * 3).sum().backward()
    assert_close(x.grad, t.grad.numpy(), rtol=0, atol=0)
    assert host(mg.sign(mg.tensor([True, False]))).tolist() == torch.sign(torch.tensor([True, False])).tolist()


# -- ShapeError ------------------------------------------------------------------------------------------

F = mg.nn.functional
SHAPE_MISMATCHES = {
    "reshape": lambda: mg.zeros(2, 3).reshape(4),
    "view": lambda: mg.zeros(2, 3).view(5),
    "permute": lambda: mg.zeros(2, 3).permute(0),
    "broadcast_to": lambda: mg.zeros(2, 3).broadcast_to((4, 3)),
    "expand": lambda: mg.zeros(2, 3).expand(3),
    "flatten": lambda: mg.zeros(2, 3, 4).flatten(2, 1),
    "cat_0d": lambda: mg.cat([mg.tensor(1.0), mg.tensor(2.0)]),
    "cat": lambda: mg.cat([mg.zeros(2, 3), mg.zeros(2, 4)]),
    "stack": lambda: mg.stack([mg.zeros(2, 3), mg.zeros(2, 4)]),
    "split": lambda: mg.zeros(4).split([1, 2]),
    "pad": lambda: mg.pad(mg.zeros(2, 3), (1,)),
    "matmul_0d": lambda: mg.matmul(mg.tensor(1.0), mg.zeros(3)),
    "matmul": lambda: mg.zeros(2, 3) @ mg.zeros(4, 2),
    "matmul_batch": lambda: mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 2),
    "dot": lambda: mg.dot(mg.zeros(2, 2), mg.zeros(2, 2)),
    "item": lambda: mg.zeros(2).item(),
    "add": lambda: mg.zeros(2) + mg.zeros(3),
    "compare": lambda: mg.zeros(2) < mg.zeros(3),
    "where": lambda: mg.where(mg.ones(2, dtype=mg.bool), mg.zeros(3), mg.zeros(2)),
    "clamp": lambda: mg.zeros(2).clamp(mg.zeros(3)),
    "maximum": lambda: mg.maximum(mg.zeros(2), mg.zeros(3)),
    "mse_loss": lambda: F.mse_loss(mg.zeros(2, 3), mg.zeros(3, 2)),
    "linear": lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 5)),
    "linear_bias": lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 3), mg.zeros(5)),
    "cross_entropy_target": lambda: F.cross_entropy(mg.zeros(2, 3), mg.zeros(3, dtype=mg.int64)),
    "cross_entropy_weight": lambda: F.cross_entropy(mg.zeros(2, 3), mg.zeros(2, dtype=mg.int64),
                                                    weight=mg.zeros(4)),
    "batch_norm_1d": lambda: F.batch_norm(mg.zeros(3), None, None, training=True),
    "batch_norm_weight": lambda: F.batch_norm(mg.zeros(3, 2), None, None, weight=mg.zeros(3), training=True),
}


@pytest.mark.parametrize("name", list(SHAPE_MISMATCHES))
def test_shape_mismatches_raise_shape_error_a_value_and_a_runtime_error(name):
    with pytest.raises(mg.ShapeError) as info:
        SHAPE_MISMATCHES[name]()
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert "\n" not in str(info.value)
    assert mg.ShapeError is mg.errors.ShapeError


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
@pytest.mark.parametrize("name", list(SHAPE_MISMATCHES))
def test_shape_mismatches_are_caught_by_the_class_torch_raises(name):
    """PyTorch raises RuntimeError for most of these mistakes and ValueError for a few losses:
    ``except`` of that class catches minigrad's error too.  (A 1-D batch_norm input is PyTorch's
    IndexError, a difference listed in docs/ops.md.)"""
    torch = _torch()
    tF = torch.nn.functional
    z = torch.zeros
    theirs = {
        "reshape": lambda: z(2, 3).reshape(4), "view": lambda: z(2, 3).view(5), "permute": lambda: z(2, 3).permute(0),
        "broadcast_to": lambda: z(2, 3).broadcast_to((4, 3)), "expand": lambda: z(2, 3).expand(3),
        "flatten": lambda: z(2, 3, 4).flatten(2, 1), "cat_0d": lambda: torch.cat([torch.tensor(1.0)] * 2),
        "cat": lambda: torch.cat([z(2, 3), z(2, 4)]), "stack": lambda: torch.stack([z(2, 3), z(2, 4)]),
        "split": lambda: z(4).split([1, 2]), "pad": lambda: tF.pad(z(2, 3), (1,)),
        "matmul_0d": lambda: torch.matmul(torch.tensor(1.0), z(3)), "matmul": lambda: z(2, 3) @ z(4, 2),
        "matmul_batch": lambda: z(2, 2, 3) @ z(3, 3, 2), "dot": lambda: torch.dot(z(2, 2), z(2, 2)),
        "item": lambda: z(2).item(), "add": lambda: z(2) + z(3), "compare": lambda: z(2) < z(3),
        "where": lambda: torch.where(torch.ones(2, dtype=torch.bool), z(3), z(2)),
        "clamp": lambda: z(2).clamp(z(3)), "maximum": lambda: torch.maximum(z(2), z(3)),
        "mse_loss": lambda: tF.mse_loss(z(2, 3), z(3, 2)), "linear": lambda: tF.linear(z(2, 3), z(4, 5)),
        "linear_bias": lambda: tF.linear(z(2, 3), z(4, 3), z(5)),
        "cross_entropy_target": lambda: tF.cross_entropy(z(2, 3), torch.zeros(3, dtype=torch.long)),
        "cross_entropy_weight": lambda: tF.cross_entropy(z(2, 3), torch.zeros(2, dtype=torch.long), weight=z(4)),
        "batch_norm_1d": lambda: tF.batch_norm(z(3), None, None, training=True),
        "batch_norm_weight": lambda: tF.batch_norm(z(3, 2), None, None, weight=z(3), training=True),
    }
    with pytest.raises(Exception) as want:
        theirs[name]()
    if isinstance(want.value, IndexError):
        return
    with pytest.raises(type(want.value)):
        SHAPE_MISMATCHES[name]()
