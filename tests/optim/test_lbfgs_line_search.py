"""L-BFGS's line search: ``cubic_minimum`` and ``strong_wolfe`` on genuine, random and degenerate
input (coincident points, zero denominators, flat, concave and overflowing functions, NaN).

Properties rather than trajectories: the cubic step is a finite number within its bounds and,
for a genuine cubic, its minimiser; the line search returns within its evaluation budget a
step with sufficient decrease, or the best point it has seen."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim
from minigrad.optim.lbfgs import cubic_minimum, strong_wolfe

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
NON_FINITE = st.sampled_from([math.inf, -math.inf, math.nan])


def _in_bounds(x: float, lo: float, hi: float) -> bool:
    return isinstance(x, float) and math.isfinite(x) and lo <= x <= hi


# -- cubic_minimum: regressions --------------------------------------------------------------
def test_concave_quadratic_has_a_zero_denominator_and_gives_the_midpoint():
    """f = −x² through x = 0 and 1: d₁ = 1, d₂ = 1, and every form of x* divides by exactly zero
    (ga + d₁ − d₂ = gb + d₁ + d₂ = gb − ga + 2d₂ = 0).  The minimiser is at infinity; the step
    falls back to bisection instead of dividing by zero."""
    assert cubic_minimum(0.0, 0.0, 0.0, 1.0, -1.0, -2.0) == 0.5
    assert cubic_minimum(1.0, -1.0, -2.0, 0.0, 0.0, 0.0) == 0.5
    # the extrapolation step of strong_wolfe on φ(t) = −(1 + t)² from t = 0 with first trial t = 1
    assert cubic_minimum(0.0, -1.0, -2.0, 1.0, -4.0, -4.0, bounds=(1.01, 10.0)) == pytest.approx(5.505, abs=1e-15)


def test_extrapolation_along_the_gallery_saddle_stays_finite_and_in_bounds():
    """The extrapolation step L-BFGS met on the saddle x² − y² (examples/optimizer_gallery.py):
    a concave quadratic along the line at steps of 10¹¹, where the denominator is zero up to
    rounding."""
    lo, hi = 1056463938182.6924, 10470405730254.633
    x = cubic_minimum(104704057302.54633, -3.2866914872639384e+16, -627805.945993964,
                      1047040573025.4633, -3.286691487169667e+18, -6278059.4598496035, bounds=(lo, hi))
    assert x == 0.5 * lo + 0.5 * hi


@pytest.mark.parametrize("x0,c", [(0, 1), (3, 2), (-5, 0.5), (0.25, 8)])
def test_exact_concave_quadratics_give_the_midpoint(x0, c):
    """f = −c·(x − x₀)² at points where every value is exact: the denominator is exactly zero."""
    f = lambda x: -c * (x - x0) ** 2  # noqa: E731
    g = lambda x: -2 * c * (x - x0)  # noqa: E731
    for a, b in [(x0 + 1, x0 + 2), (x0 - 4, x0 - 1), (x0 - 1, x0 + 1), (x0 + 2, x0 - 3)]:
        lo, hi = min(a, b), max(a, b)
        assert cubic_minimum(a, f(a), g(a), b, f(b), g(b)) == (lo + hi) / 2


# -- cubic_minimum: genuine cubics -----------------------------------------------------------
@pytest.mark.parametrize("g", [1.0, -1.0, 1e-200, -3e150])
def test_equal_slopes_of_a_genuine_cubic(g):
    """p(u) = g·(2u³ − 3u² + u) has p(0) = p(1) = 0 and p'(0) = p'(1) = g; its minimiser is
    ½ + √3/6 for g > 0 and ½ − √3/6 for g < 0.  Equal slopes alone are not degenerate."""
    want = 0.5 + math.copysign(math.sqrt(3) / 6, g)
    assert cubic_minimum(0.0, 0.0, g, 1.0, 0.0, g) == pytest.approx(want, abs=1e-14)


def test_minimum_at_an_end_point_where_the_textbook_form_is_zero_over_zero():
    """p(u) = u³ − 2.25u² + 1.5u: p' = 3(u − ½)(u − 1), minimum at u = 1.  On [0, 1] the slope at
    1 is zero and the textbook form b − (b − a)(gb + d₂ − d₁)/(gb − ga + 2d₂) is 0/0."""
    assert cubic_minimum(0.0, 0.0, 1.5, 1.0, 0.25, 0.0) == 1.0
    assert cubic_minimum(1.0, 0.25, 0.0, 0.0, 0.0, 1.5) == 1.0
    assert cubic_minimum(0.0, 0.0, 1.5, 1.0, 0.25, 0.0, bounds=(-5.0, 5.0)) == 1.0


@settings(max_examples=300, deadline=None)
@given(a3=st.floats(0.1, 10.0), sign=st.sampled_from([1.0, -1.0, 0.0]), m=st.floats(-1.0, 1.0),
       rho=st.floats(0.5, 5.0), u1=st.floats(-3.0, 3.0), u2=st.floats(-3.0, 3.0),
       margin=st.floats(0.0, 1.0), w_exp=st.integers(-100, 100), f_exp=st.integers(-200, 200),
       centre=st.floats(-100.0, 100.0), default_bounds=st.booleans())
def test_genuine_cubic_gives_its_analytic_minimiser(a3, sign, m, rho, u1, u2, margin, w_exp, f_exp, centre,
                                                    default_bounds):
    """In units u: p(u) = a3·(u³ − 1.5(m + r)u² + 3mr·u) has p'(u) = 3a3(u − m)(u − r), a local
    minimum at m (r = m − sign·ρ makes p''(m) > 0); sign 0 is the parabola (u − m)².  In x = c + w·u
    with values F·p, slopes F·p'/w, the minimiser is c + w·m for scales w, F from 10⁻²⁰⁰ to 10²⁰⁰."""
    assume(abs(u1 - u2) >= 0.2)
    if sign == 0.0:
        p = lambda u: a3 * (u - m) ** 2  # noqa: E731
        dp = lambda u: 2 * a3 * (u - m)  # noqa: E731
    else:
        k, r = sign * a3, m - sign * rho
        p = lambda u: k * (u ** 3 - 1.5 * (m + r) * u ** 2 + 3 * m * r * u)  # noqa: E731
        dp = lambda u: 3 * k * (u - m) * (u - r)  # noqa: E731
    w, big_f = 10.0 ** w_exp, 10.0 ** f_exp
    c = centre * w
    x1, x2 = c + w * u1, c + w * u2
    want = c + w * m
    if default_bounds:
        assume(min(u1, u2) + 0.01 <= m <= max(u1, u2) - 0.01)
        bounds = None
        lo, hi = min(x1, x2), max(x1, x2)
    else:
        lo, hi = c + w * (min(u1, u2, m) - margin), c + w * (max(u1, u2, m) + margin)
        bounds = (lo, hi)
    x = cubic_minimum(x1, big_f * p(u1), big_f * dp(u1) / w, x2, big_f * p(u2), big_f * dp(u2) / w, bounds=bounds)
    assert _in_bounds(x, lo, hi)
    assert abs(x - want) <= 1e-8 * w, (x, want)


