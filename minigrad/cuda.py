"""``minigrad.cuda``: is a CUDA GPU usable through CuPy?"""
from __future__ import annotations

from . import devices


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    try:
        devices.cupy_module()
    except RuntimeError:
        return False
    return True


def device_count() -> int:
    """Number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not is_available():
        return 0
    return int(devices._cupy.cuda.runtime.getDeviceCount())


def synchronize() -> None:
    """Wait for all queued GPU work (a no-op without CUDA)."""
    if is_available():
        devices._cupy.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators only (``mg.manual_seed`` seeds every device)."""
    from .random import manual_seed_cuda

    manual_seed_cuda(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the generators of every CUDA GPU (the same as :func:`manual_seed` here: one seed
    serves all GPUs, each drawing its own stream)."""
    manual_seed(seed)
