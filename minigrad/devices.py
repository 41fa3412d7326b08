"""Devices and the array-module switch (``xp``).

Every op is written once against ``xp``: the NumPy module for CPU tensors, the
CuPy module for CUDA tensors.  This file is the only place that decides which.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy

try:  # CuPy is optional (extra ``cuda``).
    import cupy as _cupy
except Exception:  # ImportError, or a broken CUDA install
    _cupy = None

#: The host array class, for cheap "is this on the CPU?" tests in op code (``a.__class__ is HostArray``).
HostArray = numpy.ndarray


class Device:
    """Where a tensor's memory lives: ``cpu`` or ``cuda:N``.  Compares equal to its string form."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None) -> None:
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        if self.type != other.type:
            return False
        # "cuda" without an index means the current device, index 0 here.
        return (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = Device("cpu")


def device(spec: "str | Device | None") -> Device:
    """Parse ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or a :class:`Device`."""
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
    name, _, idx = spec.strip().partition(":")
    if name == "cpu" and not idx:
        return CPU
    if name == "cuda":
        if not idx:
            return Device("cuda", 0)
        if idx.isdigit():
            return Device("cuda", int(idx))
    raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def cupy_module() -> Any:
    """Return CuPy, or raise a clear error saying why CUDA cannot be used."""
    if _cupy is None:
        raise RuntimeError(
            "a CUDA device was requested but CuPy is not installed; "
            "install it with: pip install 'minigrad[cuda]'"
        )
    try:
        count = _cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no driver, no GPU
        raise RuntimeError(f"a CUDA device was requested but no CUDA GPU is usable: {exc}") from None
    if count == 0:
        raise RuntimeError("a CUDA device was requested but CuPy found no CUDA GPU")
    return _cupy


def array_module(array: Any) -> Any:
    """``xp`` for an array: numpy for host arrays, cupy for device arrays."""
    if array.__class__ is HostArray or _cupy is None:
        return numpy
    return _cupy if isinstance(array, _cupy.ndarray) else numpy


def get_array_module(x: Any) -> Any:
    """Public ``xp`` lookup: numpy or cupy for a Tensor or an array (for custom ops)."""
    return array_module(getattr(x, "_data", x))


def is_cuda_array(array: Any) -> bool:
    return _cupy is not None and isinstance(array, _cupy.ndarray)


_ONES: dict = {}


def cached_ones(shape: tuple, like: Any) -> Any:
    """An array of ones of ``shape`` in ``like``'s dtype, on ``like``'s device, made once per
    (shape, dtype, device) and shared by every caller, so it is only ever read (NumPy's copy is
    marked read-only; CuPy has no such flag).  Used for the seed gradient dL/dL = 1 and for sums
    written as matrix products: Σ_n y_n = 1ᵀY (``ones @ y``) and row sums Y·1 (``y @ ones``),
    which a BLAS matrix-vector product computes faster than NumPy's ``sum(axis=…)`` at the sizes
    of a small network's step, where the sum's per-call setup dominates (docs/performance.md)."""
    key = (shape, like.dtype, -1 if like.__class__ is HostArray else like.device.id)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 256:  # e.g. a batch size that changes every step
            _ONES.clear()
        ones = _ONES[key] = array_module(like).ones(shape, dtype=like.dtype)
        if ones.__class__ is HostArray:
            ones.flags.writeable = False
    return ones


_SCRATCH = threading.local()


def scratch(name: str, shape: tuple, like: Any) -> Any:
    """A work array of ``shape`` in ``like``'s dtype and device, reused from call to call: one
    buffer per ``name`` (and thread), grown when a larger one is asked for.  For temporaries
    that are dead once the caller returns (im2col columns, a padded copy), never for results.

    Why: an array of a few MB is freshly mapped by the C allocator on every call and its pages
    are faulted in again, which costs as much as filling it (for the convolution's columns, the
    step takes about twice as long); a buffer that stays mapped is filled at memory speed."""
    buffers = getattr(_SCRATCH, "buffers", None)
    if buffers is None:
        buffers = _SCRATCH.buffers = {}
    size = 1
    for n in shape:
        size *= n
    key = (name, like.dtype, -1 if like.__class__ is HostArray else like.device.id)
    buf = buffers.get(key)
    if buf is None or buf.size < size:
        buf = buffers[key] = array_module(like).empty(max(size, 1), dtype=like.dtype)
    return buf[:size].reshape(shape)


def is_read_only(array: Any) -> bool:
    """Whether writing into ``array`` would be wrong: NumPy marks read-only arrays (broadcast
    views among them); CuPy has no such flag, so there a broadcast view (a stride of 0 over more
    than one element, where a write would land on shared memory) counts as read-only."""
    if array.__class__ is HostArray or not is_cuda_array(array):
        return not array.flags.writeable
    if array.size == 0:  # nothing to write (CuPy gives empty arrays zero strides)
        return False
    return any(stride == 0 and n > 1 for stride, n in zip(array.strides, array.shape))


def device_of(array: Any) -> Device:
    if array.__class__ is HostArray or not is_cuda_array(array):
        return CPU
    return Device("cuda", array.device.id)


def cuda_device(dev: Device) -> Any:
    """CuPy's context for ``dev`` (``with cuda_device(dev): ...`` makes arrays there), after
    checking that the GPU exists, so a wrong index is named in the error."""
    cp = cupy_module()
    index = dev.index or 0
    count = cp.cuda.runtime.getDeviceCount()
    if index >= count:
        raise RuntimeError(f"device {dev} requested but only {count} CUDA GPU(s) exist")
    return cp.cuda.Device(index)


def move(array: Any, dev: Device) -> Any:
    """Copy ``array`` to ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        return array.get() if is_cuda_array(array) else array
    if is_cuda_array(array) and array.device.id == (dev.index or 0):
        return array
    with cuda_device(dev):
        return _cupy.asarray(array)


def from_host(array: Any, dev: Device) -> Any:
    """Put a freshly made host array on ``dev``."""
    return array if dev.type == "cpu" else move(array, dev)
