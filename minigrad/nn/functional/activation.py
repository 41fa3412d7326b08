"""Activation functions (the differentiable core ops of :mod:`minigrad.ops.activation`, under
their ``nn.functional`` names) and ``one_hot``."""
from __future__ import annotations

from ...ops.activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu,
                               log_softmax, logsigmoid, mish, prelu, relu, relu6, selu, sigmoid, silu, softmax,
                               softmin, softplus, softshrink, softsign, tanh, tanhshrink, threshold)
from ...ops.reduction import logsumexp
from ...tensor import Tensor, make_tensor
from ...devices import array_module

__all__ = ["celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu",
           "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6", "selu", "sigmoid", "silu", "softmax",
           "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold", "logsumexp",
           "one_hot"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices of shape (*) -> int64 one-hot tensor of shape (*, num_classes).

    ``num_classes=-1`` uses max(index) + 1.
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got "
                        f"{getattr(tensor, 'dtype', type(tensor).__name__)}")
    a = tensor._data
    xp = array_module(a)
    if num_classes < 0:
        if not a.size:
            raise ValueError(f"one_hot: cannot infer the number of classes from an empty tensor of shape "
                             f"{tuple(a.shape)}; pass num_classes")
        num_classes = int(a.max()) + 1
    if a.size and (int(a.min()) < 0 or int(a.max()) >= num_classes):
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes}), got values from {int(a.min())} "
                         f"to {int(a.max())}")
    out = (a[..., None] == xp.arange(num_classes)).astype("int64")
    return make_tensor(out, False, None)
