"""docs/visualization.md: its code blocks print what the page shows (run in a temporary
directory, since drawing code may write files), and its pictures exist."""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "visualization.md"


def _examples_module():
    spec = importlib.util.spec_from_file_location("_viz_doc_examples", ROOT / "tests" / "test_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_visualization_doc_blocks_print_what_the_doc_shows(tmp_path):
    ex = _examples_module()
    examples = ex.python_examples(DOC.read_text(encoding="utf-8"))
    assert sum(expected is not None for _, _, expected in examples) >= 6
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([(line, code) for line, code, _ in examples]), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", ex._DRIVER, str(spec), "docs/visualization.md"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    outputs = re.split(r"^@@block \d+@@\n", proc.stdout, flags=re.M)[1:]
    assert len(outputs) == len(examples)
    for (line, _, expected), actual in zip(examples, outputs):
        if expected is not None:
            assert ex.same_output(actual, expected), (
                f"docs/visualization.md, block at line {line} printed:\n{actual}\nbut the doc shows:\n{expected}")


def test_doc_pictures_exist():
    pictures = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", DOC.read_text(encoding="utf-8"))
    assert {"img/viz_mlp.svg", "img/viz_mlp_backward.svg", "img/viz_tanh_second.svg", "img/viz_viewer.png"} <= \
        set(pictures)
    for p in pictures:
        assert (DOC.parent / p).stat().st_size > 1000, p
