"""prod, cumsum and norm: forward values against NumPy over random shapes (size-1 and empty dims
included) and axes, gradients and second derivatives by gradcheck / gradgradcheck, exact
gradients of prod at zeros (one and two in a slice, by hand), norm's zero gradient at 0, the
same numbers on every device as on the CPU, and PyTorch as an oracle (skipped without torch)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import (SMALL, arrays, assert_close, check_grads, grad_settings, grid, host, leaf, nonzero, plain,
                      with_device)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

#: Values for prod: small (|x| <= 1.5, so products of up to 27 of them stay moderate), and 0 often.
WITH_ZEROS = st.one_of(st.just(0.0), grid(-6, 6, 0.25))
P_VALUES = [1, 2, 3, 0.5, 1.5, math.inf]


def _case(data, shape):
    return data.draw(mst.axes(len(shape))), data.draw(st.booleans())


def _dim(data, ndim):
    """One int dim, negative too; a 0-d tensor takes 0 or -1, as in PyTorch."""
    n = max(ndim, 1)
    return data.draw(st.integers(-n, n - 1))


def _np_norm(a, p, axis, keep):
    if p == math.inf:
        return np.max(np.abs(a), axis=axis, keepdims=keep)
    return np.sum(np.abs(a) ** p, axis=axis, keepdims=keep) ** (1 / p)


def _signed_unique_abs(shape):
    """Distinct |x| >= 0.25 with random signs: no ties for max|x|, no kink of |x| at 0."""
    n = int(np.prod(shape))
    mags = st.lists(grid(2, 40, 0.125), min_size=n, max_size=n, unique=True)
    signs = st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)
    return st.tuples(mags, signs).map(lambda ms: (np.array(ms[0]) * np.array(ms[1])).reshape(shape))


# -- forward against NumPy ------------------------------------------------------------------------

@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_prod_forward(device, data, shape):
    a = data.draw(arrays(shape, WITH_ZEROS))
    axis, keep = _case(data, shape)
    want = np.prod(a, axis=axis, keepdims=keep)
    x = leaf(a, device)
    assert_close(mg.prod(x, axis, keep), want, rtol=1e-12, atol=0, dtype=np.float64)
    assert_close(mg.prod(x, dim=axis, keepdim=keep), want, rtol=1e-12, atol=0)
    assert_close(x.prod(axis=axis, keepdims=keep), want, rtol=1e-12, atol=0)
    assert_close(x.prod(dim=axis, keepdim=keep), want, rtol=1e-12, atol=0)


@with_device
@given(data=st.data(), shape=mst.shapes(min_dims=0, min_side=0))
def test_cumsum_forward(device, data, shape):
    a = data.draw(arrays(shape))
    d = _dim(data, len(shape))
    want = a.copy() if a.ndim == 0 else np.cumsum(a, axis=d)
    x = leaf(a, device)
    assert_close(mg.cumsum(x, d), want, rtol=1e-12, atol=1e-12, dtype=np.float64)
    assert_close(mg.cumsum(x, axis=d), want, rtol=1e-12, atol=1e-12)
    assert_close(x.cumsum(d), want, rtol=1e-12, atol=1e-12)
    assert_close(x.cumsum(dim=d), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", P_VALUES)
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0))
def test_norm_forward(device, p, data, shape):
    a = data.draw(arrays(shape, WITH_ZEROS))
    axis, keep = _case(data, shape)
    x = leaf(a, device)
    empty_slice = a.size == 0 and (axis is None or 0 in np.asarray(shape)[list(np.atleast_1d(axis))])
    if p == math.inf and empty_slice:  # max over nothing has no value, as in PyTorch
        with pytest.raises(RuntimeError, match=r"norm.*empty.*shape"):
            mg.norm(x, p, axis, keep)
        return
    want = _np_norm(a, p, axis, keep)
    assert_close(mg.norm(x, p, axis, keep), want, rtol=1e-12, atol=1e-12, dtype=np.float64)
    assert_close(mg.norm(x, p, dim=axis, keepdim=keep), want, rtol=1e-12, atol=1e-12)
    assert_close(x.norm(p, axis=axis, keepdims=keep), want, rtol=1e-12, atol=1e-12)
    assert_close(x.norm(p=p, dim=axis, keepdim=keep), want, rtol=1e-12, atol=1e-12)


def test_defaults_and_dtypes():
    a = np.array([[3.0, -4.0], [0.5, 2.0]])
    x = leaf(a)
    assert_close(x.norm(), np.sqrt((a * a).sum()), rtol=1e-15)
    assert_close(mg.norm(x, "fro"), np.sqrt((a * a).sum()), rtol=1e-15)
    assert_close(x.prod(), np.prod(a), rtol=1e-15)
    for t in (mg.ones((2, 3)), mg.ones((2, 3), dtype=mg.float64)):  # float dtypes are kept
        assert t.prod(1).dtype == t.cumsum(1).dtype == t.norm(3, 1).dtype == t.norm(dim=0).dtype == t.dtype
    ints = mg.tensor([[1, 2, 3], [4, 5, 6]], dtype=mg.int32)
    np.testing.assert_array_equal(host(ints.prod(1)), [6, 120])
    np.testing.assert_array_equal(host(ints.cumsum(1)), [[1, 3, 6], [4, 9, 15]])


def test_empty_and_zero_dim():
    e = leaf(np.zeros((0, 3)))
    assert_close(mg.prod(e, 0), np.ones(3))  # the product over nothing is 1
    assert_close(mg.norm(e, 3, 0), np.zeros(3))  # the sum over nothing is 0
    mg.prod(e, 0).sum().backward()
    assert e.grad.shape == (0, 3)
    s = leaf(-3.0)  # 0-d: dim 0 or -1 reduces over nothing, as in PyTorch
    assert_close(mg.prod(s, 0), -3.0)
    assert_close(mg.cumsum(s, -1), -3.0)
    assert_close(mg.norm(s, 2, 0), 3.0)
    mg.prod(s, -1).backward()
    assert_close(s.grad, 1.0)


# -- gradients and second derivatives --------------------------------------------------------------

@grad_settings
@given(data=st.data(), shape=mst.shapes(max_dims=3, max_side=3, min_side=0))
def test_prod_gradients(data, shape):
    """Zeros are frequent in the drawn values: one or several in a slice.  prod is linear in
    each element, so central differences are exact there; no kink to avoid."""
    axis, keep = _case(data, shape)
    check_grads(lambda t: mg.prod(t, axis, keep), leaf(data.draw(arrays(shape, WITH_ZEROS))))


@grad_settings
@given(data=st.data(), shape=mst.shapes(min_dims=0, max_dims=3, max_side=3, min_side=0))
def test_cumsum_gradients(data, shape):
    d = _dim(data, len(shape))
    # Squared, so that the second derivative is not identically 0.
    check_grads(lambda t: mg.cumsum(t, d) ** 2, leaf(data.draw(arrays(shape))))


@pytest.mark.parametrize("p", P_VALUES)
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_norm_gradients(p, data, shape):
    """Away from the kinks: |x| >= 0.1 (|x| has a kink at 0), distinct |x| for max|x|."""
    a = data.draw(_signed_unique_abs(shape) if p == math.inf else arrays(shape, nonzero()))
    axis, keep = _case(data, shape)
    check_grads(lambda t: mg.norm(t, p, axis, keep), leaf(a))


# -- prod at zeros, by hand --------------------------------------------------------------------------

def _grad_and_hessian(fn, a):
    """d fn / dx and the Hessian of fn (a scalar) by create_graph=True, one row per element."""
    x = leaf(a)
    (g,) = mg.grad(fn(x), x, create_graph=True)
    rows = [host(mg.grad(g.reshape(-1)[i], x, retain_graph=True)[0]).ravel() for i in range(x.numel())]
    return host(g.detach()), np.array(rows)


def test_prod_gradient_with_one_zero():
    """d(x0 x1 x2 x3)/dxi = product of the others: only the zero's own entry is non-zero."""
    g, h = _grad_and_hessian(mg.prod, [2.0, 0.0, 3.0, 4.0])
    np.testing.assert_array_equal(g, [0.0, 24.0, 0.0, 0.0])
    # d²/dxi dxj = product of the two others (0 on the diagonal): only pairs with x1 survive.
    np.testing.assert_array_equal(h, [[0, 12, 0, 0], [12, 0, 8, 6], [0, 8, 0, 0], [0, 6, 0, 0]])


