"""A small layered layout drawn straight to SVG, for when Graphviz's ``dot`` is missing.

Good enough for graphs of a few hundred vertices (dot draws nicer pictures):

1. ranks: each vertex one below its lowest predecessor (longest path from the sources);
   a source (a leaf) then moves down to just above its first consumer, so a layer's
   weights sit next to the layer instead of all at the top;
2. order within a rank: two sweeps placing each vertex at the mean position of its
   neighbours in the rank above (then below), which removes most crossings;
3. coordinates: ranks stacked top to bottom, each rank centred; edges are straight lines.

Vertices are ``<g id="<item id>" class="node">`` groups and edges ``<g id="e_<src>_<dst>"
class="edge">``, the same structure Graphviz writes, so the viewer's styling works on both.
"""
from __future__ import annotations

from html import escape

from .graph import Graph
from .style import BAD_STYLE, STYLES, label_lines, tooltip

__all__ = ["layered_svg"]

_CHAR_W = 6.4   # px per character at font-size 11 (Helvetica-like average)
_LINE_H = 14.0
_GAP_X = 18.0
_GAP_Y = 34.0
_MARGIN = 12.0


def _ranks(graph: Graph) -> tuple:
    preds: dict = {it.id: [] for it in graph.items}
    succs: dict = {it.id: [] for it in graph.items}
    for a, b in graph.edges:
        preds[b].append(a)
        succs[a].append(b)
    rank: dict = {}
    for it in graph.items:  # creation order is a topological order
        rank[it.id] = max((rank[p] + 1 for p in preds[it.id]), default=0)
    for it in graph.items:
        if not preds[it.id] and succs[it.id]:
            rank[it.id] = max(0, min(rank[s] for s in succs[it.id]) - 1)
    return rank, preds, succs


def _order(graph: Graph, rank: dict, preds: dict, succs: dict) -> list:
    rows: dict = {}
    for it in graph.items:
        rows.setdefault(rank[it.id], []).append(it.id)
    levels = [rows[r] for r in sorted(rows)]
    pos = {v: i for row in levels for i, v in enumerate(row)}
    for neighbours, sweep in ((preds, levels), (succs, levels[::-1])):
        for row in sweep:
            def key(v: str, row: list = row) -> float:
                ns = [pos[n] for n in neighbours[v] if n in pos]
                return sum(ns) / len(ns) if ns else pos[v]
            row.sort(key=key)
            for i, v in enumerate(row):
                pos[v] = i
    return levels


def layered_svg(graph: Graph, show_shapes: bool = True, show_dtypes: bool = False) -> str:
    """SVG text of ``graph`` laid out top to bottom (see the module docstring)."""
    rank, preds, succs = _ranks(graph)
    levels = _order(graph, rank, preds, succs)
    labels = {it.id: label_lines(it, show_shapes, show_dtypes) for it in graph.items}
    size = {v: (max(len(s) for s in lines) * _CHAR_W + 22.0, len(lines) * _LINE_H + 10.0)
            for v, lines in labels.items()}
    row_w = [sum(size[v][0] for v in row) + _GAP_X * (len(row) - 1) for row in levels]
    width = max(row_w, default=0.0) + 2 * _MARGIN
    xy: dict = {}
    y = _MARGIN
    for row, w in zip(levels, row_w):
        h = max(size[v][1] for v in row)
        x = (width - w) / 2
        for v in row:
            xy[v] = (x + size[v][0] / 2, y + h / 2)
            x += size[v][0] + _GAP_X
        y += h + _GAP_Y
    height = y - _GAP_Y + _MARGIN

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
           f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="Helvetica,Arial,sans-serif" font-size="11">',
           '<defs><marker id="vz-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
           'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#616161"/></marker></defs>',
           f'<g id="graph0" class="graph"><rect x="0" y="0" width="{width:.1f}" height="{height:.1f}" fill="white"/>']
    for a, b in graph.edges:
        (x1, y1), (x2, y2) = xy[a], xy[b]
        y1 += size[a][1] / 2
        y2 -= size[b][1] / 2
        out.append(f'<g id="e_{a}_{b}" class="edge"><title>{a}&#45;&gt;{b}</title>'
                   f'<path fill="none" stroke="#616161" d="M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}" '
                   'marker-end="url(#vz-arrow)"/></g>')
    for it in graph.items:
        st = dict(STYLES[it.kind])
        if it.bad or it.grad_bad:
            st.update(BAD_STYLE)
        (cx, cy), (w, h) = xy[it.id], size[it.id]
        paint = (f'fill="{st["fillcolor"]}" stroke="{st["color"]}" stroke-width="{st.get("penwidth", "1")}"'
                 + (' stroke-dasharray="4,3"' if "dashed" in st["style"] else ""))
        if st["shape"] == "ellipse":
            shape = f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" {paint}/>'
        else:
            rx = 6 if "rounded" in st["style"] else 0
            shape = (f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'rx="{rx}" {paint}/>')
        lines = labels[it.id]
        y0 = cy - (len(lines) - 1) * _LINE_H / 2 + 4
        text = "".join(f'<text x="{cx:.1f}" y="{y0 + i * _LINE_H:.1f}" text-anchor="middle" '
                       f'fill="{st.get("fontcolor", "#000000")}">{escape(line)}</text>' for i, line in enumerate(lines))
        out.append(f'<g id="{it.id}" class="node"><title>{escape(tooltip(it))}</title>{shape}{text}</g>')
    out.append("</g></svg>")
    return "\n".join(out)
