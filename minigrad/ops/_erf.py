"""erf(x), erfc(x) and erfinv(y) to double precision with array ops only: the fallbacks when SciPy
is not installed (:func:`special_function` picks SciPy's, or CuPy's, when there is one).

Two Chebyshev expansions, their coefficients computed once (on first use), by interpolation at
Chebyshev points, from a series for erf (below 2) and from ``math.erfc`` (above):

* |x| < 2:   erf(x) = x · h(x²/2 - 1),       h(t) = erf(√s)/√s at s = 2(t + 1), an even series in x,
  so tiny x keep their full relative precision;
* |x| ≥ 2:   erf(x) = 1 - e^{-x²} · g(4/|x| - 1),   g(t) = erfc(x)·e^{x²} with x = 4/(t + 1),
  smooth on [-1, 1] (x from 2 to ∞; it behaves like 1/(x√π) for large x).

Then the sign of x is copied back, so erf(-0) = -0, erf(±inf) = ±1 and erf(NaN) = NaN.
Measured error against SciPy's erf: below 2e-15 relative everywhere, largest just below |x| = 2
(``tests/test_ops_activation.py`` checks 4e-15 against ``math.erf`` on a dense grid).  The
sums run in float64 whatever the input dtype.  :func:`erfc` reuses the large-x series for its
tail; :func:`erfinv` refines a first guess by Halley's and Newton's methods on these two.
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


def erfc(xp: Any, a: Any) -> Any:
    """erfc(x) = 1 - erf(x) of a floating-point array, computed in float64, returned in ``a``'s
    dtype.  For x ≥ 2 it is e^{-x²} · g(4/x - 1), the large-x series above, so the tail keeps
    its relative precision down to the underflow (erfc(10) ≈ 2e-45); below 2 it is 1 - erf(x),
    which is at least erfc(2) ≈ 0.0047 there, so about 1e-13 relative at worst."""
    _, large_series = _series()
    x64 = a.astype("float64")
    zl = xp.minimum(xp.maximum(x64, 2.0), 30.0)  # (erfc(30) ≈ 2.6e-393 underflows to 0)
    large = xp.exp(-zl * zl) * _clenshaw(large_series, 4.0 / zl - 1.0)
    large = xp.where(x64 > 30.0, 0.0, large)
    return xp.where(x64 < 2.0, 1.0 - erf(xp, x64), large).astype(a.dtype, copy=False)


def _erfinv_first_guess(xp: Any, y: Any) -> Any:
    """erfinv(y) to about 1e-7 relative for |y| < 1 (M. Giles, "Approximating the erfinv
    function", GPU Computing Gems, 2011): a polynomial in w = -ln(1 - y²), in w itself near 0
    and in √w in the tails."""
    w = -xp.log1p(-y * y)
    central, tail = w - 2.5, xp.sqrt(w) - 3.0
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        p = c + p * central
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        q = c + q * tail
    return xp.where(w < 5.0, p, q) * y


def erfinv(xp: Any, a: Any) -> Any:
    """The inverse of erf on [-1, 1] for a floating-point array: ±inf at ±1, NaN outside [-1, 1]
    and at NaN; computed in float64, returned in ``a``'s dtype.

    It works on z = |y| and copies the sign back at the end (so erfinv(-y) = -erfinv(y) and
    erfinv(-0) = -0).  A first guess good to about 1e-7 (:func:`_erfinv_first_guess`; worse,
    up to 10%, for 1 - z below 1e-8) is refined by four steps, each on a residual that keeps its
    digits (measured against SciPy: 1e-15 relative, 4e-14 for z in (0.9, 0.995) where erfc is
    1 - erf), with f'(x) = (2/√π)e^{-x²}:

    * z ≤ ½: Halley's method on f(x) = erf(x) - z, whose f''/f' is -2x:
      x ← x - r / (1 + x·r), r = f(x)/f'(x), cubing the relative error;
    * z > ½: Newton's method on h(x) = ln erfc(x) - ln(1 - z) (1 - z is exact there), nearly
      quadratic in x (ln erfc(x) ≈ -x² - ln(x√π)), so it converges from the tail's rough guess:
      x ← x + h(x) · erfc(x) / f'(x)."""
    y = a.astype("float64")
    z = xp.abs(y)
    inside = z < 1.0
    z_in = xp.where(inside, z, 0.0)  # (so the iteration never sees ±1, NaN or |y| > 1)
    tail = z_in > 0.5
    log_target = xp.log(xp.where(tail, 1.0 - z_in, 1.0))
    x = _erfinv_first_guess(xp, z_in)
    for _ in range(4):
        slope = (2.0 / math.sqrt(math.pi)) * xp.exp(-x * x)
        r = (erf(xp, x) - z_in) / slope
        c = xp.where(tail, erfc(xp, x), 1.0)
        x = xp.where(tail, x + (xp.log(c) - log_target) * c / slope, x - r / (1.0 + x * r))
    x = xp.where(inside, x, xp.where(z == 1.0, math.inf, math.nan))
    return xp.copysign(x, y).astype(a.dtype, copy=False)


_SPECIAL: dict = {}  # (array module name, function name) -> the function, looked up once


def special_function(xp: Any, name: str) -> Any:
    """``erf``, ``erfc`` or ``erfinv`` for arrays of module ``xp``: SciPy's (CuPy's
    ``cupyx.scipy.special`` on the GPU) when installed, else the array-op forms of this module."""
    key = (xp.__name__, name)
    fn = _SPECIAL.get(key)
    if fn is None:
        try:
            if xp.__name__ == "cupy":
                import cupyx.scipy.special as special
            else:
                import scipy.special as special
            fn = getattr(special, name)
        except ImportError:
            fallback = {"erf": erf, "erfc": erfc, "erfinv": erfinv}[name]

            def fn(a: Any, _f: Any = fallback) -> Any:
                return _f(xp, a)
        _SPECIAL[key] = fn
    return fn
