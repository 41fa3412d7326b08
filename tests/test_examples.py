"""The examples run and print what they claim; the docs' code blocks print what the docs
show; every relative link in docs/*.md leads to an existing file.

Scripts run in a subprocess (``sys.executable``, cwd = repo root, the repo on
PYTHONPATH), the way a reader would run them.  After an intended change in what the
doc's code prints, refresh its output blocks with ``python tests/test_examples.py --update-docs``.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run(args: list) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{args} exited with {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc


def _value(out: str, label: str) -> float:
    """The number printed after ``label`` on its line (``label  1.2345``)."""
    m = re.search(re.escape(label) + r"\s*(" + _NUM.pattern + ")", out)
    assert m, f"{label!r} not found in the output:\n{out}"
    return float(m.group(1))


# -- output comparison: text must match, numbers must agree closely ---------------
def _same_line(actual: str, expected: str) -> bool:
    if _NUM.split(actual) != _NUM.split(expected):
        return False
    a, e = _NUM.findall(actual), _NUM.findall(expected)
    # Last-digit differences between platforms' libm are not documentation errors.
    return len(a) == len(e) and all(math.isclose(float(x), float(y), rel_tol=1e-6, abs_tol=1e-8)
                                    for x, y in zip(a, e))


def same_output(actual: str, expected: str) -> bool:
    a = [line.rstrip() for line in actual.strip("\n").splitlines()]
    e = [line.rstrip() for line in expected.strip("\n").splitlines()]
    return len(a) == len(e) and all(_same_line(x, y) for x, y in zip(a, e))


# -- markdown code blocks ---------------------------------------------------------------
_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")


def code_blocks(text: str) -> list:
    """(language, first line number, body) for each fenced block, in order."""
    blocks, lang, start, body = [], None, 0, []
    for n, line in enumerate(text.splitlines(), 1):
        m = _FENCE.match(line)
        if lang is None:
            if m:
                lang, start, body = m.group(1), n + 1, []
        elif line.strip() == "```":
            blocks.append((lang, start, "\n".join(body) + "\n" if body else ""))
            lang = None
        else:
            body.append(line)
    assert lang is None, f"unclosed code block starting at line {start}"
    return blocks


def python_examples(text: str) -> list:
    """(line, code, expected output or None): a ``text`` block right after a ``python``
    block is that block's expected output."""
    blocks = code_blocks(text)
    lines = text.splitlines()
    out = []
    for i, (lang, start, body) in enumerate(blocks):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(blocks) and blocks[i + 1][0] == "text":
            end_of_this = start + len(body.splitlines())  # the closing fence's line number
            between = lines[end_of_this:blocks[i + 1][1] - 2]
            if all(not b.strip() for b in between):
                expected = blocks[i + 1][2]
        out.append((start, body, expected))
    return out


_DRIVER = r"""
import json, sys
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__docs__"}
for i, (line, src) in enumerate(blocks):
    print("@@block %d@@" % i, flush=True)
    exec(compile(src, "%s (code block at line %d)" % (sys.argv[2], line), "exec"), ns)
"""


def run_doc_blocks(doc: Path, tmp_path: Path) -> list:
    """Run a doc's python blocks in order in one fresh interpreter; (line, expected, actual) each."""
    examples = python_examples(doc.read_text(encoding="utf-8"))
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([(line, code) for line, code, _ in examples]), encoding="utf-8")
    proc = _run(["-c", _DRIVER, str(spec), str(doc.relative_to(ROOT))])
    outputs = re.split(r"^@@block \d+@@\n", proc.stdout, flags=re.M)[1:]
    assert len(outputs) == len(examples)
    return [(line, expected, actual) for (line, _, expected), actual in zip(examples, outputs)]


# -- the examples ------------------------------------------------------------------------
def test_basics_example() -> None:
    out = _run(["examples/basics.py"]).stdout
    assert abs(_value(out, "z =") - (2 * 3 + math.sin(2))) < 1e-4
    assert abs(_value(out, "dz/dx =") - (3 + math.cos(2))) < 1e-4
    assert abs(_value(out, "dz/dy =") - 2) < 1e-6
    # the fitted line must be close to the one the data was generated from
    assert abs(_value(out, "fitted w =") - 2.0) < 0.1
    assert abs(_value(out, "fitted b =") - (-1.0)) < 0.1
    assert _value(out, "final loss") < _value(out, "initial loss") / 10


