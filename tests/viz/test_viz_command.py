"""``minigrad graph`` (minigrad.viz.command.main)."""
import shutil
import xml.etree.ElementTree as ET

import pytest

from minigrad.viz import command


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


def test_graph_command_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        command.main(["--hidden", "a,b"])
    assert "--hidden must be comma-separated integers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        command.main(["--dataset", "cifar"])
