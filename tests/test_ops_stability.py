"""Numerical stability: float32 inputs as large as ±1e4 (alone and mixed with ordinary values)
give finite values and finite gradients that match the mathematical limits (references are
evaluated in float64 by stable formulas).  Any overflow warning from NumPy fails the test."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import as_computed_on, host, with_device
from _special import special

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EXTREMES = [-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4]
values = st.one_of(st.sampled_from(EXTREMES), st.floats(-1e4, 1e4, width=32))


def f32(shape):
    return mst.arrays(shape, np.float32, values)


def _phi(a):
    return np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)


def _gelu_tanh_parts(a):
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (a + 0.044715 * a ** 3))
    grad = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a)
    return 0.5 * a * (1 + t), grad


# name -> (op, (value, derivative) in float64 by stable formulas)
ACTIVATIONS = {
    "sigmoid": (mg.sigmoid, lambda a: (special.expit(a), special.expit(a) * special.expit(-a))),
    "tanh": (mg.tanh, lambda a: (np.tanh(a), 1 - np.tanh(a) ** 2)),
    "softplus": (mg.softplus, lambda a: (np.logaddexp(0, a), special.expit(a))),
    "softplus_beta": (lambda t: mg.softplus(t, beta=2.0, threshold=30.0),
                      lambda a: (np.where(2 * a > 30, a, np.logaddexp(0, 2 * a) / 2),
                                 np.where(2 * a > 30, 1.0, special.expit(2 * a)))),
    "gelu": (mg.gelu, lambda a: (0.5 * a * special.erfc(-a / math.sqrt(2)),
                                 0.5 * special.erfc(-a / math.sqrt(2)) + a * _phi(a))),
    "gelu_tanh": (lambda t: mg.gelu(t, approximate="tanh"), _gelu_tanh_parts),
    "elu": (mg.elu, lambda a: (np.where(a > 0, a, np.expm1(np.minimum(a, 0))), np.where(a > 0, 1.0, np.exp(
        np.minimum(a, 0))))),
    "relu": (mg.relu, lambda a: (np.maximum(a, 0), (a > 0) * 1.0)),
    "leaky_relu": (mg.leaky_relu, lambda a: (np.where(a > 0, a, 0.01 * a), np.where(a > 0, 1.0, 0.01))),
}


def _finite_f32(t):
    assert t.dtype == np.float32, t.dtype
    assert np.isfinite(host(t)).all(), host(t)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@with_device
@given(a=f32(mst.shapes(min_dims=1, max_dims=2)))
def test_activation_extremes_finite_and_correct(device, name, a):
    op, ref = ACTIVATIONS[name]
    x = mg.tensor(a, device=device, requires_grad=True)
    y = op(x)
    y.backward(mg.ones_like(y))
    _finite_f32(y)
    _finite_f32(x.grad)
    value, slope = ref(as_computed_on(device, a).astype(np.float64))
    np.testing.assert_allclose(host(y), value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(host(x.grad), slope, rtol=1e-4, atol=1e-5)


def test_activation_limits_at_1e4():
    x = mg.tensor(np.array([-1e4, 1e4], dtype=np.float32), requires_grad=True)
    expected = {
        mg.sigmoid: ([0.0, 1.0], [0.0, 0.0]),
        mg.tanh: ([-1.0, 1.0], [0.0, 0.0]),
        mg.softplus: ([0.0, 1e4], [0.0, 1.0]),
        mg.gelu: ([0.0, 1e4], [0.0, 1.0]),
        (lambda t: mg.gelu(t, approximate="tanh")): ([0.0, 1e4], [0.0, 1.0]),
        mg.elu: ([-1.0, 1e4], [0.0, 1.0]),
    }
    for op, (value, slope) in expected.items():
        x.grad = None
        y = op(x)
        y.sum().backward()
        np.testing.assert_allclose(host(y), value, atol=1e-6)
        np.testing.assert_allclose(host(x.grad), slope, atol=1e-6)


def _softmax64(a, axis):
    return special.softmax(a.astype(np.float64), axis=axis)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@with_device
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_softmax_extremes_finite_and_correct(device, name, data, shape):
    a = data.draw(f32(shape))
    axis = data.draw(mst.axes(len(shape), allow_none=False, allow_tuple=False))
    g = data.draw(mst.arrays(shape, np.float32, st.floats(-2, 2, width=32)))
    x = mg.tensor(a, device=device, requires_grad=True)
    y = getattr(mg, name)(x, axis)
    y.backward(mg.tensor(g, device=device))
    _finite_f32(y)
    _finite_f32(x.grad)
    p = _softmax64(a, axis)
    g64 = g.astype(np.float64)
    if name == "softmax":
        want, want_grad = p, p * (g64 - (g64 * p).sum(axis, keepdims=True))
        np.testing.assert_allclose(host(y), want, rtol=1e-5, atol=1e-6)
    else:
        want, want_grad = special.log_softmax(a.astype(np.float64), axis=axis), g64 - p * g64.sum(axis, keepdims=True)
        # Log-probabilities reach -2e4: relative float32 accuracy.
        np.testing.assert_allclose(host(y), want, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(host(x.grad), want_grad, rtol=1e-4, atol=1e-5)


def test_softmax_limits():
    x = mg.tensor(np.array([1e4, 0.0, -1e4], dtype=np.float32), requires_grad=True)
    np.testing.assert_allclose(host(mg.softmax(x, 0)), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(host(mg.log_softmax(x, 0)), [0.0, -1e4, -2e4])
    mg.log_softmax(x, 0)[0].backward()
    np.testing.assert_allclose(host(x.grad), [0.0, 0.0, 0.0], atol=1e-6)
    # Rows with -inf (a mask): those entries get probability 0 and gradient 0.
    m = mg.tensor(np.array([[0.0, -np.inf, 1e4], [-1e4, 2.0, -np.inf]], dtype=np.float32), requires_grad=True)
    p = mg.softmax(m, -1)
    np.testing.assert_allclose(host(p), [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    (p * mg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))).sum().backward()
    _finite_f32(m.grad)


@with_device
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=4))
def test_logsumexp_extremes_finite_and_correct(device, data, shape):
    a = data.draw(f32(shape))
    axis = data.draw(mst.axes(len(shape)))
    keep = data.draw(st.booleans())
    x = mg.tensor(a, device=device, requires_grad=True)
    y = mg.logsumexp(x, axis, keep)
    y.backward(mg.ones_like(y))
    _finite_f32(y)
    _finite_f32(x.grad)
    a64 = a.astype(np.float64)
    np.testing.assert_allclose(host(y), special.logsumexp(a64, axis=axis, keepdims=keep).reshape(y.shape),
                               rtol=1e-6, atol=1e-4)
    m = np.max(a64, axis=axis, keepdims=True)
    e = np.exp(a64 - m)
    np.testing.assert_allclose(host(x.grad), e / e.sum(axis=axis, keepdims=True), rtol=1e-4, atol=1e-6)


def test_logsumexp_limits():
    x = mg.tensor(np.array([1e4, 1e4, -1e4], dtype=np.float32), requires_grad=True)
    y = mg.logsumexp(x)
    np.testing.assert_allclose(host(y), 1e4 + math.log(2), rtol=1e-7)
    y.backward()
    np.testing.assert_allclose(host(x.grad), [0.5, 0.5, 0.0])


def test_float32_stays_float32_through_the_stable_paths():
    x = mg.tensor(np.array([[-1e4, 3.0], [1e4, -2.0]], dtype=np.float32), requires_grad=True)
    for fn in (mg.sigmoid, mg.softplus, mg.gelu, mg.elu, lambda t: mg.softmax(t, -1),
               lambda t: mg.log_softmax(t, 0), lambda t: mg.logsumexp(t, 1)):
        y = fn(x)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None
