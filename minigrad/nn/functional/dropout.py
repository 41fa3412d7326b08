"""Inverted dropout."""
from __future__ import annotations

from ... import random as _random
from ...ops._util import constant
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
    keep = gen.random(a.shape, dtype=draw_dt) >= p
    scale = keep.astype(a.dtype) * (1.0 / (1.0 - p))
    return input * constant(scale.astype(a.dtype, copy=False))
