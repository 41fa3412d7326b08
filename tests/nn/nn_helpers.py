"""Small helpers shared by the nn tests (kept apart from tests/_helpers.py, which the op tests own)."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings

import minigrad as mg

#: ``@given`` tests that also take the ``device`` fixture (fixed per test case, which is fine).
with_device = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def host(x: Any) -> np.ndarray:
    a = x._data if isinstance(x, mg.Tensor) else x
    return a.get() if hasattr(a, "get") else np.asarray(a)


def leaf(a: Any, device: str = "cpu", dtype: Any = np.float64, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(a, dtype=dtype), dtype=dtype, device=device, requires_grad=requires_grad)


def try_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def to_torch(x: Any, requires_grad: bool = False) -> Any:
    import torch

    t = torch.from_numpy(np.array(host(x)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def finite(x: Any) -> bool:
    return bool(np.isfinite(host(x)).all())
