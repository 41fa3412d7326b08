"""Second-order optimizers: exact Newton with Levenberg–Marquardt damping, and Hessian-free
Newton-CG.  Both use second derivatives from the tape (``create_graph=True``).

With all parameters as one vector x, gradient g and Hessian H at x, a Newton step solves

    (H + λI)·d = −g

and moves x ← x + t·d, with t from a backtracking (Armijo) line search: t = lr, lr/2, ...
until f(x + t·d) ≤ f(x) + c₁·t·gᵀd.  On a quadratic with positive definite H, λ = 0 and
t = 1 land on the minimum in one step.

* :class:`Newton` builds H explicitly (one reverse pass over the gradient per parameter, so
  only for small parameter counts) and factorises it.  If H + λI is not positive definite
  (Cholesky fails) λ grows ×10 until it is — Levenberg–Marquardt: a large λ turns the step
  into a short gradient-descent step.  The λ that worked, divided by 10, is tried first at
  the next step.
* :class:`NewtonCG` never forms H.  It solves the system approximately with conjugate
  gradients, each iteration needing one Hessian-vector product H·v = ∂(gᵀv)/∂x (one reverse
  pass), and stops early when the residual is small relative to ‖g‖ or when it meets a
  direction of non-positive curvature pᵀHp ≤ 0 (then it returns the iterate so far, or −g
  if that happens at once), so it always returns a descent direction.

``step(closure)``: the closure must *return the loss without calling backward()* — the
optimizer differentiates it twice itself.  It is also called (under no_grad) at the line
search's trial points.
"""
from __future__ import annotations

from typing import Any, Callable

from ..devices import array_module
from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import GradMode
from ..ops.inplace import bump_version
from ..tensor import Tensor, make_tensor
from .optimizer import Optimizer, ParamsT, check_number


