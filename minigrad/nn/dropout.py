"""``Dropout`` (inverted): drop in training, identity in evaluation."""
from __future__ import annotations

from ..tensor import Tensor
from .functional.dropout import dropout
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by 1/(1-p);
    do nothing in eval mode.  Any input shape."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, got {p!r}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
