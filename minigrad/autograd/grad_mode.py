"""``no_grad`` / ``enable_grad``: switch recording on the tape off and on."""
from __future__ import annotations

import functools
from typing import Any, Callable


class _GradModeSwitch:
    """Global switch read by every op: record on the tape or not.

    One instance, ``GradMode``, with the flag in a slot: CPython reads an instance's slot
    faster than a class attribute, and every op reads it."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


GradMode = _GradModeSwitch()


def is_grad_enabled() -> bool:
    return GradMode.enabled


class _GradModeContext:
    """Context manager / decorator that sets grad mode to ``self.mode`` inside."""

    mode = True

    def __init__(self) -> None:
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(GradMode.enabled)
        GradMode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        GradMode.enabled = self.prev.pop()

    def _clone(self) -> "_GradModeContext":
        return self.__class__()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._clone():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Nothing is recorded inside: ops return tensors without ``grad_fn``."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(mode)``: sets the mode at once (as a plain call, it stays set);
    as a context manager or decorator, the previous mode comes back at the end."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._before = GradMode.enabled
        GradMode.enabled = self.mode

    def __enter__(self) -> None:
        self.prev.append(self._before)
        GradMode.enabled = self.mode

    def _clone(self) -> "_GradModeContext":
        clone = _GradModeContext()
        clone.mode = self.mode
        return clone

    def __call__(self, func: Callable) -> Callable:
        GradMode.enabled = self._before  # used as a decorator: don't leave the mode switched
        return super().__call__(func)