# -- cubic_minimum: anything goes in, a finite point in the bounds comes out -----------------
@settings(max_examples=500, deadline=None)
@given(x1=FINITE, f1=ANY_FLOAT, g1=ANY_FLOAT, x2=FINITE, f2=ANY_FLOAT, g2=ANY_FLOAT)
def test_any_values_give_a_finite_point_between_the_points(x1, f1, g1, x2, f2, g2):
    x = cubic_minimum(x1, f1, g1, x2, f2, g2)
    assert _in_bounds(x, min(x1, x2), max(x1, x2))


@settings(max_examples=500, deadline=None)
@given(x1=ANY_FLOAT, f1=ANY_FLOAT, g1=ANY_FLOAT, x2=ANY_FLOAT, f2=ANY_FLOAT, g2=ANY_FLOAT,
       b1=FINITE, b2=FINITE)
def test_any_values_give_a_finite_point_within_explicit_bounds(x1, f1, g1, x2, f2, g2, b1, b2):
    lo, hi = min(b1, b2), max(b1, b2)
    assert _in_bounds(cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=(lo, hi)), lo, hi)


@settings(max_examples=300, deadline=None)
@given(scale=st.sampled_from([1e-320, 1e-300, 1e-150, 1.0, 1e150, 1e300, 1.7e308]),
       values=st.lists(st.floats(-10.0, 10.0), min_size=6, max_size=6), which=st.integers(0, 2))
