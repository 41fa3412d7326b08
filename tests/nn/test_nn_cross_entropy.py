"""cross_entropy and nll_loss: class-index and class-probability targets, weights, ignore_index,
label smoothing, extra dims; values against NumPy formulas, gradcheck (and gradgradcheck through
the fused op), stability at extreme logits, PyTorch where importable."""
import itertools

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


def _log_softmax(x, axis=1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _ref_indices(x, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """Direct formula for (N, C) logits and (N,) indices."""
    n, c = x.shape
    logp = _log_softmax(x)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    wn = w[ts] * valid
    nll = -logp[np.arange(n), ts] * wn
    smooth = -(logp * w).sum(axis=1) * valid
    per = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / wn.sum()


def _ref_probs(x, q, weight=None, reduction="mean", eps=0.0):
    n, c = x.shape
    q = q * (1 - eps) + eps / c
    w = np.ones(c) if weight is None else weight
    per = -(_log_softmax(x) * q * w).sum(axis=1)
    return per if reduction == "none" else per.sum() if reduction == "sum" else per.sum() / n


OPTIONS = list(itertools.product(["mean", "sum", "none"], [False, True], [None, 1, -100], [0.0, 0.2]))


@pytest.mark.parametrize("reduction, weighted, ignore, eps", OPTIONS)
def test_indices_value_and_grad(reduction, weighted, ignore, eps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)) * 2
    t = rng.integers(0, 4, 6)
    t[[1, 4]] = 1
    if ignore == -100:
        t[2] = -100
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    kw = dict(weight=None if w is None else mg.tensor(w), ignore_index=-100 if ignore is None else ignore,
              reduction=reduction, label_smoothing=eps)
    out = F.cross_entropy(mg.tensor(x), mg.tensor(t), **kw)
    expect = _ref_indices(x, t, w, kw["ignore_index"], reduction, eps)
    np.testing.assert_allclose(host(out), expect, rtol=1e-10, atol=1e-12)
    xl = leaf(x)
    assert gradcheck(lambda a: F.cross_entropy(a, mg.tensor(t), **kw), [xl])
    assert gradgradcheck(lambda a: F.cross_entropy(a, mg.tensor(t), **kw), [xl])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_probability_targets(reduction, eps):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    q = rng.dirichlet(np.ones(3), size=5)
    w = rng.uniform(0.5, 2, 3)
    out = F.cross_entropy(mg.tensor(x), mg.tensor(q), weight=mg.tensor(w), reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(host(out), _ref_probs(x, q, w, reduction, eps), rtol=1e-10)
    xl, ql = leaf(x), leaf(q)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=eps), [xl, ql])
    assert gradgradcheck(lambda a, b: F.cross_entropy(a, b, reduction="sum"), [xl, ql])


def test_one_hot_probabilities_equal_indices():
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((7, 5)))
    t = mg.tensor(rng.integers(0, 5, 7))
    onehot = F.one_hot(t, 5).double()
    np.testing.assert_allclose(host(F.cross_entropy(x, onehot)), host(F.cross_entropy(x, t)), rtol=1e-12)
    np.testing.assert_allclose(host(F.cross_entropy(x, onehot, label_smoothing=0.1)),
                               host(F.cross_entropy(x, t, label_smoothing=0.1)), rtol=1e-12)


