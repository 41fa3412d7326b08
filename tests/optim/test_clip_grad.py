"""clip_grad_norm_ / clip_grad_value_ (minigrad/nn/clip.py, reached as mg.nn.utils.*)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_


def _params(grads):
    ps = []
    for g in grads:
        p = mg.zeros(*np.shape(g), dtype=mg.float64, requires_grad=True)
        p.grad = mg.tensor(np.asarray(g, dtype=np.float64))
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_all_gradients_together():
    ps = _params([[3.0, 0.0], [[0.0], [4.0]]])  # joint 2-norm 5
    total = clip_grad_norm_(ps, max_norm=1.0)
    assert isinstance(total, mg.Tensor) and total.item() == pytest.approx(5.0, abs=1e-15)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3 * coef, 0.0], rtol=1e-15)
    np.testing.assert_allclose(ps[1].grad.numpy(), [[0.0], [4 * coef]], rtol=1e-15)
    # below the limit: unchanged (multiplied by exactly 1)
    ps = _params([[0.3, 0.4]])
    assert clip_grad_norm_(ps, max_norm=1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [0.3, 0.4])


@pytest.mark.parametrize("norm_type,expected", [(1, 10.0), (math.inf, 4.0), (3, (27 + 64 + 1 + 8) ** (1 / 3)),
                                                (0, 4.0)])
def test_other_norms(norm_type, expected):
    ps = _params([[3.0, -4.0], [1.0, 2.0]])
    assert clip_grad_norm_(ps, max_norm=100.0, norm_type=norm_type).item() == pytest.approx(expected, rel=1e-14)
    ps = _params([[3.0, -4.0], [1.0, 2.0]])
    clip_grad_norm_(ps, max_norm=1.0, norm_type=norm_type)
    after = np.concatenate([p.grad.numpy() for p in ps])
    if norm_type == 0:
        return  # the count of non-zeros can't be scaled down
    assert np.linalg.norm(after, ord=norm_type) == pytest.approx(1.0, rel=1e-5)


def test_nonfinite_norm():
    ps = _params([[np.inf, 1.0]])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(_params([[np.nan, 1.0]]), 1.0)
    assert math.isnan(total.item())


def test_parameters_without_grad_single_tensor_and_float32():
    p = mg.zeros(2, requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    q = mg.zeros(2, requires_grad=True)
    q.grad = mg.tensor([6.0, 8.0])
    total = clip_grad_norm_(q, 5.0)
    assert total.dtype == mg.float32 and total.item() == pytest.approx(10.0)
    np.testing.assert_allclose(q.grad.numpy(), [3.0, 4.0], rtol=1e-5)


def test_clip_grad_value():
    ps = _params([[-3.0, 0.5, 2.0]])
    g = ps[0].grad
    clip_grad_value_(ps, 1.0)
    assert ps[0].grad is g
    np.testing.assert_array_equal(g.numpy(), [-1.0, 0.5, 1.0])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, math.inf, 1.5):
        ps = _params(grads)
        ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t_, g in zip(ts, grads):
            t_.grad = torch.tensor(g)
        a = clip_grad_norm_(ps, 0.7, norm_type=norm_type)
        b = torch.nn.utils.clip_grad_norm_(ts, 0.7, norm_type=norm_type)
        assert a.item() == pytest.approx(b.item(), rel=1e-13)
        for p, t_ in zip(ps, ts):
            np.testing.assert_allclose(p.grad.numpy(), t_.grad.numpy(), rtol=1e-13)