def test_hessian_example() -> None:
    out = _run(["examples/hessian.py"]).stdout
    assert _value(out, "max |H_autodiff - H_closed_form| =") < 1e-9
    assert _value(out, "max |Hv - H @ v| =") < 1e-9
    assert _value(out, "Newton distance to (1, 1):") < 1e-8
    assert "minimum found" in out


def test_custom_op_example() -> None:
    out = _run(["examples/custom_op.py"]).stdout
    assert "gradcheck: True" in out
    assert "gradgradcheck: True" in out
    assert "buggy backward caught" in out
    assert _value(out, "max |swish - x*sigmoid(beta*x)| =") < 1e-12
    assert _value(out, "max |grad difference| =") < 1e-12
    assert "finite at +-1e4 in float32: True" in out


# -- the docs ----------------------------------------------------------------------------
def test_autograd_doc_blocks_print_what_the_doc_shows(tmp_path: Path) -> None:
    results = run_doc_blocks(DOCS / "autograd.md", tmp_path)
    assert sum(expected is not None for _, expected, _ in results) >= 10
    for line, expected, actual in results:
        if expected is not None:
            assert same_output(actual, expected), (
                f"docs/autograd.md, block at line {line} printed:\n{actual}\nbut the doc shows:\n{expected}")


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(doc: Path) -> list:
    """(line number, target) for links that are neither absolute URLs nor pure anchors; a
    line marked "(coming)" announces a page that may not exist yet and is skipped."""
    links = []
    in_code = False
    for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code or "(coming)" in line:
            continue
        for target in _LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            links.append((n, target.split("#", 1)[0]))
    return links


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = [f"line {n}: {t}" for n, t in relative_links(doc) if not (doc.parent / t).exists()]
    assert not broken, f"{doc.name} links to missing files: {broken}"


def test_output_comparison_is_strict_about_text_and_numbers() -> None:
    assert same_output("x = 2.583853\n", "x = 2.583853")
    assert same_output("x = 2.5838531634528574", "x = 2.5838531634528580")
    assert not same_output("x = 2.583853", "x = 2.593853")
    assert not same_output("y = 2.583853", "x = 2.583853")
    assert not same_output("x = 1\nextra", "x = 1")


def test_link_finder_skips_urls_anchors_code_and_coming(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text("[a](a.md) [u](https://x.org) [s](#sec)\n- [n](n.md) (coming)\n```\n[c](c.md)\n```\n"
                   "[b](../b.py#L3)\n", encoding="utf-8")
    assert relative_links(doc) == [(1, "a.md"), (6, "../b.py")]


def update_doc_outputs(doc: Path, tmp_path: Path) -> None:
    """Rewrite the expected-output blocks of ``doc`` with what its code prints now."""
    text = doc.read_text(encoding="utf-8")
    blocks = code_blocks(text)
    after = {start: blocks[i + 1] for i, (lang, start, _) in enumerate(blocks[:-1])
             if lang == "python" and blocks[i + 1][0] == "text"}
    lines = text.splitlines()
    edits = []
    for line, expected, actual in run_doc_blocks(doc, tmp_path):
        if expected is not None:
            _, start, body = after[line]
            edits.append((start - 1, start - 1 + len(body.splitlines()), actual.rstrip("\n").splitlines()))
    for begin, end, new in sorted(edits, reverse=True):
        lines[begin:end] = new
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    # After an intended change of behaviour or messages:  python tests/test_examples.py --update-docs
    # then read the diff of docs/ before committing it.
    import tempfile

    if sys.argv[1:] != ["--update-docs"]:
        sys.exit("usage: python tests/test_examples.py --update-docs")
    with tempfile.TemporaryDirectory() as d:
        update_doc_outputs(DOCS / "autograd.md", Path(d))