def test_extra_dims_and_unbatched():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 2))  # (N, C, d1, d2)
    t = rng.integers(0, 4, (2, 3, 2))
    flat_x = np.moveaxis(x, 1, -1).reshape(-1, 4)
    out = F.cross_entropy(mg.tensor(x), mg.tensor(t), reduction="none")
    assert out.shape == (2, 3, 2)
    np.testing.assert_allclose(host(out).ravel(), _ref_indices(flat_x, t.ravel(), reduction="none"), rtol=1e-10)
    np.testing.assert_allclose(host(F.cross_entropy(mg.tensor(x), mg.tensor(t))),
                               _ref_indices(flat_x, t.ravel()), rtol=1e-10)
    assert gradcheck(lambda a: F.cross_entropy(a, mg.tensor(t), label_smoothing=0.1), [leaf(x)])
    q = rng.dirichlet(np.ones(4), size=(2, 3, 2))
    qn = np.moveaxis(q, -1, 1)
    np.testing.assert_allclose(host(F.cross_entropy(mg.tensor(x), mg.tensor(qn))), _ref_probs(flat_x, q.reshape(-1, 4)),
                               rtol=1e-10)
    v = rng.standard_normal(5)  # unbatched (C,) with a scalar target
    out = F.cross_entropy(mg.tensor(v), mg.tensor(3), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(host(out), -_log_softmax(v[None])[0, 3], rtol=1e-12)


def test_all_targets_ignored_gives_nan_mean():
    x = mg.randn(3, 4, requires_grad=True)
    out = F.cross_entropy(x, mg.tensor([-100, -100, -100]))
    assert np.isnan(out.item())
    assert F.cross_entropy(x, mg.tensor([-100, -100, -100]), reduction="sum").item() == 0.0


def test_nll_loss_matches_cross_entropy_and_formula():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 5, 6)
    t[0] = 2
    w = rng.uniform(0.5, 2, 5)
    logp = mg.tensor(_log_softmax(x))
    for reduction in ("mean", "sum", "none"):
        kw = dict(weight=mg.tensor(w), ignore_index=2, reduction=reduction)
        a = F.nll_loss(logp, mg.tensor(t), **kw)
        b = F.cross_entropy(mg.tensor(x), mg.tensor(t), **kw)
        np.testing.assert_allclose(host(a), host(b), rtol=1e-10)
        np.testing.assert_allclose(host(a), _ref_indices(x, t, w, 2, reduction), rtol=1e-10)
    assert gradcheck(lambda a: F.nll_loss(a, mg.tensor(t), weight=mg.tensor(w)), [leaf(_log_softmax(x))])


def test_fused_gradient_equals_composed_one():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    t = rng.integers(0, 6, 8)
    a = mg.tensor(x, requires_grad=True)
    F.cross_entropy(a, mg.tensor(t)).backward()
    b = mg.tensor(x, requires_grad=True)
    F.nll_loss(mg.log_softmax(b, dim=1), mg.tensor(t)).backward()
    np.testing.assert_allclose(host(a.grad), host(b.grad), rtol=1e-5, atol=1e-7)
    assert a.grad.dtype == np.float32


def test_second_derivative_through_fused_op():
    # Hessian-vector product: d/dx <∇ℓ(x), v> equals the analytic (diag(p) - ppᵀ)v / N for mean reduction.
    rng = np.random.default_rng(6)
    x = leaf(rng.standard_normal((1, 4)))
    v = rng.standard_normal((1, 4))
    (g,) = mg.grad(F.cross_entropy(x, mg.tensor([2])), x, create_graph=True)
    (hv,) = mg.grad((g * mg.tensor(v)).sum(), x)
    p = np.exp(_log_softmax(host(x)))[0]
    expect = (np.diag(p) - np.outer(p, p)) @ v[0]
    np.testing.assert_allclose(host(hv)[0], expect, rtol=1e-10)