def test_prod_gradient_with_two_zeros():
    """Every product of the others contains a zero; the second derivative between the two zeros
    does not."""
    g, h = _grad_and_hessian(mg.prod, [2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(h, [[0, 0, 0, 0], [0, 0, 0, 6], [0, 0, 0, 0], [0, 6, 0, 0]])


@pytest.mark.parametrize("create_graph", [False, True])
def test_prod_gradient_along_an_axis_with_zeros(create_graph):
    a = np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 3.0]])
    x = leaf(a)
    (g,) = mg.grad(mg.prod(x, 1).sum(), x, create_graph=create_graph)  # rows: one zero, two, none
    np.testing.assert_array_equal(host(g.detach()), [[0, 6, 0], [0, 0, 0], [6, 3, 2]])
    b = np.array([[2.0, 0.0, 0.0], [3.0, 5.0, 0.0], [4.0, 6.0, 7.0]])  # columns: no zero, one, two
    for call in (lambda t: mg.prod(t, 0, True), lambda t: t.prod(dim=-2)):
        x = leaf(b)
        (g,) = mg.grad(call(x).sum(), x, create_graph=create_graph)
        np.testing.assert_array_equal(host(g.detach()), [[12, 30, 0], [8, 0, 0], [6, 0, 0]])


# -- norm at zero ---------------------------------------------------------------------------------

