"""``minigrad.accelerator``: PyTorch's device-agnostic accelerator queries, for CUDA through CuPy.

minigrad has one kind of accelerator, a CUDA GPU driven by CuPy, so ``current_accelerator()`` is
``device('cuda')`` when one is usable and ``None`` otherwise; the usual device line reads

    device = mg.accelerator.current_accelerator() or mg.device("cpu")
"""
from __future__ import annotations

from . import devices
from . import cuda as _cuda


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU CuPy can use) is there."""
    return _cuda.is_available()


def current_accelerator(check_available: bool = False) -> "devices.Device | None":
    """The accelerator's device type, ``device('cuda')``, or ``None`` without one.

    minigrad only ever has CUDA as an accelerator, and only when CuPy sees a GPU, so
    ``check_available`` (PyTorch's switch between "compiled in" and "usable") changes nothing:
    the answer is always whether one is usable now."""
    return devices.device("cuda") if is_available() else None


def device_count() -> int:
    """How many accelerator devices there are (0 without one)."""
    return _cuda.device_count()


def _require() -> None:
    if not is_available():
        raise RuntimeError("no accelerator is available: minigrad's accelerator is a CUDA GPU through CuPy, "
                           "and CuPy is missing or sees no GPU")


def current_device_index() -> int:
    """The index of the accelerator device that ``'cuda'`` means: 0 (minigrad does not switch
    devices).  Without an accelerator, a RuntimeError, as in PyTorch."""
    _require()
    return 0


def synchronize() -> None:
    """Wait for all work queued on the accelerator.  Without one, a RuntimeError, as in PyTorch."""
    _require()
    _cuda.synchronize()


__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]
