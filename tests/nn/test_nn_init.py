"""Initializers: fans, gains, and the first two moments of large draws.

Each statistical bound is 6 standard errors of the sample statistic: the sample mean of n
draws has SE σ/√n; the sample variance has SE √((μ₄ - σ⁴)/n), with μ₄ = 3σ⁴ for a normal and
b⁴/5 for U(-b, b) (σ² = b²/3), so SE = σ²√(2/n) and b²·√(4/(45n)) respectively.  A correct
initializer fails such a bound with probability about 2e-9.
"""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

from nn_helpers import host

N_SIGMA = 6


def _check_normal(a, mean, std):
    n = a.size
    assert abs(a.mean() - mean) < N_SIGMA * std / math.sqrt(n)
    assert abs(a.var() - std ** 2) < N_SIGMA * std ** 2 * math.sqrt(2 / n)


def _check_uniform(a, lo, hi):
    n = a.size
    assert a.min() >= lo and a.max() <= hi
    half = (hi - lo) / 2
    var = half ** 2 / 3
    assert abs(a.mean() - (lo + hi) / 2) < N_SIGMA * math.sqrt(var / n)
    assert abs(a.var() - var) < N_SIGMA * half ** 2 * math.sqrt(4 / (45 * n))


def test_fans():
    assert init.calculate_fans(mg.empty(30, 20)) == (20, 30)
    assert init.calculate_fans(mg.empty(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.calculate_fans(mg.empty(5))


def test_gains():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)


SHAPE = (400, 300)  # fan_in 300, fan_out 400, 120000 draws


@pytest.mark.parametrize("name, call, kind, params", [
    ("uniform", lambda t: init.uniform_(t, -2.0, 3.0), "uniform", (-2.0, 3.0)),
    ("normal", lambda t: init.normal_(t, 0.5, 2.0), "normal", (0.5, 2.0)),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0), "uniform",
     (-2.0 * math.sqrt(6 / 700), 2.0 * math.sqrt(6 / 700))),
    ("xavier_normal", lambda t: init.xavier_normal_(t), "normal", (0.0, math.sqrt(2 / 700))),
    ("kaiming_uniform_relu", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), "uniform",
     (-math.sqrt(6 / 300), math.sqrt(6 / 300))),
    ("kaiming_uniform_a5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), "uniform",
     (-1 / math.sqrt(300), 1 / math.sqrt(300))),
    ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), "normal",
     (0.0, math.sqrt(2 / 400))),
    ("kaiming_normal_leaky", lambda t: init.kaiming_normal_(t, a=0.2), "normal",
     (0.0, math.sqrt(2 / (1 + 0.04)) / math.sqrt(300))),
    ("lecun_normal", init.lecun_normal_, "normal", (0.0, 1 / math.sqrt(300))),
    ("large_normal", init.large_normal_, "normal", (0.0, 1.0)),
])
def test_distribution_moments(device, name, call, kind, params):
    mg.manual_seed(11)
    t = mg.empty(*SHAPE, device=device)
    assert call(t) is t
    a = host(t).astype(np.float64)
    if kind == "uniform":
        _check_uniform(a, *params)
    else:
        _check_normal(a, *params)


def test_a_wrong_scale_fails_the_bound():
    # The bounds are tight enough to tell lecun (1/sqrt(fan_in)) from xavier (sqrt(2/(in+out))).
    mg.manual_seed(0)
    a = host(init.lecun_normal_(mg.empty(*SHAPE))).astype(np.float64)
    with pytest.raises(AssertionError):
        _check_normal(a, 0.0, math.sqrt(2 / 700))


def test_constant_zeros_ones():
    t = nn.Parameter(mg.empty(3, 2))
    assert not host(init.zeros_(t)).any()
    assert (host(init.ones_(t)) == 1).all()
    assert (host(init.constant_(t, 2.5)) == 2.5).all()
    assert t.is_leaf and t.grad_fn is None


def test_orthogonal_rows_and_columns():
    mg.manual_seed(2)
    tall = init.orthogonal_(mg.empty(50, 20, dtype=mg.float64), gain=2.0)
    q = host(tall)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(20), atol=1e-10)
    wide = host(init.orthogonal_(mg.empty(20, 50, dtype=mg.float64)))
    np.testing.assert_allclose(wide @ wide.T, np.eye(20), atol=1e-10)
    kernel = host(init.orthogonal_(mg.empty(4, 2, 3, dtype=mg.float64))).reshape(4, 6)
    np.testing.assert_allclose(kernel @ kernel.T, np.eye(4), atol=1e-10)


def test_reproducible_with_manual_seed_and_in_place_under_no_grad():
    p = nn.Parameter(mg.empty(10, 10))
    mg.manual_seed(5)
    a = host(init.xavier_uniform_(p)).copy()
    mg.manual_seed(5)
    b = host(init.xavier_uniform_(p)).copy()
    np.testing.assert_array_equal(a, b)
    assert p._version >= 2  # each init is an in-place change
    mg.manual_seed(6)
    assert not np.array_equal(host(init.xavier_uniform_(p)), a)


def test_dtypes_kept_and_errors():
    t = mg.empty(4, 4, dtype=mg.float16)
    assert init.normal_(t).dtype == np.float16
    assert init.kaiming_uniform_(mg.empty(3, 3, dtype=mg.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        init.normal_(mg.zeros(3, dtype=mg.int64))
    with pytest.raises(TypeError, match="Tensor"):
        init.normal_(np.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(mg.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(mg.empty(3))


def test_by_name():
    assert init.by_name("xavier_uniform") is init.xavier_uniform_
    assert init.by_name("lecun_normal_") is init.lecun_normal_
    with pytest.raises(ValueError, match="unknown initializer"):
        init.by_name("calculate_gain")
