"""``mg.backends``: the switches PyTorch scripts set on their backends, so those lines run.

minigrad runs on NumPy (CPU) and CuPy (CUDA); neither has cuDNN auto-tuning or TF32 modes
to choose, so the flags here are recorded and read back but change nothing:
``backends.cudnn.benchmark``, ``backends.cudnn.deterministic``, ``backends.cudnn.enabled``,
``backends.cuda.matmul.allow_tf32``, ``backends.cudnn.allow_tf32``.
"""
from __future__ import annotations

from types import SimpleNamespace

from .. import cuda as _cuda

cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                        is_available=_cuda.is_available)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False))

__all__ = ["cudnn", "cuda"]
