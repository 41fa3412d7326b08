"""Distances and similarities between batches of vectors: ``cosine_similarity``, ``pairwise_distance``."""
from __future__ import annotations

from ...errors import ShapeError
from ...ops.elementwise import clamp
from ...ops.norm import norm
from ...ops.reduction import sum as _sum
from ...tensor import Tensor


def _broadcast_shape(a: Tensor, b: Tensor, op: str) -> tuple:
    """The shape a and b broadcast to (NumPy's rule, dims aligned from the right)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    if any(p != q and 1 not in (p, q) for p, q in zip(sa, sb)):
        raise ShapeError(f"{op}: the shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast")
    return tuple(q if p == 1 else p for p, q in zip(sa, sb))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (the inputs broadcast):

        y = Σ (x1 / max(‖x1‖, ε)) · (x2 / max(‖x2‖, ε))

    each norm clamped to at least ``eps`` on its own (so a zero vector gives 0, not NaN).  The
    result has the broadcast shape without ``dim``.
    """
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cosine_similarity: {name} must be a Tensor, got {type(t).__name__}")
    shape = _broadcast_shape(x1, x2, "cosine_similarity")
    if len(shape) == 0 or not -len(shape) <= dim < len(shape):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for the broadcast shape {shape}")
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = clamp(norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = clamp(norm(x2, 2, dim, keepdim=True), min=eps)
    return _sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm distance between ``x1`` and ``x2`` along their last dim (the inputs broadcast):

        y = ‖x1 - x2 + ε‖_p

    (ε added to the difference keeps the norm's gradient finite at x1 = x2).  Shape: the broadcast
    shape without its last dim (kept as size 1 with ``keepdim``).
    """
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"pairwise_distance: {name} must be a Tensor, got {type(t).__name__}")
    shape = _broadcast_shape(x1, x2, "pairwise_distance")
    if len(shape) == 0:
        raise ShapeError("pairwise_distance: expected inputs with at least 1 dim, got two 0-d tensors")
    return norm(x1 - x2 + eps, p, -1, keepdim=keepdim)
