"""``F.batch_norm`` over inputs of shape (N, C, *) with any number of trailing dims (2-D to 5-D):
statistics over every dim but C, in training and evaluation, with and without γ/β, against a
NumPy reference, gradcheck/gradgradcheck in float64, and PyTorch where it is installed."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.nn import functional as F

from nn_helpers import host, leaf, try_torch

SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)]


def _reference(x, mean, var, w, b, eps):
    """(x - mean) / √(var + eps) · w + b with (C,) vectors broadcast along dim 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_training_normalizes_over_every_dim_but_channels_and_updates_running_stats(shape, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    w, b = (rng.uniform(0.5, 2, 3), rng.standard_normal(3)) if affine else (None, None)
    rm, rv = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    tracked = mg.tensor(0)
    y = F.batch_norm(mg.tensor(x), rm, rv, None if w is None else mg.tensor(w), None if b is None else mg.tensor(b),
                     training=True, momentum=0.2, num_batches_tracked=tracked)
    axes = _axes(x)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(host(y), _reference(x, mean, var, w, b, 1e-5), rtol=1e-10, atol=1e-12)
    n = x.size // 3
    np.testing.assert_allclose(host(rm), 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.8 + 0.2 * var * n / (n - 1), rtol=1e-12)
    assert tracked.item() == 1
    # Each channel of the output has mean 0 and (biased) variance ≈ 1 before γ, β.
    plain = host(F.batch_norm(mg.tensor(x), None, None, training=True))
    np.testing.assert_allclose(plain.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(plain.var(axis=axes), var / (var + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_evaluation_uses_the_running_stats(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    w, b = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    y = F.batch_norm(mg.tensor(x), mg.tensor(rm), mg.tensor(rv), mg.tensor(w), mg.tensor(b), training=False)
    np.testing.assert_allclose(host(y), _reference(x, rm, rv, w, b, 1e-5), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(F.batch_norm(mg.tensor(x), mg.tensor(rm), mg.tensor(rv))),
                               _reference(x, rm, rv, None, None, 1e-5), rtol=1e-10, atol=1e-12)


def test_cumulative_average_over_4d_batches_when_momentum_is_none():
    rng = np.random.default_rng(2)
    rm, rv, tracked = mg.zeros(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64), mg.tensor(0)
    batches = [rng.standard_normal((3, 2, 2, 2)) for _ in range(3)]
    for x in batches:
        F.batch_norm(mg.tensor(x), rm, rv, training=True, momentum=None, num_batches_tracked=tracked)
    np.testing.assert_allclose(host(rm), np.mean([x.mean(axis=(0, 2, 3)) for x in batches], axis=0), rtol=1e-10)
    n = 3 * 2 * 2
    np.testing.assert_allclose(host(rv), np.mean([x.var(axis=(0, 2, 3)) * n / (n - 1) for x in batches], axis=0),
                               rtol=1e-10)


# (N, C, *): up to 3 trailing dims, few elements (gradgradcheck builds a Hessian).
ND_SHAPES = st.tuples(st.integers(1, 3), st.integers(1, 2), st.lists(st.integers(1, 3), max_size=3)).map(
    lambda t: (t[0], t[1]) + tuple(t[2])).filter(lambda s: int(np.prod(s)) // s[1] >= 2 and np.prod(s) <= 36)


@settings(max_examples=15, deadline=None)
@given(shape=ND_SHAPES, affine=st.booleans(), seed=st.integers(0, 2**16))
def test_training_gradcheck_and_gradgradcheck(shape, affine, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = leaf(rng.standard_normal(shape))
    if affine:
        w, b = leaf(rng.uniform(0.5, 1.5, c)), leaf(rng.standard_normal(c))
        fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
        inputs = [x, w, b]
    else:
        fn = lambda x: F.batch_norm(x, None, None, training=True)  # noqa: E731
        inputs = [x]
    assert gradcheck(fn, inputs, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, inputs, atol=1e-5, rtol=1e-3)


@settings(max_examples=15, deadline=None)
@given(shape=ND_SHAPES, seed=st.integers(0, 2**16))
def test_evaluation_gradcheck_and_gradgradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    rm, rv = mg.tensor(rng.standard_normal(c)), mg.tensor(rng.uniform(0.5, 2, c))
    inputs = [leaf(rng.standard_normal(shape)), leaf(rng.uniform(0.5, 1.5, c)), leaf(rng.standard_normal(c))]
    fn = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False)  # noqa: E731
    assert gradcheck(fn, inputs, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, inputs, atol=1e-5, rtol=1e-3)


def test_errors_name_the_shapes():
    with pytest.raises(mg.ShapeError, match=r"batch_norm: expected an input of shape \(N, C, \*\).*\(3,\)"):
        F.batch_norm(mg.zeros(3), None, None, training=True)
    with pytest.raises(mg.ShapeError, match=r"weight has shape \(3,\) but the input \(shape \(2, 2, 4, 4\)\) has 2"):
        F.batch_norm(mg.zeros(2, 2, 4, 4), None, None, weight=mg.ones(3), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mg.zeros(1, 2, 1, 1), None, None, training=True)
    F.batch_norm(mg.zeros(1, 2, 2, 1), None, None, training=True)  # one sample, two values per channel: fine


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_matches_torch_training_then_evaluation(shape, affine):
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    rng = np.random.default_rng(5)
    w0, b0 = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    mine = {"rm": mg.zeros(3, dtype=mg.float64), "rv": mg.ones(3, dtype=mg.float64), "n": mg.tensor(0)}
    theirs = {"rm": torch.zeros(3, dtype=torch.float64), "rv": torch.ones(3, dtype=torch.float64)}
    for step in range(3):
        x = rng.standard_normal(shape) * 2 + 0.5
        xm, xt = leaf(x), torch.tensor(x, requires_grad=True)
        wm, bm = (leaf(w0), leaf(b0)) if affine else (None, None)
        wt = torch.tensor(w0, requires_grad=True) if affine else None
        bt = torch.tensor(b0, requires_grad=True) if affine else None
        y = F.batch_norm(xm, mine["rm"], mine["rv"], wm, bm, training=True, momentum=0.3,
                         num_batches_tracked=mine["n"])
        yt = torch.nn.functional.batch_norm(xt, theirs["rm"], theirs["rv"], wt, bt, training=True, momentum=0.3)
        np.testing.assert_allclose(host(y), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        y.backward(mg.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(host(xm.grad), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
        if affine:
            np.testing.assert_allclose(host(wm.grad), wt.grad.numpy(), rtol=1e-9, atol=1e-11)
            np.testing.assert_allclose(host(bm.grad), bt.grad.numpy(), rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(host(mine["rm"]), theirs["rm"].numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(host(mine["rv"]), theirs["rv"].numpy(), rtol=1e-12, atol=1e-14)
    x = rng.standard_normal(shape)
    w, b = (mg.tensor(w0), mg.tensor(b0)) if affine else (None, None)
    wt, bt = (torch.tensor(w0), torch.tensor(b0)) if affine else (None, None)
    y = F.batch_norm(mg.tensor(x), mine["rm"], mine["rv"], w, b, training=False)
    yt = torch.nn.functional.batch_norm(torch.tensor(x), theirs["rm"], theirs["rv"], wt, bt, training=False)
    np.testing.assert_allclose(host(y), yt.numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm1d_still_takes_2d_and_3d_only():
    bn = mg.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input of shape \(N, 3\).*\(2, 3, 4, 4\)"):
        bn(mg.randn(2, 3, 4, 4))
