"""DOT text from a :class:`~minigrad.viz.graph.Graph`, and running Graphviz's ``dot`` on it.

The text is built by hand (no Graphviz needed to make it) and is deterministic: items in
creation order, clusters in order of first use, attributes in a fixed order.

Module clusters: every op recorded under :func:`~minigrad.viz.trace` carries the stack of
modules that were running.  Each module becomes a ``subgraph cluster_<n>``; with
``max_depth=d`` the modules ``d`` levels below the traced root are drawn as one node each
(everything inside them folded in), and edges leaving a folded module are labelled with
the shape of the tensor they carry.
"""
from __future__ import annotations

import shutil
import subprocess

from .graph import Graph, paused_gc
from .style import BAD_STYLE, STYLES, label_lines, module_label, tooltip
from .summary import shape_text

__all__ = ["to_dot", "find_dot", "run_dot"]


def quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict) -> str:
    return "[" + ", ".join(f"{k}={quote(str(v))}" for k, v in attrs.items()) + "]"


# The fixed part of each kind's attribute list, quoted once (to_dot runs over 10k-op graphs).
_KIND_ATTRS = {kind: ", ".join(f"{k}={quote(v)}" for k, v in st.items()) for kind, st in STYLES.items()}
_BAD_ATTRS = ", ".join(f"{k}={quote(v)}" for k, v in BAD_STYLE.items())


class _Folding:
    """Which cluster each item sits in, and which items fold into a collapsed module node."""

    def __init__(self, graph: Graph, depth: int | None) -> None:
        self.rep: dict = {}          # item id -> id of the vertex drawn for it
        self.home: dict = {}         # vertex id -> cluster key (tuple of module entries; () = top)
        self.folded: dict = {}       # collapsed key -> {"id", "ops", "params"}
        self.clusters: list = []     # expanded cluster keys, in order of first use
        seen_clusters: set = set()
        for it in graph.items:
            mods = it.modules
            if depth is not None and len(mods) > depth:
                key = mods[: depth + 1]
                f = self.folded.get(key)
                if f is None:
                    f = self.folded[key] = {"id": f"m{len(self.folded)}", "ops": 0, "params": 0}
                    self.home[f["id"]] = key[:-1]
                f["ops"] += it.kind == "op"
                f["params"] += it.kind == "param"
                self.rep[it.id] = f["id"]
                container = key[:-1]
            else:
                self.rep[it.id] = it.id
                self.home[it.id] = mods
                container = mods
            for n in range(1, len(container) + 1):
                k = container[:n]
                if k not in seen_clusters:
                    seen_clusters.add(k)
                    self.clusters.append(k)


def to_dot(graph: Graph, show_shapes: bool = True, show_dtypes: bool = False, rankdir: str = "TB",
           max_depth: int | None = None) -> str:
    """The DOT source of ``graph`` (see the module docstring for clusters and folding)."""
    with paused_gc():
        return _to_dot(graph, show_shapes, show_dtypes, rankdir, max_depth)


def _to_dot(graph: Graph, show_shapes: bool, show_dtypes: bool, rankdir: str, max_depth: int | None) -> str:
    fold = _Folding(graph, max_depth)
    lines = [
        "digraph minigrad {",
        f"  graph [rankdir={rankdir}, fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=0.35, "
        "newrank=true];",
        "  node [fontname=\"Helvetica\", fontsize=10, height=0.3, margin=\"0.08,0.04\"];",
        "  edge [color=\"#616161\", arrowsize=0.7, fontname=\"Helvetica\", fontsize=9];",
    ]
    members: dict = {}  # cluster key -> vertex lines
    for it in graph.items:
        if fold.rep[it.id] != it.id:
            continue
        text = (f'{it.id} [id="{it.id}", label={quote(chr(10).join(label_lines(it, show_shapes, show_dtypes)))}, '
                f"tooltip={quote(tooltip(it))}, {_KIND_ATTRS[it.kind]}")
        if it.is_output and it.kind != "output":
            text += ', peripheries="2"'
        if it.bad or it.grad_bad:
            text += ", " + _BAD_ATTRS  # later attributes win in DOT
        members.setdefault(fold.home[it.id], []).append(text + "];")
    for key, f in fold.folded.items():
        text = f"{f['ops']} op" + ("s" if f["ops"] != 1 else "")
        if f["params"]:
            text += f" · {f['params']} param" + ("s" if f["params"] != 1 else "")
        attrs = {"id": f["id"], "label": module_label(key[-1]) + "\n" + text,
                 "tooltip": " / ".join(module_label(e) for e in key) + " (collapsed)"}
        attrs.update(STYLES["module"])
        members.setdefault(key[:-1], []).append(f"{f['id']} {_attrs(attrs)};")

    children: dict = {}
    for key in fold.clusters:
        children.setdefault(key[:-1], []).append(key)
    number = {key: n for n, key in enumerate(fold.clusters)}

    def emit(key: tuple, indent: str) -> None:
        for line in members.get(key, ()):
            lines.append(indent + line)
        for child in children.get(key, ()):
            label = module_label(child[-1])
            lines.append(f"{indent}subgraph cluster_{number[child]} {{")
            lines.append(f"{indent}  graph [label={quote(label)}, style=\"rounded,dashed\", color=\"#7e57c2\", "
                         "fontcolor=\"#4a148c\"];")
            emit(child, indent + "  ")
            lines.append(indent + "}")

    emit((), "  ")

    drawn: set = set()
    for src, dst in graph.edges:
        a, b = fold.rep[src], fold.rep[dst]
        if a == b or (a, b) in drawn:
            continue
        drawn.add((a, b))
        s_item = graph.by_id[src]
        if show_shapes and a != src and s_item.kind != "op" and s_item.shape is not None:
            # what leaves a folded module
            lines.append(f'  {a} -> {b} [id="e_{a}_{b}", label={quote(shape_text(s_item.shape))}];')
        else:
            lines.append(f'  {a} -> {b} [id="e_{a}_{b}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def find_dot() -> str | None:
    """Path of Graphviz's ``dot`` program, or None when it is not on PATH."""
    return shutil.which("dot")


def run_dot(source: str, fmt: str) -> bytes:
    """``dot -T<fmt>`` on ``source``; clear errors when ``dot`` is missing or fails."""
    exe = find_dot()
    if exe is None:
        raise FileNotFoundError("Graphviz's `dot` program was not found on PATH; install Graphviz "
                                "(apt-get install graphviz / brew install graphviz)")
    proc = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0:
        message = " ".join(proc.stderr.decode(errors="replace").split())  # one line
        raise RuntimeError(f"dot -T{fmt} failed (exit {proc.returncode}): {message}")
    return proc.stdout
