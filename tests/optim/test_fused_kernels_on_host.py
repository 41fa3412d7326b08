"""The fused CUDA update kernels (minigrad/optim/_fused.py), checked without a GPU.

Each kernel body is CUDA C++ for one element; tests/_host_kernels.py compiles every body as
plain C++ with a host compiler (T = double), wrapped in a loop over the elements, and runs it
on NumPy arrays in place of ``cupy.ElementwiseKernel``.  The optimizers are then driven
through their CUDA branch and must reproduce the CPU path's trajectories.  Skipped when
no C++ compiler is found; the real GPU check is in test_optim_first_order.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import _fused

from _host_kernels import CXX, kernels_on_host

pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels on the host")


def _every_variant(rec):
    """Call every kernel variant once (recording only) so one library holds them all."""
    a = np.zeros(2)
    for mx in (False, True):
        _fused.sgd(a, a, None, 0.1, 0, 0, 0, False, mx, False)
        _fused.sgd(a, a, a, 0.1, 0.9, 0, 0.1, True, mx, True)
        _fused.sgd(a, a, a, 0.1, 0.9, 0.1, 0.1, False, mx, False)
        _fused.adagrad(a, a, a, 0.1, 1e-10, 0.1, mx)
        _fused.adadelta(a, a, a, a, 1, 0.9, 1e-6, 0.1, mx)
        for ga in (None, a):
            for buf in (None, a):
                _fused.rmsprop(a, a, a, ga, buf, 0.1, 0.99, 1e-8, 0.1, 0.9, mx)
        for vm in (None, a):
            for dec in (False, True):
                _fused.adam(a, a, a, a, vm, 0.1, 0.9, 0.999, 1e-8, 0.1, 1.0, 1.0, dec, mx)
        _fused.adamax(a, a, a, a, 0.1, 0.9, 0.999, 1e-8, 0.1, mx)
        for dec in (False, True):
            _fused.nadam(a, a, a, a, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.5, -0.1, -0.1, dec, mx)


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    with kernels_on_host(_every_variant, tmp_path_factory.mktemp("kernels")) as host:
        yield host


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
def test_fused_kernel_reproduces_the_cpu_path(host_kernels, monkeypatch, name, kw):
    rng = np.random.default_rng(2)
    start = rng.standard_normal((4, 5))
    grads = [rng.standard_normal((4, 5)) for _ in range(8)]

    def run(fused: bool) -> np.ndarray:
        if fused:  # send the optimizer down its CUDA branch, with NumPy arrays
            for mod in ("sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamax", "nadam"):
                monkeypatch.setattr(f"minigrad.optim.{mod}.is_cuda_array", lambda a: True)
        p = mg.tensor(start, requires_grad=True)
        opt = getattr(optim, name)([p], **kw)
        for g in grads:
            p.grad = mg.tensor(g)
            opt.step()
        monkeypatch.undo()
        return p.detach().numpy()

    cpu = run(False)
    fused = run(True)
    assert not np.allclose(cpu, start)
    np.testing.assert_allclose(fused, cpu, rtol=1e-12, atol=1e-13)
