"""Small host-side facts about a tensor's values, for labels and the viewer panel.

Host code (it reads values to print them), so NumPy is fine here; CUDA arrays are
copied to the host first, which is a synchronising transfer, done once per tensor.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy

from ..devices import array_module, is_cuda_array

__all__ = ["host_array", "nonfinite", "shape_text", "dtype_text", "format_number", "describe"]


def host_array(t: Any) -> numpy.ndarray:
    """The values of a Tensor (or array) as a NumPy array."""
    a = getattr(t, "_data", t)
    return a.get() if is_cuda_array(a) else numpy.asarray(a)


def nonfinite(t: Any) -> str | None:
    """"NaN", "inf", "NaN/inf" when the floating-point values hold them, else None."""
    a = getattr(t, "_data", t)
    if getattr(a, "dtype", None) is None or a.dtype.kind not in "fc" or a.size == 0:
        return None
    xp = array_module(a)
    finite = xp.isfinite(a)
    if bool(finite.all()):
        return None
    has_nan = bool(xp.isnan(a).any())
    has_inf = bool(xp.isinf(a).any())
    return "NaN/inf" if has_nan and has_inf else ("NaN" if has_nan else "inf")


@functools.lru_cache(maxsize=4096)
def _shape_text(shape: tuple) -> str:
    if not shape:
        return "scalar"
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_text(shape: Any) -> str:
    """``(3, 4)``; a 0-d tensor is ``scalar``."""
    return _shape_text(tuple(shape))


@functools.lru_cache(maxsize=256)
def dtype_text(dtype: Any) -> str:
    """``float32``: ``str(dtype)`` is slow enough to matter on 10k-op graphs, so it is cached."""
    return str(dtype)


def format_number(v: float) -> str:
    """Four significant digits, the same way everywhere (labels, panel, tests)."""
    if isinstance(v, complex):
        return f"{v.real:.4g}{v.imag:+.4g}j"
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4g}"


def describe(t: Any, max_values: int = 6) -> dict:
    """Shape, up to ``max_values`` leading values (flattened), the L2 norm and a one-line text.

    Small tensors are shown whole; for larger ones the norm ‖g‖ = √Σg² says more than a few
    values, so the text gives the first values and the norm.
    """
    a = host_array(t)
    flat = a.reshape(-1)
    vals = [format_number(x) for x in flat[:max_values].tolist()]
    norm = float(numpy.sqrt(numpy.sum(numpy.abs(flat.astype(numpy.float64)) ** 2))) if flat.size else 0.0
    if flat.size <= max_values:
        body = vals[0] if a.ndim == 0 else "[" + ", ".join(vals) + "]"
        text = f"{shape_text(a.shape)} {body}"
        if flat.size > 1:
            text += f"  ‖·‖={format_number(norm)}"
    else:
        text = f"{shape_text(a.shape)} [{', '.join(vals)}, …]  ‖·‖={format_number(norm)}"
    return {"shape": list(a.shape), "values": vals, "norm": format_number(norm), "size": int(flat.size),
            "text": text, "bad": nonfinite(a)}