class _NewtonBase(Optimizer):

    def __init__(self, params: ParamsT, defaults: dict) -> None:
        check_number("learning rate", defaults["lr"])
        check_number("damping", defaults["damping"])
        if defaults["line_search"] not in (None, "armijo"):
            raise ValueError(f"line_search must be 'armijo' or None, got {defaults['line_search']!r}")
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__} doesn't support per-parameter options (parameter groups): "
                             "the Hessian couples all parameters")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError(f"{type(self).__name__} doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- flat vectors ---------------------------------------------------------------------------
    def _flat(self, arrays: list) -> Any:
        xp = array_module(self._params[0]._data)
        return xp.concatenate([a.reshape(-1) for a in arrays])

    def _split(self, flat: Any) -> list:
        out, off = [], 0
        for p in self._params:
            n = p.numel()
            out.append(flat[off:off + n].reshape(p.shape))
            off += n
        return out

    def _set(self, flat: Any) -> None:
        for p, v in zip(self._params, self._split(flat)):
            p._data[...] = v
            bump_version(p, f"{type(self).__name__}.step")

    # -- loss and derivatives -------------------------------------------------------------------
    def _loss_and_grad(self, closure: Callable) -> tuple:
        """(loss tensor, gradient tensors on the tape) at the current parameters."""
        GradMode.enabled = True
        try:
            loss = closure()
            if not isinstance(loss, Tensor):
                raise TypeError(f"{type(self).__name__}: the closure must return the loss as a Tensor, "
                                f"got {type(loss).__name__}")
            if loss.numel() != 1:
                raise RuntimeError(f"{type(self).__name__}: the loss must have one element, got shape {loss.shape}")
            if loss.grad_fn is None:
                raise RuntimeError(f"{type(self).__name__}: the closure's loss has no graph; compute it from the "
                                   "parameters with gradient recording on")
            if loss.grad_fn.released:
                raise RuntimeError(f"{type(self).__name__}: the closure called backward(), which freed the graph; "
                                   "return the loss without calling backward() — the optimizer differentiates "
                                   "it (twice) itself")
            grads = _grad(loss, self._params, create_graph=True, allow_unused=True)
        finally:
            GradMode.enabled = False
        xp = array_module(self._params[0]._data)
        grads = [g if g is not None else make_tensor(xp.zeros(p.shape, dtype=p.dtype), False, None)
                 for g, p in zip(grads, self._params)]
        return loss, grads

    def _hvp(self, grads: list, v: Any) -> Any:
        """H·v (flat) = ∂(Σ gᵢ·vᵢ)/∂x, one reverse pass through the recorded gradient."""
        xp = array_module(v)
        live = [(g, make_tensor(vi, False, None)) for g, vi in zip(grads, self._split(v)) if g._requires_grad]
        if not live:
            return xp.zeros_like(v)
        GradMode.enabled = True
        try:
            hv = _grad([g for g, _ in live], self._params, [w for _, w in live], retain_graph=True,
                       allow_unused=True)
        finally:
            GradMode.enabled = False
        return self._flat([h._data if h is not None else xp.zeros(p.shape, dtype=p.dtype)
                           for h, p in zip(hv, self._params)])

    def _evaluate(self, closure: Callable) -> float:
        """The loss at the current parameters, without recording."""
        return float(closure())

    # -- the step -------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One (damped) Newton step; returns the loss before it."""
        if closure is None:
            raise RuntimeError(f"{type(self).__name__}.step needs a closure that returns the loss "
                               "(without calling backward)")
        prev = GradMode.enabled
        GradMode.enabled = False
        try:
            group = self.param_groups[0]
            state = self.state[self._params[0]]
            state.setdefault("step", 0)
            loss, grads = self._loss_and_grad(closure)
            g = self._flat([t._data for t in grads])
            xp = array_module(g)
            state["step"] += 1
            state["grad_norm"] = float(xp.sqrt(xp.dot(g, g)))
            if state["grad_norm"] == 0.0:
                return loss
            d = self._direction(grads, g, group, state)
            self._move(closure, float(loss), g, d, group, state)
            return loss
        finally:
            GradMode.enabled = prev

    def _direction(self, grads: list, g: Any, group: dict, state: dict) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _move(self, closure: Callable, f0: float, g: Any, d: Any, group: dict, state: dict) -> None:
        xp = array_module(g)
        x0 = self._flat([p._data for p in self._params])
        gd = float(xp.dot(g, d))
        if not gd < 0:  # not a descent direction (numerical trouble): fall back to steepest descent
            d = -g
            gd = -float(xp.dot(g, g))
        t = group["lr"]
        if group["line_search"] is None:
            self._set(x0 + t * d)
            state["t"] = t
            return
        c1 = group["c1"]
        for _ in range(group["max_ls"]):
            self._set(x0 + t * d)
            f = self._evaluate(closure)
            if f <= f0 + c1 * t * gd:  # Armijo: enough decrease (NaN compares False: keep shrinking)
                state["t"] = t
                return
            t *= 0.5
        self._set(x0)  # no acceptable step: stay put rather than go uphill
        state["t"] = 0.0


class Newton(_NewtonBase):
    """``Newton(params, lr=1.0, damping=0.0, line_search='armijo', c1=1e-4, max_ls=30, max_damping=1e10)``.

    Exact Hessian, O(n) reverse passes and an O(n³) factorisation per step: for a few
    hundred parameters at most.  State: ``step``, ``damping`` (the λ used last), ``t`` (the
    accepted step length), ``grad_norm``."""

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0, line_search: str | None = "armijo",
                 c1: float = 1e-4, max_ls: int = 30, max_damping: float = 1e10) -> None:
        super().__init__(params, dict(lr=lr, damping=damping, line_search=line_search, c1=c1, max_ls=max_ls,
                                      max_damping=max_damping))

    def hessian(self, grads: list) -> Any:
        """The n×n Hessian, row i = ∂gᵢ/∂x (one reverse pass each), symmetrised."""
        xp = array_module(grads[0]._data)
        n = sum(p.numel() for p in self._params)
        dtype = self._params[0].dtype
        rows = []
        for i in range(n):
            e = xp.zeros(n, dtype=dtype)
            e[i] = 1
            rows.append(self._hvp(grads, e))
        h = xp.stack(rows)
        return (h + h.T) / 2

    def _direction(self, grads: list, g: Any, group: dict, state: dict) -> Any:
        xp = array_module(g)
        h = self.hessian(grads)
        n = h.shape[0]
        eye = xp.eye(n, dtype=h.dtype)
        lam = max(group["damping"], state.get("damping", 0.0) / 10)
        if lam < 1e-12 * max(1.0, float(xp.abs(xp.diagonal(h)).max())):
            lam = group["damping"]
        scale = max(1e-8, 1e-6 * float(xp.abs(xp.diagonal(h)).max()))
        while True:
            m = h + lam * eye if lam else h
            try:
                chol = xp.linalg.cholesky(m)
                ok = bool(xp.isfinite(chol).all())
            except Exception:  # LinAlgError: not positive definite
                ok = False
            if ok:
                break
            if lam >= group["max_damping"]:
                state["damping"] = lam
                return -g  # hopeless curvature: plain gradient descent
            lam = scale if lam == 0 else lam * 10
        state["damping"] = lam
        # (H + λI)·d = −g with the factor: L·y = −g, Lᵀ·d = y
        y = xp.linalg.solve(chol, -g)
        return xp.linalg.solve(chol.T, y)


