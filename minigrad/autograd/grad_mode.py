"""``no_grad`` / ``enable_grad`` / ``inference_mode``: switch recording on the tape off and on."""
from __future__ import annotations

import functools
from typing import Any, Callable


class _GradModeSwitch:
    """Global switch read by every op: record on the tape or not.

    One instance, ``GradMode``, with the flag in a slot: CPython reads an instance's slot
    faster than a class attribute, and every op reads it.  ``inference`` is only read by
    :func:`is_inference_mode_enabled`: ops look at ``enabled`` alone."""

    __slots__ = ("enabled", "inference")

    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


GradMode = _GradModeSwitch()


def is_grad_enabled() -> bool:
    return GradMode.enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (and not inside a nested ``inference_mode(False)``)."""
    return GradMode.inference


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


class _NoArgumentSwitch(_GradModeContext):
    """A switch taking no argument, usable as ``@switch()`` and also bare, ``@switch``."""

    def __new__(cls, func: Callable | None = None) -> Any:
        if func is not None:  # used bare as a decorator: ``@no_grad``
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: Callable | None = None) -> None:
        super().__init__()


class no_grad(_NoArgumentSwitch):
    """Nothing is recorded inside: ops return tensors without ``grad_fn``."""

    mode = False


class enable_grad(_NoArgumentSwitch):
    """Re-enable recording inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):
    """``inference_mode(mode=True)``: PyTorch's faster ``no_grad`` for evaluation.

    As a context manager or decorator (``@inference_mode()`` or bare ``@inference_mode``),
    nothing is recorded inside, so tensors made there have no ``grad_fn`` and don't require
    grad, and :func:`is_inference_mode_enabled` is True.  ``inference_mode(False)`` leaves
    inference mode and turns recording on, as in PyTorch.  minigrad's tensors carry no
    inference flag, so this is ``no_grad`` plus that query: a tensor made inside can be used in
    a recorded computation afterwards (PyTorch refuses), and ``enable_grad()`` nested inside
    records again."""

    def __new__(cls, mode: Any = True) -> Any:
        if not isinstance(mode, bool) and callable(mode):  # used bare as a decorator
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        super().__init__()
        self.inference = bool(mode)
        self.mode = not self.inference
        self.saved: list[tuple] = []

    def __enter__(self) -> None:
        self.saved.append((GradMode.enabled, GradMode.inference))
        GradMode.enabled, GradMode.inference = self.mode, self.inference

    def __exit__(self, *exc: Any) -> None:
        GradMode.enabled, GradMode.inference = self.saved.pop()

    def _clone(self) -> "inference_mode":
        return inference_mode(self.inference)


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
