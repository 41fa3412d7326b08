"""Matrix product with NumPy's ``matmul`` rules (1-D, 2-D, batched with broadcasting)."""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .helpers import binary_arrays
from .shape import reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    """Z = X @ Y.   dX = dZ @ Yᵀ,  dY = Xᵀ @ dZ  (transposes of the last two dims).

    A 1-D operand is treated as a row (X) or column (Y) matrix, and broadcast
    batch dims are summed back to each operand's own shape.

    dX reads Y and dY reads X, so each operand is saved only when the other one needs a
    gradient (``x @ w`` with a constant x keeps only x).
    """

    def forward(self, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("matmul", x, y)
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
        self.shapes = (a.shape, b.shape)
        self.save_for_backward(x if self.needs_input_grad[1] else None, y if self.needs_input_grad[0] else None)
        try:
            return array_module(a).matmul(a, b)
        except ValueError:
            raise ShapeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} do not broadcast") from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        x_shape, y_shape = self.shapes
        # Treat a 1-D x as a row (1, k) and a 1-D y as a column (k, 1); g gets the dims matmul dropped.
        x_matrix, y_matrix = x_shape, y_shape
        if len(y_shape) == 1:
            y_matrix, g = y_shape + (1,), unsqueeze(g, -1)
        if len(x_shape) == 1:
            x_matrix, g = (1,) + x_shape, unsqueeze(g, -2)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = reshape(sum_to(g @ transpose(reshape(y, y_matrix), -1, -2), x_matrix), x_shape)
        if self.needs_input_grad[1]:
            gy = reshape(sum_to(transpose(reshape(x, x_matrix), -1, -2) @ g, y_matrix), y_shape)
        return gx, gy


def matmul(x: Tensor, y: Tensor) -> Tensor:
    return MatMul.apply(x, y)


def rmatmul(x: Tensor, y: Any) -> Tensor:
    from .helpers import as_tensor

    return MatMul.apply(as_tensor(y, x), x)


def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {x.shape} and {y.shape}")
    return MatMul.apply(x, y)
