"""docs/optimizers.md: its code blocks print what the doc shows, and its links resolve.

After an intended change of what the code prints, refresh the doc's output blocks with
    python tests/optim/test_optimizers_doc.py --update-docs
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "optimizers.md"
sys.path.insert(0, str(ROOT / "tests"))

from test_examples import relative_links, run_doc_blocks, same_output, update_doc_outputs  # noqa: E402


def test_optimizers_doc_blocks_print_what_the_doc_shows(tmp_path):
    results = run_doc_blocks(DOC, tmp_path)
    assert sum(expected is not None for _, expected, _ in results) >= 6
    for line, expected, actual in results:
        if expected is not None:
            assert same_output(actual, expected), (
                f"docs/optimizers.md, block at line {line} printed:\n{actual}\nbut the doc shows:\n{expected}")


def test_optimizers_doc_links_and_images_exist():
    links = relative_links(DOC)
    assert any(t.startswith("img/optimizer_gallery") for _, t in links)
    broken = [f"line {n}: {t}" for n, t in links if not (DOC.parent / t).exists()]
    assert not broken, broken


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--update-docs"]:
        sys.exit("usage: python tests/optim/test_optimizers_doc.py --update-docs")
    with tempfile.TemporaryDirectory() as d:
        update_doc_outputs(DOC, Path(d))