@pytest.mark.parametrize("p", P_VALUES)
def test_norm_gradient_at_zero_is_zero(p):
    """Not NaN: PyTorch's convention (√ and |x|^(p-1) are not differentiable at 0)."""
    x = leaf(np.zeros(4))
    y = mg.norm(x, p)
    assert host(y) == 0
    y.backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros(4))
    # A zero row next to an ordinary one: the zero row gets 0, the other its usual gradient.
    x = leaf([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    mg.norm(x, p, dim=1).sum().backward()
    want = {1: [1, 0, -1], 2: [0.6, 0, -0.8], math.inf: [0, 0, -1]}.get(p)
    if want is None:  # sign(x) (|x| / y)^(p-1)
        y = (3.0 ** p + 4.0 ** p) ** (1 / p)
        want = [(3 / y) ** (p - 1), 0, -(4 / y) ** (p - 1)]
    assert_close(x.grad, [[0, 0, 0], want], rtol=1e-12)


def test_norm_second_derivative_is_finite_at_zero():
    x = leaf(np.zeros(3))
    (g,) = mg.grad(mg.norm(x), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    assert np.isfinite(host(h)).all()


# -- cumsum ----------------------------------------------------------------------------------------

def test_cumsum_gradient_is_a_reverse_cumsum():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    g = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])
    mg.cumsum(x, 1).backward(mg.tensor(g))
    assert_close(x.grad, [[111.0, 110.0, 100.0], [222.0, 220.0, 200.0]], rtol=1e-15)
    x.grad = None
    mg.cumsum(x, -2).backward(mg.tensor(g))
    assert_close(x.grad, [[3.0, 30.0, 300.0], [2.0, 20.0, 200.0]], rtol=1e-15)


# -- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda x: mg.prod(x, 2), lambda x: x.prod(dim=-3), lambda x: mg.cumsum(x, 2),
                                  lambda x: x.cumsum(-3), lambda x: mg.norm(x, 2, 5), lambda x: x.norm(dim=(0, 2))])
def test_dim_out_of_range_names_dim_and_shape(call):
    with pytest.raises(IndexError) as info:
        call(leaf(np.ones((2, 3))))
    msg = str(info.value)
    assert msg.split(":")[0] in ("prod", "cumsum", "norm") and "out of range" in msg and "(2, 3)" in msg, msg


def test_argument_errors():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"cumsum.*dim.*\(2, 3\)"):
        mg.cumsum(x)
    with pytest.raises(TypeError, match=r"cumsum.*dim.*\(2, 3\)"):
        mg.cumsum(x, 0, axis=1)
    with pytest.raises(TypeError, match="cumsum: dim must be one int"):
        mg.cumsum(x, (0, 1))
    for p in (0, -1, float("nan"), "nuc", None, True):
        with pytest.raises(ValueError, match="norm: p must be"):
            mg.norm(x, p)
    with pytest.raises(TypeError, match=r"norm.*floating.*int64.*\(3,\)"):
        mg.norm(mg.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="prod: repeated axis"):
        mg.prod(x, (0, -2))
    with pytest.raises(TypeError, match="axis"):
        mg.prod(x, axis=0, dim=1)


# -- every device gives the CPU's numbers ----------------------------------------------------------

A = np.array([[[2.0, 0.0, 3.0, -1.5], [0.0, 5.0, 0.0, 0.5]], [[1.0, 2.0, 3.0, -0.5], [0.0, 0.0, 0.0, 0.0]]])
DEVICE_CASES = {
    "prod_all": lambda x: mg.prod(x),
    "prod_dim": lambda x: x.prod(-1),
    "prod_dims_keep": lambda x: mg.prod(x, (0, 2), keepdims=True),
    "cumsum_0": lambda x: mg.cumsum(x, 0),
    "cumsum_-1": lambda x: x.cumsum(-1),
    **{f"norm_{p}": (lambda x, p=p: x.norm(p, dim=-1)) for p in P_VALUES},
    "norm_all": lambda x: mg.norm(x),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_same_on_every_device_as_on_cpu(device, name, create_graph):
    """Forward, gradient (array path, and recorded path under create_graph) and, with the
    recorded path, a Hessian-vector product, each compared with the CPU's."""
    fn = DEVICE_CASES[name]
    w = np.random.default_rng(0).standard_normal(fn(leaf(A)).shape)
    v = np.linspace(-1, 1, A.size).reshape(A.shape)
    results = []
    for dev in ("cpu", device):
        x = leaf(A, dev)
        y = fn(x)
        # Σ w y² rather than Σ w y: its gradient depends on x even where y is linear in x.
        (g,) = mg.grad((y * y * mg.tensor(w, device=dev)).sum(), x, create_graph=create_graph)
        hv = host(mg.grad((g * mg.tensor(v, device=dev)).sum(), x)[0]) if create_graph else None
        results.append((host(y), host(g.detach()), hv))
    (y0, g0, hv0), (y1, g1, hv1) = results
    assert np.isfinite(g1).all()
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-12)
    if create_graph:
        np.testing.assert_allclose(hv1, hv0, rtol=1e-12, atol=1e-12)


