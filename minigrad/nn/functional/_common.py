"""Argument checks and the ``reduction`` step shared by the losses."""
from __future__ import annotations

from typing import Any

from ...ops.reduction import mean as _mean
from ...ops.reduction import sum as _sum
from ...devices import HostArray
from ...errors import ShapeError
from ...tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: Any, op: str, allowed: tuple = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(repr(r) for r in allowed)}, got {reduction!r}")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """'mean' over all elements, 'sum', or 'none' (the element-wise losses)."""
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def check_input(x: Any, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {x.dtype} (shape {tuple(x.shape)})")
    return x


def as_target(target: Any, like: Tensor, op: str, name: str = "target") -> Tensor:
    """``target`` as a tensor of ``like``'s dtype, device and shape (no broadcasting: a shape
    mismatch in a loss is almost always a bug, so it is an error here)."""
    if not isinstance(target, Tensor):
        from ...creation import tensor

        target = tensor(target, dtype=like.dtype, device=like.device)
    if not same_device(target, like):
        raise RuntimeError(f"{op}: {name} is on {target.device} but the input is on {like.device}")
    if tuple(target.shape) != tuple(like.shape):
        raise ShapeError(f"{op}: {name} shape {tuple(target.shape)} differs from input shape {tuple(like.shape)}; "
                         "reshape one of them (broadcasting in a loss is usually a bug)")
    if target.dtype != like.dtype:
        target = target.to(like.dtype)
    return target


def as_weight(weight: Any, like: Tensor, shape: tuple, op: str, name: str = "weight") -> Tensor | None:
    """An optional per-element / per-class weight, broadcastable to ``shape``, in ``like``'s dtype."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        from ...creation import tensor

        weight = tensor(weight, dtype=like.dtype, device=like.device)
    if not same_device(weight, like):
        raise RuntimeError(f"{op}: {name} is on {weight.device} but the input is on {like.device}")
    if not broadcasts_to(tuple(weight.shape), tuple(shape)):
        raise ShapeError(f"{op}: {name} of shape {tuple(weight.shape)} does not broadcast to shape {tuple(shape)}")
    if weight.dtype != like.dtype:
        weight = weight.to(like.dtype)
    return weight


def broadcasts_to(src: tuple, dst: tuple) -> bool:
    """Can an array of shape ``src`` be broadcast to exactly ``dst``?"""
    if len(src) > len(dst):
        return False
    return all(s == d or s == 1 for s, d in zip(src[::-1], dst[::-1]))


def same_device(a: Tensor, b: Tensor) -> bool:
    """Do two tensors live on one device?  (Cheap for CPU tensors: no Device objects made.)"""
    da, db = a._data, b._data
    if da.__class__ is not db.__class__:
        return False
    return da.__class__ is HostArray or a.device == b.device


def dtype_device_mismatch(op: str, input: Tensor, weight: Tensor, bias: Any) -> Exception | None:
    """The one-line complaint when a layer's input, weight and bias (or None) differ in dtype or
    device; None when they agree."""
    dtypes = {input.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) > 1:
        return TypeError(f"{op}: dtypes differ: input {input.dtype}, weight {weight.dtype}"
                         + (f", bias {bias.dtype}" if bias is not None else "")
                         + "; convert the input (x.to(weight.dtype)) or the layer (.to(dtype))")
    devices = {input.device, weight.device} | ({bias.device} if bias is not None else set())
    if len(devices) > 1:
        return RuntimeError(f"{op}: input is on {input.device} but weight is on {weight.device}"
                            + (f" and bias on {bias.device}" if bias is not None else ""))
    return None
