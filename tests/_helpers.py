"""Shared pieces of the op tests: element strategies that keep gradchecks away from
kinks, NumPy comparison, and one call that runs ``gradcheck`` (and ``gradgradcheck``)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst

#: For ``@given`` tests that also take the ``device`` fixture: its value is fixed for all
#: examples of one test case, which is what we want, so the health check is silenced.
with_device = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: Gradient checks cost far more per example than forward checks (a Jacobian per example, and a
#: second one for gradgradcheck), so they take half of the active profile's examples.
grad_settings = settings(max_examples=max(10, settings.default.max_examples // 2))

#: Shapes for gradchecks.  Their cost grows with (elements in) × (elements out), so keep them tiny.
SMALL = {"max_dims": 3, "max_side": 3}


def host(x: Any) -> np.ndarray:
    """A tensor's (or array's) values as a NumPy array on the host."""
    a = x._data if isinstance(x, mg.Tensor) else x
    return a.get() if hasattr(a, "get") else np.asarray(a)


def as_computed_on(device: str, a: np.ndarray) -> np.ndarray:
    """``a`` as the device sees it: CuPy compiles its kernels with flush-to-zero, so on CUDA
    float32 subnormals (|x| < 1.18e-38) count as 0.  References are computed from this."""
    if device == "cpu" or a.dtype != np.float32:
        return a
    return np.where(np.abs(a) < np.finfo(np.float32).tiny, np.float32(0), a)


def leaf(a: Any, device: str = "cpu", requires_grad: bool = True, dtype: Any = np.float64) -> mg.Tensor:
    """A float64 leaf tensor (copy of ``a``) ready for gradcheck."""
    return mg.tensor(np.asarray(a, dtype=dtype), dtype=dtype, device=device, requires_grad=requires_grad)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-9, atol: float = 1e-12, dtype: Any = None) -> None:
    """Values, shape (and dtype, when given) of a tensor against a NumPy reference; nan == nan."""
    got = host(actual)
    want = np.asarray(expected)
    assert got.shape == want.shape, f"shape {got.shape} != expected {want.shape}"
    if dtype is not None:
        assert got.dtype == np.dtype(dtype), f"dtype {got.dtype} != expected {np.dtype(dtype)}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


def check_grads(fn: Callable, *inputs: mg.Tensor, second_order: bool = True, atol: float = 1e-5,
                rtol: float = 1e-3) -> None:
    """First derivatives by ``gradcheck``; second derivatives too for smooth ops."""
    assert gradcheck(fn, list(inputs), atol=atol, rtol=rtol)
    if second_order:
        assert gradgradcheck(fn, list(inputs), atol=atol, rtol=rtol)


def plain(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy:
    return mst.floats(lo, hi)


def positive(lo: float = 0.2, hi: float = 4.0) -> st.SearchStrategy:
    """Away from 0 on the positive side (log, sqrt, pow with real exponents)."""
    return mst.floats(lo, hi)


def nonzero(margin: float = 0.1, hi: float = 3.0) -> st.SearchStrategy:
    """|x| >= margin: away from the kink of abs/relu/elu and from the pole of 1/x."""
    return st.one_of(mst.floats(margin, hi), mst.floats(-hi, -margin))


def grid(lo: int = -24, hi: int = 24, step: float = 0.125, offset: float = 0.0) -> st.SearchStrategy:
    """Multiples of ``step`` (+ ``offset``): distinct values differ by >= step, far more than the
    gradcheck step, so a finite difference never swaps a maximum or crosses a clamp bound."""
    return st.integers(lo, hi).map(lambda k: k * step + offset)


def arrays(shape: Any, elements: st.SearchStrategy | None = None, unique: bool = False) -> st.SearchStrategy:
    """float64 arrays of ``shape`` (a shape or a strategy of shapes)."""
    return mst.arrays(shape, np.float64, elements if elements is not None else plain(), unique=unique)