# -- PyTorch as an oracle -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _both(a, torch):
    return (mg.tensor(a, dtype=mg.float64, requires_grad=True),
            torch.tensor(a, dtype=torch.float64, requires_grad=True))


def _compare_with_torch(torch, a, f_mg, f_torch, upstream, second_order=True):
    """Values, gradients for the upstream gradient, and (if asked) the derivative of
    ⟨gradient, v⟩, a Hessian-vector product, agree with PyTorch's."""
    x, t = _both(a, torch)
    y, yt = f_mg(x), f_torch(t)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    w = np.asarray(upstream).reshape(tuple(yt.shape))
    (g,) = mg.grad((y * mg.tensor(w, dtype=mg.float64)).sum(), x, create_graph=second_order)
    (gt,) = torch.autograd.grad((yt * torch.tensor(w)).sum(), t, create_graph=second_order)
    np.testing.assert_allclose(host(g.detach()), gt.detach().numpy(), rtol=1e-10, atol=1e-10)
    if second_order:
        v = np.linspace(-1, 2, a.size).reshape(a.shape)
        # (Where y is linear in x, e.g. p = 1, the gradient is constant and nothing recorded it.)
        h = host(mg.grad((g * mg.tensor(v)).sum(), x)[0]) if g.requires_grad else np.zeros(a.shape)
        ht = torch.autograd.grad((gt * torch.tensor(v)).sum(), t, allow_unused=True)[0] if gt.requires_grad else None
        np.testing.assert_allclose(h, np.zeros(a.shape) if ht is None else ht.numpy(force=True), rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@settings(max_examples=30)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_prod_matches_torch(torch, data, shape):
    a = data.draw(arrays(shape, WITH_ZEROS))
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keep = data.draw(st.booleans())
    if dim is None:  # torch.prod over everything takes no keepdim
        f_mg, f_torch = (lambda x: mg.prod(x)), (lambda t: t.prod())
    else:
        f_mg, f_torch = (lambda x: x.prod(dim, keep)), (lambda t: t.prod(dim, keep))
    out_shape = np.prod(a, axis=dim, keepdims=keep and dim is not None).shape
    _compare_with_torch(torch, a, f_mg, f_torch, data.draw(arrays(out_shape)))


@pytest.mark.torch
@pytest.mark.parametrize("a", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0], [[0.0, 1.5], [2.0, 0.0]]])
def test_prod_at_zeros_matches_torch(torch, a):
    a = np.asarray(a)
    upstream = np.linspace(1, 2, a.size // a.shape[-1])
    _compare_with_torch(torch, a, lambda x: mg.prod(x, -1), lambda t: t.prod(-1), upstream)
    _compare_with_torch(torch, a, lambda x: mg.prod(x), lambda t: t.prod(), [1.5])


@pytest.mark.torch
@settings(max_examples=30)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_cumsum_matches_torch(torch, data, shape):
    a = data.draw(arrays(shape, plain()))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    _compare_with_torch(torch, a, lambda x: mg.cumsum(x ** 2, dim), lambda t: torch.cumsum(t ** 2, dim),
                        data.draw(arrays(shape)))


@pytest.mark.torch
@pytest.mark.parametrize("p", P_VALUES)
@settings(max_examples=20)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_norm_matches_torch(torch, p, data, shape):
    """Zeros included (whole zero slices too): values and gradients match there as well; second
    derivatives are compared away from 0 (for p < 2 they are infinite there)."""
    a = data.draw(arrays(shape, WITH_ZEROS if data.draw(st.booleans()) else nonzero()))
    dim = data.draw(mst.axes(len(shape)))
    keep = data.draw(st.booleans())
    out_shape = _np_norm(a, p, dim, keep).shape
    _compare_with_torch(torch, a, lambda x: x.norm(p, dim, keep),
                        lambda t: torch.linalg.vector_norm(t, p, dim, keep), data.draw(arrays(out_shape)),
                        second_order=bool((a != 0).all()))
