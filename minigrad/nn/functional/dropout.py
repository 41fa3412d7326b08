"""Inverted dropout."""
from __future__ import annotations

from ... import random as _random
from ..._device import is_cuda_array
from ...ops import _cuda_kernels
from ...ops._util import constant
from ...ops.activation import MaskGrad
from ...tensor import Tensor


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the survivors by 1/(1-p) (training);
    identity otherwise.

    The scaling keeps E[output] = input, so nothing changes at test time.  (The textbook form
    drops without scaling and multiplies the weights by 1-p at test time; the two give the same
    test-time network, see docs/nn.md.)  Masks come from ``mg.random.generator(device)``.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: expected a Tensor, got {type(input).__name__}")
    if not training or p == 0.0:
        return input
    a = input._data
    if p == 1.0:
        return input * constant((a * 0).astype(a.dtype))
    gen = _random.generator(input.device)
    draw_dt = a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else "float32"
    u = gen.random(a.shape, dtype=draw_dt)
    if is_cuda_array(a):
        scale = _cuda_kernels.dropout_mask(u, p, a.dtype)  # one launch instead of three
    else:
        scale = ((u >= p).astype(a.dtype) * (1.0 / (1.0 - p))).astype(a.dtype, copy=False)
    return DropoutMask.apply(input, scale)


class DropoutMask(MaskGrad):
    """y = x · m, with m = 1/(1-p) where an element is kept and 0 where it is dropped (a
    constant of x's shape).   dx = dy · m.  (Its own node, so graph pictures say "DropoutMask".)"""
