"""``LayerNorm`` and ``GroupNorm``: normalization with per-sample statistics."""
from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..autograd.grad_mode import no_grad
from ..creation import ones, zeros
from ..tensor import Tensor
from .functional.normalization import group_norm, layer_norm
from .module import Module
from .parameter import Parameter


class LayerNorm(Module):
    """Normalize each sample over its trailing ``normalized_shape`` dims: y = (x - μ)/√(σ² + ε)·γ + β.

    Input (*, *normalized_shape), output the same shape.  ``weight`` γ (ones) and ``bias`` β
    (zeros) have shape ``normalized_shape``; ``elementwise_affine=False`` drops both and
    ``bias=False`` drops β.
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _dtypes.as_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dt, device=device))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dt, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalize each (sample, group of C/G channels) over its channels and positions:
    y = (x - μ)/√(σ² + ε)·γ + β, with γ (ones) and β (zeros) of shape (C,) when ``affine``.

    Input (N, C, *), output the same shape.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = _dtypes.as_dtype(dtype)
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dt, device=device))
            self.bias = Parameter(zeros(num_channels, dtype=dt, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
