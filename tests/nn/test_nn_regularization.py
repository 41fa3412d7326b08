"""Weight penalties, the weight selector, max-norm, gradient clipping, parameter vectors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd.gradcheck import gradcheck
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

from nn_helpers import host, leaf


def _model():
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))


def test_weight_parameters_selects_matrices_only():
    m = _model()
    assert nn.weight_parameters(m) == [m[0].weight, m[3].weight]
    with pytest.raises(TypeError, match="Module"):
        nn.weight_parameters([m[0].weight])


def test_l2_and_l1_values_and_gradients():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(4)
    ta, tb = leaf(a), leaf(b)
    np.testing.assert_allclose(host(nn.l2_penalty([ta, tb])), 0.5 * ((a ** 2).sum() + (b ** 2).sum()), rtol=1e-12)
    np.testing.assert_allclose(host(nn.l1_penalty([ta, tb])), np.abs(a).sum() + np.abs(b).sum(), rtol=1e-12)
    nn.l2_penalty([ta, tb]).backward()
    np.testing.assert_allclose(host(ta.grad), a)  # d/dw ½w² = w
    assert gradcheck(lambda x, y: nn.l1_penalty([x, y]), [ta, tb])
    assert gradcheck(lambda x: nn.l2_penalty(x), [ta])


def test_l1_subgradient_is_zero_at_zero():
    w = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    nn.l1_penalty([w]).backward()
    np.testing.assert_array_equal(host(w.grad), [-1.0, 0.0, 1.0])


def test_module_penalties_skip_biases():
    m = _model()
    weights = [host(m[0].weight), host(m[3].weight)]
    np.testing.assert_allclose(host(nn.l2_penalty(m)), 0.5 * sum((w.astype(np.float64) ** 2).sum() for w in weights),
                               rtol=1e-5)
    nn.l2_penalty(m).backward()
    assert m[0].bias.grad is None and m[1].weight.grad is None
    np.testing.assert_allclose(host(m[0].weight.grad), weights[0])
    with pytest.raises(ValueError, match="no parameters"):
        nn.l2_penalty([])


def test_l2_in_loss_equals_coupled_weight_decay():
    """One SGD step on loss + λ·½Σw² gives w ← (1 - αλ)w - α∇loss: the same as weight decay."""
    rng = np.random.default_rng(1)
    x, y = mg.tensor(rng.standard_normal((8, 4))), mg.tensor(rng.standard_normal((8, 2)))
    lr, lam = 0.1, 0.05
    a = nn.Linear(4, 2).double()
    b = nn.Linear(4, 2).double()
    b.load_state_dict(a.state_dict())
    w0 = host(a.weight).copy()
    (nn.functional.mse_loss(a(x), y) + lam * nn.l2_penalty(a)).backward()
    with mg.no_grad():
        for p in a.parameters():
            p.sub_(p.grad * lr)
    nn.functional.mse_loss(b(x), y).backward()
    with mg.no_grad():
        b.weight.mul_(1 - lr * lam)  # decoupled from the gradient, same result
        for p in b.parameters():
            p.sub_(p.grad * lr)
    np.testing.assert_allclose(host(a.weight), host(b.weight), rtol=1e-12)
    np.testing.assert_allclose(host(a.bias), host(b.bias), rtol=1e-12)
    assert not np.allclose(host(a.weight), w0)


def test_max_norm_constraint():
    w = nn.Parameter(mg.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], dtype=mg.float64))
    nn.max_norm_([w], 2.0)
    got = host(w)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), [2.0, 0.5, 0.0], rtol=1e-6)
    np.testing.assert_allclose(got[0] / np.linalg.norm(got[0]), [0.6, 0.8])  # direction kept
    np.testing.assert_array_equal(got[1], [0.3, 0.4])  # short rows untouched
    m = _model()
    with mg.no_grad():
        m[0].weight.mul_(100.0)
        m[0].bias.fill_(100.0)
    nn.max_norm_(m, 1.5)
    assert (np.linalg.norm(host(m[0].weight), axis=1) <= 1.5 + 1e-5).all()
    assert (host(m[0].bias) == 100.0).all()  # biases are not constrained
    with pytest.raises(ValueError, match="positive"):
        nn.max_norm_(m, 0.0)


def test_clip_grad_norm_and_value():
    a = nn.Parameter(mg.tensor([3.0, 0.0], dtype=mg.float64))
    b = nn.Parameter(mg.tensor([[4.0]], dtype=mg.float64))
    a.grad, b.grad = mg.tensor([3.0, 0.0], dtype=mg.float64), mg.tensor([[4.0]], dtype=mg.float64)
    total = clip_grad_norm_([a, b], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(host(a.grad), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(host(b.grad), [[0.8]], rtol=1e-5)
    assert clip_grad_norm_([a, b], 10.0).item() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(host(a.grad), [0.6, 0.0], rtol=1e-5)  # under the limit: unchanged
    assert clip_grad_norm_([a, b], 1.0, norm_type=float("inf")).item() == pytest.approx(0.8, rel=1e-5)
    a.grad = mg.tensor([float("nan"), 1.0], dtype=mg.float64)
    with pytest.raises(RuntimeError, match="nan"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    a.grad = mg.tensor([-5.0, 0.5], dtype=mg.float64)
    clip_grad_value_(a, 1.0)
    np.testing.assert_array_equal(host(a.grad), [-1.0, 0.5])


def test_parameter_vector_round_trip():
    m = _model()
    vec = parameters_to_vector(m.parameters())
    assert vec.shape == (sum(p.numel() for p in m.parameters()),)
    vector_to_parameters(vec * 0 + 1, m.parameters())
    assert all((host(p) == 1).all() for p in m.parameters())
    with pytest.raises(ValueError, match="1-D tensor of"):
        vector_to_parameters(mg.ones(3), m.parameters())
