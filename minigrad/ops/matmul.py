"""Matrix product with NumPy's ``matmul`` rules (1-D, 2-D, batched with broadcasting)."""
from __future__ import annotations

from typing import Any

from .._device import array_module
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import binary_arrays
from .shape import reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    """Z = X @ Y.   dX = dZ @ Yᵀ,  dY = Xᵀ @ dZ  (transposes of the last two dims).

    A 1-D operand is treated as a row (X) or column (Y) matrix, and broadcast
    batch dims are summed back to each operand's own shape.
    """

    def forward(self, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("matmul", x, y)
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
        self.save_for_backward(x, y)
        try:
            return array_module(a).matmul(a, b)
        except ValueError:
            raise ShapeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} do not broadcast") from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved
        xs, ys = x, y
        # Treat a 1-D y as a column and a 1-D x as a row; g gets the dims matmul dropped.
        if y.ndim == 1:
            ys, g = reshape(y, (y.shape[0], 1)), unsqueeze(g, -1)
        if x.ndim == 1:
            xs, g = reshape(x, (1, x.shape[0])), unsqueeze(g, -2)
        gx = gy = None
        if self.next[0] is not None:
            gx = reshape(sum_to(g @ transpose(ys, -1, -2), xs.shape), x.shape)
        if self.next[1] is not None:
            gy = reshape(sum_to(transpose(xs, -1, -2) @ g, ys.shape), y.shape)
        return gx, gy


def matmul(x: Tensor, y: Tensor) -> Tensor:
    return MatMul.apply(x, y)


def rmatmul(x: Tensor, y: Any) -> Tensor:
    from ._util import as_tensor

    return MatMul.apply(as_tensor(y, x), x)


def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {x.shape} and {y.shape}")
    return MatMul.apply(x, y)
