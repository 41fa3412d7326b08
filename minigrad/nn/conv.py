"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, and the
im2col / col2im modules ``Unfold`` and ``Fold``."""
from __future__ import annotations

import math
from typing import Any

from .. import dtypes as _dtypes
from ..creation import empty
from ..tensor import Tensor
from . import init as _init
from .functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .functional.padding import PAD_MODES, pad
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value: Any, n: int, name: str, cls: str) -> tuple:
    """``value`` as an n-tuple of ints (an int is repeated)."""
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,) * n
    if len(items) == 1:
        items = items * n
    if len(items) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return items


class _ConvNd(Module):
    """What every convolution layer shares: checked arguments, the weight and bias, PyTorch's
    default initialization, the repr.

    Weight layout: (out_channels, in_channels/groups, *kernel_size) for a convolution,
    (in_channels, out_channels/groups, *kernel_size) for a transposed one.  Initialization:
    W, b ~ U(−1/√fan_in, 1/√fan_in) with fan_in = weight.shape[1]·∏kernel_size
    (``kaiming_uniform_(W, a=√5)``)."""

    transposed = False
    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, padding_mode: str, output_padding: Any = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cls, n = type(self).__name__, self.dims
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name == "groups" else 0):
                raise ValueError(f"{cls}: {name} must be a {'positive' if name == 'groups' else 'non-negative'} "
                                 f"int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{cls}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{cls}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                raise ValueError(f"{cls}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
        else:
            padding = _tuple(padding, n, "padding", cls)
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f"{cls}: only padding_mode 'zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", cls)
        if any(k < 1 for k in self.kernel_size):
            raise ValueError(f"{cls}: kernel_size must be positive, got {kernel_size!r}")
        self.stride = _tuple(stride, n, "stride", cls)
        self.padding = padding
        self.dilation = _tuple(dilation, n, "dilation", cls)
        self.output_padding = _tuple(output_padding, n, "output_padding", cls)
        self.groups, self.padding_mode = groups, padding_mode
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        dt = _dtypes.as_dtype(dtype)
        self.weight = Parameter(empty(*shape, dtype=dt, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dt, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W, b ~ U(−1/√fan_in, 1/√fan_in)."""
        _init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            _init.uniform_(self.bias, -bound, bound)

    def _padded(self, x: Tensor) -> tuple:
        """(input, padding) for the functional call: with a padding_mode other than zeros, the
        input padded by that mode and padding 0."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if self.padding == "valid":
            return x, 0
        if self.padding == "same":
            widths = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(w // 2, w - w // 2) for w in widths]
        else:
            pairs = [(p, p) for p in self.padding]
        flat = [v for pair in reversed(pairs) for v in pair]  # last dim first, as F.pad wants
        assert self.padding_mode in PAD_MODES
        return pad(x, flat, self.padding_mode), 0

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution (see :func:`minigrad.nn.functional.conv2d`).

    Shapes: input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out), H_out =
    ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.  ``weight`` (C_out, C_in/groups, kh, kw), ``bias`` (C_out,).
    ``padding``: an int, a pair, "valid" or "same"; ``padding_mode``: zeros, reflect, replicate
    or circular."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution (see :func:`minigrad.nn.functional.conv1d`).  Shapes: input (N, C_in, L) or
    (C_in, L) -> (N, C_out, L_out); ``weight`` (C_out, C_in/groups, k)."""
    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        if not isinstance(padding, str):
            padding = padding[0] if isinstance(padding, tuple) else padding
        return conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple:
        """``output_padding``, or the one that makes the output ``output_size`` (its last dims)."""
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-self.dims:]
        extra = []
        for i, want in enumerate(size):
            least = ((x.shape[-self.dims + i] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not least <= want < least + max(self.stride[i], self.dilation[i]):
                raise ValueError(f"{type(self).__name__}: output_size {tuple(size)} is not reachable from input of shape "
                                 f"{tuple(x.shape)}: dim {i} can be {least} to "
                                 f"{least + max(self.stride[i], self.dilation[i]) - 1}")
            extra.append(want - least)
        return tuple(extra)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (see :func:`minigrad.nn.functional.conv_transpose2d`), the
    upsampling layer of convolutional decoders.  Shapes: input (N, C_in, H, W) -> (N, C_out,
    (H − 1)s − 2p + d(k − 1) + output_padding + 1, …); ``weight`` (C_in, C_out/groups, kh, kw).
    ``forward(x, output_size=None)``: an ``output_size`` picks the output_padding that reaches it."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (see :func:`minigrad.nn.functional.conv_transpose1d`).  Shapes:
    input (N, C_in, L) -> (N, C_out, (L − 1)s − 2p + d(k − 1) + output_padding + 1)."""
    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return conv_transpose1d(x, self.weight, self.bias, self.stride[0], self.padding[0],
                                self._output_padding(x, output_size)[0], self.groups, self.dilation[0])


class Unfold(Module):
    """Sliding local blocks (im2col) as a layer: (N, C, H, W) -> (N, C·kh·kw, L); see
    :func:`minigrad.nn.functional.unfold`."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """Blocks back into an image (col2im, overlaps summed) as a layer: (N, C·kh·kw, L) ->
    (N, C, *output_size); see :func:`minigrad.nn.functional.fold`."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
