"""``minigrad.viz``: pictures of the tape.

* :func:`draw_graph` — the graph behind some tensors as DOT text / SVG / PNG / PDF;
* :func:`trace` — record shapes, constant inputs and module calls while code runs, for
  complete pictures with one cluster per ``nn.Module``;
* :func:`backward_viewer` — one self-contained HTML page that steps through a backward pass.

See docs/visualization.md.
"""
from .draw import Drawing, draw_graph
from .graph import Graph, build_graph
from .trace import trace
from .viewer import backward_steps, backward_viewer

__all__ = ["Drawing", "draw_graph", "Graph", "build_graph", "trace", "backward_viewer", "backward_steps"]