def test_huge_and_tiny_magnitudes(scale, values, which):
    """Values, slopes (which = 0), positions (1) or everything (2) near the ends of the float range."""
    x1, f1, g1, x2, f2, g2 = values
    if which in (0, 2):
        f1, g1, f2, g2 = f1 * scale, g1 * scale, f2 * scale, g2 * scale
    if which in (1, 2):
        x1, x2 = x1 * scale, x2 * scale
    assume(math.isfinite(x1) and math.isfinite(x2))
    x = cubic_minimum(x1, f1, g1, x2, f2, g2)
    assert _in_bounds(x, min(x1, x2), max(x1, x2))


@settings(max_examples=200, deadline=None)
@given(x=FINITE, f1=ANY_FLOAT, g1=ANY_FLOAT, f2=ANY_FLOAT, g2=ANY_FLOAT, b1=FINITE, b2=FINITE)
def test_coincident_points_give_the_midpoint(x, f1, g1, f2, g2, b1, b2):
    assert cubic_minimum(x, f1, g1, x, f2, g2) == x
    lo, hi = min(b1, b2), max(b1, b2)
    mid = cubic_minimum(x, f1, g1, x, f2, g2, bounds=(lo, hi))
    assert _in_bounds(mid, lo, hi) and mid == pytest.approx(0.5 * lo + 0.5 * hi, rel=1e-15, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(x1=st.floats(-1e6, 1e6), x2=st.floats(-1e6, 1e6), f=st.floats(-1e6, 1e6))
def test_flat_line_gives_the_midpoint(x1, x2, f):
    """Equal values and zero slopes: every point is a minimiser; the bisection point is taken."""
    assume(x1 != x2)
    assert cubic_minimum(x1, f, 0.0, x2, f, 0.0) == 0.5 * x1 + 0.5 * x2


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(-100.0, 100.0), min_size=4, max_size=4), bad=NON_FINITE, where=st.integers(0, 3))
def test_a_non_finite_value_or_slope_gives_the_midpoint(values, bad, where):
    values[where] = bad
    f1, g1, f2, g2 = values
    assert cubic_minimum(-1.0, f1, g1, 3.0, f2, g2) == 1.0
    assert cubic_minimum(-1.0, f1, g1, 3.0, f2, g2, bounds=(2.0, 30.0)) == 16.0


@pytest.mark.parametrize("args,bounds", [((0.0, 1.0), (1.0, 0.0)), ((0.0, 1.0), (math.nan, 1.0)),
                                         ((0.0, 1.0), (0.0, math.inf)), ((math.inf, 1.0), None),
                                         ((0.0, math.nan), None)])
def test_bounds_that_are_not_an_interval_raise_one_line(args, bounds):
    x1, x2 = args
    with pytest.raises(ValueError, match=r"^cubic_minimum: bounds must be finite numbers with lo <= hi, got \(.*\)$"):
        cubic_minimum(x1, 0.0, -1.0, x2, 1.0, 1.0, bounds=bounds)


# -- strong_wolfe ----------------------------------------------------------------------------
class Line:
    """φ(t) = F(x₀ + t·d) and its gradient at x₀ + t·d, recording every evaluation."""

    def __init__(self, fun, grad, x0, d):
        self.fun, self.grad = fun, grad
        self.x0, self.d = np.asarray(x0, dtype=np.float64), np.asarray(d, dtype=np.float64)
        self.calls: list = []

    def at(self, t: float) -> tuple:
        with np.errstate(all="ignore"):
            x = self.x0 + t * self.d
            return float(self.fun(x)), np.asarray(self.grad(x), dtype=np.float64)

    def __call__(self, t: float) -> tuple:
        f, g = self.at(t)
        self.calls.append((t, f, g))
        return f, g


def _better(a: float, b: float) -> bool:
    return a < b or (math.isnan(b) and not math.isnan(a))


