"""First-order optimizers: hand-derived first steps, convergence, parameter groups, state
round trips, in-place/version semantics, errors, the chunked CPU path, CUDA."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import optimizer as optimizer_module

# -- the 1-D quadratic f(θ) = (θ − 3)², f'(θ) = 2(θ − 3), from θ₀ = 1 (g₀ = −4) ----------------


def _quad_steps(opt_cls, n, **kw):
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = opt_cls([p], **kw)
    out = []
    for _ in range(n):
        opt.zero_grad()
        ((p - 3) ** 2).sum().backward()
        opt.step()
        out.append(p.item())
    return out


def test_sgd_first_steps_by_hand():
    # θ₁ = 1 − 0.1·(−4) = 1.4;  g₁ = 2(1.4 − 3) = −3.2;  θ₂ = 1.4 + 0.32 = 1.72
    assert _quad_steps(optim.SGD, 2, lr=0.1) == pytest.approx([1.4, 1.72], abs=1e-15)
    # weight decay 0.1: d₀ = −4 + 0.1·1 = −3.9 → θ₁ = 1.39
    assert _quad_steps(optim.SGD, 1, lr=0.1, weight_decay=0.1) == pytest.approx([1.39], abs=1e-15)
    # maximize: θ₁ = 1 + 0.1·(−4) = 0.6
    assert _quad_steps(optim.SGD, 1, lr=0.1, maximize=True) == pytest.approx([0.6], abs=1e-15)


def test_sgd_momentum_and_nesterov_by_hand():
    # heavy ball: b₁ = g₀ = −4, θ₁ = 1.4;  g₁ = −3.2, b₂ = 0.9·(−4) − 3.2 = −6.8, θ₂ = 1.4 + 0.68 = 2.08
    assert _quad_steps(optim.SGD, 2, lr=0.1, momentum=0.9) == pytest.approx([1.4, 2.08], abs=1e-14)
    # dampening 0.5: b₂ = 0.9·(−4) + 0.5·(−3.2) = −5.2, θ₂ = 1.4 + 0.52
    assert _quad_steps(optim.SGD, 2, lr=0.1, momentum=0.9, dampening=0.5) == pytest.approx([1.4, 1.92],
                                                                                          abs=1e-14)
    # Nesterov: b₁ = −4, d = −4 + 0.9·(−4) = −7.6 → θ₁ = 1.76;  g₁ = −2.48, b₂ = −3.6 − 2.48 = −6.08,
    # d = −2.48 + 0.9·(−6.08) = −7.952 → θ₂ = 1.76 + 0.7952 = 2.5552
    assert _quad_steps(optim.SGD, 2, lr=0.1, momentum=0.9, nesterov=True) == pytest.approx([1.76, 2.5552],
                                                                                          abs=1e-14)


def test_adagrad_first_steps_by_hand():
    # G₁ = 16, θ₁ = 1 + 0.5·4/(4 + 1e-10);  g₁ ≈ −3, G₂ ≈ 25, θ₂ ≈ θ₁ + 0.5·3/5
    t1 = 1 + 0.5 * 4 / (4 + 1e-10)
    g1 = 2 * (t1 - 3)
    t2 = t1 - 0.5 * g1 / (math.sqrt(16 + g1 * g1) + 1e-10)
    assert _quad_steps(optim.Adagrad, 2, lr=0.5) == pytest.approx([t1, t2], abs=1e-14)
    assert t2 == pytest.approx(1.8, abs=1e-9)
    # lr_decay: the second step uses lr / (1 + 1·0.1); initial accumulator 1 adds to G
    t2d = t1 - 0.5 / 1.1 * g1 / (math.sqrt(16 + g1 * g1) + 1e-10)
    assert _quad_steps(optim.Adagrad, 2, lr=0.5, lr_decay=0.1)[1] == pytest.approx(t2d, abs=1e-14)
    assert _quad_steps(optim.Adagrad, 1, lr=0.5, initial_accumulator_value=9.0) == pytest.approx(
        [1 + 0.5 * 4 / (5 + 1e-10)], abs=1e-14)


def test_adadelta_first_step_by_hand():
    # E[g²]₁ = 0.1·16 = 1.6;  Δ = √(0 + 1e-6)/√(1.6 + 1e-6)·(−4);  E[Δ²]₁ = 0.1·Δ²;  θ₁ = 1 − Δ
    delta = math.sqrt(1e-6) / math.sqrt(1.6 + 1e-6) * -4
    t1 = 1 - delta
    g1 = 2 * (t1 - 3)
    sq2 = 0.9 * 1.6 + 0.1 * g1 * g1
    delta2 = math.sqrt(0.1 * delta * delta + 1e-6) / math.sqrt(sq2 + 1e-6) * g1
    assert _quad_steps(optim.Adadelta, 2) == pytest.approx([t1, t1 - delta2], abs=1e-14)
    assert _quad_steps(optim.Adadelta, 1, lr=0.5)[0] == pytest.approx(1 - 0.5 * delta, abs=1e-15)


def test_rmsprop_first_step_by_hand():
    # v₁ = 0.01·16 = 0.16 → θ₁ = 1 + 0.01·4/(0.4 + 1e-8)
    assert _quad_steps(optim.RMSprop, 1, lr=0.01)[0] == pytest.approx(1 + 0.04 / (0.4 + 1e-8), abs=1e-15)
    # centered: ḡ₁ = −0.04, s = √(0.16 − 0.0016) + 1e-8
    assert _quad_steps(optim.RMSprop, 1, lr=0.01, centered=True)[0] == pytest.approx(
        1 + 0.04 / (math.sqrt(0.1584) + 1e-8), abs=1e-15)
    # momentum 0.5: b₁ = −4/0.4 = −10 → θ₁ = 1.1;  g₁ = −3.8, v₂ = 0.99·0.16 + 0.01·14.44, b₂ = −5 − 3.8/√v₂
    b1 = -4 / (0.4 + 1e-8)
    t1 = 1 - 0.01 * b1
    g1 = 2 * (t1 - 3)
    s2 = math.sqrt(0.99 * 0.16 + 0.01 * g1 * g1) + 1e-8
    assert _quad_steps(optim.RMSprop, 2, lr=0.01, momentum=0.5) == pytest.approx(
        [t1, t1 - 0.01 * (0.5 * b1 + g1 / s2)], abs=1e-14)


def test_adam_first_steps_by_hand():
    # m₁ = −0.4, v₁ = 0.016;  m̂ = −4, v̂ = 16 → θ₁ = 1 + 0.1·4/(4 + 1e-8) ≈ 1.1
    t1 = 1 + 0.1 * 4 / (4 + 1e-8)
    g1 = 2 * (t1 - 3)
    m2 = 0.9 * -0.4 + 0.1 * g1
    v2 = 0.999 * 0.016 + 0.001 * g1 * g1
    t2 = t1 - 0.1 * (m2 / (1 - 0.9 ** 2)) / (math.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8)
    assert _quad_steps(optim.Adam, 2, lr=0.1) == pytest.approx([t1, t2], abs=1e-13)
    # AMSGrad keeps max(v): here v grows, so the first two steps agree with Adam
    assert _quad_steps(optim.Adam, 2, lr=0.1, amsgrad=True) == pytest.approx([t1, t2], abs=1e-13)
    # L2 weight decay 1: d₀ = −4 + 1 = −3, and the first step is still ≈ lr in size
    assert _quad_steps(optim.Adam, 1, lr=0.1, weight_decay=1.0)[0] == pytest.approx(1 + 0.1 * 3 / (3 + 1e-8),
                                                                                   abs=1e-14)


def test_adamw_first_step_by_hand():
    # decoupled: θ ← 1·(1 − 0.1·0.1) = 0.99, then the Adam step from g₀ = −4
    assert _quad_steps(optim.AdamW, 1, lr=0.1, weight_decay=0.1)[0] == pytest.approx(
        0.99 + 0.1 * 4 / (4 + 1e-8), abs=1e-14)
    assert optim.AdamW([mg.zeros(1, requires_grad=True)]).defaults["weight_decay"] == 1e-2


def test_adamax_first_steps_by_hand():
    # m₁ = −0.4, u₁ = max(0, 4 + 1e-8);  θ₁ = 1 − (0.1/0.1)·(−0.4)/u₁
    u1 = 4 + 1e-8
    t1 = 1 + 0.4 / u1
    g1 = 2 * (t1 - 3)
    m2 = 0.9 * -0.4 + 0.1 * g1
    u2 = max(0.999 * u1, abs(g1) + 1e-8)
    t2 = t1 - 0.1 / (1 - 0.81) * m2 / u2
    assert _quad_steps(optim.Adamax, 2, lr=0.1) == pytest.approx([t1, t2], abs=1e-14)


def test_nadam_first_step_by_hand():
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    s = math.sqrt(0.016 / 0.001) + 1e-8
    t1 = 1 - 0.1 * (1 - mu1) / (1 - mu1) * -4 / s - 0.1 * mu2 / (1 - mu1 * mu2) * -0.4 / s
    assert _quad_steps(optim.NAdam, 1, lr=0.1) == pytest.approx([t1], abs=1e-14)


# -- convergence ---------------------------------------------------------------------------
CURV = np.array([1.0, 100.0])  # bowl f = ½(x² + 100y²): condition number 100


def _bowl(x):
    return 0.5 * float((CURV * x * x).sum())


def _bowl_grad(x):
    return CURV * x


def _rosen(x):
    return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)


def _rosen_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def _steps_to(opt_factory, f, grad, start, tol, max_steps, schedule=None):
    """Steps until f < tol (analytic gradients, so only the optimizer is exercised), or None."""
    p = mg.tensor(start, dtype=mg.float64, requires_grad=True)
    opt = opt_factory([p])
    sched = schedule(opt) if schedule else None
    for k in range(1, max_steps + 1):
        p.grad = mg.tensor(grad(p.detach().numpy()))
        opt.step()
        if sched:
            sched.step()
        if f(p.detach().numpy()) < tol:
            return k
    return None


# (name, kwargs, steps allowed) on the bowl from (1.5, 0.8) to f < 1e-8
BOWL = [
    ("SGD", dict(lr=0.019), 600),
    ("SGD", dict(lr=0.015, momentum=0.9), 250),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True), 200),
    ("Adagrad", dict(lr=0.5), 60),
    ("Adadelta", dict(lr=10.0), 200),
    ("RMSprop", dict(lr=0.003, momentum=0.9), 250),
    ("Adam", dict(lr=0.1), 250),
    ("AdamW", dict(lr=0.1, weight_decay=0.0), 250),
    ("Adamax", dict(lr=0.3), 250),
    ("NAdam", dict(lr=0.1), 150),
]


@pytest.mark.parametrize("name,kw,allowed", BOWL, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BOWL)])
def test_converges_on_ill_conditioned_bowl(name, kw, allowed):
    k = _steps_to(lambda ps: getattr(optim, name)(ps, **kw), _bowl, _bowl_grad, [1.5, 0.8], 1e-8, allowed)
    assert k is not None, f"{name}({kw}) did not reach f < 1e-8 within {allowed} steps"


def _exp(gamma):
    return lambda o: optim.lr_scheduler.ExponentialLR(o, gamma)


# (name, kwargs, tolerance on f, steps allowed, schedule) on Rosenbrock from (−1.2, 1)
ROSEN = [
    ("SGD", dict(lr=0.002, momentum=0.9), 1e-5, 850, None),
    ("SGD", dict(lr=0.001, momentum=0.95, nesterov=True), 1e-5, 500, None),
    ("Adagrad", dict(lr=0.5), 1e-5, 8000, None),
    # constant-rate Adadelta stalls in the valley (its step keeps the size of past steps);
    # a decaying rate lets it settle
    ("Adadelta", dict(lr=1.0), 1e-4, 5000, _exp(0.999)),
    ("RMSprop", dict(lr=0.003, momentum=0.9), 1e-5, 1100, None),
    ("RMSprop", dict(lr=0.003, momentum=0.9, centered=True), 1e-5, 1100, None),
    ("Adam", dict(lr=0.1), 1e-5, 1400, None),
    ("Adam", dict(lr=0.1, amsgrad=True), 1e-5, 1700, None),
    ("AdamW", dict(lr=0.1, weight_decay=1e-4), 1e-5, 1400, None),
    ("Adamax", dict(lr=0.3), 1e-5, 2500, None),
    ("NAdam", dict(lr=0.02), 1e-4, 3500, None),
]


@pytest.mark.parametrize("name,kw,tol,allowed,schedule", ROSEN, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(ROSEN)])
def test_converges_on_rosenbrock(name, kw, tol, allowed, schedule):
    k = _steps_to(lambda ps: getattr(optim, name)(ps, **kw), _rosen, _rosen_grad, [-1.2, 1.0], tol, allowed,
                  schedule)
    assert k is not None, f"{name}({kw}) did not reach f < {tol} within {allowed} steps"


# -- parameter groups -------------------------------------------------------------------------
def _loss(ws):
    w, b = ws
    x = mg.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
    return ((x @ w + b).tanh() ** 2).sum() + (w * w).sum()


def _init(seed=0):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal((3, 2)), requires_grad=True),
            mg.tensor(rng.standard_normal(2), requires_grad=True)]


ALL = [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.01, weight_decay=0.5, nesterov=True)),
    ("Adagrad", dict(lr=0.1), dict(lr=0.3, lr_decay=0.1, weight_decay=0.2)),
    ("Adadelta", dict(lr=1.0), dict(lr=0.5, rho=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01), dict(lr=0.02, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.01), dict(lr=0.05, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01), dict(lr=0.05, weight_decay=0.5)),
    ("Adamax", dict(lr=0.01), dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01), dict(lr=0.05, momentum_decay=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,base,override", ALL, ids=[a[0] for a in ALL])
def test_per_group_options_equal_separate_optimizers(name, base, override):
    """A group's options apply to its parameters only: two groups behave exactly like two
    optimizers, one per group."""
    cls = getattr(optim, name)
    ps = _init()
    opt = cls([{"params": [ps[0]]}, {"params": [ps[1]], **override}], **base)
    qs = _init()
    opt_a = cls([qs[0]], **base)
    opt_b = cls([qs[1]], **{**base, **override})
    for _ in range(5):
        for params in (ps, qs):
            for p in params:
                p.grad = None
            _loss(params).backward()
        opt.step()
        opt_a.step()
        opt_b.step()
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert opt.param_groups[1]["lr"] == override["lr"] and opt.param_groups[0]["lr"] == base["lr"]


def test_group_with_zero_lr_does_not_move_and_biases_can_skip_weight_decay():
    w, b = _init()
    w0, b0 = w.detach().numpy().copy(), b.detach().numpy().copy()
    opt = optim.SGD([{"params": [w], "lr": 0.0}, {"params": [b], "weight_decay": 0.0}], lr=0.1, weight_decay=0.3)
    _loss([w, b]).backward()
    g = b.grad.numpy().copy()
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), w0)
    np.testing.assert_allclose(b.detach().numpy(), b0 - 0.1 * g, rtol=0, atol=1e-15)
    assert opt.param_groups[0]["weight_decay"] == 0.3 and opt.param_groups[1]["weight_decay"] == 0.0


def test_add_param_group_and_parameters_without_grad():
    w, b = _init()
    opt = optim.Adam([w], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    b0 = b.detach().numpy().copy()
    (w * w).sum().backward()  # b gets no gradient: it must be left alone, and get no state
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), b0)
    assert b not in opt.state and opt.state[w]["step"] == 1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})


# -- state dict ----------------------------------------------------------------------------------
ROUND_TRIP = ALL + [("SGD", dict(lr=0.1), dict(lr=0.05, momentum=0.5, dampening=0.2))]


def _train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss(params).backward()
        opt.step()


@pytest.mark.parametrize("name,base,override", ROUND_TRIP, ids=[a[0] for a in ROUND_TRIP])
def test_state_dict_round_trip_through_a_file_resumes_bitwise(name, base, override, tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    cls = getattr(optim, name)
    make = lambda ps: cls([{"params": [ps[0]]}, {"params": [ps[1]], **override}], **base)  # noqa: E731
    ref = _init()
    opt_ref = make(ref)
    _train(opt_ref, ref, 8)

    ps = _init()
    opt = make(ps)
    _train(opt, ps, 4)
    mg.save({"params": [p.detach() for p in ps], "optim": opt.state_dict()}, tmp_path / "ckpt.safetensors")
    ckpt = mg.load(tmp_path / "ckpt.safetensors")
    qs = [mg.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    opt2 = make(qs)
    opt2.param_groups[0]["lr"] = 123.0  # overwritten by the loaded hyper-parameters
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == base["lr"]
    _train(opt2, qs, 4)
    for p, q in zip(ref, qs):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    sd = opt2.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]


def test_load_state_dict_copies_casts_and_checks_sizes():
    w = mg.tensor(np.ones((2, 2)), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"] is opt.state[w]["exp_avg"]  # live references, as PyTorch
    w32 = mg.tensor(np.ones((2, 2)), dtype=mg.float32, requires_grad=True)
    opt32 = optim.Adam([w32])
    opt32.load_state_dict(sd)
    st = opt32.state[w32]
    assert st["exp_avg"].dtype == mg.float32 and st["step"] == 1
    assert st["exp_avg"]._data is not sd["state"][0]["exp_avg"]._data
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [w32]}, {"params": [mg.zeros(1, requires_grad=True)]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 1 parameters"):
        optim.Adam([w32, mg.zeros(1, requires_grad=True)]).load_state_dict(sd)


# -- in-place semantics ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_step_is_in_place_and_bumps_the_version(name):
    w, b = _init()
    arr = w._data
    opt = getattr(optim, name)([w, b], lr=0.1)
    loss = _loss([w, b])
    loss.backward(retain_graph=True)
    v0 = w._version
    opt.step()
    assert w._data is arr and w._version == v0 + 1
    assert w.grad_fn is None and w.requires_grad
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()  # the graph saved w before the step


def test_step_records_nothing_and_closure_runs_with_grad():
    w, b = _init()
    opt = optim.SGD([w, b], lr=0.1)
    seen = []

    def closure():
        seen.append(mg.is_grad_enabled())
        opt.zero_grad()
        loss = _loss([w, b])
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and isinstance(loss, mg.Tensor)
    assert w.grad_fn is None and w.is_leaf


def test_zero_grad():
    w, b = _init()
    opt = optim.SGD([w, b])
    _loss([w, b]).backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and not w.grad.numpy().any()
    opt.zero_grad()
    assert w.grad is None and b.grad is None


def test_chunked_cpu_path_is_bitwise_identical(monkeypatch):
    """Large parameters are updated in cache-sized pieces, small ones whole; that must not change
    a single bit (also for non-contiguous parameters, which take the unchunked path)."""
    rng = np.random.default_rng(1)
    base = rng.standard_normal((50, 61))
    grads = [rng.standard_normal((50, 61)) for _ in range(3)]

    def run(chunk_bytes, cls, kw, transposed=False):
        monkeypatch.setattr(optimizer_module, "_CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(optimizer_module, "_WHOLE_BYTES", 0 if chunk_bytes < base.nbytes else 1 << 22)
        arr = base.T.copy().T if transposed else base.copy()  # Fortran order: not C-contiguous
        p = mg.from_numpy(arr).requires_grad_()
        opt = cls([p], **kw)
        for g in grads:
            p.grad = mg.tensor(g)
            opt.step()
        return p.detach().numpy()

    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.1, amsgrad=True)),
                     ("Adam", dict(lr=0.1)), ("AdamW", dict(lr=0.1)),
                     ("NAdam", dict(lr=0.1, weight_decay=0.1)), ("Adadelta", {}),
                     ("RMSprop", dict(centered=True, momentum=0.5)), ("Adamax", {}), ("Adagrad", {})]:
        cls = getattr(optim, name)
        whole = run(1 << 20, cls, kw)
        pieces = run(8 * 1024, cls, kw)  # 1024-element chunks: 3050 elements in 3 pieces
        np.testing.assert_array_equal(whole, pieces, err_msg=name)
        np.testing.assert_array_equal(whole, run(8 * 1024, cls, kw, transposed=True), err_msg=name)


def test_cpu_scratch_is_shared_by_parameters_and_regrown_for_larger_ones():
    """The chunked forms' scratch arrays are views of one set of flat buffers per dtype and thread,
    shared by every parameter and optimizer the thread steps and sized to the largest parameter
    (not one set per shape); growing them for a later, larger parameter must not disturb the
    updates of the others.  (Run in a fresh thread, whose scratch starts empty.)"""
    found = []

    def steps() -> None:
        rng = np.random.default_rng(2)
        shapes = [(3, 4), (5,), (7, 9), (2, 2)]  # (7, 9) arrives after smaller ones: the buffers grow
        start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
        start64 = rng.standard_normal(6)
        together = [mg.tensor(a.copy(), requires_grad=True) for a in start] + [mg.tensor(start64.copy(),
                                                                                         requires_grad=True)]
        alone = [mg.tensor(a.copy(), requires_grad=True) for a in start]
        opt = optim.Adam(together, lr=0.1)
        singles = [optim.Adam([p], lr=0.1) for p in alone]
        for step_grads in grads:
            for p, q, g in zip(together, alone, step_grads):
                p.grad, q.grad = mg.tensor(g), mg.tensor(g)
            together[-1].grad = mg.tensor(np.ones(6))
            opt.step()
            for single in singles:
                single.step()
        found.append(([p.detach().numpy() for p in together], [q.detach().numpy() for q in alone],
                      optimizer_module.thread_scratch().flat))

    thread = threading.Thread(target=steps)
    thread.start()
    thread.join()
    assert found, "the steps raised in their thread (see the warning above)"
    together, alone, flat = found[0]
    for p, q in zip(together, alone):
        np.testing.assert_array_equal(p, q)
    assert optimizer_module.thread_scratch().flat is not flat  # (each thread its own)
    assert sorted(str(d) for d in flat) == ["float32", "float64"]
    assert [len(w) for w in flat[np.dtype(np.float32)]] == [63, 63]  # Adam's two, sized to (7, 9)
    assert [len(w) for w in flat[np.dtype(np.float64)]] == [6, 6]


def test_float32_parameters_stay_float32():
    p = mg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.dtype == mg.float32 and opt.state[p]["exp_avg"].dtype == mg.float32
    np.testing.assert_allclose(p.detach().numpy(), 0.9, rtol=1e-6)


# -- errors -------------------------------------------------------------------------------------
def test_bad_arguments_give_clear_errors():
    w = mg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2])
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD([mg.zeros(2, dtype=mg.int64)])
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([w, w])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid rho"):
        optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="Invalid momentum"):
        optim.SGD([{"params": [w], "momentum": -1}], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD([{"params": {w}}])
    opt = optim.SGD([w], lr=0.1)
    w.grad = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient of shape \(3,\)"):
        opt.step()


# -- CUDA ------------------------------------------------------------------------------------------
@pytest.mark.cuda
@pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA not available (needs CuPy and a CUDA GPU)")
@pytest.mark.parametrize("name,base,override", ALL + [("SGD", dict(lr=0.1), dict(lr=0.2))],
                         ids=[a[0] for a in ALL] + ["SGD-plain"])
def test_cuda_fused_update_matches_cpu(name, base, override):
    cls = getattr(optim, name)
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((7, 5)), rng.standard_normal(5)]
    grads = [[rng.standard_normal(s.shape) for s in start] for _ in range(6)]
    finals = {}
    for dev in ("cpu", "cuda"):
        ps = [mg.tensor(s, device=dev, requires_grad=True) for s in start]
        opt = cls([{"params": [ps[0]]}, {"params": [ps[1]], **override, "maximize": True}], **base)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = mg.tensor(g, device=dev)
            opt.step()
        assert all(p.device == dev for p in ps)
        for st in opt.state.values():
            for v in st.values():
                if isinstance(v, mg.Tensor):
                    assert v.device == dev
        finals[dev] = [p.detach().cpu().numpy() for p in ps]
    for a, b in zip(finals["cpu"], finals["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_state_is_a_defaultdict_like_pytorch():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    assert opt.state[w] == {}  # looking does not break the first step
    (w * w).sum().backward()
    opt.step()
    assert opt.state[w]["step"] == 1 and set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}


def test_plain_sgd_is_bitwise_the_textbook_update_and_bumps_versions():
    """θ ← θ − lr·g exactly as NumPy computes it with the Python number lr, for each dtype,
    also when the learning rate changes between steps; and each updated parameter's version
    moves on, so a graph recorded before the step refuses to backward."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a0, g0 = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
        b0, h0 = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
        p, q, idle = mg.nn.Parameter(mg.tensor(a0)), mg.nn.Parameter(mg.tensor(b0)), mg.nn.Parameter(mg.zeros(2))
        opt = optim.SGD([p, q, idle], lr=0.1)
        want_p, want_q = a0.copy(), b0.copy()
        for lr in (0.1, 0.1, 0.037):
            opt.param_groups[0]["lr"] = lr
            p.grad, q.grad = mg.tensor(g0), mg.tensor(h0)
            before = (p._version, q._version, idle._version)
            opt.step()
            want_p, want_q = want_p - g0 * lr, want_q - h0 * lr
            np.testing.assert_array_equal(p.detach().numpy(), want_p)
            np.testing.assert_array_equal(q.detach().numpy(), want_q)
            assert (p._version, q._version, idle._version) == (before[0] + 1, before[1] + 1, before[2])
        y = (p * p).sum()  # (saves p for its backward)
        p.grad = mg.ones_like(p)
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.backward()


def test_plain_sgd_names_a_gradient_that_does_not_match_its_parameter():
    p, q = mg.nn.Parameter(mg.zeros(3)), mg.nn.Parameter(mg.zeros(2, 2))
    opt = optim.SGD([p, q], lr=0.1)
    p.grad, q.grad = mg.zeros(3), mg.zeros(4)
    with pytest.raises(RuntimeError, match=r"SGD: parameter 1 of group 0 .* gradient of shape \(4,\)"):
        opt.step()
