"""Reductions and scans: what the op table cannot express (errors, named results, the fast and
recorded forms of the scans' gradients, extreme inputs)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops import scan



def t(a, grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_mean_of_integers_needs_a_float_dtype():
    x = mg.tensor(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="dtype"):
        mg.mean(x)
    assert mg.mean(x, dtype=mg.float32).dtype == mg.float32
    assert float(mg.mean(x, dim=1, dtype=mg.float64)[1]) == 4.0


def test_sum_and_prod_dtype_cast_first_and_keep_the_gradient():
    x = mg.tensor(np.array([1.5, 2.0], dtype=np.float32), requires_grad=True)
    y = mg.sum(x, dtype=mg.float64)
    assert y.dtype == mg.float64
    y.backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="requires grad"):
        mg.sum(x, dtype=mg.int64)
    assert mg.prod(mg.tensor(np.array([2, 3], dtype=np.int32))).dtype == mg.int64


def test_dim_empty_tuple_means_every_dim():
    x = t([[1.0, 2.0], [3.0, 5.0]])
    assert float(mg.sum(x, ())) == 11.0
    assert float(mg.mean(x, dim=())) == 2.75
    assert mg.all(x > 0, dim=()).shape == (2, 2)  # all / any: () reduces nothing, as PyTorch


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="floating point"):
        mg.var(mg.tensor(np.arange(3)))
    with pytest.raises(TypeError, match="bool"):
        mg.argmax(mg.tensor(np.array([True, False])))
    with pytest.raises(TypeError, match="one int"):
        mg.cumprod(t([1.0, 2.0]), (0,))
    with pytest.raises(IndexError, match="shape"):
        mg.cummax(t([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="empty"):
        mg.aminmax(t(np.zeros((0, 2))))


def test_named_results():
    x = t([[3.0, 1.0, 4.0], [1.0, 5.0, 9.0]])
    v, i = mg.cummax(x, 1)
    assert mg.cummax(x, 1).values.tolist() == v.tolist() == [[3, 3, 4], [1, 5, 9]]
    assert i.dtype == mg.int64 and i.tolist() == [[0, 0, 2], [0, 1, 2]]
    assert mg.cummin(x, 1).indices.tolist() == [[0, 1, 1], [0, 0, 0]]
    r = x.aminmax(dim=1)
    assert r.min.tolist() == [1, 1] and r.max.tolist() == [4, 9] and "aminmax" in repr(r)
    s, m = mg.std_mean(x, dim=1)
    np.testing.assert_allclose(s.tolist(), np.std(x.tolist(), axis=1, ddof=1))
    np.testing.assert_allclose(m.tolist(), np.mean(x.tolist(), axis=1))


@pytest.mark.parametrize("zeros", [[], [2], [1, 3], [0, 4]])
def test_cumprod_gradient_is_exact_with_zeros(zeros):
    rng = np.random.default_rng(len(zeros))
    a = rng.uniform(0.5, 1.5, (2, 5)) * rng.choice([-1, 1], (2, 5))
    a[:, zeros] = 0.0
    assert gradcheck(lambda x: mg.cumprod(x, 1), [t(a, True)])
    assert gradgradcheck(lambda x: mg.cumprod(x, 1), [t(a, True)])


def test_logcumsumexp_is_stable_over_a_wide_range():
    x = t([-1000.0, 0.0, 1000.0, -1000.0], grad=True)
    y = mg.logcumsumexp(x, 0)
    np.testing.assert_allclose(y.tolist(), [-1000.0, 0.0, 1000.0, 1000.0])
    y.sum().backward()
    assert np.isfinite(x.grad.tolist()).all()


def test_logcumsumexp_gradient_fast_form_equals_the_recorded_one():
    rng = np.random.default_rng(0)
    x = t(rng.normal(0, 20, (3, 6)), grad=True)
    g = rng.standard_normal((3, 6))
    y = mg.logcumsumexp(x, 1)
    fast = scan._logcumsumexp_grad_arrays(x._data, g, y._data, 1)
    recorded = scan._logcumsumexp_grad_recorded(x.detach(), t(g), y.detach())
    np.testing.assert_allclose(fast, recorded.tolist(), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda v: mg.logcumsumexp(v, 0), [t(rng.standard_normal((4, 2)), True)])


def test_cummax_nan_propagates_with_pytorchs_indices():
    v, i = mg.cummax(t([1.0, np.nan, 2.0, np.nan, 0.0]), 0)
    assert np.isnan(v.tolist()[1:]).all() and i.tolist() == [0, 1, 1, 3, 3]
