"""Creation functions: values, shapes (varargs or a tuple), ``dtype=`` and ``device=`` on each,
seeding, and statistical sanity of the random ones.

Statistical bounds are 6 standard errors of the sampling distribution, and every sample is
drawn after ``manual_seed``, so the tests are deterministic and still fail for a wrong
distribution (a wrong mean/variance lands dozens of standard errors away).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

SIZED = {
    "zeros": mg.zeros, "ones": mg.ones, "rand": mg.rand, "randn": mg.randn, "empty": mg.empty,
}


def host(t: mg.Tensor) -> np.ndarray:
    a = t.detach()._data
    return a.get() if hasattr(a, "get") else np.asarray(a)


# -- size as varargs or a tuple -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SIZED))
def test_size_forms(name):
    f = SIZED[name]
    assert f(2, 3).shape == (2, 3)
    assert f((2, 3)).shape == (2, 3)
    assert f([2, 3]).shape == (2, 3)
    assert f(4).shape == (4,)
    assert f(()).shape == ()
    assert f(0, 3).shape == (0, 3)


@pytest.mark.parametrize("name", sorted(SIZED))
def test_sized_dtype_device_requires_grad(name, device):
    f = SIZED[name]
    t = f(2, 3, device=device)
    assert t.dtype == mg.float32 and t.device == device and not t.requires_grad
    assert f(2, dtype=mg.float64, device=device).dtype == np.float64
    r = f(2, requires_grad=True, device=device)
    assert r.requires_grad and r.is_leaf


def test_zeros_ones_values(device):
    np.testing.assert_array_equal(host(mg.zeros(2, 2, device=device)), np.zeros((2, 2)))
    np.testing.assert_array_equal(host(mg.ones(3, dtype=mg.int64, device=device)), [1, 1, 1])
    assert mg.ones(3, dtype=mg.int64).dtype == np.int64
    assert mg.zeros(2, dtype=mg.bool_).tolist() == [False, False]


def test_full(device):
    t = mg.full((2, 3), 1.5, device=device)
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == device
    np.testing.assert_array_equal(host(t), np.full((2, 3), 1.5))
    assert mg.full((2,), 7).dtype == np.int64
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full(3, 2.0).shape == (3,)
    assert mg.full((2,), 7, dtype=mg.float64).dtype == np.float64
    assert mg.full((1,), 2.0, requires_grad=True).requires_grad


def test_arange(device):
    assert mg.arange(5, device=device).tolist() == [0, 1, 2, 3, 4]
    assert mg.arange(5).dtype == np.int64
    assert mg.arange(2, 5).tolist() == [2, 3, 4]
    assert mg.arange(5, 0, -2).tolist() == [5, 3, 1]
    f = mg.arange(0, 1, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert mg.arange(3, dtype=mg.float64).dtype == np.float64
    assert mg.arange(3, device=device).device == device
    with pytest.raises(ValueError, match="step"):
        mg.arange(0, 5, 0)


def test_linspace(device):
    t = mg.linspace(0, 1, 5, device=device)
    assert t.dtype == np.float32 and t.device == device
    np.testing.assert_allclose(host(t), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert mg.linspace(-1, 1, 3, dtype=mg.float64).dtype == np.float64
    assert mg.linspace(0, 1, 1).tolist() == [0.0]


def test_eye(device):
    t = mg.eye(3, device=device)
    assert t.dtype == np.float32 and t.device == device
    np.testing.assert_array_equal(host(t), np.eye(3))
    np.testing.assert_array_equal(host(mg.eye(2, 3)), np.eye(2, 3))
    assert mg.eye(2, dtype=mg.int64).dtype == np.int64


def test_randint(device):
    mg.manual_seed(0)
    t = mg.randint(3, 7, (1000,), device=device)
    assert t.dtype == np.int64 and t.shape == (1000,) and t.device == device
    v = host(t)
    assert v.min() >= 3 and v.max() < 7 and set(v.tolist()) == {3, 4, 5, 6}
    assert mg.randint(5, size=(2, 2)).shape == (2, 2)
    assert mg.randint(0, 5, (3,), dtype=mg.int32).dtype == np.int32
    with pytest.raises(ValueError, match="high"):
        mg.randint(5, 5, (2,))


def test_randperm(device):
    mg.manual_seed(1)
    p = mg.randperm(50, device=device)
    assert p.dtype == np.int64 and p.device == device
    v = host(p)
    assert sorted(v.tolist()) == list(range(50))
    assert v.tolist() != list(range(50))


def test_like_functions(device):
    src = mg.ones(2, 3, dtype=mg.float64, device=device)
    for f in (mg.zeros_like, mg.ones_like, mg.rand_like, mg.randn_like):
        t = f(src)
        assert t.shape == (2, 3) and t.dtype == np.float64 and t.device == device, f.__name__
        assert f(src, dtype=mg.float32).dtype == np.float32
    np.testing.assert_array_equal(host(mg.zeros_like(src)), np.zeros((2, 3)))
    np.testing.assert_array_equal(host(mg.ones_like(src)), np.ones((2, 3)))
    full = mg.full_like(src, 7)
    assert full.dtype == np.float64 and host(full).tolist() == [[7.0] * 3] * 2
    assert mg.zeros_like(src, dtype=mg.int64).dtype == np.int64
    assert mg.zeros_like(src, requires_grad=True).requires_grad


def test_like_functions_keep_int_dtype():
    src = mg.tensor([1, 2, 3])
    assert mg.zeros_like(src).dtype == np.int64
    assert mg.full_like(src, 4).tolist() == [4, 4, 4]


def test_empty_has_requested_shape_and_dtype():
    t = mg.empty(3, 2, dtype=mg.float64)
    assert t.shape == (3, 2) and t.dtype == np.float64


def test_creation_results_are_leaves():
    for t in (mg.zeros(2), mg.ones(2), mg.rand(2), mg.randn(2), mg.arange(2), mg.eye(2), mg.full((2,), 1.0)):
        assert t.is_leaf and t.grad_fn is None


def test_device_object_accepted():
    d = mg.device("cpu")
    for t in (mg.zeros(2, device=d), mg.rand(2, device=d), mg.arange(3, device=d), mg.tensor([1], device=d)):
        assert t.device == "cpu"


# -- seeding -----------------------------------------------------------------------------------------


def _draws(device="cpu"):
    return (host(mg.rand(5, device=device)), host(mg.randn(5, device=device)),
            host(mg.randint(0, 1000, (5,), device=device)), host(mg.randperm(10, device=device)))


def test_manual_seed_reproducible(device):
    mg.manual_seed(123)
    a = _draws(device)
    mg.manual_seed(123)
    b = _draws(device)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    mg.manual_seed(124)
    c = _draws(device)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[1], c[1])
    assert not np.array_equal(a[2], c[2])


def test_successive_draws_differ():
    mg.manual_seed(7)
    assert not np.array_equal(host(mg.rand(5)), host(mg.rand(5)))


def test_rand_like_reproducible():
    src = mg.zeros(4)
    mg.manual_seed(3)
    a = host(mg.randn_like(src))
    mg.manual_seed(3)
    np.testing.assert_array_equal(a, host(mg.randn_like(src)))


# -- statistics ------------------------------------------------------------------------------------------

N = 200_000
Z = 6.0  # standard errors


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_rand_is_uniform_0_1(dtype, device):
    mg.manual_seed(2024)
    x = host(mg.rand(N, dtype=dtype, device=device)).astype(np.float64)
    assert x.min() >= 0.0 and x.max() < 1.0
    # U(0,1): mean 1/2, var 1/12; Var(sample var) ≈ (μ4 - σ⁴)/n with μ4 = 1/80
    assert abs(x.mean() - 0.5) < Z * math.sqrt(1 / 12 / N)
    assert abs(x.var() - 1 / 12) < Z * math.sqrt((1 / 80 - 1 / 144) / N)
    # each tenth of [0, 1) holds a Binomial(N, 0.1) count
    counts = np.histogram(x, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - N / 10) < Z * math.sqrt(N * 0.1 * 0.9))


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_randn_is_standard_normal(dtype, device):
    mg.manual_seed(2025)
    x = host(mg.randn(N, dtype=dtype, device=device)).astype(np.float64)
    # N(0,1): mean 0 (se 1/√n), var 1 (se √(2/n)), skew 0 (se √(6/n)), excess kurtosis 0 (se √(24/n))
    assert abs(x.mean()) < Z / math.sqrt(N)
    assert abs(x.var() - 1) < Z * math.sqrt(2 / N)
    assert abs(np.mean(x**3)) < Z * math.sqrt(15 / N)  # E[x⁶] = 15
    assert abs(np.mean(x**4) - 3) < Z * math.sqrt(96 / N)  # Var(x⁴) = 105 - 9
    # P(|x| < 1) = 0.6827 (binomial standard error)
    p = np.mean(np.abs(x) < 1)
    assert abs(p - 0.682689) < Z * math.sqrt(0.6827 * 0.3173 / N)


def test_randint_is_uniform(device):
    mg.manual_seed(99)
    k = 7
    x = host(mg.randint(-3, -3 + k, (N,), device=device))
    counts = np.bincount(x + 3, minlength=k)
    assert counts.size == k
    assert np.all(np.abs(counts - N / k) < Z * math.sqrt(N * (1 / k) * (1 - 1 / k)))


def test_randperm_positions_are_uniform():
    # Over many permutations, each value lands in position 0 with probability 1/n.
    mg.manual_seed(5)
    n, trials = 5, 4000
    firsts = np.array([mg.randperm(n).tolist()[0] for _ in range(trials)])
    counts = np.bincount(firsts, minlength=n)
    assert np.all(np.abs(counts - trials / n) < Z * math.sqrt(trials * (1 / n) * (1 - 1 / n)))


@pytest.mark.parametrize("make", [lambda: mg.rand(4, dtype=mg.int64), lambda: mg.rand_like(mg.tensor([1, 2]))],
                         ids=["rand", "rand_like"])
def test_rand_integer_dtype_is_an_error(make):
    with pytest.raises((TypeError, ValueError, RuntimeError), match="int64"):
        make()


def test_randn_integer_dtype_is_an_error():
    with pytest.raises(TypeError, match="int64"):
        mg.randn(4, dtype=mg.int64)
