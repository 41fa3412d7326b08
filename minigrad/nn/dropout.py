"""``Dropout`` (inverted): drop in training, identity in evaluation; ``Dropout2d``/``Dropout1d`` drop
whole channels."""
from __future__ import annotations

from ..tensor import Tensor
from .functional.dropout import dropout, dropout1d, dropout2d
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


class Dropout2d(Dropout):
    """Zero each whole channel of a (N, C, H, W) or (C, H, W) input with probability ``p`` in
    training mode and scale the rest by 1/(1-p) (see :func:`F.dropout2d`); identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training)


class Dropout1d(Dropout):
    """Zero each whole channel of a (N, C, L) or (C, L) input with probability ``p`` in training
    mode and scale the rest by 1/(1-p) (see :func:`F.dropout1d`); identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout1d(x, self.p, self.training)
