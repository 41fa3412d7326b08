"""Moving tensors between devices and dtypes (both differentiable)."""
from __future__ import annotations

from typing import Any

from .. import devices
from ..autograd.function import Function
from ..tensor import Tensor


class ToDevice(Function):
    """y = x copied to another device.   dx = dy copied back."""

    def forward(self, x: Tensor, dev: devices.Device) -> Any:
        self.source = x.device
        return devices.move(x._data, dev)

    def backward(self, g: Tensor) -> tuple:
        return to_device(g, self.source), None


class Cast(Function):
    """y = x converted to ``dtype``.   dx = dy converted back to x's dtype."""

    def forward(self, x: Tensor, dtype: Any) -> Any:
        self.source = x.dtype
        return x._data.astype(dtype)

    def backward(self, g: Tensor) -> tuple:
        return cast(g, self.source), None


def to_device(x: Tensor, dev: devices.Device) -> Tensor:
    if x.device == dev:
        return x
    return ToDevice.apply(x, dev)


def cast(x: Tensor, dtype: Any) -> Tensor:
    if x.dtype == dtype:
        return x
    if x._requires_grad and dtype.kind not in "fc":
        # Like PyTorch: an integer copy simply leaves the graph.
        return Tensor(x._data.astype(dtype))
    return Cast.apply(x, dtype)


def ones_like_array(a: Any) -> Any:
    return devices.array_module(a).ones(a.shape, dtype=a.dtype)


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow through it."""
    return Clone.apply(x)


class Clone(Function):
    """y = copy of x.   dx = dy."""

    def forward(self, x: Tensor) -> Any:
        return x._data.copy()

    def backward(self, g: Tensor) -> Tensor:
        return g
