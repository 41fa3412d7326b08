"""``no_grad`` / ``enable_grad``: switch recording on the tape off and on."""
from __future__ import annotations

import functools
from typing import Any, Callable


class GradMode:
    """Global switch read by every op: record on the tape or not."""

    enabled = True


def is_grad_enabled() -> bool:
    return GradMode.enabled


class set_grad_enabled:
    """Context manager / decorator setting grad mode to ``mode`` inside."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(GradMode.enabled)
        GradMode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        GradMode.enabled = self.prev.pop()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.mode) if type(self) is set_grad_enabled else self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Nothing is recorded inside: ops return tensors without ``grad_fn``."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enable recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)
