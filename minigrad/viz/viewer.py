"""``backward_viewer``: one self-contained HTML page that steps through a backward pass.

The page holds the graph as inline SVG (laid out by Graphviz where a renderer is found,
see :mod:`minigrad.viz.renderers`, else by the built-in layered layout) and, as JSON, one
record per step of the backward walk: the op being differentiated, the gradient arriving
at its result, and the gradient it sends to each input (shape, first values, norm;
running totals where gradients add up).  A little script highlights those vertices and
edges as you step.  No network access is needed.

The steps are recorded from the reference walk (:func:`minigrad.autograd.backward_reference`:
decreasing ``seq``, gradients summed per node, each node's own ``backward``, grad mode off).
Nothing is accumulated into ``.grad`` and nothing is freed, so ``loss.backward()`` still
works afterwards.  Gradient hooks are not run.
"""
from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..autograd.reference import backward_reference
from ..creation import ones_like
from ..tensor import Tensor
from .dot import to_dot
from .graph import Graph, _collect, build_graph
from .layout import layered_svg
from .renderers import render_bytes, renderer
from .style import module_label
from .summary import describe

__all__ = ["backward_steps", "backward_viewer"]


def _walk(loss: Tensor, gradient: Any) -> list:
    """[(node, incoming gradient, [(input position, link, sent gradient, running total, count)])],
    recorded from the reference walk (:func:`minigrad.autograd.backward_reference`)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"backward_viewer: expected a Tensor, got {type(loss).__name__}")
    if loss.grad_fn is None:
        raise ValueError(f"backward_viewer: the tensor (shape {loss.shape}) has no grad_fn, so there is no "
                         "backward pass to show; compute it from tensors with requires_grad=True")
    if gradient is None:
        if loss.numel() != 1:
            raise ValueError(f"backward_viewer: the output has shape {loss.shape}; pass gradient= (dL/d output, "
                             "same shape) or reduce it to a scalar first")
        g0 = ones_like(loss)
    else:
        g0 = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=loss.dtype, device=loss.device)
        if g0.shape != loss.shape:
            raise ValueError(f"backward_viewer: gradient has shape {g0.shape} but the output has shape {loss.shape}")
    totals: dict = {}  # id(link) -> [running total, count]
    events = []

    def record(node: Any, g: Tensor, sent: tuple) -> None:
        sends = []
        for i, (link, ig) in enumerate(zip(node.next, sent)):
            if link is None or ig is None:
                continue
            entry = totals.setdefault(id(link), [None, 0, link])  # (the link keeps its id taken)
            entry[0] = ig if entry[0] is None else entry[0] + ig
            entry[1] += 1
            sends.append((i, link, ig, entry[0], entry[1]))
        events.append((node, g, sends))

    try:
        backward_reference(loss, g0, on_step=record)
    except RuntimeError as e:
        if "second time" in str(e):
            raise RuntimeError("backward_viewer: backward() already ran through this graph and freed it; "
                               "call backward_viewer(loss) before loss.backward(), or pass "
                               "retain_graph=True to backward()") from None
        raise
    return events


def backward_steps(loss: Tensor, params: Any = None, names: Mapping | None = None,
                   gradient: Any = None) -> tuple:
    """The graph of ``loss`` and the list of backward steps, as JSON-ready dicts.

    Each step: ``op`` (item id), ``name``, ``seq``, ``module``, ``out`` (item id of the op's
    result), ``grad_in`` (:func:`~minigrad.viz.summary.describe` of dL/d result), ``sends``
    (per input: ``to`` item id, ``label``, ``grad``, ``count`` and ``total`` once gradients add
    up) and ``edges`` (edge ids the gradient travels along).  Also returns the final
    gradient of every leaf: what ``backward()`` would put in ``.grad``.
    """
    events = _walk(loss, gradient)
    # The gradient of a result has the result's shape: that completes the picture's shapes.
    meta = {node: (tuple(g.shape), g.dtype, g.device) for node, g, _ in events}
    graph = build_graph([loss], params, names, show_shapes=True, extra_meta=meta)
    steps = []
    leaf_grads: dict = {}
    for node, g, sends in events:
        op = graph.node_ids[node]
        out = graph.output_ids.get(node)
        op_item = graph.by_id[op]
        step = {"op": op, "name": op_item.name, "seq": node.seq,
                "module": module_label(op_item.modules[-1]) if op_item.modules else "",
                "out": out, "grad_in": describe(g), "sends": [], "edges": []}
        if out is not None:
            step["edges"].append(f"e_{op}_{out}")
        for i, link, ig, total, count in sends:
            if isinstance(link, Tensor):
                to = graph.tensor_ids[id(link)]
                item = graph.by_id[to]
                label = f"{item.name} ({item.kind})"
                leaf_grads[to] = total
            else:
                to = graph.output_ids.get(link) or graph.node_ids[link]
                label = f"result of {graph.by_id[graph.node_ids[link]].name} ({graph.node_ids[link]})"
            send = {"input": i, "to": to, "label": label, "grad": describe(ig), "count": count}
            if count > 1:
                send["total"] = describe(total)
            step["sends"].append(send)
            step["edges"].append(f"e_{to}_{op}")
        steps.append(step)
    final = [{"to": to, "label": graph.by_id[to].name, "grad": describe(t)} for to, t in leaf_grads.items()]
    return graph, steps, final


def _svg(graph: Graph) -> tuple:
    """(inline SVG of ``graph``, which layout drew it: ``"dot"`` for Graphviz, else ``"builtin"``)."""
    if renderer("svg") is not None:
        svg = render_bytes(to_dot(graph), "svg").decode("utf-8")
        return svg[svg.index("<svg"):], "dot"  # drop the XML prolog and DOCTYPE: the SVG goes inline
    return layered_svg(graph), "builtin"


def backward_viewer(loss: Tensor, path: str | Path = "backprop.html", params: Any = None,
                    names: Mapping | None = None, gradient: Any = None, title: str | None = None) -> Path:
    """Write the step-by-step backward viewer of ``loss`` to ``path`` (one HTML file) and return the path.

    Call it before ``loss.backward()`` (or after ``backward(retain_graph=True)``): the walk needs
    the tensors the ops saved.  ``params``/``names`` label tensors as in :func:`draw_graph`;
    ``gradient`` is dL/d(loss) for a non-scalar ``loss``.
    """
    graph, steps, final = backward_steps(loss, params, names, gradient)
    svg, layout = _svg(graph)
    graph.forget_tape()
    data = json.dumps({"steps": steps, "final": final, "layout": layout},
                      ensure_ascii=False).replace("</", "<\\/")
    template = resources.files("minigrad.viz").joinpath("viewer_template.html").read_text(encoding="utf-8")
    fill = {"__TITLE__": escape(title or "minigrad: the backward pass, step by step"), "<!--__SVG__-->": svg,
            "__DATA__": data}
    # One pass over the template, so text inside the inserted parts is never taken for a placeholder.
    page = re.sub("__TITLE__|<!--__SVG__-->|__DATA__", lambda m: fill[m.group(0)], template)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