logit_values = st.sampled_from([1e4, -1e4, 1e3, -1e3, 0.0, 88.0, -104.0, 1e-30, 5.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_fuzz_extreme_logits_finite(dtype, data):
    n = data.draw(st.integers(1, 4))
    c = data.draw(st.integers(1, 5))
    x = data.draw(hnp.arrays(np.float64, (n, c), elements=logit_values))
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    eps = data.draw(st.sampled_from([0.0, 0.1]))
    for target in (mg.tensor(t), F.one_hot(mg.tensor(t), c).to(dtype)):
        a = mg.tensor(x, dtype=dtype, requires_grad=True)
        out = F.cross_entropy(a, target, label_smoothing=eps)
        assert finite(out), (x, t, host(out))
        out.backward()
        assert finite(a.grad) and a.grad.dtype == dtype
        # each row's gradient sums to zero (softmax minus a distribution)
        np.testing.assert_allclose(host(a.grad).sum(axis=1), 0.0, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_errors_are_clear():
    x = mg.randn(4, 3)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, mg.tensor([0, 1, 3, 2]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(x, mg.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match=r"class-index target of shape \(3,\).*expected target shape \(4,\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"class-probability target of shape \(4,\) must have the input's shape"):
        F.cross_entropy(x, mg.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, mg.rand(4, 3))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), weight=mg.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), reduction="batchmean")
    with pytest.raises(ValueError, match="ignore_index=1 needs class-index targets"):
        F.cross_entropy(x, mg.rand(4, 3), ignore_index=1)


def test_module_forms():
    rng = np.random.default_rng(7)
    x, t = mg.tensor(rng.standard_normal((5, 3))), mg.tensor(rng.integers(0, 3, 5))
    w = mg.tensor([1.0, 2.0, 0.5], dtype=mg.float64)
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    np.testing.assert_array_equal(host(ce(x, t)), host(F.cross_entropy(x, t, w, 1, "mean", 0.1)))
    assert list(ce.state_dict()) == ["weight"]
    nll = nn.NLLLoss(reduction="sum")
    logp = mg.log_softmax(x, dim=1)
    np.testing.assert_array_equal(host(nll(logp, t)), host(F.nll_loss(logp, t, reduction="sum")))
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_against_torch_all_options():
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    TF = torch.nn.functional
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 4, 2))
    t = rng.integers(0, 4, (6, 2))
    t[0, 0] = 3
    t[1, 1] = -100
    w = rng.uniform(0.5, 2, 4)
    q = np.moveaxis(rng.dirichlet(np.ones(4), size=(6, 2)), -1, 1)
    for reduction, weighted, eps, ignore in itertools.product(["mean", "sum", "none"], [False, True], [0.0, 0.25],
                                                              [-100, 3]):
        wm = mg.tensor(w) if weighted else None
        wt = torch.from_numpy(w) if weighted else None
        tt = t.copy()
        if ignore == 3:
            tt[tt == -100] = 0
        for target_np in (tt, q):
            a, at = leaf(x), to_torch(x, requires_grad=True)
            kw = dict(reduction=reduction, label_smoothing=eps, ignore_index=ignore if target_np is tt else -100)
            out = F.cross_entropy(a, mg.tensor(target_np), weight=wm, **kw)
            ref = TF.cross_entropy(at, torch.from_numpy(target_np), weight=wt, **kw)
            np.testing.assert_allclose(host(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
            out.sum().backward()
            ref.sum().backward()
            np.testing.assert_allclose(host(a.grad), at.grad.numpy(), rtol=1e-9, atol=1e-12)
        a, at = leaf(_log_softmax(x)), to_torch(_log_softmax(x), requires_grad=True)
        out = F.nll_loss(a, mg.tensor(tt), weight=wm, reduction=reduction, ignore_index=ignore)
        ref = TF.nll_loss(at, torch.from_numpy(tt), weight=wt, reduction=reduction, ignore_index=ignore)
        np.testing.assert_allclose(host(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_index_dtypes_give_the_same_loss_and_gradient():
    """The fast path checks and flattens the targets in one call; every integer dtype works alike,
    and an out-of-range target of any of them is named."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, 2, 3, 0])
    results = []
    for dt in (np.int64, np.int32, np.int16, np.uint8, np.uint16, np.uint64):
        a = mg.tensor(x, requires_grad=True)
        loss = F.cross_entropy(a, mg.tensor(t.astype(dt)))
        loss.backward()
        results.append((float(loss), a.grad.numpy().copy()))
        bad = t.astype(dt).copy()
        bad[2] = 4
        with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
            F.cross_entropy(mg.tensor(x), mg.tensor(bad))
    for value, grad in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])
