"""Reference special functions for the tests: SciPy's ``scipy.special`` when it is installed,
otherwise the same functions from the standard library and NumPy, so that the op tests also
run where SciPy is absent (``.ci/run``'s bare environment).  The fallbacks are the textbook
stable forms, evaluated in float64:

    expit(a)      = 1 / (1 + e^(−a))  for a ≥ 0,   e^a / (1 + e^a)  for a < 0
    logsumexp(a)  = m + log Σ e^(a − m),  m = max a  (0 where the max is ±inf)
    softmax(a)    = e^(a − max a) / Σ e^(a − max a),   log_softmax(a) = (a − max a) − log Σ e^(a − max a)
    erf, erfc     = math.erf, math.erfc element by element
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np


def _expit(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(a: Any, axis: Any = None) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(a: Any, axis: Any = None) -> np.ndarray:
    shifted = np.asarray(a, dtype=np.float64)
    shifted = shifted - np.max(shifted, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

try:
    from scipy import special
except ImportError:
    special = SimpleNamespace(expit=_expit, logsumexp=_logsumexp, softmax=_softmax, log_softmax=_log_softmax,
                              erf=_erf, erfc=_erfc)
