"""Layers: Linear, Dropout, BatchNorm1d and the activation modules."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.testing import strategies as mst

from nn_helpers import host, leaf, to_torch, try_torch


# -- Linear -------------------------------------------------------------------------------
def test_linear_forward_matches_numpy_any_leading_dims(device):
    layer = nn.Linear(5, 3, device=device)
    w, b = host(layer.weight), host(layer.bias)
    for shape in [(5,), (4, 5), (2, 4, 5)]:
        x = mg.randn(*shape, device=device)
        y = layer(x)
        assert y.shape == shape[:-1] + (3,) and y.device == device
        np.testing.assert_allclose(host(y), host(x) @ w.T + b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_and_second_order(shape, bias):
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal(shape))
    w = leaf(rng.standard_normal((2, 4)))
    b = leaf(rng.standard_normal(2)) if bias else None
    inputs = [x, w] + ([b] if bias else [])
    fn = (lambda x, w, b: F.linear(x, w, b)) if bias else (lambda x, w: F.linear(x, w))
    assert gradcheck(fn, inputs)
    # the product rule makes d²/dx dw non-zero: create_graph must record the backward
    assert gradgradcheck(lambda x, w: F.linear(x, w).tanh(), [x, w])


@settings(max_examples=30, deadline=None)
@given(data=st.data(), lead=st.lists(st.integers(0, 3), max_size=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), bias=st.booleans())
def test_linear_gradients_hypothesis(data, lead, n_in, n_out, bias):
    """gradcheck and gradgradcheck (float64) over leading dims (none, size 1, empty), widths and
    values: the bias gradient is computed as 1ᵀdY, the weight's as dYᵀX over the flattened rows."""
    values = mst.floats(-3, 3)
    x = leaf(data.draw(mst.arrays(tuple(lead) + (n_in,), np.float64, values)))
    w = leaf(data.draw(mst.arrays((n_out, n_in), np.float64, values)))
    inputs = [x, w]
    if bias:
        inputs.append(leaf(data.draw(mst.arrays((n_out,), np.float64, values))))
    fn = (lambda x, w, b: F.linear(x, w, b).tanh()) if bias else (lambda x, w: F.linear(x, w).tanh())
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_linear_backward_skips_unneeded_inputs():
    layer = nn.Linear(3, 2)
    x = mg.randn(4, 3)  # no grad: only W and b get gradients
    layer(x).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(host(layer.weight.grad), np.ones((4, 2)).T @ host(x), rtol=1e-6)
    np.testing.assert_allclose(host(layer.bias.grad), [4.0, 4.0])


@pytest.mark.parametrize("shape", [(0, 3), (1, 3), (7, 3), (2, 5, 3), (2, 0, 3)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_linear_bias_gradient_is_the_sum_over_all_leading_dims(device, shape, dtype):
    # db = 1ᵀdY is computed as a matrix-vector product with a cached ones vector
    layer = nn.Linear(3, 4, device=device, dtype=dtype)
    x = mg.tensor(np.random.default_rng(1).standard_normal(shape), dtype=dtype, device=device)
    dy = np.random.default_rng(2).standard_normal(shape[:-1] + (4,)).astype(dtype)
    layer(x).backward(mg.tensor(dy, device=device))
    assert layer.bias.grad.dtype == dtype and layer.bias.grad.shape == (4,)
    want = dy.astype(np.float64).reshape(-1, 4).sum(axis=0)
    tol = 1e-2 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(host(layer.bias.grad).astype(np.float64), want, rtol=tol, atol=tol)


def test_cached_ones_is_cached_read_only_and_typed():
    from minigrad.devices import cached_ones

    for dtype in (np.float16, np.float32, np.float64):
        a = np.zeros((2, 2), dtype=dtype)
        ones = cached_ones((5,), a)
        assert ones.shape == (5,) and ones.dtype == dtype and not ones.flags.writeable
        assert (ones == 1).all() and cached_ones((5,), a) is ones
        assert cached_ones((5, 1), a).shape == (5, 1)


def test_linear_default_init_is_pytorch_bound():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        a = host(p)
        assert a.min() >= -bound and a.max() <= bound
        # U(-b, b) has variance b²/3: within 6 standard errors of the sample variance
        n = a.size
        se = math.sqrt(4 * bound ** 4 / (45 * n))
        assert abs(a.var() - bound ** 2 / 3) < 6 * se
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)


def test_linear_init_option_and_reproducibility():
    mg.manual_seed(3)
    a = nn.Linear(50, 40, init="xavier_normal", bias_init=nn.init.zeros_)
    mg.manual_seed(3)
    b = nn.Linear(50, 40, init=nn.init.xavier_normal_, bias_init="zeros")
    np.testing.assert_array_equal(host(a.weight), host(b.weight))
    assert not host(a.bias).any()
    big = nn.Linear(50, 40, init="large_normal")
    assert host(big.weight).std() > 0.8  # N(0, 1), far above 1/sqrt(50)
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.Linear(2, 2, init="nope")
    with pytest.raises(TypeError):
        nn.Linear(2, 2, init=3)


def test_linear_errors_name_shapes_dtypes():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"input of shape \(4, 5\).*weight of shape \(2, 3\)"):
        layer(mg.randn(4, 5))
    with pytest.raises(TypeError, match="float64.*float32"):
        layer(mg.randn(4, 3, dtype=mg.float64))
    with pytest.raises(ValueError, match="non-negative int"):
        nn.Linear(-1, 2)
    F = nn.functional
    w, b = layer.weight, layer.bias
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\), got \(1,\)"):
        F.linear(mg.randn(4, 3), w, mg.zeros(1))  # would broadcast silently in NumPy
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\), got \(1, 2\)"):
        F.linear(mg.randn(4, 3), w, mg.zeros(1, 2))
    with pytest.raises(TypeError, match="float64"):
        F.linear(mg.randn(4, 3), w, mg.zeros(2, dtype=mg.float64))
    with pytest.raises(TypeError, match="expected tensors.*ndarray"):
        F.linear(np.ones((4, 3), np.float32), w, b)
    with pytest.raises(ValueError, match="2-D weight"):
        F.linear(mg.randn(4, 3), mg.randn(2, 3, 3), None)
    with pytest.raises(ValueError, match=r"input of shape \(\)"):
        F.linear(mg.tensor(1.0), w, b)
    assert F.linear(mg.randn(3), w, b).shape == (2,)  # a 1-D input is one sample


