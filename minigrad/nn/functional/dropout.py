"""Inverted dropout.

``dropout_reference`` writes it out from recorded ops, y = x · keep / (1 - p); ``dropout`` is the
same map as one node, ``DropoutMask`` (y = x·m with the scaled mask m made in one pass, and one
CUDA kernel on a GPU).  Both draw the same uniform numbers from the device's generator, so with
the same seed they keep the same elements.

``dropout2d`` and ``dropout1d`` drop whole channels: one draw per (n, c), broadcast over the
spatial dims.
"""
from __future__ import annotations

import warnings
from typing import Any

from ... import random as _random
from ...devices import is_cuda_array
from ...errors import ShapeError
from ...ops import cuda_kernels
from ...ops.helpers import constant
from ...ops.activation import MaskGrad
from ...tensor import Tensor


def _check(input: Any, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: expected a Tensor, got {type(input).__name__}")


def _uniform_draws(input: Tensor) -> Any:
    """u ~ U[0, 1) of the input's shape from its device's generator; element i is kept where
    u_i ≥ p.  (Drawn in float32 for half-precision inputs.)"""
    a = input._data
    draw_dt = a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else "float32"
    return _random.generator(input.device).random(a.shape, dtype=draw_dt)


def dropout_reference(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout from recorded ops: the plain form of :func:`dropout`.

        keep_i = [u_i ≥ p],  u_i ~ U[0, 1)   (each element kept with probability 1 - p)
        y = x · keep / (1 - p)                 (any shape; y has x's shape)

    Its gradient, from the product's backward: dx = dy · keep / (1 - p).  p = 1 drops everything
    (y = 0·x, no draws); p = 0 or ``training=False`` returns x.
    """
    _check(input, p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = constant(_uniform_draws(input) >= p).to(input.dtype)
    return input * keep / (1.0 - p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the survivors by 1/(1-p) (training);
    identity otherwise.

    The scaling keeps E[output] = input, so nothing changes at test time.  (The textbook form
    drops without scaling and multiplies the weights by 1-p at test time; the two give the same
    test-time network, see docs/nn.md.)  Masks come from ``mg.random.generator(device)``.
    """
    _check(input, p)
    if not training or p == 0.0:
        return input
    a = input._data
    if p == 1.0:
        return input * constant((a * 0).astype(a.dtype))
    u = _uniform_draws(input)
    if is_cuda_array(a):
        scale = cuda_kernels.dropout_mask(u, p, a.dtype)  # one launch instead of three
    else:
        scale = ((u >= p).astype(a.dtype) * (1.0 / (1.0 - p))).astype(a.dtype, copy=False)
    return DropoutMask.apply(input, scale)


class DropoutMask(MaskGrad):
    """y = x · m, with m = 1/(1-p) where an element is kept and 0 where it is dropped (a
    constant of x's shape).   dx = dy · m, one formula whether or not the backward is recorded
    (MaskGrad's).  (Its own node, so graph pictures say "DropoutMask".)"""


def _feature_dropout(input: Tensor, p: float, mask_shape: tuple) -> Tensor:
    """y = x · m with m ~ keep / (1 - p) drawn once per entry of ``mask_shape`` (x's shape with 1
    for the dims a whole feature map spans) and broadcast over the rest.  Composed from ops: the
    gradient is dy · m."""
    a = input._data
    if p == 1.0:
        return input * 0.0
    draw_dt = a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else "float32"
    u = _random.generator(input.device).random(mask_shape, dtype=draw_dt)
    scale = ((u >= p).astype(a.dtype) * (1.0 / (1.0 - p))).astype(a.dtype, copy=False)
    return input * constant(scale)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout: zero each whole channel (feature map) of a (N, C, H, W) or (C, H, W)
    input with probability ``p`` and scale the kept ones by 1/(1-p) (training); identity
    otherwise.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    regularizes little; dropping maps does.  As PyTorch 2.13: a 3-D input is read as (N, C, L)
    (with a warning, one mask entry per (n, c)); other inputs of 2 or more dims drop per entry of
    their first two dims (with a warning); a 1-D input is refused when something is dropped."""
    _check(input, p)
    if input.ndim == 3:
        warnings.warn("dropout2d: a 3-D input is read as (N, C, L) and each (n, c) row is dropped as a whole "
                      "(channel-wise 1-D dropout, as PyTorch 2.13); use dropout1d for that", stacklevel=2)
    elif input.ndim != 4:
        warnings.warn(f"dropout2d: expected a 3-D or 4-D input, got {input.ndim}-D; each (n, c) entry is dropped "
                      "as a whole", stacklevel=2)
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: feature dropout needs an input of at least 2 dims, got shape {input.shape}")
    return _feature_dropout(input, p, tuple(input.shape[:2]) + (1,) * (input.ndim - 2))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout for 1-D signals: zero each whole channel of a (N, C, L) or (C, L) input
    with probability ``p`` and scale the kept ones by 1/(1-p) (training); identity otherwise."""
    _check(input, p)
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {input.shape}")
    if not training or p == 0.0:
        return input
    return _feature_dropout(input, p, tuple(input.shape[:-1]) + (1,))
