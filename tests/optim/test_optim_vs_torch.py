"""50-step trajectories of every optimizer (several option combinations, in its plain and its
fast update forms) and every schedule against ``torch.optim`` in float64, to 1e-10.  Skipped when
PyTorch is not importable."""
from __future__ import annotations


import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

STEPS = 50
TOL = 1e-10


@pytest.fixture(autouse=True)
def _torch_float64():
    """PyTorch keeps some optimizer scalars (NAdam's μ-product, step counts) in the default
    dtype; make that float64 so both sides compute in double precision."""
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(prev)


def _problem(seed: int = 0):
    """Two parameters (a matrix and a vector) and a smooth non-quadratic loss of them."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((3, 4))
    b0 = rng.standard_normal(4)
    x = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 4))
    return w0, b0, x, y


def _loss(lib, w, b, x, y):
    z = x @ w + b
    return ((lib.tanh(z) - y) ** 2).mean() + 0.05 * (w * w).sum() + lib.log(1 + (b - 0.3) ** 2).sum()


def _run_pair(mg_cls, torch_cls, kwargs, groups=None, steps=STEPS, schedule=None, update_form="fast"):
    w0, b0, x, y = _problem()
    wm = mg.tensor(w0, requires_grad=True)
    bm = mg.tensor(b0, requires_grad=True)
    wt = torch.tensor(w0, requires_grad=True)
    bt = torch.tensor(b0, requires_grad=True)
    if groups is None:
        om = mg_cls([wm, bm], **kwargs)
        ot = torch_cls([wt, bt], **kwargs)
    else:
        om = mg_cls([{"params": [wm], **groups[0]}, {"params": [bm], **groups[1]}], **kwargs)
        ot = torch_cls([{"params": [wt], **groups[0]}, {"params": [bt], **groups[1]}], **kwargs)
    om.update_form = update_form
    sm = st = None
    if schedule is not None:
        sm = schedule[0](om)
        st = schedule[1](ot)
    xm, ym = mg.tensor(x), mg.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for k in range(steps):
        om.zero_grad()
        _loss(mg, wm, bm, xm, ym).backward()
        om.step()
        ot.zero_grad()
        _loss(torch, wt, bt, xt, yt).backward()
        ot.step()
        if sm is not None:
            sm.step()
            st.step()
            assert np.allclose(sm.get_last_lr(), st.get_last_lr(), rtol=1e-12, atol=0), k
        np.testing.assert_allclose(wm.detach().numpy(), wt.detach().numpy(), rtol=TOL, atol=TOL,
                                   err_msg=f"step {k + 1}")
        np.testing.assert_allclose(bm.detach().numpy(), bt.detach().numpy(), rtol=TOL, atol=TOL,
                                   err_msg=f"step {k + 1}")
    return wm, bm


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.2, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.02)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, weight_decay=0.03)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, centered=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.9), amsgrad=True, maximize=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.95), weight_decay=0.05, eps=1e-4)),
    ("Adamax", dict(lr=0.05, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, betas=(0.85, 0.99), momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.05, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, maximize=True)),
]


@pytest.mark.parametrize("update_form", ["fast", "plain"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs, update_form):
    """Both the plain update rules (``*_update``, as the papers write them) and the fast forms the
    optimizers run by default."""
    _run_pair(getattr(optim, name), getattr(torch.optim, name), kwargs, update_form=update_form)


@pytest.mark.parametrize("name,kwargs,groups", [
    ("SGD", dict(lr=0.05, momentum=0.9), [dict(weight_decay=0.1), dict(lr=0.01, nesterov=True)]),
    ("Adam", dict(lr=0.05), [dict(weight_decay=0.1, amsgrad=True), dict(lr=0.01, betas=(0.5, 0.9))]),
    ("RMSprop", dict(lr=0.01), [dict(centered=True), dict(momentum=0.5)]),
])
def test_parameter_groups_match_torch(name, kwargs, groups):
    _run_pair(getattr(optim, name), getattr(torch.optim, name), kwargs, groups)
    _run_pair(getattr(optim, name), getattr(torch.optim, name), kwargs, groups, update_form="plain")


def _sched(name, **kw):
    return (lambda o: getattr(optim.lr_scheduler, name)(o, **kw),
            lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kw))


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=20, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=10)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=30)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + 0.1 * e))),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=60)),
    ("OneCycleLR", dict(max_lr=[0.1, 0.05], total_steps=55, anneal_strategy="linear", three_phase=True)),
    ("OneCycleLR", dict(max_lr=0.1, epochs=5, steps_per_epoch=12, pct_start=0.25, div_factor=10.0,
                        cycle_momentum=False)),
]


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kw):
    # OneCycleLR also cycles SGD's momentum; run it with Adam's β₁ too
    for opt in (["SGD", "Adam"] if name == "OneCycleLR" else ["SGD"]):
        _schedule_case(opt, name, kw)


def _schedule_case(opt, name, kw):
    kwargs = dict(lr=0.05, momentum=0.9) if opt == "SGD" else dict(lr=0.05)
    _run_pair(getattr(optim, opt), getattr(torch.optim, opt), kwargs,
              groups=[dict(), dict(lr=0.02)], schedule=_sched(name, **kw))


@pytest.mark.parametrize("kw", [
    dict(mode="min", factor=0.5, patience=2),
    dict(mode="max", factor=0.3, patience=0, threshold=0.01, threshold_mode="abs", cooldown=2, min_lr=1e-3),
    dict(mode="min", factor=0.5, patience=1, threshold=0.05, cooldown=1, min_lr=[1e-3, 2e-3]),
])
def test_reduce_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), 0.5 + 0.05 * rng.standard_normal(60)])
    pm = [mg.zeros(2, requires_grad=True), mg.zeros(2, requires_grad=True)]
    pt = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
    om = optim.SGD([{"params": [pm[0]]}, {"params": [pm[1]], "lr": 0.3}], lr=0.1)
    ot = torch.optim.SGD([{"params": [pt[0]]}, {"params": [pt[1]], "lr": 0.3}], lr=0.1)
    sm = optim.lr_scheduler.ReduceLROnPlateau(om, **kw)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(ot, **kw)
    for m in metrics:
        ot.step()
        sm.step(float(m))
        st.step(float(m))
        assert sm.get_last_lr() == st.get_last_lr()
        assert sm.num_bad_epochs == st.num_bad_epochs and sm.best == st.best


def _rosen_mg(p):
    return (100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2).sum()


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.5, max_iter=30, history_size=5),
    dict(lr=1, max_iter=40, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=15, history_size=3, line_search_fn="strong_wolfe", tolerance_change=1e-12),
])
def test_lbfgs_matches_torch(kwargs):
    """Every evaluation point of the first 10 closure calls (iterations and line-search trials)
    agrees with PyTorch's to 1e-9: far from the minimum no branch of the algorithm is decided
    by the last bits.  Near the minimum the stopping tests (loss change < tolerance_change and
    the like) compare numbers that rounding does move, so there both runs are only required to
    reach the same local minimum of 4-D Rosenbrock, near (−0.776, 0.613, 0.382, 0.146), within
    the evaluation budget."""
    start = np.array([-1.2, 1.0, 0.5, -0.3])
    pm = mg.tensor(start, requires_grad=True)
    pt = torch.tensor(start, requires_grad=True)
    om = optim.LBFGS([pm], **kwargs)
    ot = torch.optim.LBFGS([pt], **kwargs)
    seen_m, seen_t = [], []

    def cm():
        om.zero_grad()
        loss = _rosen_mg(pm)
        loss.backward()
        seen_m.append((loss.item(), pm.detach().numpy().copy()))
        return loss

    def ct():
        ot.zero_grad()
        loss = _rosen_mg(pt)
        loss.backward()
        seen_t.append((loss.item(), pt.detach().numpy().copy()))
        return loss

    steps = 4
    for _ in range(steps):
        om.step(cm)
        ot.step(ct)
    assert len(seen_m) >= 10 and len(seen_t) >= 10
    for k, ((lm, xm), (lt, xt)) in enumerate(zip(seen_m[:10], seen_t[:10])):
        assert lm == pytest.approx(lt, rel=1e-9, abs=1e-9), f"evaluation {k}"
        np.testing.assert_allclose(xm, xt, rtol=1e-9, atol=1e-9, err_msg=f"evaluation {k}")
    assert seen_m[9][0] > 3.7015  # (still well above the minimum: these were the early steps)

    final_m, final_t = _rosen_mg(pm).item(), _rosen_mg(pt).item()
    assert final_m == pytest.approx(final_t, rel=1e-8)
    assert 3.7014 < final_m < 3.70143
    np.testing.assert_allclose(pm.detach().numpy(), pt.detach().numpy(), rtol=0, atol=1e-4)
    budget = steps * (om.defaults["max_eval"] + 1)  # a line search may overrun max_eval by one
    for st in (om.state[pm], ot.state[pt]):
        assert st["n_iter"] <= steps * kwargs["max_iter"] and st["func_evals"] <= budget
