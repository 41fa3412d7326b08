"""Kullback-Leibler divergence loss."""
from __future__ import annotations

from typing import Any

from ...ops.elementwise import exp, log, where
from ...ops.reduction import sum as _sum
from ...tensor import Tensor
from ._common import as_target, check_input, check_reduction, reduce


def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target ‖ model) point-wise, with ``input`` = log q (log-probabilities of the model):

        ℓ = y·(log y - x)        (ℓ = 0 where y = 0: 0·log 0 = 0)
        ℓ = eʸ·(y - x)           with ``log_target=True`` (target given as log-probabilities)

    Reductions: 'sum', 'none', 'batchmean' (sum / N, the true KL per sample) and 'mean'
    (sum / number of elements).
    """
    op = "kl_div"
    check_reduction(reduction, op, ("mean", "batchmean", "sum", "none"))
    check_input(input, op)
    y = as_target(target, input, op)
    if log_target:
        loss = exp(y) * (y - input)
    else:
        positive = y._data > 0
        # log of 1 where y = 0: the term is 0 there, and the gradient stays finite.
        loss = where(positive, y * (log(where(positive, y, 1.0)) - input), 0.0)
    if reduction == "batchmean":
        total = _sum(loss)
        return total / input.shape[0] if input.ndim else total
    return reduce(loss, reduction)
