"""The fused CUDA update kernels (minigrad/optim/_fused.py), checked without a GPU.

Each kernel body is CUDA C++ for one element.  Here every body is compiled as plain C++
with a host compiler (T = double), wrapped in a loop over the elements, and a stand-in
for ``cupy.ElementwiseKernel`` runs it on NumPy arrays.  The optimizers are then driven
through their CUDA branch and must reproduce the CPU path's trajectories.  Skipped when
no C++ compiler is found; the real GPU check is in test_optim_first_order.py.
"""
from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess

import numpy as np
import pytest

import minigrad as mg
from minigrad import _device, optim
from minigrad.optim import _fused

CXX = shutil.which("g++") or shutil.which("clang++")
pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels on the host")


def _signature(in_params: str, out_params: str) -> list:
    """[(C type, name, is_array, is_output)] for the kernel's parameters, inputs then outputs."""
    out = []
    for spec, is_out in ((in_params, False), (out_params, True)):
        for item in spec.split(","):
            typ, name = item.split()
            out.append((typ, name, typ == "T", is_out))
    return out


def _c_function(fname: str, in_params: str, out_params: str, body: str) -> str:
    sig = _signature(in_params, out_params)
    args = []
    for typ, name, is_array, _ in sig:
        args.append(f"T* {name}_arr" if is_array else ("double " if typ == "float64" else "int ") + name)
    binds = []
    for typ, name, is_array, is_out in sig:
        if is_array:
            binds.append(f"T& {name} = {name}_arr[i];" if is_out else f"const T {name} = {name}_arr[i];")
    return (f'extern "C" void {fname}({", ".join(args)}, long n) {{\n'
            f'  for (long i = 0; i < n; ++i) {{\n    {" ".join(binds)}\n{body}\n  }}\n}}\n')


class _Recorder:
    """Stands in for the cupy module: records the kernels, later runs them through ctypes."""

    def __init__(self):
        self.kernels = {}
        self.lib = None

    def ElementwiseKernel(self, in_params, out_params, body, name):  # noqa: N802 (cupy's name)
        key = hashlib.sha1((in_params + out_params + body).encode()).hexdigest()[:16]
        self.kernels.setdefault(key, (in_params, out_params, body))
        rec = self

        class Kernel:
            def __call__(self, *args):
                if rec.lib is None:  # still recording
                    return
                fn = getattr(rec.lib, "k_" + key)
                sig = _signature(in_params, out_params)
                c_args = []
                n = None
                for (typ, _, is_array, _), a in zip(sig, args):
                    if is_array:
                        assert a.dtype == np.float64 and a.flags.c_contiguous
                        n = a.size
                        c_args.append(a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
                    else:
                        c_args.append(ctypes.c_double(a) if typ == "float64" else ctypes.c_int(int(a)))
                fn(*c_args, ctypes.c_long(n))

        return Kernel()


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
    rec = _Recorder()
    mp = pytest.MonkeyPatch()
    mp.setattr(_device, "cupy_module", lambda: rec)
    mp.setattr(_fused, "_kernels", {})
    _every_variant(rec)  # the calls do nothing yet: the library does not exist
    d = tmp_path_factory.mktemp("kernels")
    src = ["#include <cmath>", "using std::sqrt; using std::fabs;", "typedef double T;"]
    src += [_c_function("k_" + key, *spec) for key, spec in rec.kernels.items()]
    (d / "k.cpp").write_text("\n".join(src))
    proc = subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-o", str(d / "k.so"), str(d / "k.cpp")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rec.lib = ctypes.CDLL(str(d / "k.so"))
    yield rec
    mp.undo()


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
