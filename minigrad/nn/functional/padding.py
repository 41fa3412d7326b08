"""``F.pad``: padding in PyTorch's order and modes."""
from __future__ import annotations

from typing import Sequence

from ...errors import ShapeError
from ...ops.shape import pad as constant_pad
from ...ops.shape import pad_by_index
from ...tensor import Tensor

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad ``input``: ``pad`` = (left, right) of the last dim, then (top, bottom) of the dim
    before, and so on (last dim first).  Each padded dim of size n grows to n + left + right.

    ``mode``: "constant" fills with ``value`` (default 0; negative widths crop); "reflect"
    mirrors about the edge element (widths < n); "replicate" repeats the edge element;
    "circular" wraps around (widths <= n).  As in PyTorch, the non-constant modes pad the last
    1, 2 or 3 dims of an input with one or two more dims (batch and channel dims)."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if mode == "constant":
        return constant_pad(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"pad: value is only used in constant mode, got value={value} with mode {mode!r}")
    padded_dims = len(pad) // 2
    if len(pad) % 2 or not 1 <= padded_dims <= 3 or input.ndim not in (padded_dims + 1, padded_dims + 2):
        raise ShapeError(f"pad: {mode} mode pads the last 1, 2 or 3 dims of an input with 1 or 2 more dims; "
                         f"got pad {tuple(pad)} for shape {input.shape}")
    return pad_by_index(input, pad, mode)
