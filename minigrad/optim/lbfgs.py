"""L-BFGS (Nocedal 1980; Liu & Nocedal 1989) with an optional strong-Wolfe line search — the
algorithm of ``torch.optim.LBFGS`` (itself after Schmidt's minFunc).

The parameters are treated as one flat vector x.  Each iteration:

1. direction d = −H·g, where H is the inverse-Hessian approximation implied by the last
   ``history_size`` pairs s = Δx, y = Δg (kept only when yᵀs > 1e-10, i.e. curvature is
   positive), evaluated by the two-loop recursion with initial scaling H₀ = (yᵀs / yᵀy)·I:

       q ← −g;  for i newest→oldest: αᵢ = ρᵢ·sᵢᵀq,  q ← q − αᵢ·yᵢ          (ρᵢ = 1 / yᵢᵀsᵢ)
       r ← H₀·q; for i oldest→newest: βᵢ = ρᵢ·yᵢᵀr, r ← r + (αᵢ − βᵢ)·sᵢ;   d = r

   (the very first iteration uses d = −g with step min(1, 1/‖g‖₁)·lr);
2. a step t along d: fixed t = lr, or a line search satisfying the strong Wolfe conditions
   f(x + t·d) ≤ f(x) + c₁·t·gᵀd and |g(x + t·d)ᵀd| ≤ −c₂·gᵀd (bracketing, then zooming
   with safeguarded cubic interpolation, which falls back to bisection where the cubic
   degenerates);
3. stop after ``max_iter`` iterations or ``max_eval`` evaluations, or when max|g| ≤
   ``tolerance_grad``, or when the step or the change in loss falls below ``tolerance_change``.

``step(closure)`` needs a closure that clears the gradients, computes the loss, calls
``backward()`` and returns the loss; it is called once per evaluation.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Callable

from ..devices import array_module
from ..autograd.grad_mode import GradMode
from ..ops.inplace import bump_version
from ..tensor import Tensor, make_tensor
from .optimizer import Optimizer, ParamsT, _call_closure, check_number

_FLOAT_MAX = sys.float_info.max
_EPS = sys.float_info.epsilon


def cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                  bounds: tuple | None = None) -> float:
    """Minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    ``bounds`` = (lo, hi) (default: the interval between x1 and x2).

    With a ≤ b the two points in order (fa, ga, fb, gb their values and slopes):

        d₁ = ga + gb − 3·(fa − fb)/(a − b),   d₂ = √(d₁² − ga·gb)
        x* = a + (b − a)·ga/(ga + d₁ − d₂) = b − (b − a)·gb/(gb + d₁ + d₂)

    (the root of the cubic's derivative where it turns from negative to positive; the textbook
    form b − (b − a)·(gb + d₂ − d₁)/(gb − ga + 2d₂) combines the two and is 0/0 where either
    alone is well defined, e.g. when gb = 0 at a minimum in b).

    Where the cubic gives no usable minimiser the result is the midpoint of the bounds, so a
    line search built on this bisects instead: no real minimiser (d₁² < ga·gb), coincident points
    (a = b), denominators that are zero to within rounding (the minimiser lies at infinity, as
    for a concave quadratic), all slopes zero, infinite or NaN values, or intermediate results
    that overflow.  The result is always a finite number in [lo, hi]; only bounds that are not
    finite numbers with lo ≤ hi raise (ValueError).
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"cubic_minimum: bounds must be finite numbers with lo <= hi, got ({lo}, {hi})")
    # halves first: (lo + hi) / 2 overflows for bounds near the largest float; the clamp keeps
    # the result in [lo, hi] when halving a subnormal rounds
    midpoint = min(max(0.5 * lo + 0.5 * hi, lo), hi)

    a, fa, ga, b, fb, gb = (float(v) for v in ((x1, f1, g1, x2, f2, g2) if x1 <= x2 else (x2, f2, g2, x1, f1, g1)))
    if not all(math.isfinite(v) for v in (a, fa, ga, b, fb, gb)) or a == b:
        return midpoint
    # x* does not change when all values and slopes are multiplied by the same positive number;
    # a power of two is exact, and brings them below 1 so that fa − fb cannot overflow
    largest = max(abs(fa), abs(fb), abs(ga), abs(gb))
    if largest > 0:
        e = math.frexp(largest)[1]
        fa, fb, ga, gb = (math.ldexp(v, -e) for v in (fa, fb, ga, gb))
    d1 = ga + gb - 3 * (fa - fb) / (a - b)
    # d₂ from scaled terms, so that d₁² cannot overflow when the points are very close
    s = max(abs(d1), abs(ga), abs(gb))
    if not 0 < s < math.inf:
        return midpoint  # all slopes zero (a flat line), or d₁ overflowed
    d2_square = (d1 / s) * (d1 / s) - (ga / s) * (gb / s)
    if not d2_square >= 0:
        return midpoint  # no real minimiser
    d2 = s * math.sqrt(d2_square)
    # two exact rewritings of x*; each is 0/0 somewhere the other is not, so take the one whose
    # denominator is larger.  Both denominators zero to within the rounding of their terms (a few
    # ε of their size) means the minimiser lies at infinity, on a side decided by noise.
    den_a, den_b = ga + d1 - d2, gb + d1 + d2
    if abs(den_a) >= abs(den_b):
        if not abs(den_a) > 64 * _EPS * (abs(ga) + abs(d1) + d2):
            return midpoint
        x = a + (b - a) * (ga / den_a)  # may be ±inf: clamped below
    else:
        if not abs(den_b) > 64 * _EPS * (abs(gb) + abs(d1) + d2):
            return midpoint
        x = b - (b - a) * (gb / den_b)
    if math.isnan(x):
        return midpoint
    return min(max(x, lo), hi)


