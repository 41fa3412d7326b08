"""PyTorch as an oracle: for a representative set of ops, forward values and gradients (for a
random upstream gradient) agree with PyTorch's in float64 to ~1e-10, including the conventions
at kinks and ties (abs/relu at 0, clamp bounds, maximum ties, amax ties) and the split/chunk/pad
argument conventions.  Skipped where torch is not installed."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import arrays, grid, host, nonzero, plain, positive, with_device

torch = pytest.importorskip("torch")
F = torch.nn.functional

# PyTorch warns where var/std have no degrees of freedom left; both sides give inf or nan there.
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")]
TOL = {"rtol": 1e-10, "atol": 1e-10}


class _Lib:
    """Functions looked up by name in the given modules, in order: one test body for both libraries."""

    def __init__(self, *modules):
        self.modules = modules

    def __getattr__(self, name):
        for m in self.modules:
            if hasattr(m, name):
                return getattr(m, name)
        raise AttributeError(name)


MG, TORCH = _Lib(mg), _Lib(torch, F)

SHAPE = mst.shapes(min_dims=1, max_dims=3, max_side=3)


def one(elements=None, shape=SHAPE):
    return lambda data: [data.draw(arrays(data.draw(shape), elements))]


def two(first=None, second=None):
    def draw(data):
        s1, s2 = data.draw(mst.broadcastable_shapes(2, min_dims=1, max_dims=3, max_side=3))
        return [data.draw(arrays(s1, first)), data.draw(arrays(s2, second))]
    return draw


def with_axis(elements=None, allow_none=True, allow_tuple=True):
    """One array plus a drawn axis (int, negative, tuple or None) and keepdim flag."""
    def draw(data):
        shape = data.draw(SHAPE)
        axis = data.draw(mst.axes(len(shape), allow_none=allow_none, allow_tuple=allow_tuple))
        return [data.draw(arrays(shape, elements))], {"axis": axis, "keep": data.draw(st.booleans())}
    return draw


# name -> (draw inputs [, options], fn(L, *tensors, **options))
CASES = {
    "add": (two(), lambda L, x, y: x + y),
    "sub_rsub": (two(), lambda L, x, y: x - y - (2.0 - x)),
    "mul_div": (two(None, nonzero()), lambda L, x, y: x * y / y / (y * y)),
    "rdiv": (one(nonzero()), lambda L, x: 3.0 / x),
    "pow_tensor": (two(positive(), plain(-2, 2)), lambda L, x, y: x ** y),
    "pow_scalar": (one(positive()), lambda L, x: x ** 3 + x ** -1.5 + x ** 0.5),
    "rpow": (one(), lambda L, x: 2.5 ** x),
    "exp_log": (one(positive()), lambda L, x: L.exp(x) + L.log(x) + L.log1p(x) + L.sqrt(x)),
    "sin_cos": (one(), lambda L, x: L.sin(x) * L.cos(x)),
    "abs_at_zero": (one(grid(-4, 4, 0.5)), lambda L, x: L.abs(x) * 2.0),
    "clamp_on_bounds": (one(grid(-8, 8, 0.25)), lambda L, x: L.clamp(x, -1.0, 0.5)),
    "clamp_min_only": (one(grid(-8, 8, 0.25)), lambda L, x: L.clamp(x, min=0.25)),
    "clamp_tensor_bounds": (two(grid(-8, 8, 0.5), grid(-4, 4, 0.5)),
                            lambda L, x, y: L.clamp(x, min=y, max=y + 1.0) + L.clamp(x, max=y)),
    "maximum_ties": (two(grid(-2, 2, 1.0), grid(-2, 2, 1.0)), lambda L, x, y: L.maximum(x, y)),
    "minimum_ties": (two(grid(-2, 2, 1.0), grid(-2, 2, 1.0)), lambda L, x, y: L.minimum(x, y)),
    "where": (two(), lambda L, x, y: L.where(x > y, x * y, y - x)),
    "sigmoid_tanh": (one(plain(-8, 8)), lambda L, x: L.sigmoid(x) + L.tanh(x)),
    "relu_at_zero": (one(grid(-4, 4, 0.5)), lambda L, x: L.relu(x) * 1.5),
    "leaky_relu": (one(grid(-4, 4, 0.5)), lambda L, x: L.leaky_relu(x, negative_slope=0.2)),
    "elu": (one(grid(-8, 8, 0.5)), lambda L, x: L.elu(x, alpha=0.7)),
    "gelu": (one(plain(-5, 5)), lambda L, x: L.gelu(x)),
    "gelu_tanh": (one(plain(-5, 5)), lambda L, x: L.gelu(x, approximate="tanh")),
    "softplus": (one(plain(-30, 30)), lambda L, x: L.softplus(x, beta=2.0, threshold=10.0)),
    "softmax": (with_axis(plain(-10, 10), False, False), lambda L, x, axis, keep: L.softmax(x, axis)),
    "log_softmax": (with_axis(plain(-10, 10), False, False), lambda L, x, axis, keep: L.log_softmax(x, axis)),
    "sum": (with_axis(), lambda L, x, axis, keep: x.sum(dim=axis, keepdim=keep)),
    "mean": (with_axis(), lambda L, x, axis, keep: x.mean(dim=axis, keepdim=keep)),
    "var_unbiased": (with_axis(grid(), allow_none=False, allow_tuple=False),
                     lambda L, x, axis, keep: x.var(dim=axis, unbiased=True, keepdim=keep)),
    "var_biased": (with_axis(grid()), lambda L, x, axis, keep: x.var(dim=axis, unbiased=False, keepdim=keep)),
    "std_correction": (with_axis(grid(), allow_none=False, allow_tuple=False),
                       lambda L, x, axis, keep: (x + 0.0).std(dim=axis, correction=0, keepdim=keep)),
    "amax_ties": (with_axis(grid(-2, 2, 1.0), allow_none=False),
                  lambda L, x, axis, keep: x.amax(axis, keep)),
    "amin_ties": (with_axis(grid(-2, 2, 1.0), allow_none=False),
                  lambda L, x, axis, keep: x.amin(axis, keep)),
    "logsumexp": (with_axis(plain(-20, 20), allow_none=False),
                  lambda L, x, axis, keep: L.logsumexp(x, axis, keep)),
}


def _leaves(arrays_, lib):
    if lib is MG:
        return [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays_]
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays_]


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _compare(fn, arrs, options, data):
    """Run ``fn`` in both libraries; compare outputs, then gradients for a drawn upstream gradient."""
    xs, ts = _leaves(arrs, MG), _leaves(arrs, TORCH)
    outs_mg = _as_tuple(fn(MG, *xs, **options))
    outs_t = _as_tuple(fn(TORCH, *ts, **options))
    assert len(outs_mg) == len(outs_t)
    for a, b in zip(outs_mg, outs_t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(host(a), b.detach().numpy(), **TOL)
    gs = [data.draw(arrays(tuple(o.shape), plain(-2, 2))) for o in outs_t]
    mg.autograd.backward(outs_mg, [mg.tensor(g, dtype=mg.float64) for g in gs])
    torch.autograd.backward(outs_t, [torch.tensor(g, dtype=torch.float64) for g in gs])
    for x, t in zip(xs, ts):
        want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else host(x.grad)
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=15)
@given(data=st.data())
def test_matches_torch(name, data):
    draw, fn = CASES[name]
    drawn = draw(data)
    arrs, options = drawn if isinstance(drawn, tuple) else (drawn, {})
    _compare(fn, arrs, options, data)


@st.composite
def matmul_pairs(draw):
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    bx, by = draw(mst.broadcastable_shapes(2, max_dims=2, max_side=2))
    sx = draw(st.sampled_from([(k,), (m, k), bx + (m, k)]))
    sy = draw(st.sampled_from([(k,), (k, n), by + (k, n)]))
    return sx, sy


@settings(max_examples=25)
@given(data=st.data(), shapes=matmul_pairs())
def test_matmul_matches_torch(data, shapes):
    arrs = [data.draw(arrays(s)) for s in shapes]
    _compare(lambda L, x, y: x @ y, arrs, {}, data)


# Shape ops: (shape strategy, fn); the fn spells the op the same way in both libraries.
SHAPE_CASES = {
    "reshape_permute": lambda L, x: x.reshape(-1).reshape(x.shape[::-1]).permute(*range(x.ndim - 1, -1, -1)),
    "transpose": lambda L, x: x.transpose(0, -1) * x.permute(*range(x.ndim - 1, -1, -1)),
    "mT": lambda L, x: x.mT * 2.0,
    "expand": lambda L, x: x.unsqueeze(0).expand(2, *x.shape) * 1.0,
    "squeeze": lambda L, x: x.unsqueeze(1).unsqueeze(-1).squeeze(-1),
    "flatten": lambda L, x: x.flatten(0, -1) * 1.0,
    "cat_stack": lambda L, x: L.cat([x, x * 2.0, L.stack([x, x], 0).sum(0)], -1),
    "split": lambda L, x: x.split(2, -1),
    "split_sizes": lambda L, x: x.split([1, x.shape[0] - 1], 0),
    "chunk": lambda L, x: x.chunk(3, 0),
    "chunk_4_of_6": lambda L, x: L.cat([x, x], 0).chunk(4, 0),
    "pad": lambda L, x: L.pad(x, (1, 2), value=-1.0),
    "pad_2d": lambda L, x: L.pad(x, (0, 1, 2, 0), value=0.5),
    "getitem_basic": lambda L, x: x[..., None, ::2][0] * 1.0 + x[-1, None, 1:].sum(),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
@settings(max_examples=10)
@given(data=st.data(), shape=mst.shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
def test_shape_ops_match_torch(name, data, shape):
    _compare(SHAPE_CASES[name], [data.draw(arrays(shape))], {}, data)


@settings(with_device, max_examples=15)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_advanced_indexing_matches_torch(device, data, shape):
    """Repeated integer indices accumulate; bool masks select; both as in PyTorch."""
    a = data.draw(arrays(shape))
    idx = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    mask = data.draw(mst.arrays(shape, bool, st.booleans()))
    x = mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    outs_mg = (x[mg.tensor(idx, device=device)], x[mg.tensor(mask, device=device)], x[idx, ...])
    outs_t = (t[torch.tensor(idx)], t[torch.tensor(mask)], t[idx, ...])
    gs = [data.draw(arrays(tuple(o.shape))) for o in outs_t]
    for o, w in zip(outs_mg, outs_t):
        np.testing.assert_allclose(host(o), w.detach().numpy(), **TOL)
    mg.autograd.backward(outs_mg, [mg.tensor(g, dtype=mg.float64, device=device) for g in gs])
    torch.autograd.backward(outs_t, [torch.tensor(g) for g in gs])
    np.testing.assert_allclose(host(x.grad), t.grad.numpy(), **TOL)


@settings(max_examples=20)
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_argmax_argmin_and_comparisons_match_torch(data, shape):
    a = data.draw(arrays(shape, grid(-2, 2, 1.0)))  # ties: the first index wins in both
    b = data.draw(arrays(shape, grid(-2, 2, 1.0)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x, y, t, u = mg.tensor(a), mg.tensor(b), torch.tensor(a), torch.tensor(b)
    for name in ("argmax", "argmin"):
        np.testing.assert_array_equal(host(getattr(x, name)(dim)), getattr(t, name)(dim).numpy())
        np.testing.assert_array_equal(host(getattr(x, name)()), getattr(t, name)().numpy())
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(host(getattr(x, name)(y)), getattr(t, name)(u).numpy())
    np.testing.assert_array_equal(host(mg.sign(x)), torch.sign(t).numpy())


SPECIAL = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, -1.0, 1.0, -1e300, 1e300, 0.5])

# Unary functions compared at NaN, ±inf, ±0 and huge values (forward and gradient).
SPECIAL_CASES = {
    "relu": lambda L, x: L.relu(x),
    "leaky_relu": lambda L, x: L.leaky_relu(x, 0.1),
    "elu": lambda L, x: L.elu(x),
    "gelu": lambda L, x: L.gelu(x),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "tanh": lambda L, x: L.tanh(x),
    "softplus": lambda L, x: L.softplus(x),
    "abs": lambda L, x: L.abs(x),
    "clamp": lambda L, x: L.clamp(x, -0.5, 0.5),
    "maximum_0": lambda L, x: L.maximum(x, L.zeros_like(x)),
    "minimum_0": lambda L, x: L.minimum(x, L.zeros_like(x)),
    "maximum_nan_other": lambda L, x: L.maximum(x * 0.0 + 0.25, x) + L.minimum(x, x * 0.0),
    "exp": lambda L, x: L.exp(x),
    "square": lambda L, x: x * x,
}


@pytest.mark.parametrize("name", sorted(SPECIAL_CASES))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_special_values_match_torch(name):
    """NaN, ±inf and ±0 inputs give PyTorch's values and gradients (e.g. relu passes the gradient
    through a NaN, as PyTorch's "0 where the output is <= 0" rule does)."""
    fn = SPECIAL_CASES[name]
    # PyTorch's own elu gradient at NaN depends on the tensor's length (NaN from its vectorized
    # kernel, the gradient from its scalar one), so there is no rule to match at NaN.
    values = SPECIAL[1:] if name == "elu" else SPECIAL
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y, yt = fn(MG, x), fn(TORCH, t)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), **TOL)
    g = np.linspace(-2, 2, len(values))
    y.backward(mg.tensor(g, dtype=mg.float64))
    yt.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(host(x.grad), t.grad.numpy(), **TOL)


_NINF = -np.inf
# name -> (fn(L, *tensors), arrays): losses and reductions at infinite, NaN and masked (-inf) inputs.
SPECIAL_MULTI = {
    "smooth_l1": (lambda L, x, y: L.smooth_l1_loss(x, y, reduction="none"),
                  [[np.inf, _NINF, 0.0, 1e300, np.nan, 0.5], [np.inf, 0.0, 0.0, -1e300, 1.0, 0.0]]),
    "huber": (lambda L, x, y: L.huber_loss(x, y, reduction="none", delta=0.5),
              [[np.inf, _NINF, 0.0, 1e300, np.nan, 0.25], [np.inf, 0.0, 0.0, -1e300, 1.0, 0.0]]),
    "mse": (lambda L, x, y: L.mse_loss(x, y, reduction="none"),
            [[np.inf, _NINF, 0.0, 1e300, np.nan], [np.inf, 0.0, 0.0, -1e300, 1.0]]),
    "l1": (lambda L, x, y: L.l1_loss(x, y, reduction="none"),
           [[np.inf, _NINF, 0.0, 1e300, np.nan], [np.inf, 0.0, 0.0, -1e300, 1.0]]),
    "bce_with_logits": (lambda L, z, y: L.binary_cross_entropy_with_logits(z, y.detach(), reduction="none"),
                        [[np.inf, _NINF, 1e4, -1e4, 0.0, np.nan], [1.0, 0.0, 0.0, 1.0, 0.5, 1.0]]),
    "softmax_masked": (lambda L, x: L.softmax(x, 1), [[[1.0, _NINF, 2.0], [_NINF, _NINF, 0.5]]]),
    "log_softmax_masked": (lambda L, x: L.log_softmax(x, 1), [[[1.0, _NINF, 2.0], [_NINF, _NINF, 0.5]]]),
    "logsumexp_masked": (lambda L, x: L.logsumexp(x, 1), [[[1.0, _NINF, 2.0], [_NINF, _NINF, _NINF]]]),
    "cross_entropy_masked": (lambda L, x: L.cross_entropy(x, L.tensor([0, 2, 1])),
                             [[[1.0, _NINF, 2.0], [_NINF, _NINF, 0.5], [np.inf, 1.0, 2.0]]]),
    "logsumexp_inf": (lambda L, x: L.logsumexp(x, 1), [[[np.inf, 1.0, 0.0], [np.inf, np.inf, 0.0], [1.0, 2.0, 3.0]]]),
    "pow_zero_base": (lambda L, x, y: x ** y, [[0.0, 0.0, 0.0, 2.0, 0.0, -1.0], [0.0, 1.0, 2.0, 0.0, -1.0, 0.5]]),
    "rpow_zero_base": (lambda L, x: 0.0 ** x + 2.0 ** x, [[0.0, 1.0, 2.0, -1.0]]),
    "max_nan": (lambda L, x: x.max() + x.min(), [[np.nan, 2.0, 1.0, np.nan]]),
    "max_inf_ties": (lambda L, x: x.max() + x.min(), [[np.inf, np.inf, 1.0, _NINF]]),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_MULTI))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_losses_and_reductions_at_special_values_match_torch(name):
    fn, arrs = SPECIAL_MULTI[name]
    xs, ts = _leaves([np.asarray(a, dtype=np.float64) for a in arrs], MG), \
        _leaves([np.asarray(a, dtype=np.float64) for a in arrs], TORCH)
    y, yt = fn(_Lib(mg, mg.nn.functional), *xs), fn(_Lib(F, torch), *ts)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), **TOL)
    y.sum().backward()
    yt.sum().backward()
    for x, t in zip(xs, ts):
        want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else host(x.grad)
        np.testing.assert_allclose(got, want, **TOL)