def test_linear_matches_torch():
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    layer = nn.Linear(6, 4)
    ref = torch.nn.Linear(6, 4)
    ref.load_state_dict({k: to_torch(v) for k, v in layer.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 6)).astype(np.float32)
    y = layer(mg.tensor(x))
    yt = ref(torch.from_numpy(x))
    np.testing.assert_allclose(host(y), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(host(layer.weight.grad), ref.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(host(layer.bias.grad), ref.bias.grad.numpy(), rtol=1e-5, atol=1e-5)


# -- Dropout ------------------------------------------------------------------------------
def test_dropout_is_inverted_and_statistically_right(device):
    mg.manual_seed(0)
    p = 0.3
    x = mg.ones(200_000, device=device)
    y = host(nn.Dropout(p)(x))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    # kept fraction ~ Binomial(n, 1-p)/n: within 6 standard errors
    n = y.size
    assert abs(kept.mean() - (1 - p)) < 6 * math.sqrt(p * (1 - p) / n)
    # E[y] = x
    assert abs(y.mean() - 1.0) < 6 * math.sqrt(p / (1 - p) / n)


def test_dropout_eval_and_edge_probabilities():
    x = mg.randn(5, 5)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert F.dropout(x, 0.0) is x
    assert not host(F.dropout(x, 1.0)).any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    mg.manual_seed(1)
    x = mg.randn(1000, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = host(y) != 0
    np.testing.assert_allclose(host(x.grad)[mask], 1 / 0.6, rtol=1e-6)
    assert not host(x.grad)[~mask].any()


@settings(max_examples=max(10, settings.default.max_examples // 2), deadline=None)
@given(shape=mst.shapes(max_dims=3, max_side=4, min_side=0), p=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_dropout_gradcheck_and_second_derivatives(shape, p, seed):
    """Dropout's node (DropoutMask, y = x·m) by central differences in float64, first and second
    derivatives; the seed is set before each evaluation so every one draws the same mask."""
    x = mg.tensor(np.linspace(-2.0, 2.0, math.prod(shape)).reshape(shape), dtype=mg.float64, requires_grad=True)

    def fn(t):
        mg.manual_seed(seed)
        return F.dropout(t, p) * t  # (× t: a nonzero second derivative to check)

    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


def test_dropout_reproducible_with_manual_seed():
    x = mg.ones(100)
    mg.manual_seed(7)
    a = host(F.dropout(x, 0.5))
    mg.manual_seed(7)
    b = host(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)


# -- BatchNorm1d --------------------------------------------------------------------------
def _bn_reference(x, w, b, eps, axes):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    shape[1] = -1
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_train_forward_and_running_stats(shape):
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    with mg.no_grad():
        bn.weight.copy_(mg.tensor(rng.uniform(0.5, 2, 3)))
        bn.bias.copy_(mg.tensor(rng.standard_normal(3)))
    axes = (0,) if len(shape) == 2 else (0, 2)
    x = rng.standard_normal(shape) * 3 + 1
    y = bn(mg.tensor(x))
    np.testing.assert_allclose(host(y), _bn_reference(x, host(bn.weight), host(bn.bias), 1e-5, axes), rtol=1e-10)
    n = x.size // 3
    np.testing.assert_allclose(host(bn.running_mean), 0.2 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(host(bn.running_var), 0.8 + 0.2 * x.var(axis=axes) * n / (n - 1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    # eval uses the running statistics
    bn.eval()
    z = rng.standard_normal(shape)
    expect = (z - host(bn.running_mean).reshape([1, 3] + [1] * (len(shape) - 2))) / np.sqrt(
        host(bn.running_var).reshape([1, 3] + [1] * (len(shape) - 2)) + 1e-5)
    expect = expect * host(bn.weight).reshape(expect.shape[1:2] + (1,) * (len(shape) - 2)) + \
        host(bn.bias).reshape(expect.shape[1:2] + (1,) * (len(shape) - 2))
    np.testing.assert_allclose(host(bn(mg.tensor(z))), expect, rtol=1e-10)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((6, 2)) for _ in range(3)]
    for b in batches:
        bn(mg.tensor(b))
    np.testing.assert_allclose(host(bn.running_mean), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-10)


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_gradcheck_train_mode(shape, affine):
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal(shape))
    w = leaf(rng.uniform(0.5, 1.5, 2))
    b = leaf(rng.standard_normal(2))
    rm, rv = mg.zeros(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64)
    if affine:
        fn = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True)  # noqa: E731
        assert gradcheck(fn, [x, w, b])
    else:
        assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])
    assert gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True) * 1.5, [x])


def test_batchnorm_module_gradcheck_eval_and_track_false():
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm1d(2, track_running_stats=False).double()
    x = leaf(rng.standard_normal((4, 2)))
    assert gradcheck(lambda x: bn(x), [x])
    assert bn.running_mean is None and "running_mean" not in bn.state_dict()
    bn2 = nn.BatchNorm1d(2).double().eval()
    assert gradcheck(lambda x: bn2(x), [x])


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\).*got \(4, 2\)"):
        bn(mg.randn(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mg.randn(1, 3))
    bn.eval()(mg.randn(1, 3))  # fine in eval
    with pytest.raises(ValueError):
        nn.BatchNorm1d(0)


def test_batchnorm_matches_torch_over_steps():
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    bn = nn.BatchNorm1d(4, momentum=0.3)
    ref = torch.nn.BatchNorm1d(4, momentum=0.3)
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = rng.standard_normal((6, 4, 3)).astype(np.float32)
        xm = mg.tensor(x, requires_grad=True)
        xt = torch.from_numpy(x).requires_grad_()
        y, yt = bn(xm), ref(xt)
        np.testing.assert_allclose(host(y), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        (y * y * y).sum().backward()
        (yt * yt * yt).sum().backward()
        np.testing.assert_allclose(host(xm.grad), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(host(bn.state_dict()[k]), v.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(bn.weight.grad), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    bn.eval(), ref.eval()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(host(bn(mg.tensor(x))), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)


# -- activation modules -------------------------------------------------------------------
@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), mg.relu), (nn.LeakyReLU(0.2), lambda x: mg.leaky_relu(x, 0.2)), (nn.ELU(0.5), lambda x: mg.elu(x, 0.5)),
    (nn.GELU(), mg.gelu), (nn.GELU("tanh"), lambda x: mg.gelu(x, approximate="tanh")), (nn.Sigmoid(), mg.sigmoid),
    (nn.Tanh(), mg.tanh), (nn.Softplus(2.0, 10.0), lambda x: mg.softplus(x, 2.0, 10.0)),
    (nn.Softmax(dim=0), lambda x: mg.softmax(x, dim=0)), (nn.LogSoftmax(dim=1), lambda x: mg.log_softmax(x, dim=1)),
])
def test_activation_modules_match_functions(module, fn):
    x = mg.randn(4, 5)
    np.testing.assert_array_equal(host(module(x)), host(fn(x)))
    assert type(module).__name__ in repr(module)


def test_activation_module_reprs_and_errors():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