class NewtonCG(_NewtonBase):
    """``NewtonCG(params, lr=1.0, damping=0.0, cg_max_iter=None, cg_tol=None, line_search='armijo', c1=1e-4,
    max_ls=30)``: Hessian-free (truncated) Newton.

    CG runs on (H + λI)·d = −g for at most ``cg_max_iter`` iterations (default: the number of
    parameters, capped at 250) until ‖residual‖ ≤ cg_tol·‖g‖ (default cg_tol = min(0.5, √‖g‖),
    the classic forcing sequence that makes the method superlinear near the minimum).
    State: ``step``, ``cg_iters`` (last step's CG iterations), ``t``, ``grad_norm``."""

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0, cg_max_iter: int | None = None,
                 cg_tol: float | None = None, line_search: str | None = "armijo", c1: float = 1e-4,
                 max_ls: int = 30) -> None:
        super().__init__(params, dict(lr=lr, damping=damping, cg_max_iter=cg_max_iter, cg_tol=cg_tol,
                                      line_search=line_search, c1=c1, max_ls=max_ls))

    def _direction(self, grads: list, g: Any, group: dict, state: dict) -> Any:
        xp = array_module(g)
        n = g.shape[0]
        lam = group["damping"]
        max_iter = group["cg_max_iter"] or min(n, 250)
        gnorm = state["grad_norm"]
        tol = (group["cg_tol"] if group["cg_tol"] is not None else min(0.5, gnorm ** 0.5)) * gnorm
        d = xp.zeros_like(g)
        r = -g                      # residual of (H + λI)·d = −g at d = 0
        p = r.copy()
        rr = float(xp.dot(r, r))
        k = 0
        for k in range(1, max_iter + 1):
            hp = self._hvp(grads, p)
            if lam:
                hp = hp + lam * p
            curv = float(xp.dot(p, hp))
            if curv <= 1e-12 * float(xp.dot(p, p)):  # non-positive curvature: stop here
                if k == 1:
                    d = -g
                break
            alpha = rr / curv
            d += alpha * p
            r -= alpha * hp
            rr_new = float(xp.dot(r, r))
            if rr_new ** 0.5 <= tol:
                break
            p = r + (rr_new / rr) * p
            rr = rr_new
        state["cg_iters"] = k
        return d
