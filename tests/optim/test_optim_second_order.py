"""Newton (exact, Levenberg–Marquardt damped), NewtonCG (Hessian-free) and L-BFGS."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim


def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T + 0.5 * np.eye(n), rng.standard_normal(n)


def _rosen(p):
    return (100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2).sum()


@pytest.mark.parametrize("cls,kw", [(optim.Newton, {}), (optim.Newton, dict(line_search=None)),
                                    (optim.NewtonCG, dict(cg_tol=1e-12))])
def test_newton_solves_a_strictly_convex_quadratic_in_one_step(cls, kw):
    """f = ½xᵀAx − bᵀx with A positive definite: one Newton step from anywhere lands on A⁻¹b
    (CG needs at most n = 6 iterations for that)."""
    a, b = _spd(6)
    # split the unknowns over two tensors: the Hessian must couple them
    x1 = mg.tensor(np.full(4, 3.0), requires_grad=True)
    x2 = mg.tensor(np.full(2, -2.0), requires_grad=True)
    at, bt = mg.tensor(a), mg.tensor(b)

    def closure():
        x = mg.cat([x1, x2])
        return 0.5 * (x @ (at @ x)) - bt @ x

    opt = cls([x1, x2], **kw)
    loss0 = opt.step(closure)
    x = np.concatenate([x1.detach().numpy(), x2.detach().numpy()])
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-10)
    assert isinstance(loss0, mg.Tensor) and loss0.item() > closure().item()
    state = opt.state[x1]
    assert state["step"] == 1 and state["t"] == 1.0
    if cls is optim.NewtonCG:
        assert 1 <= state["cg_iters"] <= 6
    else:
        assert state["damping"] == 0.0


def test_newton_hessian_is_the_closed_form():
    p = mg.tensor([0.3, -0.7, 1.1], dtype=mg.float64, requires_grad=True)
    opt = optim.Newton([p])
    _, grads = opt._loss_and_grad(lambda: _rosen(p))
    h = opt.hessian(grads)
    x = p.detach().numpy()
    exact = np.zeros((3, 3))
    for i in range(2):
        exact[i, i] += 2 + 1200 * x[i] ** 2 - 400 * x[i + 1]
        exact[i, i + 1] = exact[i + 1, i] = -400 * x[i]
        exact[i + 1, i + 1] += 200
    np.testing.assert_allclose(h, exact, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("cls,allowed", [(optim.Newton, 30), (optim.NewtonCG, 80)])
def test_newton_converges_on_rosenbrock(cls, allowed):
    p = mg.tensor([-1.2, 1.0], dtype=mg.float64, requires_grad=True)
    opt = cls([p])
    for k in range(1, allowed + 1):
        opt.step(lambda: _rosen(p))
        if opt.state[p]["grad_norm"] < 1e-9:
            break
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.0], atol=1e-8)
    assert k < allowed


def test_levenberg_marquardt_damping_when_the_hessian_is_indefinite():
    """At (0.1, 1) the Hessian of x⁴ − x² + y² is diag(12x² − 2, 2): not positive definite, so
    plain Newton would head for the saddle x = 0.  Damping makes it a descent step instead."""
    p = mg.tensor([0.1, 1.0], dtype=mg.float64, requires_grad=True)

    def f():
        return p[0] ** 4 - p[0] ** 2 + p[1] ** 2

    opt = optim.Newton([p])
    f0 = f().item()
    opt.step(f)
    assert opt.state[p]["damping"] > 0
    assert f().item() < f0 and abs(p[0].item()) > 0.1  # moved away from the saddle
    for _ in range(30):
        opt.step(f)
    np.testing.assert_allclose(p.detach().numpy(), [np.sqrt(0.5), 0.0], atol=1e-8)
    assert f().item() == pytest.approx(-0.25, abs=1e-14)


def test_newton_cg_truncates_at_negative_curvature():
    """On the saddle x² − y² every Newton step towards (0, 0) goes uphill in y; truncated CG
    must still return a descent direction, so the loss keeps falling."""
    p = mg.tensor([0.5, 0.1], dtype=mg.float64, requires_grad=True)

    def f():
        return p[0] ** 2 - p[1] ** 2

    opt = optim.NewtonCG([p], max_ls=5)
    values = [f().item()]
    for _ in range(5):
        opt.step(f)
        values.append(f().item())
    assert all(b < a for a, b in zip(values, values[1:]))
    assert abs(p[1].item()) > 0.1


def test_newton_closure_rules():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Newton([p])
    with pytest.raises(RuntimeError, match="needs a closure"):
        opt.step()

    def calls_backward():
        loss = (p ** 3).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="called backward"):
        opt.step(calls_backward)
    with pytest.raises(RuntimeError, match="no graph"):
        opt.step(lambda: (p.detach() ** 2).sum())
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Newton([{"params": [p]}, {"params": [mg.zeros(1, requires_grad=True)]}])


# -- L-BFGS ------------------------------------------------------------------------------------
def _lbfgs_minimize(start, **kw):
    p = mg.tensor(start, requires_grad=True)
    opt = optim.LBFGS([p], **kw)

    def closure():
        opt.zero_grad()
        loss = _rosen(p)
        loss.backward()
        return loss

    for _ in range(50):
        opt.step(closure)
        if float(np.abs(p.grad.numpy()).max()) <= kw.get("tolerance_grad", 1e-7):
            break
    return p.detach().numpy(), opt


@pytest.mark.parametrize("n", [2, 6])
def test_lbfgs_matches_scipy_lbfgsb_on_rosenbrock(n):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    start = np.tile([-1.2, 1.0], n // 2)
    ref = scipy_optimize.minimize(scipy_optimize.rosen, start, jac=scipy_optimize.rosen_der, method="L-BFGS-B",
                                  options=dict(gtol=1e-10, ftol=1e-15, maxiter=10000))
    assert ref.success
    # PyTorch's defaults stop once gᵀd > −1e-9, which here is around |x − 1| ~ 1e-5; tighter
    # tolerances let it run to the same accuracy as scipy's
    x, opt = _lbfgs_minimize(start, lr=1, max_iter=100, line_search_fn="strong_wolfe", tolerance_grad=1e-10,
                             tolerance_change=1e-15)
    np.testing.assert_allclose(x, ref.x, atol=1e-7)
    np.testing.assert_allclose(x, np.ones(n), atol=1e-8)
    assert opt.state[opt._params[0]]["func_evals"] < 400


def test_lbfgs_without_line_search_makes_progress_and_history_is_bounded():
    x, opt = _lbfgs_minimize(np.array([-1.2, 1.0]), lr=0.5, max_iter=20, history_size=4)
    assert _rosen(mg.tensor(x)).item() < 1e-3
    st = opt.state[opt._params[0]]
    assert len(st["old_dirs"]) <= 4 and len(st["ro"]) == len(st["old_stps"]) == len(st["old_dirs"])


def test_lbfgs_state_round_trip_resumes_bitwise(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    def closure_for(p, opt):
        def closure():
            opt.zero_grad()
            loss = _rosen(p)
            loss.backward()
            return loss
        return closure

    kw = dict(lr=1, max_iter=5, line_search_fn="strong_wolfe", history_size=3)
    p = mg.tensor([-1.2, 1.0, 0.3], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], **kw)
    for _ in range(4):
        opt.step(closure_for(p, opt))
    ref = p.detach().numpy().copy()

    q = mg.tensor([-1.2, 1.0, 0.3], dtype=mg.float64, requires_grad=True)
    opt_q = optim.LBFGS([q], **kw)
    for _ in range(2):
        opt_q.step(closure_for(q, opt_q))
    mg.save({"x": q.detach(), "opt": opt_q.state_dict()}, tmp_path / "lbfgs.safetensors")
    ck = mg.load(tmp_path / "lbfgs.safetensors")
    r = mg.tensor(ck["x"].numpy(), requires_grad=True)
    opt_r = optim.LBFGS([r], **kw)
    opt_r.load_state_dict(ck["opt"])
    for _ in range(2):
        opt_r.step(closure_for(r, opt_r))
    np.testing.assert_array_equal(r.detach().numpy(), ref)


def test_lbfgs_rules():
    p = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [mg.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step()
    assert optim.LBFGS([p], max_iter=8).defaults["max_eval"] == 10


def test_cubic_interpolation_finds_the_cubic_minimum():
    from minigrad.optim.lbfgs import cubic_minimum

    # f(x) = (x − 1)³ − 3(x − 1)... use f(x) = x³ − 3x: minimum at x = 1 (f' = 3x² − 3)
    f = lambda x: x ** 3 - 3 * x  # noqa: E731
    df = lambda x: 3 * x ** 2 - 3  # noqa: E731
    assert cubic_minimum(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0, abs=1e-12)
    assert cubic_minimum(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0, abs=1e-12)
    # clamped to the bounds, and the midpoint when the cubic has no minimiser
    assert cubic_minimum(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0), bounds=(1.5, 3.0)) == 1.5
    assert cubic_minimum(0.0, 0.0, 3.0, 1.0, 2.9, 3.0) == 0.5  # d₁² − g₁g₂ = 7.29 − 9 < 0
