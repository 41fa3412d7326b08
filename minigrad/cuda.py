"""``minigrad.cuda``: is a CUDA GPU usable through CuPy?"""
from __future__ import annotations

from . import _device


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    try:
        _device.cupy_module()
    except RuntimeError:
        return False
    return True


def device_count() -> int:
    """Number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not is_available():
        return 0
    return int(_device._cupy.cuda.runtime.getDeviceCount())


def synchronize() -> None:
    """Wait for all queued GPU work (a no-op without CUDA)."""
    if is_available():
        _device._cupy.cuda.Device().synchronize()