def _search(line: Line, t0: float, max_ls: int = 25, c1: float = 1e-4, **kw) -> tuple:
    """Run strong_wolfe from t = 0 and check what holds for any input; returns its result, φ(0)
    and φ'(0)."""
    f0, g0 = line.at(0.0)
    with np.errstate(all="ignore"):
        gtd = float(g0 @ line.d)
    f, g, t, evals = strong_wolfe(line, t0, line.d, f0, g0, gtd, c1=c1, max_ls=max_ls, **kw)
    assert evals == len(line.calls) <= max(max_ls, 0) + 1
    assert isinstance(t, float) and math.isfinite(t) and t >= 0
    # the loss and gradient returned are those at the step returned
    seen = [(fc, gc) for tc, fc, gc in line.calls if tc == t] + ([(f0, g0)] if t == 0 else [])
    assert any((fc == f or (math.isnan(fc) and math.isnan(f))) and np.array_equal(gc, g, equal_nan=True)
               for fc, gc in seen), (t, f)
    # sufficient decrease, or else nothing evaluated (nor the start) is better
    losses = [f0] + [fc for _, fc, _ in line.calls]
    assert f <= f0 + c1 * t * gtd or not any(_better(v, f) for v in losses), (t, f, losses)
    assert not _better(f0, f)  # never worse than the start
    return f, g, t, evals, f0, gtd


def test_coincident_first_trial_step_regression():
    """First trial t = 0 (L-BFGS with lr = 0): extrapolating from [0, 0] is a cubic through one
    point twice.  The search must stop, not divide by zero."""
    line = Line(lambda x: float((x ** 2).sum()), lambda x: 2 * x, [1.0, -2.0], [-1.0, 2.0])
    f, _, t, evals, f0, _ = _search(line, 0.0)
    assert t == 0.0 and f == f0 and evals <= 26


def test_zoom_down_to_a_zero_length_bracket_regression():
    """A loss that stays flat while its gradient says it falls (quantised losses do this) fails
    sufficient decrease everywhere; with tolerance_change = 0 the bracket shrinks to [0, 0]."""
    line = Line(lambda x: 0.0, lambda x: np.array([-1.0]), [0.0], [1.0])
    f, _, t, evals, _, _ = _search(line, 1.0, max_ls=5000, tolerance_change=0.0)
    assert t == 0.0 and f == 0.0 and evals < 5000


def test_concave_line_regression():
    """φ(t) = −(1 + t)²: the first extrapolation has a zero denominator.  Unbounded below, the
    search extrapolates within its budget and returns a finite, lower point."""
    line = Line(lambda x: -float((1 + x[0]) ** 2), lambda x: np.array([-2 * (1 + x[0])]), [0.0], [1.0])
    f, _, t, evals, f0, _ = _search(line, 1.0)
    assert t > 1.0 and f < f0 - 1 and math.isfinite(f)


def test_negative_budget_evaluates_once_regression():
    """max_ls = max_eval − evaluations so far can be ≤ 0 (LBFGS(max_eval=0)): one evaluation, then
    the better of the start and the trial point."""
    line = Line(lambda x: float((x[0] - 3) ** 2), lambda x: 2 * (x - 3), [0.0], [1.0])
    for max_ls in (0, -1, -5):
        line.calls.clear()
        f, _, t, evals, _, _ = _search(line, 1.0, max_ls=max_ls)
        assert evals == 1 and t == 1.0 and f == 4.0


def test_nan_beyond_a_step_is_never_returned_regression():
    """φ is NaN beyond t = 2 (a log of a negative number, say).  A NaN loss fails sufficient
    decrease: the search backs off to finite losses instead of returning the NaN point."""
    line = Line(lambda x: float((x[0] - 3) ** 2) if x[0] <= 2 else math.nan,
                lambda x: np.array([2 * (x[0] - 3)]) if x[0] <= 2 else np.array([math.nan]), [0.0], [1.0])
    for t0 in (1.5, 2.5, 50.0):
        line.calls.clear()
        f, _, t, _, f0, _ = _search(line, t0)
        assert math.isfinite(f) and f < f0 and 0 < t <= 2


def test_exact_minimum_at_the_first_trial_step():
    line = Line(lambda x: float((x[0] - 1) ** 2), lambda x: np.array([2 * (x[0] - 1)]), [0.0], [1.0])
    f, g, t, evals, _, _ = _search(line, 1.0)
    assert (f, t, evals) == (0.0, 1.0, 1) and g[0] == 0.0


def test_flat_function_with_no_slope_returns_the_first_trial():
    line = Line(lambda x: 5.0, lambda x: np.zeros(3), [1.0, 2.0, 3.0], [0.5, 0.0, -1.0])
    f, _, t, evals, _, gtd = _search(line, 0.7)
    assert gtd == 0.0 and (f, t, evals) == (5.0, 0.7, 1)


