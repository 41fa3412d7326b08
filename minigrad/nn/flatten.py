"""``Flatten``: merge a range of dims into one."""
from __future__ import annotations

from ..ops.shape import flatten
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Shape (N, d1, d2, ...) -> (N, d1·d2·...) by default (dims ``start_dim..end_dim`` merged)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
