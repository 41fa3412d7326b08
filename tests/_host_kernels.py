"""Run minigrad's CuPy ``ElementwiseKernel`` bodies on the CPU, so CI checks their arithmetic
without a GPU.

Each kernel body is CUDA C++ for one element.  ``HostCupy`` stands in for the ``cupy`` module
(everything but ``ElementwiseKernel`` is NumPy's): a first pass only records the kernels; then
``build`` compiles every body as plain C++ with a host compiler (``T``, ``U`` = double, ``I`` = int64),
wrapped in a loop over the elements, and later kernel calls run that code through ctypes on
NumPy arrays.  ``raw`` parameters become pointers indexed by the loop index ``i``, as in CuPy
for contiguous arrays.
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from minigrad import devices
from minigrad.ops import cuda_kernels

CXX = shutil.which("g++") or shutil.which("clang++")

_C_TYPES = {"T": "double", "U": "double", "I": "long long", "float64": "double", "int64": "long long", "int32": "int"}
_NP_TYPES = {"T": np.float64, "U": np.float64, "I": np.int64, "float64": np.float64, "int64": np.int64, "int32": np.int32}
_CT_SCALARS = {"float64": ctypes.c_double, "int64": ctypes.c_longlong, "int32": ctypes.c_int}
_PREAMBLE = """#include <cmath>
#include <cstring>
using std::sqrt; using std::fabs; using std::exp; using std::log;
typedef double T; typedef double U; typedef long long I;
static inline double __longlong_as_double(unsigned long long b) { double d; std::memcpy(&d, &b, 8); return d; }
"""


def signature(in_params: str, out_params: str) -> list:
    """[(type, name, is_raw, is_array, is_output)] for the kernel's parameters, inputs then outputs."""
    out = []
    for spec, is_out in ((in_params, False), (out_params, True)):
        for item in spec.split(","):
            words = item.split()
            raw = words[0] == "raw"
            typ, name = words[-2], words[-1]
            # (CuPy decides per call whether a typed input is an array or a scalar; minigrad's
            # kernels pass arrays as T / I / raw and outputs, numbers as float64 / int64 / int32.)
            out.append((typ, name, raw, raw or is_out or typ in ("T", "U", "I"), is_out))
    return out


def c_function(fname: str, in_params: str, out_params: str, body: str) -> str:
    sig = signature(in_params, out_params)
    args, binds = [], []
    for typ, name, raw, is_array, is_out in sig:
        ctype = _C_TYPES[typ]
        if raw:
            args.append(f"{ctype}* {name}")
        elif is_array:
            args.append(f"{ctype}* {name}_arr")
            binds.append(f"{ctype}& {name} = {name}_arr[i];" if is_out else f"const {ctype} {name} = {name}_arr[i];")
        else:
            args.append(f"{ctype} {name}")
    return (f'extern "C" void {fname}({", ".join(args)}, long long n) {{\n'
            f'  for (long long i = 0; i < n; ++i) {{\n    {" ".join(binds)}\n{body}\n  }}\n}}\n')


class HostCupy:
    """A stand-in for the ``cupy`` module: NumPy, plus ``ElementwiseKernel`` run as host C++."""

    def __init__(self):
        self.kernels = {}
        self.lib = None

    def __getattr__(self, name):
        return getattr(np, name)

    def build(self, directory: Path) -> None:
        src = [_PREAMBLE] + [c_function("k_" + key, *spec) for key, spec in self.kernels.items()]
        (directory / "k.cpp").write_text("\n".join(src))
        proc = subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-o", str(directory / "k.so"), str(directory / "k.cpp")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        self.lib = ctypes.CDLL(str(directory / "k.so"))

    def ElementwiseKernel(self, in_params, out_params, body, name):  # noqa: N802 (cupy's name)
        key = hashlib.sha1((in_params + out_params + body).encode()).hexdigest()[:16]
        self.kernels.setdefault(key, (in_params, out_params, body))
        host = self
        sig = signature(in_params, out_params)

        class Kernel:
            def __call__(self, *args):
                n_in = sum(1 for s in sig if not s[4])
                args = list(args)
                if len(args) == n_in:  # outputs not given: shaped like the first input array
                    like = next(a for a, s in zip(args, sig) if s[3])
                    args += [np.empty(like.shape, _NP_TYPES[s[0]]) for s in sig if s[4]]
                if host.lib is None:  # still recording
                    return tuple(args[n_in:]) if len(args) - n_in > 1 else args[-1]
                c_args, n, keep = [], None, []
                for (typ, _, raw, is_array, is_out), a in zip(sig, args):
                    if is_array:
                        if not is_out:  # CuPy reads a strided input (a broadcast, say) through its strides
                            a = np.ascontiguousarray(a)
                            keep.append(a)
                        assert a.dtype == _NP_TYPES[typ] and a.flags.c_contiguous, (typ, a.dtype)
                        if not raw and n is None:
                            n = a.size
                        c_args.append(a.ctypes.data_as(ctypes.c_void_p))
                    else:
                        c_args.append(_CT_SCALARS[typ](a))
                getattr(host.lib, "k_" + key)(*c_args, ctypes.c_longlong(n))
                return tuple(args[n_in:]) if len(args) - n_in > 1 else args[-1]

        return Kernel()


@contextlib.contextmanager
def kernels_on_host(record: Callable[[HostCupy], None], directory: Path) -> Iterator[HostCupy]:
    """Make minigrad's CUDA code see ``HostCupy`` as CuPy; ``record(host)`` calls every kernel
    variant once (computing nothing yet), then all are compiled into one library in ``directory``."""
    host = HostCupy()
    mp = pytest.MonkeyPatch()
    mp.setattr(devices, "cupy_module", lambda: host)
    mp.setattr(cuda_kernels, "_kernels", {})
    try:
        record(host)
        host.build(directory)
        yield host
    finally:
        mp.undo()