def _quadratic(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    a, b = m @ m.T + 0.1 * np.eye(n), rng.standard_normal(n)
    return (lambda x: 0.5 * x @ a @ x - b @ x), (lambda x: a @ x - b), rng


def _rosenbrock(n: int, seed: int) -> tuple:
    def fun(x):
        return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())

    def grad(x):
        g = np.zeros_like(x)
        g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
        g[1:] += 200 * (x[1:] - x[:-1] ** 2)
        return g

    return fun, grad, np.random.default_rng(seed)


def _wavy(n: int, seed: int) -> tuple:
    """Σ sin(3xᵢ) + ½|x|²: smooth, bounded below, many local minima."""
    return (lambda x: float(np.sin(3 * x).sum() + 0.5 * x @ x)), (lambda x: 3 * np.cos(3 * x) + x), \
        np.random.default_rng(seed)


FUNCTIONS = {"quadratic": _quadratic, "rosenbrock": _rosenbrock, "wavy": _wavy}


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(sorted(FUNCTIONS)), n=st.integers(1, 6), seed=st.integers(0, 2 ** 32 - 1),
       steepest=st.booleans(), t_exp=st.floats(-4.0, 3.0), scale_exp=st.integers(-250, 250))
def test_smooth_functions(kind, n, seed, steepest, t_exp, scale_exp):
    """Random smooth N-D functions (n = 1 is 1-D), steepest-descent or random descent directions,
    first trials from 10⁻⁴ to 10³ and loss scales from 10⁻²⁵⁰ to 10²⁵⁰: the search returns a step
    with sufficient decrease that lowers the loss; on convex quadratics it satisfies both strong
    Wolfe conditions."""
    if kind == "rosenbrock":
        n = max(n, 2)
    fun, grad, rng = FUNCTIONS[kind](n, seed)
    scale = 10.0 ** scale_exp
    x0 = rng.uniform(-2, 2, n)
    g0 = grad(x0)
    d = -g0 if steepest else rng.standard_normal(n)
    if g0 @ d > 0:
        d = -d
    assume(g0 @ d < -1e-6 * np.abs(g0).max() * np.abs(d).max())
    line = Line(lambda x: scale * fun(x), lambda x: scale * grad(x), x0, d)
    f, g, t, evals, f0, gtd = _search(line, 10.0 ** t_exp)
    assert math.isfinite(f) and t > 0 and f < f0
    assert f <= f0 + 1e-4 * t * gtd
    if kind == "quadratic":
        assert abs(float(g @ d)) <= -0.9 * gtd


@settings(max_examples=100, deadline=None)
@given(limit=st.floats(0.01, 20.0), minimum=st.floats(0.1, 50.0), t0=st.floats(1e-3, 1e3),
       beyond=st.sampled_from(["inf", "nan", "inf-slope"]), max_ls=st.integers(1, 40))
def test_losses_that_overflow_beyond_some_step(limit, minimum, t0, beyond, max_ls):
    """φ(t) = (t − minimum)² up to t = limit, then +inf or NaN (with a NaN or infinite slope): the
    search never returns a non-finite loss, and any step it returns lies before the limit."""
    def fun(x):
        return float((x[0] - minimum) ** 2) if x[0] <= limit else (math.inf if beyond != "nan" else math.nan)

    def grad(x):
        if x[0] <= limit:
            return np.array([2 * (x[0] - minimum)])
        return np.array([math.inf if beyond == "inf-slope" else math.nan])

    line = Line(fun, grad, [0.0], [1.0])
    f, _, t, _, f0, _ = _search(line, t0, max_ls=max_ls)
    assert math.isfinite(f) and f <= f0 and t <= limit


@settings(max_examples=60, deadline=None)
@given(t0=st.floats(1e-3, 1e3), c=st.floats(1e-3, 1e3), kind=st.sampled_from(["concave", "exp"]),
       max_ls=st.integers(0, 40))
