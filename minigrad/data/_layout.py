"""Image layouts the image datasets can hand out."""
from __future__ import annotations

from typing import Any

LAYOUTS = ("flat", "hw", "chw")


def reshape_images(images: Any, layout: str) -> Any:
    """(N, H, W) images -> ``'flat'`` (N, H*W), ``'hw'`` (N, H, W) or ``'chw'`` (N, 1, H, W)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose 'flat' (N, H*W), 'hw' (N, H, W) or 'chw' (N, 1, H, W)")
    n, h, w = images.shape
    if layout == "flat":
        return images.reshape(n, h * w)
    if layout == "chw":
        return images.reshape(n, 1, h, w)
    return images
