"""Batch normalization (functional form)."""
from __future__ import annotations

import math
from typing import Any

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...ops.elementwise import sqrt
from ...ops.reduction import mean as _mean
from ...ops.shape import reshape
from ...tensor import Tensor


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, num_batches_tracked: Tensor | None = None) -> Tensor:
    """Normalize each channel of ``input``, of shape (N, C, *): (N, C), (N, C, L), (N, C, H, W),
    (N, C, D, H, W) ...:

        y = (x - μ) / √(σ² + ε) · γ + β

    with one μ, σ², γ, β per channel c, the statistics taken over every dim but C (the N·L,
    N·H·W ... values of that channel).  ``weight`` γ, ``bias`` β and the running statistics
    have shape (C,).

    Training (or no running statistics given): μ, σ² are the batch mean and *biased* variance,
    and the running statistics, when given, are updated in place as r ← (1 - m)·r + m·s with
    the *unbiased* batch variance for ``running_var`` (m = ``momentum``, or 1/num_batches_tracked
    — a cumulative average — when momentum is None).  Evaluation: μ, σ² are the running statistics.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: expected a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, *) with at least 2 dims, got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input (shape "
                             f"{tuple(input.shape)}) has {c} channels")
    axes = (0,) + tuple(range(2, input.ndim))   # every dim but the channels
    bshape = (1, c) + (1,) * (input.ndim - 2)   # a (C,) vector, broadcast along those dims
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        n = input.shape[0] * math.prod(input.shape[2:])  # values per channel
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {tuple(input.shape)}")
        mu = _mean(input, axes, keepdims=True)
        centered = input - mu
        var = _mean(centered * centered, axes, keepdims=True)
        out = centered / sqrt(var + eps)
        if training and running_mean is not None and running_var is not None:
            _update_running(running_mean, running_var, mu, var, n, momentum, num_batches_tracked)
        if weight is not None:
            out = out * reshape(weight, bshape)
        if bias is not None:
            out = out + reshape(bias, bshape)
        return out
    # Evaluation: one affine map per channel, y = x·scale + shift.
    inv = 1.0 / sqrt(running_var + eps)
    scale = inv if weight is None else inv * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape(scale, bshape) + reshape(shift, bshape)


def _update_running(running_mean: Tensor, running_var: Tensor, mu: Tensor, var: Tensor, n: int,
                    momentum: Any, num_batches_tracked: Tensor | None) -> None:
    with no_grad():
        if num_batches_tracked is not None:
            num_batches_tracked.add_(1)
        if momentum is None:
            m = 1.0 / float(num_batches_tracked.item()) if num_batches_tracked is not None else 0.0
        else:
            m = float(momentum)
        c = running_mean.shape[0]
        batch_mean = mu.detach().reshape(c)
        unbiased = var.detach().reshape(c) * (n / (n - 1))
        running_mean.mul_(1 - m).add_(batch_mean.to(running_mean.dtype) * m)
        running_var.mul_(1 - m).add_(unbiased.to(running_var.dtype) * m)
