"""Binary cross-entropy (on probabilities and on logits) and the sparse-autoencoder KL penalty.

Each loss has its plain form beside it, written from log and sigmoid as the formula reads:
``binary_cross_entropy_reference`` and ``binary_cross_entropy_with_logits_reference``.  The
functions themselves add what extreme inputs need (logs clamped at -100; the logits form never
forms σ(x)); the tests check that they agree with the plain forms wherever those are finite.
"""
from __future__ import annotations

import math
from typing import Any

from ...devices import array_module
from ...autograd.function import Function
from ...ops.activation import sigmoid, softplus
from ...ops.elementwise import clamp, log, where
from ...tensor import Tensor
from ._common import as_target, as_weight, check_input, check_reduction, reduce

_LOG_FLOOR = -100.0   # log terms are clamped here, so p = 0 or 1 gives a large finite loss
_GRAD_EPS = 1e-12     # floor of x(1 - x) in the gradient


def _clamped_log(xp: Any, a: Any) -> Any:
    """max(log a, -100) without evaluating log(0) (no warnings, no -inf); NaN stays NaN."""
    positive = ~(a <= 0)  # (NaN counts as positive, so its log, NaN, comes through)
    logs = xp.log(xp.where(positive, a, 1))
    return xp.where(positive, xp.maximum(logs, _LOG_FLOOR), _LOG_FLOOR).astype(a.dtype, copy=False)


def _clamped_log_t(x: Tensor) -> Tensor:
    """The same with Tensor ops (differentiable; the inner ``where`` keeps log's gradient finite)."""
    positive = ~(x._data <= 0)
    return clamp(where(positive, log(where(positive, x, 1.0)), _LOG_FLOOR), _LOG_FLOOR, None)


class BinaryCrossEntropy(Function):
    """ℓ = -[y·max(log x, -100) + (1 - y)·max(log(1 - x), -100)], element-wise.

    dℓ/dx = (x - y) / max(x(1 - x), 1e-12)   (-y/x + (1-y)/(1-x) on one fraction, finite at x = 0 and 1)
    dℓ/dy = max(log(1 - x), -100) - max(log x, -100)
    """

    def forward(self, x: Tensor, y: Tensor) -> Any:
        a, t = x._data, y._data
        xp = array_module(a)
        self.save_for_backward(x, y)
        return -(t * _clamped_log(xp, a) + (1 - t) * _clamped_log(xp, 1 - a))

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        gx = g * (x - y) / clamp(x * (1 - x), _GRAD_EPS, None) if self.needs_input_grad[0] else None
        gy = g * (_clamped_log_t(1 - x) - _clamped_log_t(x)) if self.needs_input_grad[1] else None
        return gx, gy


def _check_probabilities(x: Tensor, op: str, name: str = "input", hint: str = "") -> None:
    """Refuse values outside [0, 1], NaN included (as PyTorch does: a NaN probability is a bug
    upstream, and the clamped logs would turn it into a finite loss)."""
    a = x._data
    if not a.size:
        return
    inside = (a >= 0) & (a <= 1)  # False for NaN
    if bool(inside.all()):
        return
    xp = array_module(a)
    nans = int(xp.isnan(a).sum())
    if nans:
        got = f"{nans} NaN value{'s' if nans > 1 else ''}"
    else:
        got = f"values from {float(a.min())} to {float(a.max())}"
    raise ValueError(f"{op}: all elements of {name} must lie in [0, 1] (probabilities), got {got}{hint}")


