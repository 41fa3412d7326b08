"""erf(x) to double precision with array ops only: the fallback when SciPy is not installed.

Two Chebyshev expansions, their coefficients computed once (on first use), by interpolation at
Chebyshev points, from a series for erf (below 2) and from ``math.erfc`` (above):

* |x| < 2:   erf(x) = x · h(x²/2 - 1),       h(t) = erf(√s)/√s at s = 2(t + 1), an even series in x,
  so tiny x keep their full relative precision;
* |x| ≥ 2:   erf(x) = 1 - e^{-x²} · g(4/|x| - 1),   g(t) = erfc(x)·e^{x²} with x = 4/(t + 1),
  smooth on [-1, 1] (x from 2 to ∞; it behaves like 1/(x√π) for large x).

Then the sign of x is copied back, so erf(-0) = -0, erf(±inf) = ±1 and erf(NaN) = NaN.
Measured error against SciPy's erf: below 2e-15 relative everywhere, largest just below |x| = 2
(``tests/test_ops_activation.py`` checks 4e-15 against ``math.erf`` on a dense grid).  The
sums run in float64 whatever the input dtype.
"""
from __future__ import annotations

import math
from typing import Any

_SMALL_DEGREE = 28
_LARGE_DEGREE = 48


def _chebyshev_coefficients(f: Any, n: int, points: int = 128) -> list:
    """c_k (k < n) with f(t) ≈ c_0/2 + Σ_{k≥1} c_k T_k(t) on [-1, 1], from f at ``points``
    Chebyshev points.  The tail after the last coefficient above 2e-16 is dropped: below that the
    coefficients are the rounding noise of the samples (about 5e-17), which would only add to the result."""
    # The angles are π·m/(2·points) with m = k(2j+1) reduced exactly modulo 4·points, so cos is
    # always taken of a small, exactly rounded argument (k·a in floating point is not, for large k).
    def cos_(m: int) -> float:
        return math.cos(math.pi * (m % (4 * points)) / (2 * points))

    values = [f(cos_(2 * j + 1)) for j in range(points)]
    c = [2.0 / points * math.fsum(v * cos_(k * (2 * j + 1)) for j, v in enumerate(values)) for k in range(n)]
    keep = max(k for k, ck in enumerate(c) if abs(ck) > 2e-16) + 1
    return c[:keep]


def _erf_over_x(t: float) -> float:
    """h(t) = erf(√s)/√s at s = 2(t + 1), from the series of positive terms
    erf(x)/x = (2/√π) e^{-x²} Σ (2x²)ⁿ / (1·3·5···(2n+1)), which loses nothing to cancellation
    (``math.erf``, and the alternating Taylor series, are only good to about 1e-15 here)."""
    s = 2.0 * (t + 1.0)
    terms, term = [], 1.0
    for n in range(80):
        terms.append(term)
        term *= 2.0 * s / (2 * n + 3)
    return 2.0 / math.sqrt(math.pi) * math.exp(-s) * math.fsum(terms)


def _scaled_erfc(t: float) -> float:
    """g(t) = erfc(x)·e^{x²} at x = 4/(t + 1) (x ≥ 2); the asymptotic series where e^{x²} overflows."""
    if t <= -1.0:
        return 0.0
    x = 4.0 / (t + 1.0)
    if x <= 25.0:
        return math.erfc(x) * math.exp(x * x)
    z = 1.0 / (2.0 * x * x)  # erfc(x)e^{x²} ~ (1/(x√π))·(1 - z + 3z² - 15z³ + 105z⁴), z = 1/(2x²)
    return (1.0 - z * (1.0 - z * (3.0 - z * (15.0 - 105.0 * z)))) / (x * math.sqrt(math.pi))


_coefficients: list = []  # [small, large], computed on first use (~0.1 s; only without SciPy)


def _series() -> list:
    if not _coefficients:
        _coefficients.extend([_chebyshev_coefficients(_erf_over_x, _SMALL_DEGREE),
                              _chebyshev_coefficients(_scaled_erfc, _LARGE_DEGREE)])
    return _coefficients


def _clenshaw(coefficients: list, t: Any) -> Any:
    """c_0/2 + Σ c_k T_k(t) for an array t (Clenshaw's recurrence)."""
    two_t = 2.0 * t
    b1 = b2 = 0.0
    for c in reversed(coefficients[1:]):
        b1, b2 = two_t * b1 - b2 + c, b1
    return t * b1 - b2 + 0.5 * coefficients[0]


def erf(xp: Any, a: Any) -> Any:
    """erf of a floating-point array, computed in float64, returned in ``a``'s dtype."""
    small_series, large_series = _series()
    x64 = a.astype("float64")
    z = xp.abs(x64)
    zs = xp.minimum(z, 2.0)
    small = zs * _clenshaw(small_series, zs * zs * 0.5 - 1.0)
    zl = xp.minimum(xp.maximum(z, 2.0), 30.0)  # (erf is 1 to double precision long before 30)
    large = 1.0 - xp.exp(-zl * zl) * _clenshaw(large_series, 4.0 / zl - 1.0)
    return xp.copysign(xp.where(z < 2.0, small, large), x64).astype(a.dtype, copy=False)
