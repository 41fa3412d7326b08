"""Rendering through Graphviz's ``dot``, and what happens where it is missing."""
import shutil
import xml.etree.ElementTree as ET

import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F

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


@needs_dot
def test_render_svg_is_valid_xml_with_the_labels(tmp_path):
    path = small_drawing(show_saved=True).render(tmp_path / "mlp.svg")
    assert path == tmp_path / "mlp.svg"
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    texts = svg_texts(root)
    for label in ("0.weight", "0.bias", "2.weight", "Linear", "ReLU", "CrossEntropyIndices", "output", "(4, 3)"):
        assert label in texts, label
    ids = {g.get("id") for g in root.iter(SVG + "g")}
    assert {"op0", "op1", "t1", "e_t1_op0"} <= ids  # the viewer relies on these ids


@needs_dot
def test_render_png_pdf_and_save(tmp_path):
    d = small_drawing(collapse=True)
    assert d.render(tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert d.render(tmp_path / "g", format="pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "g.pdf").exists()
    assert d.save(tmp_path / "g.dot").read_text() == d.to_dot()
    assert d.save(tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
    bundle = d._repr_mimebundle_()
    assert "0: Linear" in bundle["image/svg+xml"] and bundle["text/plain"].startswith("<minigrad.viz.Drawing")
    with pytest.raises(ValueError, match="format must be one of"):
        d.render(tmp_path / "g.jpg", format="jpg")


def test_missing_dot_writes_the_source_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    d = small_drawing()
    written = d.render(tmp_path / "out" / "graph.svg")
    assert written == tmp_path / "out" / "graph.dot"
    assert written.read_text() == d.to_dot()
    assert not (tmp_path / "out" / "graph.svg").exists()
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "apt-get install graphviz" in err and "brew install graphviz" in err and "graph.dot" in err
    with pytest.raises(FileNotFoundError, match="apt-get install graphviz"):
        d.pipe("svg")
    # Notebooks still get a picture: the built-in layered layout.
    svg = d._repr_svg_()
    root = ET.fromstring(svg)
    assert "0.weight" in svg_texts(root) and "CrossEntropyIndices" in svg_texts(root)
    assert {"op0", "t1", "e_t1_op0"} <= {g.get("id") for g in root.iter(SVG + "g")}


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