def binary_cross_entropy_reference(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from recorded ops: the plain form of :func:`binary_cross_entropy`.

        ℓ = -w·[y·log x + (1 - y)·log(1 - x)],   x, y ∈ [0, 1], any shape (w broadcasts to it)

    then mean / sum / none.  Its gradient, from log's backward, is w·(-y/x + (1 - y)/(1 - x)) =
    w·(x - y)/(x(1 - x)).  It agrees with :func:`binary_cross_entropy` wherever log x and
    log(1 - x) exceed -100 and x(1 - x) ≥ 1e-12; at x = 0 or 1 it gives inf, where the
    function clamps the logs and keeps the gradient finite.
    """
    op = "binary_cross_entropy_reference"
    check_reduction(reduction, op)
    check_input(input, op)
    y = as_target(target, input, op)
    _check_probabilities(input, op)
    w = as_weight(weight, input, tuple(input.shape), op)
    loss = -(y * log(input) + (1 - y) * log(1 - input))
    return reduce(loss if w is None else loss * w, reduction)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Cross-entropy of probabilities x ∈ [0, 1] against targets y:

        ℓ = -w·[y log x + (1 - y) log(1 - x)],

    each log clamped to ≥ -100 so x = 0 or 1 gives a finite loss and gradient.
    ``weight`` broadcasts to the input's shape.  Input and target must lie in [0, 1]; anything
    else, NaN included, is a ValueError (PyTorch refuses the same values).
    """
    check_reduction(reduction, "binary_cross_entropy")
    check_input(input, "binary_cross_entropy")
    y = as_target(target, input, "binary_cross_entropy")
    _check_probabilities(input, "binary_cross_entropy", hint="; for logits use binary_cross_entropy_with_logits")
    _check_probabilities(y, "binary_cross_entropy", "target")
    w = as_weight(weight, input, tuple(input.shape), "binary_cross_entropy")
    loss = BinaryCrossEntropy.apply(input, y)
    if w is not None:
        loss = loss * w
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy of σ(x) against y, computed from the logits x without forming σ(x):

        ℓ = w·[(1 - y)·x + (1 + (p - 1)·y)·softplus(-x)],   softplus(z) = log(1 + eᶻ),

    (p = ``pos_weight``, 1 by default; it broadcasts along the last, class, dim).  softplus is
    evaluated as max(z, 0) + log1p(e^{-|z|}), so logits of ±1e4 give exact finite values and
    gradients dℓ/dx = w·[(1 - y) - (1 + (p - 1)y)·σ(-x)].  A NaN logit or target gives a NaN
    loss and gradient; targets are not range-checked (as in PyTorch).
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(reduction, op)
    check_input(input, op)
    y = as_target(target, input, op)
    w = as_weight(weight, input, tuple(input.shape), op)
    pw = as_weight(pos_weight, input, tuple(input.shape), op, "pos_weight")
    sp = softplus(-input, 1.0, math.inf)
    if pw is None:
        loss = (1 - y) * input + sp
    else:
        loss = (1 - y) * input + (1 + (pw - 1) * y) * sp
    if w is not None:
        loss = loss * w
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits_reference(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean",
                                               pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy of σ(x) from recorded ops: the plain form of
    :func:`binary_cross_entropy_with_logits`.

        ℓ = -w·[p·y·log σ(x) + (1 - y)·log(1 - σ(x))],   σ(x) = 1 / (1 + e⁻ˣ)

    (p = ``pos_weight``, 1 by default; w and p broadcast to x's shape), then mean / sum / none.
    Its gradient is w·[(1 + (p - 1)y)·σ(x) - p·y].  With log σ(x) = -softplus(-x) and
    log(1 - σ(x)) = -x - softplus(-x) this is the function's ℓ = w·[(1 - y)·x + (1 + (p - 1)y)·
    softplus(-x)], which never forms σ(x).  This form does: 1 - σ(x) loses digits as x grows and
    is 0 once σ(x) rounds to 1 (x above about 37 in float64, 17 in float32), where log 0 makes
    the loss inf.
    """
    op = "binary_cross_entropy_with_logits_reference"
    check_reduction(reduction, op)
    check_input(input, op)
    y = as_target(target, input, op)
    w = as_weight(weight, input, tuple(input.shape), op)
    pw = as_weight(pos_weight, input, tuple(input.shape), op, "pos_weight")
    s = sigmoid(input)
    loss = -((y if pw is None else pw * y) * log(s) + (1 - y) * log(1 - s))
    return reduce(loss if w is None else loss * w, reduction)


def kl_sparsity(rho: float, rho_hat: Tensor, reduction: str = "sum") -> Tensor:
    """Sparse-autoencoder penalty: the KL divergence between Bernoulli(ρ) and Bernoulli(ρ̂_j)
    for each hidden unit j (ρ̂_j its average activation), summed over units:

        Σ_j ρ log(ρ/ρ̂_j) + (1 - ρ) log((1 - ρ)/(1 - ρ̂_j)).

    It equals BCE(ρ̂_j; target ρ) - H(ρ) with H(ρ) = -ρ log ρ - (1 - ρ) log(1 - ρ), which is how it is
    computed, so ρ̂_j = 0 or 1 gives finite values and gradients (logs clamped at -100).
    ``reduction='mean'`` averages over units; ``'none'`` returns each unit's term.
    """
    op = "kl_sparsity"
    check_reduction(reduction, op)
    check_input(rho_hat, op, "rho_hat")
    if isinstance(rho, Tensor):
        rho = float(rho.item())
    rho = float(rho)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"{op}: rho must lie in [0, 1], got {rho}")
    _check_probabilities(rho_hat, op, "rho_hat")
    xp = array_module(rho_hat._data)
    target = Tensor(xp.full(rho_hat.shape, rho, dtype=rho_hat.dtype))
    neg_entropy = sum(p * math.log(p) for p in (rho, 1.0 - rho) if p > 0)  # 0·log 0 = 0
    return reduce(BinaryCrossEntropy.apply(rho_hat, target) + neg_entropy, reduction)
