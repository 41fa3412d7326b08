"""The fused CUDA update kernels (the ``*_update_cuda_fused`` forms), checked without a GPU.

Each kernel body is CUDA C++ for one element; tests/_host_kernels.py compiles every body as
plain C++ with a host compiler (T = double), wrapped in a loop over the elements, and runs it
on NumPy arrays in place of ``cupy.ElementwiseKernel``.  Each fused form must then compute what
its rule's plain form computes, to rounding (the kernel works in double precision and rounds
once), over random shapes, values and every option; and the optimizers, sent down their CUDA
branch, must follow the plain forms' trajectories.  Skipped when no C++ compiler is found; on a
GPU, test_update_forms.py runs the kernels themselves.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim
from minigrad.optim import optimizer

from _host_kernels import CXX, kernels_on_host
from optim_rules import RULE_IDS, RULES, assert_within_rounding, draw_case

pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels on the host")

# every option that changes a kernel's code (the others are numbers passed to it)
_FLAGS = {
    "sgd": ("momentum", "nesterov", "maximize"),
    "adagrad": ("maximize",),
    "adadelta": ("maximize",),
    "rmsprop": ("centered", "momentum", "maximize"),
    "adam": ("amsgrad", "maximize", "decoupled_weight_decay"),
    "adamax": ("maximize",),
    "nadam": ("maximize", "decoupled_weight_decay"),
}


def _every_variant(host):
    """Call every kernel variant once (recording only) so that one library holds them all."""
    a = np.zeros(2)
    state = dict(step=1, lr=0.1, weight_decay=0.1, eps=1e-8, beta1=0.9, beta2=0.99)
    for rule in RULES:
        names = _FLAGS[rule.name]
        for values in itertools.product([False, True], repeat=len(names)):
            flags = dict(zip(names, values))
            if rule.name == "sgd":
                kw = dict(lr=0.1, momentum=0.9 if flags["momentum"] else 0.0, dampening=0.0, weight_decay=0.1,
                          nesterov=flags["nesterov"], maximize=flags["maximize"])
                rule.cuda_fused(a, a, a, **kw)
            elif rule.name == "adagrad":
                rule.cuda_fused(a, a, a, step=1, lr=0.1, lr_decay=0.0, weight_decay=0.1, eps=1e-10, **flags)
            elif rule.name == "adadelta":
                rule.cuda_fused(a, a, a, a, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, **flags)
            elif rule.name == "rmsprop":
                rule.cuda_fused(a, a, a, lr=0.1, alpha=0.99, eps=1e-8, weight_decay=0.1,
                                momentum=0.9 if flags["momentum"] else 0.0, centered=flags["centered"],
                                grad_avg=a, momentum_buffer=a, maximize=flags["maximize"])
            elif rule.name == "adam":
                rule.cuda_fused(a, a, a, a, **state, max_exp_avg_sq=a, **flags)
            elif rule.name == "adamax":
                rule.cuda_fused(a, a, a, a, **state, **flags)
            else:
                rule.cuda_fused(a, a, a, a, **state, mu_product=1.0, momentum_decay=4e-3, **flags)


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    with kernels_on_host(_every_variant, tmp_path_factory.mktemp("kernels")) as host:
        yield host


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fused_kernel_computes_the_plain_form(host_kernels, rule, data):
    case = draw_case(data, rule, np.float64)  # (C order: the host stand-in writes outputs through flat pointers)
    before = case.copy().arrays()
    plain, fused = case.copy(), case.copy()
    assert fused.run(rule.cuda_fused) == plain.run(rule.plain)
    expected, actual = plain.arrays(), fused.arrays()
    np.testing.assert_array_equal(actual["grad"], before["grad"])
    for name, want in expected.items():
        assert_within_rounding(actual[name], want, before[name], f"{rule.name} {name}")


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.7, rho=0.8, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.4, 0.9), amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_cuda_branch_follows_the_plain_forms(host_kernels, monkeypatch, name, kw):
    """The optimizer's own dispatch sends CUDA arrays to the fused forms (here NumPy arrays, with
    ``is_cuda_array`` answering yes); 8 steps land where the plain forms do."""
    rng = np.random.default_rng(2)
    start = rng.standard_normal((4, 5))
    grads = [rng.standard_normal((4, 5)) for _ in range(8)]

    def run(form: str) -> np.ndarray:
        p = mg.tensor(start, requires_grad=True)
        opt = getattr(optim, name)([p], **kw)
        opt.update_form = form
        with monkeypatch.context() as m:
            if form == "fast":
                m.setattr(optimizer, "is_cuda_array", lambda a: True)
            for g in grads:
                p.grad = mg.tensor(g)
                opt.step()
        return p.detach().numpy()

    plain = run("plain")
    fused = run("fast")
    assert not np.allclose(plain, start)
    np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=1e-13)