def _better(a: float, b: float) -> bool:
    """Loss a is strictly better than loss b: a < b, where a NaN loss is worse than any number."""
    return a < b or (b != b and a == a)


def strong_wolfe(evaluate: Callable[[float], tuple], t: float, d: Any, f: float, g: Any, gtd: float,
                 c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Line search along ``d`` from a point with loss ``f``, gradient ``g`` and slope ``gtd`` = gᵀd < 0.

    ``evaluate(t)`` returns (loss, flat gradient) at x + t·d.  Returns (loss, gradient, t, number
    of evaluations) at the accepted step.  First a bracket containing acceptable steps is found
    (growing t by cubic extrapolation, at most ×10), then shrunk by cubic interpolation, forcing
    trial points at least 10% of the bracket away from its ends when progress stalls.  It stops
    when a step satisfies the strong Wolfe conditions

        f(t) ≤ f + c₁·t·gtd  (sufficient decrease),    |g(t)ᵀd| ≤ −c₂·gtd  (curvature),

    when the bracket is shorter than ``tolerance_change`` (measured as its length times max|d|),
    or after ``max_ls`` evaluations beyond the first (at most max(max_ls, 0) + 1 in all).

    A NaN loss counts as worse than any number (and +inf, as always, as worse than any finite
    loss): steps into a region where the function overflows or is undefined shrink the bracket,
    and are not returned while a better loss has been seen.  Where the interpolation
    degenerates, :func:`cubic_minimum` bisects.  If the step the search settles on lacks
    sufficient decrease, the lowest loss evaluated (possibly the start, t = 0) is returned
    instead.
    """
    t = float(t)
    xp = array_module(d)
    dot = lambda a, b: float(xp.dot(a, b))  # noqa: E731
    d_norm = float(xp.abs(d).max())
    evals = 0
    best = (0.0, f, g)  # (step, loss, gradient) with the lowest loss seen

    def trial(step: float) -> tuple:
        nonlocal evals, best
        f_t, g_t = evaluate(step)
        evals += 1
        if _better(f_t, best[1]):
            best = (step, f_t, g_t)
        return f_t, g_t, dot(g_t, d)

    f_new, g_new, gtd_new = trial(t)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd: list = [gtd_prev, gtd_new]
    # the comparisons are written so that a NaN loss fails sufficient decrease: `not a <= b`
    while ls_iter < max_ls:
        if not f_new <= f + c1 * t * gtd or (ls_iter > 1 and not f_new < f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # still descending and still decreasing: extrapolate (bounds kept finite for huge steps)
        hi = min(t * 10, _FLOAT_MAX)
        lo = min(t + 0.01 * (t - t_prev), hi)
        old_t = t
        t = cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo, hi))
        t_prev, f_prev, g_prev, gtd_prev = old_t, f_new, g_new, gtd_new
        f_new, g_new, gtd_new = trial(t)
        ls_iter += 1
    if ls_iter >= max_ls:  # no bracket found within the budget: settle between 0 and t
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insufficient = False
    low, high = (1, 0) if _better(bracket_f[-1], bracket_f[0]) else (0, 1)
    while not done and ls_iter < max_ls:
        if bracket[1] == bracket[0] or abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep trial points away from the bracket's ends when interpolation makes little progress
        b_lo, b_hi = min(bracket), max(bracket)
        margin = 0.1 * (b_hi - b_lo)
        if min(b_hi - t, t - b_lo) < margin:
            if insufficient or t >= b_hi or t <= b_lo:
                t = b_hi - margin if abs(t - b_hi) < abs(t - b_lo) else b_lo + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new, gtd_new = trial(t)
        ls_iter += 1
        if not f_new <= f + c1 * t * gtd or not f_new < bracket_f[low]:
            # not enough decrease: t becomes the high end
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (1, 0) if _better(bracket_f[1], bracket_f[0]) else (0, 1)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    t, f_new, g_new = bracket[low], bracket_f[low], bracket_g[low]
    if not f_new <= f + c1 * t * gtd and _better(best[1], f_new):
        t, f_new, g_new = best
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None)``; ``max_eval`` defaults to ``max_iter * 5 // 4`` and
    ``line_search_fn`` may be ``"strong_wolfe"``.

    One parameter group only, all parameters on one device.  ``step(closure)`` runs up to
    ``max_iter`` iterations.  The state (kept under the first parameter, as PyTorch does) holds
    the history: ``old_dirs`` (y's), ``old_stps`` (s's), ``ro``, ``H_diag``, ``d``, ``t``,
    ``prev_flat_grad``, ``prev_loss``, ``n_iter`` and ``func_evals``.  It needs
    (2·history_size + 2) times the parameters' memory.
    """


    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_number("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"only 'strong_wolfe' is supported as line_search_fn, got {line_search_fn!r}")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        devices = {str(p.device) for p in self._params}
        if len(devices) > 1:
            raise ValueError(f"LBFGS needs all parameters on one device, got {sorted(devices)}")

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- the parameters as one flat vector -------------------------------------------------------------
    def _flat_grad(self) -> Any:
        xp = array_module(self._params[0]._data)
        parts = [p.grad._data.reshape(-1) if p.grad is not None else xp.zeros(p.numel(), dtype=p.dtype)
                 for p in self._params]
        return xp.concatenate(parts)

    def _add(self, t: float, d: Any) -> None:
        """x ← x + t·d."""
        off = 0
        for p in self._params:
            n = p.numel()
            p._data += t * d[off:off + n].reshape(p.shape)
            bump_version(p, "LBFGS.step")
            off += n

    def _copy_params(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_params(self, values: list) -> None:
        for p, v in zip(self._params, values):
            p._data[...] = v
            bump_version(p, "LBFGS.step")

    def _evaluate_at(self, closure: Callable, x: list, t: float, d: Any) -> tuple:
        """(loss, flat gradient) at x + t·d; the parameters are put back to x afterwards."""
        self._add(t, d)
        loss = float(_call_closure(closure))
        g = self._flat_grad()
        self._set_params(x)
        return loss, g

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss at the starting point."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the loss (and calls backward)")
        prev_mode = GradMode.enabled
        GradMode.enabled = False
        try:
            return self._step(closure)
        finally:
            GradMode.enabled = prev_mode

    def _step(self, closure: Callable) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search, history = group["line_search_fn"], group["history_size"]
        xp = array_module(self._params[0]._data)
        dot = lambda a, b: float(xp.dot(a, b))  # noqa: E731

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = _call_closure(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(xp.abs(flat_grad).max()) <= tol_grad:
            return orig_loss

        arr = lambda v: v._data if isinstance(v, Tensor) else v  # noqa: E731
        d = arr(state.get("d"))
        t = state.get("t")
        old_dirs = [arr(v) for v in state["old_dirs"]] if "old_dirs" in state else None
        old_stps = [arr(v) for v in state["old_stps"]] if "old_stps" in state else None
        ro = list(state["ro"]) if "ro" in state else None
        h_diag = state.get("H_diag")
        prev_flat_grad = arr(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # -- direction ------------------------------------------------------------------
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = dot(y, s)
                if ys > 1e-10:  # keep the pair only with positive curvature (H stays positive definite)
                    if len(old_dirs) == history:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / dot(y, y)
                if "al" not in state:
                    state["al"] = [None] * history
                al = state["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = dot(old_stps[i], q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = dot(old_dirs[i], r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # -- step length ----------------------------------------------------------------
            if state["n_iter"] == 1:
                g_sum = float(xp.abs(flat_grad).sum())  # 0 only at a stationary point (tolerance_grad < 0)
                t = (min(1.0, 1.0 / g_sum) if g_sum > 0 else 1.0) * lr
            else:
                t = lr
            gtd = dot(flat_grad, d)
            if gtd > -tol_change:  # not a descent direction (any more)
                break
            ls_evals = 0
            if line_search is not None:
                x0 = self._copy_params()
                loss, flat_grad, t, ls_evals = strong_wolfe(
                    lambda step: self._evaluate_at(closure, x0, step, d), t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - evals)
                self._add(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tol_grad
            else:
                self._add(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # re-evaluate (except after the last iteration: the next step() does it)
                    loss = float(_call_closure(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            # -- stopping -------------------------------------------------------------------
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d).max()) * abs(t) <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        wrap = lambda v: make_tensor(v, False, None)  # noqa: E731
        state["d"] = wrap(d)
        state["t"] = t
        state["old_dirs"] = [wrap(v) for v in old_dirs]
        state["old_stps"] = [wrap(v) for v in old_stps]
        state["ro"] = ro
        state["H_diag"] = h_diag
        state["prev_flat_grad"] = wrap(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss
