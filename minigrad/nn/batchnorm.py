"""``BatchNorm1d`` and ``BatchNorm2d``: per-channel normalization with learned scale and shift."""
from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..autograd.grad_mode import no_grad
from ..errors import ShapeError
from ..creation import ones, tensor, zeros
from ..tensor import Tensor
from .functional.normalization import batch_norm
from .module import Module
from .parameter import Parameter


class BatchNormBase(Module):
    """Batch normalization over the channel dim 1:  y = (x - μ)/√(σ² + ε)·γ + β.  The subclasses
    differ only in the input layouts they accept (``layouts``: the accepted ndims and how an
    error message spells them).

    Training: μ, σ² are the batch mean and biased variance per channel (over every dim but 1), and the
    running statistics follow r ← (1 - momentum)·r + momentum·s, with the *unbiased* batch
    variance for ``running_var`` (``momentum=None``: cumulative average).  Evaluation: μ, σ² are
    the running statistics.  ``track_running_stats=False`` always uses batch statistics.

    State (PyTorch's names and layouts): ``weight`` γ (C,), ``bias`` β (C,), buffers
    ``running_mean`` (C,), ``running_var`` (C,), ``num_batches_tracked`` (int64 scalar).
    """

    layouts: tuple = ()
    layout_names: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must lie in [0, 1] or be None, got {momentum}")
        if eps <= 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dt = _dtypes.as_dtype(dtype)
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dt, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dt, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dt, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if x.ndim not in self.layouts or x.shape[1] != self.num_features:
            layouts = self.layout_names.replace("C", str(self.num_features))
            raise ShapeError(f"{name}({self.num_features}): expected input of shape {layouts}, got {tuple(x.shape)}")
        use_batch = self.training or not self.track_running_stats
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch, momentum=self.momentum, eps=self.eps,
                          num_batches_tracked=self.num_batches_tracked if self.training else None)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(BatchNormBase):
    """Batch normalization of (N, C) or (N, C, L) inputs (statistics over N, and L); see
    :class:`BatchNormBase`."""
    layouts = (2, 3)
    layout_names = "(N, C) or (N, C, L)"


class BatchNorm2d(BatchNormBase):
    """Batch normalization of (N, C, H, W) inputs, the layer of convolutional nets: one μ, σ²,
    γ, β per channel, the statistics over N, H and W; see :class:`BatchNormBase`."""
    layouts = (4,)
    layout_names = "(N, C, H, W)"
