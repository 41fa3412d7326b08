"""Learning-rate schedules: values against their closed forms, momentum cycling, the
"halve on plateau, stop at 1/1024" recipe, and state round trips."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as S


def _opt(lr=0.1, cls=optim.SGD, **kw):
    return cls([mg.zeros(2, requires_grad=True)], lr=lr, **kw)


def _lrs(sched, n):
    """The rate in effect at steps 0 .. n-1 (the value before each scheduler.step())."""
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    return out


def test_step_multistep_exponential():
    assert _lrs(S.StepLR(_opt(), step_size=3, gamma=0.5), 8) == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], rel=1e-15)
    # a milestone listed twice applies γ twice
    assert _lrs(S.MultiStepLR(_opt(), milestones=[2, 4, 4], gamma=0.1), 6) == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.0001, 0.0001], rel=1e-12)
    assert _lrs(S.ExponentialLR(_opt(), gamma=0.9), 5) == pytest.approx([0.1 * 0.9 ** k for k in range(5)],
                                                                        rel=1e-14)


def test_cosine_annealing_follows_its_closed_form():
    n, lo = 10, 0.01
    got = _lrs(S.CosineAnnealingLR(_opt(), T_max=n, eta_min=lo), 3 * n)
    closed = [lo + (0.1 - lo) * (1 + math.cos(math.pi * k / n)) / 2 for k in range(3 * n)]
    np.testing.assert_allclose(got, closed, rtol=0, atol=1e-14)  # down, back up, down again
    assert got[n] == pytest.approx(lo, abs=1e-15)


def test_linear_warmup_follows_its_closed_form():
    got = _lrs(S.LinearLR(_opt(), start_factor=0.25, end_factor=1.0, total_iters=4), 7)
    closed = [0.1 * (0.25 + 0.75 * min(k, 4) / 4) for k in range(7)]
    np.testing.assert_allclose(got, closed, rtol=1e-14)


def test_lambda_lr_per_group():
    opt = optim.SGD([{"params": [mg.zeros(1, requires_grad=True)]},
                     {"params": [mg.zeros(1, requires_grad=True)], "lr": 1.0}], lr=0.1)
    sched = S.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1 / (e + 1)])
    for k in range(4):
        assert sched.get_last_lr() == pytest.approx([0.1 * 0.5 ** k, 1 / (k + 1)], rel=1e-15)
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        S.LambdaLR(opt, [lambda e: 1.0])


def test_one_cycle_endpoints_and_momentum():
    total = 20
    opt = _opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=total, pct_start=0.25)
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    peak = int(0.25 * total) - 1  # the warm-up phase ends at step pct_start·total − 1
    assert lrs[0] == pytest.approx(1.0 / 25) and moms[0] == pytest.approx(0.95)
    assert lrs[peak] == pytest.approx(1.0) and moms[peak] == pytest.approx(0.85)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4) and moms[-1] == pytest.approx(0.95)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1:]))
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        sched.step()
    # with Adam it is β₁ that cycles
    adam = _opt(cls=optim.Adam)
    S.OneCycleLR(adam, max_lr=0.01, total_steps=10)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.OneCycleLR(_opt(cls=optim.Adagrad), max_lr=0.1, total_steps=10)


def test_reduce_on_plateau_halve_until_1_1024_of_the_start():
    """Halve the rate whenever validation accuracy stops improving; stop at lr0/1024."""
    lr0 = 0.1
    opt = _opt(lr=lr0)
    sched = S.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0, threshold=0.0, min_lr=lr0 / 1024)
    accuracy, epochs, halvings = 0.5, 0, 0
    while not sched.reached_min_lr:
        epochs += 1
        assert epochs < 100
        if epochs % 3:  # improves twice, then stalls once
            accuracy += 0.001
        before = opt.param_groups[0]["lr"]
        sched.step(accuracy)
        halvings += opt.param_groups[0]["lr"] < before
    assert halvings == 10 and epochs == 30
    assert opt.param_groups[0]["lr"] == lr0 / 1024 == sched.get_last_lr()[0]
    sched.step(accuracy)  # at the floor nothing changes any more
    assert opt.param_groups[0]["lr"] == lr0 / 1024 and sched.reached_min_lr


def test_reduce_on_plateau_patience_threshold_cooldown():
    opt = _opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2, threshold=0.1, cooldown=1)
    # 1.0 is the best; 0.95, 0.93, 0.92 are not 10% better: the third bad epoch (> patience) reduces.
    # The next bad epoch falls in the cooldown and is not counted; three more reduce again.
    # 0.5 is better (resets the count), then three bad epochs reduce once more.
    for loss, lr in [(1.0, 1.0), (0.95, 1.0), (0.93, 1.0), (0.92, 0.1), (0.91, 0.1), (0.91, 0.1), (0.91, 0.1),
                     (0.91, 0.01), (0.5, 0.01), (0.5, 0.01), (0.46, 0.01), (0.5, 0.001)]:
        sched.step(loss)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr), loss
    assert not sched.reached_min_lr
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(opt, mode="up")


def test_scheduler_state_round_trip(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    def make():
        opt = _opt(lr=0.5, momentum=0.9)
        return opt, S.MultiStepLR(opt, milestones=[2, 5], gamma=0.5)

    opt, sched = make()
    for _ in range(3):
        opt.step()
        sched.step()
    mg.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.safetensors")
    ck = mg.load(tmp_path / "s.safetensors")
    opt2, sched2 = make()
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    for _ in range(4):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
    assert sched2.get_last_lr() == [0.125]

    opt, plateau = _opt(), None
    plateau = S.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 2.0, 3.0):
        plateau.step(m)
    sd = plateau.state_dict()
    assert "optimizer" not in sd and sd["num_bad_epochs"] == 0 and sd["best"] == 1.0
    mg.save(sd, tmp_path / "p.safetensors")
    p2 = S.ReduceLROnPlateau(_opt(), patience=1)
    p2.load_state_dict(mg.load(tmp_path / "p.safetensors"))
    assert p2.best == 1.0 and p2.last_epoch == 3


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_opt(), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), step_size=2)
