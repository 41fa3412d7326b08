"""``Flatten``: merge a range of dims into one; ``Unflatten``: split one dim into several."""
from __future__ import annotations

import math
from typing import Any

from ..ops.shape import flatten, reshape
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


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: e.g. (N, 12) -> (N, 3, 4) with dim=1,
    unflattened_size=(3, 4) (one size may be -1, inferred)."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape {tuple(x.shape)}")
        d = self.dim % x.ndim
        sizes = list(self.unflattened_size)
        if sizes.count(-1) > 1:
            raise ValueError("Unflatten: only one size may be -1")
        if -1 in sizes:
            known = math.prod(s for s in sizes if s != -1)
            if known == 0 or x.shape[d] % known:
                raise ValueError(f"Unflatten: cannot split dim {self.dim} of size {x.shape[d]} into {self.unflattened_size}")
            sizes[sizes.index(-1)] = x.shape[d] // known
        if math.prod(sizes) != x.shape[d]:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} does not multiply to the size "
                             f"{x.shape[d]} of dim {self.dim} (input shape {tuple(x.shape)})")
        return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
