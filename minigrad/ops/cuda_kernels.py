"""Fused element-wise CUDA kernels for hot ops whose array-by-array form takes several launches.

On a GPU, the small tensors of a training step make each array call cost a kernel launch more
than arithmetic, so an op that needs two or three array calls is written here as one CuPy
``ElementwiseKernel`` (compiled on first use, then cached by CuPy).  The CPU path never comes
here.
"""
from __future__ import annotations

from typing import Any

from .. import devices

_kernels: dict = {}


def elementwise_kernel(name: str, in_params: str, out_params: str, body: str) -> Any:
    """A CuPy ``ElementwiseKernel`` for this code, built once per distinct text and cached."""
    key = (name, in_params, out_params, body)
    k = _kernels.get(key)
    if k is None:
        k = _kernels[key] = devices.cupy_module().ElementwiseKernel(in_params, out_params, body, "minigrad_" + name)
    return k


_RELU_MASK = "y = (x > (T)0 || x != x) ? x : (T)0;  mask = (y != (T)0) ? (T)1 : (T)0;"


def relu_with_mask(a: Any) -> tuple:
    """(max(a, 0), mask) in one pass: mask = 1 where the output is nonzero (x > 0, or NaN,
    whose output is NaN), else 0, in a's dtype — what ReLU's backward multiplies by."""
    return elementwise_kernel("relu_mask", "T x", "T y, T mask", _RELU_MASK)(a)


_DROPOUT_MASK = "mask = (u >= (U)p) ? (T)scale : (T)0;"


def dropout_mask(u: Any, p: float, dtype: Any) -> Any:
    """1/(1-p) where the uniform draw ``u`` ≥ p (kept), else 0, in ``dtype``, in one pass (the
    comparison is made in u's precision, as ``u >= p`` on the CPU)."""
    out = devices.cupy_module().empty(u.shape, dtype=dtype)
    return elementwise_kernel("dropout_mask", "U u, float64 p, float64 scale", "T mask", _DROPOUT_MASK)(
        u, p, 1.0 / (1.0 - p), out)
