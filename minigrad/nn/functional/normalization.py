"""Normalization layers in functional form: batch, layer and group normalization, and ``normalize``."""
from __future__ import annotations

import math
from typing import Any

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...ops.elementwise import clamp, sqrt
from ...ops.norm import norm
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
        if n == 0:  # an empty batch: an empty result, running statistics left as they are (PyTorch)
            return input * 1.0
        if n == 1:
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


def _as_shape(normalized_shape: Any) -> tuple:
    if isinstance(normalized_shape, int):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _standardize(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(biased var + eps) over ``axes`` (composed: gradients of any order)."""
    mu = _mean(x, axes, keepdims=True)
    centered = x - mu
    var = _mean(centered * centered, axes, keepdims=True)
    return centered / sqrt(var + eps)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims of ``input``, shape (*, *normalized_shape):

        y = (x - μ) / √(σ² + ε) · γ + β

    μ and the biased variance σ² are taken over those trailing dims, one pair per leading index;
    ``weight`` γ and ``bias`` β (optional) have shape ``normalized_shape``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm: expected a Tensor, got {type(input).__name__}")
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} must be non-empty and match the trailing dims of "
                         f"the input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected normalized_shape {shape}")
    out = _standardize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Split the C channels of ``input`` (N, C, *) into ``num_groups`` groups of C/G channels and
    normalize each (sample, group) over its channels and spatial positions:

        y = (x - μ_ng) / √(σ²_ng + ε) · γ_c + β_c

    ``weight`` γ and ``bias`` β (optional) have shape (C,).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm: expected a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of shape (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if not isinstance(num_groups, int) or num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups!r} must be a positive divisor of the {c} channels")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"group_norm: {name} has shape {tuple(t.shape)}, expected ({c},)")
    if (n * c // num_groups) * math.prod(input.shape[2:]) == 1:  # as PyTorch's check
        raise ValueError(f"group_norm: expected more than 1 value per channel, got input of shape "
                         f"{tuple(input.shape)} with {num_groups} groups")
    per_group = (c // num_groups) * math.prod(input.shape[2:])
    grouped = reshape(input, (n, num_groups, per_group))
    out = reshape(_standardize(grouped, (2,), eps), tuple(input.shape))
    bshape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * reshape(weight, bshape)
    if bias is not None:
        out = out + reshape(bias, bshape)
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input`` divided by its p-norm along ``dim``: y = x / max(‖x‖_p, ε) (same shape)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize: expected a Tensor, got {type(input).__name__}")
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)
