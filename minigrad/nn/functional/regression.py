"""Regression losses: squared error, absolute error, and the smooth blends of the two."""
from __future__ import annotations

from typing import Any

from ...ops.elementwise import abs as _abs
from ...ops.elementwise import where
from ...tensor import Tensor
from ._common import as_target, check_input, check_reduction, reduce


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = (x - y)², then mean / sum / none.

    With reduction='sum' and a factor ½, this is the negative log-likelihood of y under
    N(x, 1) up to a constant (docs/nn.md); the mean form is the same up to the factor 2/n.
    """
    check_reduction(reduction, "mse_loss")
    check_input(input, "mse_loss")
    d = input - as_target(target, input, "mse_loss")
    return reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = |x - y| (subgradient 0 where x = y)."""
    check_reduction(reduction, "l1_loss")
    check_input(input, "l1_loss")
    return reduce(_abs(input - as_target(target, input, "l1_loss")), reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """ℓ = ½ d² / β where |d| < β, else |d| - ½β  (d = x - y; β = 0 gives the L1 loss)."""
    check_reduction(reduction, "smooth_l1_loss")
    check_input(input, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = input - as_target(target, input, "smooth_l1_loss")
    ad = _abs(d)
    if beta == 0:
        return reduce(ad, reduction)
    small, dq = _quadratic_zone(d, ad, beta)
    return reduce(where(small, dq * dq * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """ℓ = ½ d² where |d| < δ, else δ (|d| - ½δ)  (d = x - y; equals δ · smooth_l1 with β = δ)."""
    check_reduction(reduction, "huber_loss")
    check_input(input, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - as_target(target, input, "huber_loss")
    ad = _abs(d)
    small, dq = _quadratic_zone(d, ad, delta)
    return reduce(where(small, dq * dq * 0.5, (ad - 0.5 * delta) * delta), reduction)


def _quadratic_zone(d: Tensor, ad: Tensor, threshold: float) -> tuple:
    """(where |d| < threshold, d there and 0 elsewhere) for the quadratic part of smooth L1 / Huber.

    NaN counts as inside, so its NaN reaches the gradient, as in PyTorch; outside, the quadratic
    branch sees 0, so an infinite d sends no inf·0 = NaN back through it."""
    small = ~(ad >= threshold)
    return small, where(small, d, 0.0)
