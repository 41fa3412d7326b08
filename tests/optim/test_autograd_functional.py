"""minigrad.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp against closed forms and,
where PyTorch is importable, against torch.autograd.functional."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import functional as F

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
X = RNG.standard_normal(4)
V3 = RNG.standard_normal(3)
V4 = RNG.standard_normal(4)


def t(a):
    return mg.tensor(a, dtype=mg.float64)


def test_linear_map_closed_forms():
    at = t(A)
    f = lambda x: at @ x  # noqa: E731   J = A
    out, vj = F.vjp(f, t(X), t(V3))
    np.testing.assert_allclose(out.numpy(), A @ X, atol=1e-14)
    np.testing.assert_allclose(vj.numpy(), V3 @ A, atol=1e-14)
    out, jv = F.jvp(f, t(X), t(V4))
    np.testing.assert_allclose(jv.numpy(), A @ V4, atol=1e-14)
    for strategy in ("reverse-mode", "forward-mode"):
        J = F.jacobian(f, t(X), strategy=strategy)
        assert J.shape == (3, 4)
        np.testing.assert_allclose(J.numpy(), A, atol=1e-14)
    assert not out.requires_grad and not vj.requires_grad and not J.requires_grad


def test_elementwise_function_has_a_diagonal_jacobian():
    # f(x) = sin(x)·x²  →  ∂fᵢ/∂xⱼ = δᵢⱼ (cos xᵢ · xᵢ² + 2xᵢ sin xᵢ)
    x = X.reshape(2, 2)
    J = F.jacobian(lambda z: z.sin() * z * z, t(x))
    assert J.shape == (2, 2, 2, 2)
    exact = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            exact[i, j, i, j] = np.cos(x[i, j]) * x[i, j] ** 2 + 2 * x[i, j] * np.sin(x[i, j])
    np.testing.assert_allclose(J.numpy(), exact, atol=1e-14)


def test_tuple_inputs_and_outputs():
    # f(x, y) = (x * y, x.sum() + y²):  d(xy)/dx = diag(y), d(xy)/dy = diag(x), d(Σx + y²)/dx = 1, /dy = diag(2y)
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    f = lambda a, b: (a * b, a.sum() + b * b)  # noqa: E731
    for strategy in ("reverse-mode", "forward-mode"):
        (jxa, jxb), (jsa, jsb) = F.jacobian(f, (t(x), t(y)), strategy=strategy)
        np.testing.assert_allclose(jxa.numpy(), np.diag(y), atol=1e-14)
        np.testing.assert_allclose(jxb.numpy(), np.diag(x), atol=1e-14)
        np.testing.assert_allclose(jsa.numpy(), np.ones((3, 3)), atol=1e-14)
        np.testing.assert_allclose(jsb.numpy(), np.diag(2 * y), atol=1e-14)
    u, w = RNG.standard_normal(3), RNG.standard_normal(3)
    outs, (gx, gy) = F.vjp(f, (t(x), t(y)), (t(u), t(w)))
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_allclose(gx.numpy(), u * y + w.sum(), atol=1e-14)
    np.testing.assert_allclose(gy.numpy(), u * x + 2 * y * w, atol=1e-14)
    _, (j1, j2) = F.jvp(f, (t(x), t(y)), (t(u), t(w)))
    np.testing.assert_allclose(j1.numpy(), y * u + x * w, atol=1e-14)
    np.testing.assert_allclose(j2.numpy(), u.sum() + 2 * y * w, atol=1e-14)


def _quartic(x):
    return 0.5 * (x @ (mg.tensor(A.T @ A) @ x)) + (x ** 3).sum() / 3


def test_hessian_hvp_vhp_closed_form():
    # f = ½xᵀ(AᵀA)x + Σx³/3  →  H = AᵀA + diag(2x)
    H = A.T @ A + np.diag(2 * X)
    h = F.hessian(_quartic, t(X))
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h.numpy(), H, atol=1e-13)
    np.testing.assert_allclose(F.hessian(_quartic, t(X), outer_jacobian_strategy="forward-mode").numpy(), H,
                               atol=1e-13)
    val, hv = F.hvp(_quartic, t(X), t(V4))
    assert val.item() == pytest.approx(_quartic(t(X)).item(), abs=1e-14)
    np.testing.assert_allclose(hv.numpy(), H @ V4, atol=1e-13)
    _, vh = F.vhp(_quartic, t(X), t(V4))
    np.testing.assert_allclose(vh.numpy(), V4 @ H, atol=1e-13)


def test_hessian_of_tuple_inputs():
    # f(x, y) = Σ x² · Σ y:  Hxx = 2Σy·I, Hxy = 2x ⊗ 1, Hyx = 1 ⊗ 2x, Hyy = 0
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    (hxx, hxy), (hyx, hyy) = F.hessian(lambda a, b: (a * a).sum() * b.sum(), (t(x), t(y)))
    assert hxy.shape == (3, 2) and hyx.shape == (2, 3) and hyy.shape == (2, 2)
    np.testing.assert_allclose(hxx.numpy(), 2 * y.sum() * np.eye(3), atol=1e-14)
    np.testing.assert_allclose(hxy.numpy(), np.outer(2 * x, np.ones(2)), atol=1e-14)
    np.testing.assert_allclose(hyx.numpy(), np.outer(np.ones(2), 2 * x), atol=1e-14)
    np.testing.assert_allclose(hyy.numpy(), 0, atol=0)


def test_strict_mode_and_independent_inputs():
    x, y = t(X), t(V4)
    f = lambda a, b: (a * 2).sum()  # noqa: E731   independent of b, and linear in a
    (ga, gb) = F.jacobian(f, (x, y))
    np.testing.assert_allclose(ga.numpy(), 2.0)
    np.testing.assert_allclose(gb.numpy(), 0.0)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(f, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(f, (x, y), strict=True)
    # linear in a: the Hessian is zero, and strict mode refuses it
    np.testing.assert_allclose(F.hessian(lambda a: (a * 2).sum(), x).numpy(), 0.0)
    with pytest.raises(RuntimeError, match="strict mode"):
        F.hessian(lambda a: (a * 2).sum(), x, strict=True)
    with pytest.raises(RuntimeError, match="strict mode"):
        F.hvp(lambda a: (a * 2).sum(), x, t(V4), strict=True)
    # an output made without the inputs: zeros, or an error in strict mode
    np.testing.assert_allclose(F.jacobian(lambda a: mg.ones(2, dtype=mg.float64), x).numpy(), 0.0)
    with pytest.raises(RuntimeError, match="strict mode"):
        F.jacobian(lambda a: mg.ones(2, dtype=mg.float64), x, strict=True)


def test_create_graph_results_are_differentiable_and_inputs_untouched():
    x = t(X).requires_grad_()
    # vjp of f(x) = x³ with v = 1 is 3x²; with create_graph it can be differentiated again: d/dx Σ3x² = 6x
    _, g = F.vjp(lambda z: (z ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (g2,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * X, atol=1e-13)
    h = F.hessian(lambda z: (z ** 3).sum(), x, create_graph=True)
    assert h.requires_grad
    (d3,) = mg.grad(h.sum(), x)  # Σᵢⱼ ∂²f/∂xᵢ∂xⱼ = Σ 6xᵢ → gradient 6
    np.testing.assert_allclose(d3.numpy(), 6.0, atol=1e-13)
    # without create_graph nothing is recorded and the input is left as it was
    y = t(X)
    _, g = F.vjp(lambda z: (z ** 3).sum(), y)
    assert not g.requires_grad and not y.requires_grad and y.grad is None and x.grad is None


def test_errors():
    x = t(X)
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda z: z * 2, x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.vjp(lambda z: z * 2, x)
    with pytest.raises(RuntimeError, match=r"v\[0\] has shape \(3,\)"):
        F.jvp(lambda z: z * 2, x, t(V3))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.jacobian(lambda z: 3.0, x)
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(lambda z: z, x, strategy="sideways")


# -- against PyTorch -----------------------------------------------------------------------------
def _pair(lib):
    def f(x, y):
        return ((x[:, None] * y[None, :]).tanh().sum(1) + x.exp()), (x * x).sum() * y.sin()

    def scalar(x, y):
        return (x.exp() * (y * y).sum()).sum() + (x * x * x).sum()

    return f, scalar


def test_matches_torch_autograd_functional():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    vx, vy = RNG.standard_normal(3), RNG.standard_normal(2)
    u1, u2 = RNG.standard_normal(3), RNG.standard_normal(2)
    fm, sm = _pair(mg)
    ft, st = _pair(torch)
    M = (t(x), t(y))
    T = (torch.tensor(x), torch.tensor(y))

    def close(a, b):
        if isinstance(a, tuple):
            assert isinstance(b, tuple) and len(a) == len(b)
            for p, q in zip(a, b):
                close(p, q)
        else:
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)

    close(F.jacobian(fm, M), TF.jacobian(ft, T))
    close(F.hessian(sm, M), TF.hessian(st, T))
    close(F.vjp(fm, M, (t(u1), t(u2))), TF.vjp(ft, T, (torch.tensor(u1), torch.tensor(u2))))
    close(F.jvp(fm, M, (t(vx), t(vy))), TF.jvp(ft, T, (torch.tensor(vx), torch.tensor(vy))))
    close(F.hvp(sm, M, (t(vx), t(vy))), TF.hvp(st, T, (torch.tensor(vx), torch.tensor(vy))))
    close(F.vhp(sm, M, (t(vx), t(vy))), TF.vhp(st, T, (torch.tensor(vx), torch.tensor(vy))))
    close(F.jacobian(lambda a: a.exp() * 2, t(x)), TF.jacobian(lambda a: a.exp() * 2, torch.tensor(x)))