def test_unbounded_below(t0, c, kind, max_ls):
    """−c·(1 + t)² and −exp(c·t) (which overflows to −inf): the search extrapolates within its
    budget and does not raise."""
    if kind == "concave":
        line = Line(lambda x: -c * float((1 + x[0]) ** 2), lambda x: np.array([-2 * c * (1 + x[0])]), [0.0], [1.0])
    else:
        line = Line(lambda x: -float(np.exp(c * x[0])), lambda x: np.array([-c * np.exp(c * x[0])]), [0.0], [1.0])
    f, _, t, _, f0, _ = _search(line, t0, max_ls=max_ls)
    assert f <= f0 and (t > 0 or max_ls == 0 and f0 <= line.calls[0][1])


@settings(max_examples=60, deadline=None)
@given(f0=st.sampled_from([math.nan, math.inf, -math.inf, 1.0]), g0=st.sampled_from([math.nan, -math.inf, -1.0]),
       later=st.sampled_from([math.nan, math.inf, -math.inf, 0.5]), t0=st.floats(1e-3, 10.0))
def test_non_finite_start_or_trials_do_not_raise(f0, g0, later, t0):
    """Whatever mixture of NaN and infinities the start and the trial points report, the search
    returns a finite step within budget (its loss may be NaN only if every loss seen was NaN)."""
    line = Line(lambda x: f0 if x[0] == 0 else later, lambda x: np.array([g0 if x[0] == 0 else later]), [0.0], [1.0])
    f, _, _, _, _, _ = _search(line, t0)
    assert not math.isnan(f) or all(math.isnan(v) for v in [f0, later])


# -- through LBFGS ---------------------------------------------------------------------------
def _closure(opt, p, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn(p)
        loss.backward()
        return loss
    return closure


def test_lbfgs_escapes_the_saddle_regression():
    """The gallery's saddle x² − y² from (−1, 10⁻³), one iteration per step(): each line search
    along the escaping direction extrapolates over a concave quadratic (zero denominators)."""
    p = mg.tensor([-1.0, 1e-3], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], lr=1, max_iter=1, max_eval=25, line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                      tolerance_change=1e-15)
    closure = _closure(opt, p, lambda q: q[0] * q[0] - q[1] * q[1])
    for _ in range(4):
        opt.step(closure)
    x, y = p.detach().numpy()
    assert math.isfinite(x) and math.isfinite(y) and x * x - y * y < -1.0


def test_lbfgs_on_a_concave_function_regression():
    """−x² from x = 1: d = 2, first trial t = ½, and the cubic through (0, −1, −4), (½, −4, −8)
    has the denominator −8 + 4 + 2·2 = 0 exactly."""
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], max_iter=3, line_search_fn="strong_wolfe")
    closure = _closure(opt, p, lambda q: -(q * q).sum())
    loss0 = opt.step(closure).item()
    assert np.isfinite(p.detach().numpy()).all() and closure().item() < loss0


def test_lbfgs_with_zero_learning_rate_regression():
    """lr = 0: the line search starts at t = 0 (coincident points); L-BFGS leaves x alone."""
    p = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], lr=0, line_search_fn="strong_wolfe")
    opt.step(_closure(opt, p, lambda q: (q * q).sum()))
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, -2.0])


def test_lbfgs_backs_off_from_nan_losses_regression():
    """(x − 3)² − log(2 − x) is NaN for x > 2; L-BFGS from 0 reaches its minimiser (where
    2(x − 3) + 1/(2 − x) = 0, x = (5 − √3)/2) without a NaN ever reaching x."""
    p = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], max_iter=50, line_search_fn="strong_wolfe", tolerance_change=1e-14)
    with np.errstate(invalid="ignore", divide="ignore"):
        opt.step(_closure(opt, p, lambda q: ((q - 3) ** 2 - mg.log(2 - q)).sum()))
    assert p.item() == pytest.approx((5 - math.sqrt(3)) / 2, abs=1e-6)


def test_lbfgs_negative_gradient_tolerance_at_a_stationary_point_regression():
    """tolerance_grad < 0 keeps L-BFGS going at a zero gradient; the first step length
    min(1, 1/‖g‖₁)·lr must not divide by zero."""
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], tolerance_grad=-1.0, line_search_fn="strong_wolfe")
    opt.step(_closure(opt, p, lambda q: (q * 0).sum()))
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])


def test_lbfgs_with_no_evaluation_budget_regression():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([p], max_eval=0, line_search_fn="strong_wolfe")
    closure = _closure(opt, p, lambda q: ((q - 3) ** 2).sum())
    loss0 = opt.step(closure).item()
    assert closure().item() <= loss0
