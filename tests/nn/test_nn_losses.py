"""Regression, binary and divergence losses: values against direct NumPy formulas, gradients by
gradcheck, finite values and gradients at extreme inputs (hypothesis), PyTorch where importable."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import nn
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.nn import functional as F

from nn_helpers import finite, host, leaf, to_torch, try_torch

REDUCTIONS = ["mean", "sum", "none"]


def _reduce(a, reduction):
    return a.mean() if reduction == "mean" else a.sum() if reduction == "sum" else a


def _clog(a):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(a), -100.0)


def _softplus(z):
    return np.logaddexp(0.0, z)


# name -> (functional call, NumPy element-wise reference, input sampler, target sampler, smooth?)
def _x(rng, shape):
    return rng.standard_normal(shape) * 2


def _prob(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _away(rng, shape):
    """Inputs whose difference from the target stays off the kinks (|d| not near 0 or 1)."""
    d = rng.uniform(0.2, 0.8, shape) * rng.choice([-1, 1], shape) + rng.choice([0.0, 1.5, -1.5], shape)
    return d


LOSSES = {
    "mse": (lambda x, y, r: F.mse_loss(x, y, r), lambda x, y: (x - y) ** 2, _x, _x, True),
    "l1": (lambda x, y, r: F.l1_loss(x, y, r), lambda x, y: np.abs(x - y), _away, lambda rng, s: np.zeros(s), False),
    "smooth_l1": (lambda x, y, r: F.smooth_l1_loss(x, y, r, beta=1.0),
                  lambda x, y: np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2, np.abs(x - y) - 0.5), _away,
                  lambda rng, s: np.zeros(s), False),
    "smooth_l1_b05": (lambda x, y, r: F.smooth_l1_loss(x, y, r, beta=0.5),
                      lambda x, y: np.where(np.abs(x - y) < 0.5, (x - y) ** 2, np.abs(x - y) - 0.25), _away,
                      lambda rng, s: np.zeros(s), False),
    "huber_d2": (lambda x, y, r: F.huber_loss(x, y, r, delta=2.0),
                 lambda x, y: np.where(np.abs(x - y) < 2, 0.5 * (x - y) ** 2, 2 * (np.abs(x - y) - 1)),
                 lambda rng, s: _away(rng, s) * 2, lambda rng, s: np.zeros(s), False),
    "bce": (lambda x, y, r: F.binary_cross_entropy(x, y, reduction=r),
            lambda x, y: -(y * _clog(x) + (1 - y) * _clog(1 - x)), _prob, _prob, True),
    "bce_logits": (lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                   lambda x, y: (1 - y) * x + _softplus(-x), _x, _prob, True),
    "kl_div": (lambda x, y, r: F.kl_div(x, y, reduction=r),
               lambda x, y: np.where(y > 0, y * (np.log(np.where(y > 0, y, 1)) - x), 0.0),
               lambda rng, s: np.log(_prob(rng, s)), lambda rng, s: _prob(rng, s) * (rng.random(s) > 0.3), True),
    "kl_div_log_target": (lambda x, y, r: F.kl_div(x, y, reduction=r, log_target=True),
                          lambda x, y: np.exp(y) * (y - x), lambda rng, s: np.log(_prob(rng, s)),
                          lambda rng, s: np.log(_prob(rng, s)), True),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_value_against_numpy(name, reduction, device):
    fn, ref, sx, sy, _ = LOSSES[name]
    rng = np.random.default_rng(0)
    x, y = sx(rng, (4, 3)), sy(rng, (4, 3))
    out = fn(mg.tensor(x, device=device), mg.tensor(y, device=device), reduction)
    assert out.device == device and out.dtype == np.float64
    np.testing.assert_allclose(host(out), _reduce(ref(x, y), reduction), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradcheck(name):
    fn, _, sx, sy, smooth = LOSSES[name]
    rng = np.random.default_rng(1)
    x, y = leaf(sx(rng, (3, 2))), leaf(sy(rng, (3, 2)))
    if name == "kl_div":  # y log y has an infinite slope at y = 0: differentiate where y > 0
        y = leaf(_prob(rng, (3, 2)))
    for reduction in REDUCTIONS:
        assert gradcheck(lambda x, y: fn(x, y, reduction), [x, y])
    if smooth:
        assert gradgradcheck(lambda x, y: fn(x, y, "sum"), [x, y])


def test_bce_with_weights_and_pos_weight():
    rng = np.random.default_rng(2)
    x, y, w = rng.uniform(0.1, 0.9, (5, 3)), rng.uniform(0, 1, (5, 3)), rng.uniform(0.5, 2, 3)
    out = F.binary_cross_entropy(mg.tensor(x), mg.tensor(y), weight=mg.tensor(w), reduction="sum")
    np.testing.assert_allclose(host(out), (-(y * np.log(x) + (1 - y) * np.log(1 - x)) * w).sum(), rtol=1e-12)
    z, pw = rng.standard_normal((5, 3)) * 3, rng.uniform(0.5, 3, 3)
    out = F.binary_cross_entropy_with_logits(mg.tensor(z), mg.tensor(y), weight=mg.tensor(w), pos_weight=mg.tensor(pw),
                                             reduction="none")
    sig = 1 / (1 + np.exp(-z))
    expect = -w * (pw * y * np.log(sig) + (1 - y) * np.log(1 - sig))
    np.testing.assert_allclose(host(out), expect, rtol=1e-9)
    zt, yt, wt, pwt = leaf(z), leaf(y), leaf(w), leaf(pw)
    assert gradcheck(lambda z, y, w, p: F.binary_cross_entropy_with_logits(z, y, w, "sum", p), [zt, yt, wt, pwt])


def test_bce_at_exact_zero_and_one_is_finite_like_pytorch():
    x = mg.tensor([0.0, 1.0, 0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0], dtype=mg.float64)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(host(loss), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert finite(x.grad)
    np.testing.assert_allclose(host(x.grad), [-1e12, 1e12, 0.0, 0.0])


def test_bce_with_logits_at_huge_logits():
    z = mg.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0, 0.5])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(host(loss), [0.0, 0.0, 1e4, 1e4, math.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(host(z.grad), [0.0, 0.0, 1.0, -1.0, 0.0], atol=1e-7)


NAN = float("nan")


def test_bce_refuses_nan_and_values_outside_0_1():
    """A NaN probability used to be clamped into a finite loss (100) while its gradient was NaN."""
    ok = mg.tensor([0.25, 0.5])
    for x, y, name, got in [([NAN, 0.5], [1.0, 1.0], "input", "1 NaN value"),
                            ([1.5, 0.5], [1.0, 1.0], "input", "values from 0.5 to 1.5"),
                            ([-0.1, 0.5], [1.0, 1.0], "input", "values from -0.1"),
                            ([0.25, 0.5], [1.5, 0.0], "target", "values from 0.0 to 1.5"),
                            ([0.25, 0.5], [-0.5, 1.0], "target", "values from -0.5"),
                            ([0.25, 0.5], [NAN, NAN], "target", "2 NaN values")]:
        with pytest.raises(ValueError, match=rf"all elements of {name} must lie in \[0, 1\].*{got}"):
            F.binary_cross_entropy(mg.tensor(x), mg.tensor(y))
    with pytest.raises(ValueError, match="NaN"):
        F.binary_cross_entropy(mg.tensor([float("inf"), NAN]), ok)
    with pytest.raises(ValueError, match="rho_hat.*NaN"):
        F.kl_sparsity(0.05, mg.tensor([0.1, NAN]))
    # the element-wise function itself lets NaN through, in value and gradient
    from minigrad.nn.functional.binary import BinaryCrossEntropy

    x = mg.tensor([NAN, 0.5], requires_grad=True)
    out = BinaryCrossEntropy.apply(x, mg.tensor([1.0, 1.0]))
    assert math.isnan(host(out)[0]) and host(out)[1] == pytest.approx(math.log(2))
    out.sum().backward()
    assert math.isnan(host(x.grad)[0]) and np.isfinite(host(x.grad)[1])


def test_bce_refusals_match_pytorch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for x, y in [([NAN], [1.0]), ([1.5], [1.0]), ([-1e-3], [0.0]), ([0.3], [1.5]), ([0.3], [-0.5]), ([0.3], [NAN]),
                 ([0.0], [NAN])]:
        with pytest.raises(RuntimeError, match="should be between 0 and 1"):
            TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y))
        with pytest.raises(ValueError, match="must lie in"):
            F.binary_cross_entropy(mg.tensor(x), mg.tensor(y))
    for x, y in [([0.0, 1.0, 0.3, 1.0], [1.0, 0.0, 0.0, 1.0])]:  # the edges are allowed (log clamped at -100)
        np.testing.assert_allclose(host(F.binary_cross_entropy(mg.tensor(x), mg.tensor(y), reduction="none")),
                                   TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none"),
                                   rtol=1e-6)


# (logit, target) -> (loss, d loss / d logit), PyTorch 2.13's values
LOGIT_EDGES = [((NAN, 1.0), (NAN, NAN)), ((0.3, NAN), (NAN, NAN)), ((NAN, 0.0), (NAN, NAN)),
               ((0.3, 1.5), (0.40435519, -0.92555746)), ((math.inf, 1.0), (NAN, 0.0)),
               ((-math.inf, 1.0), (NAN, -1.0)), ((math.inf, 0.0), (math.inf, 1.0)), ((-math.inf, 0.0), (NAN, 0.0))]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's "invalid value" on inf - inf
@pytest.mark.parametrize("xy, expect", LOGIT_EDGES)
def test_bce_with_logits_lets_nan_through_like_pytorch(xy, expect):
    x = mg.tensor([xy[0]], dtype=mg.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, mg.tensor([xy[1]], dtype=mg.float64))
    loss.backward()
    np.testing.assert_allclose([host(loss).item(), host(x.grad).item()], expect, rtol=1e-6)
    torch = try_torch()
    if torch is not None:
        xt = torch.tensor([xy[0]], dtype=torch.float64, requires_grad=True)
        lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.tensor([xy[1]], dtype=torch.float64))
        lt.backward()
        np.testing.assert_allclose([lt.item(), xt.grad.item()], expect, rtol=1e-6)


inner = st.floats(0.02, 0.98)


@given(data=st.data())
def test_bce_gradcheck_property(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    x = leaf(data.draw(hnp.arrays(np.float64, shape, elements=inner)))
    y = leaf(data.draw(hnp.arrays(np.float64, shape, elements=inner)))
    w = leaf(data.draw(hnp.arrays(np.float64, shape[-1:], elements=st.floats(0.5, 2.0))))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    assert gradcheck(lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction), [x, y, w])
    z = leaf(data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-20, 20))))
    assert gradcheck(lambda z, y, w: F.binary_cross_entropy_with_logits(z, y, w, reduction), [z, y, w])


extreme_logits = st.sampled_from([1e4, -1e4, 1e3, -1e3, 88.0, -88.0, 0.0, 1e-30, 30.0, -30.0])
unit = st.sampled_from([0.0, 1.0, 1e-12, 1 - 1e-7, 0.5, 1e-30])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_fuzz_extremes_give_finite_values_and_grads(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    logits = data.draw(hnp.arrays(np.float64, shape, elements=extreme_logits))
    probs = data.draw(hnp.arrays(np.float64, shape, elements=unit))
    target = data.draw(hnp.arrays(np.float64, shape, elements=unit))
    big = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1e4, -1e4, 0.0, 3.0])))
    cases = [
        (F.binary_cross_entropy, probs, target),
        (F.binary_cross_entropy_with_logits, logits, target),
        (F.mse_loss, big, target), (F.l1_loss, big, target), (F.smooth_l1_loss, big, target),
        (F.huber_loss, big, target),
        (lambda x, y: F.kl_div(x, y, reduction="batchmean"), -np.abs(logits), target),
        (lambda x, y: F.kl_sparsity(0.05, x), probs, None),
    ]
    for fn, xin, yin in cases:
        x = mg.tensor(xin, dtype=dtype, requires_grad=True)
        out = fn(x, mg.tensor(yin, dtype=dtype)) if yin is not None else fn(x, None)
        assert finite(out), (fn, xin, yin, host(out))
        out.backward()
        assert finite(x.grad), (fn, xin, yin, host(x.grad))
        assert x.grad.dtype == dtype


def test_kl_sparsity_formula_and_grads():
    rho_hat = np.array([0.01, 0.05, 0.3, 0.9])
    rho = 0.05
    expect = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    out = F.kl_sparsity(rho, mg.tensor(rho_hat), reduction="none")
    np.testing.assert_allclose(host(out), expect, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(host(F.kl_sparsity(rho, mg.tensor(rho_hat))), expect.sum(), rtol=1e-9)
    assert host(F.kl_sparsity(rho, mg.tensor([rho], dtype=mg.float64))).item() == pytest.approx(0.0, abs=1e-15)
    x = leaf(rho_hat)
    assert gradcheck(lambda x: F.kl_sparsity(rho, x), [x])
    assert gradgradcheck(lambda x: F.kl_sparsity(rho, x), [x])
    # rho at 0 or 1 uses 0·log 0 = 0
    np.testing.assert_allclose(host(F.kl_sparsity(0.0, mg.tensor(rho_hat))), -np.log(1 - rho_hat).sum(), rtol=1e-9)
    with pytest.raises(ValueError, match="rho must lie in"):
        F.kl_sparsity(1.5, mg.tensor(rho_hat))


def test_kl_div_batchmean():
    rng = np.random.default_rng(3)
    q = rng.dirichlet(np.ones(4), size=3)
    p = rng.dirichlet(np.ones(4), size=3)
    out = F.kl_div(mg.tensor(np.log(q)), mg.tensor(p), reduction="batchmean")
    np.testing.assert_allclose(host(out), (p * np.log(p / q)).sum() / 3, rtol=1e-12)


def test_mse_is_gaussian_negative_log_likelihood():
    # ½Σ(x - y)² = -log Π N(y | x, 1) - (n/2) log 2π
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(10), rng.standard_normal(10)
    nll = -(-0.5 * np.log(2 * np.pi) - 0.5 * (y - x) ** 2).sum()
    half_sse = 0.5 * host(F.mse_loss(mg.tensor(x), mg.tensor(y), reduction="sum"))
    np.testing.assert_allclose(half_sse, nll - 5 * np.log(2 * np.pi), rtol=1e-12)


def test_errors_are_clear():
    x = mg.randn(3, 2)
    with pytest.raises(ValueError, match=r"target shape \(3,\) differs from input shape \(3, 2\)"):
        F.mse_loss(x, mg.randn(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(x, mg.rand(3, 2))
    with pytest.raises(TypeError, match="floating point"):
        F.mse_loss(mg.tensor([1, 2]), mg.tensor([1, 2]))
    with pytest.raises(ValueError, match="beta must be non-negative"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.binary_cross_entropy_with_logits(x, x, weight=mg.ones(3))


def test_targets_are_cast_and_plain_values_accepted():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    out = F.mse_loss(x, [0, 0])
    assert out.item() == pytest.approx(2.5)
    out.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("module, fn", [
    (nn.MSELoss(), F.mse_loss), (nn.L1Loss(reduction="sum"), lambda x, y: F.l1_loss(x, y, "sum")),
    (nn.SmoothL1Loss(beta=0.5), lambda x, y: F.smooth_l1_loss(x, y, beta=0.5)),
    (nn.HuberLoss(delta=0.5), lambda x, y: F.huber_loss(x, y, delta=0.5)),
    (nn.KLDivLoss(reduction="batchmean"), lambda x, y: F.kl_div(x, y, "batchmean")),
])
def test_regression_modules_match_functional(module, fn):
    rng = np.random.default_rng(5)
    x, y = mg.tensor(rng.standard_normal((4, 3))), mg.tensor(rng.uniform(0, 1, (4, 3)))
    np.testing.assert_array_equal(host(module(x, y)), host(fn(x, y)))


def test_weighted_loss_modules_keep_weight_as_buffer():
    w = mg.tensor([1.0, 2.0, 3.0])
    bce = nn.BCELoss(weight=w)
    assert list(bce.state_dict()) == ["weight"] and bce.weight is w
    assert list(nn.BCELoss().state_dict()) == []
    x, y = mg.rand(4, 3) * 0.8 + 0.1, mg.rand(4, 3)
    np.testing.assert_array_equal(host(bce(x, y)), host(F.binary_cross_entropy(x, y, w)))
    logit = nn.BCEWithLogitsLoss(pos_weight=mg.tensor([2.0, 1.0, 0.5]))
    assert list(logit.state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")
    nn.KLDivLoss(reduction="batchmean")


@pytest.mark.filterwarnings("ignore:reduction")  # torch's note on kl_div's 'mean'
def test_against_torch():
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    TF = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4))
    y = rng.uniform(0, 1, (5, 4))
    p = rng.uniform(0.02, 0.98, (5, 4))
    w = rng.uniform(0.5, 2.0, 4)
    pairs = [
        (lambda a, b, r: F.mse_loss(a, b, r), lambda a, b, r: TF.mse_loss(a, b, reduction=r), x, y),
        (lambda a, b, r: F.l1_loss(a, b, r), lambda a, b, r: TF.l1_loss(a, b, reduction=r), x, y),
        (lambda a, b, r: F.smooth_l1_loss(a, b, r, 0.7), lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.7),
         x, y),
        (lambda a, b, r: F.huber_loss(a, b, r, 0.7), lambda a, b, r: TF.huber_loss(a, b, reduction=r, delta=0.7), x, y),
        (lambda a, b, r: F.binary_cross_entropy(a, b, mg.tensor(w), r),
         lambda a, b, r: TF.binary_cross_entropy(a, b, torch.from_numpy(w), reduction=r), p, y),
        (lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, None, r, mg.tensor(w)),
         lambda a, b, r: TF.binary_cross_entropy_with_logits(a, b, reduction=r, pos_weight=torch.from_numpy(w)), x, y),
        (lambda a, b, r: F.kl_div(a, b, r), lambda a, b, r: TF.kl_div(a, b, reduction=r), np.log(p), y),
    ]
    for ours, theirs, a, b in pairs:
        for r in REDUCTIONS:
            xa, xt = leaf(a), to_torch(a, requires_grad=True)
            ya, yt = leaf(b), to_torch(b, requires_grad=True)
            out, ref = ours(xa, ya, r), theirs(xt, yt, r)
            np.testing.assert_allclose(host(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
            out.sum().backward()
            ref.sum().backward()
            np.testing.assert_allclose(host(xa.grad), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(host(ya.grad), yt.grad.numpy(), rtol=1e-9, atol=1e-12)
    # exact 0 and 1 probabilities: the same clamped values as PyTorch
    edge = np.array([0.0, 1.0, 0.3])
    tgt = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(host(F.binary_cross_entropy(mg.tensor(edge), mg.tensor(tgt), reduction="none")),
                               TF.binary_cross_entropy(torch.from_numpy(edge), torch.from_numpy(tgt),
                                                       reduction="none").numpy(), rtol=1e-12)
