"""examples/network2_chapter3.py: the quick mode runs and its table shows what the book's experiments show.

The claims checked hold for any seed and any BLAS (they were checked over fifteen seeds): the
networks learn, the 200-image runs fit their training images far better than the test images,
L2 regularization shrinks the weights, N(0, 1/n_in) weights learn faster than N(0, 1) ones, the
halving schedule only halves.  Skipped without the MNIST files.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "network2_chapter3.py"
MNIST_DIR = Path(os.environ.get("MINIGRAD_DATA", ROOT.parent / "shared" / "data"))
HAVE_MNIST = (MNIST_DIR / "mnist" / "train-images-idx3-ubyte.gz").exists()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found (set MINIGRAD_DATA=../shared/data)")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MINIGRAD_DATA=str(MNIST_DIR))
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _table(out: str) -> list:
    """The printed markdown table as dicts (experiment, run, quantity, published, ours)."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 6 and cells[0] not in ("experiment", "---"):
            rows.append(dict(zip(("experiment", "run", "quantity", "published", "ours", "wall"), cells)))
    return rows


def _mean(cell: str) -> float:
    """The mean (or single value) at the start of an ``ours`` cell: ``61.77 ± 0.76% (3 seeds)`` -> 61.77."""
    return float(re.match(r"[-+]?(?:\d+\.?\d*|nan)", cell).group(0))


def _find(rows: list, experiment: str, run_part: str, quantity_part: str) -> float:
    hits = [r for r in rows if r["experiment"] == experiment and run_part in r["run"] and quantity_part in r["quantity"]]
    assert len(hits) == 1, f"expected one {experiment} row with {run_part!r} / {quantity_part!r}, got {hits}"
    return _mean(hits[0]["ours"])


@pytest.fixture(scope="module")
def quick_rows() -> list:
    if not HAVE_MNIST:
        pytest.skip("MNIST IDX files not found (set MINIGRAD_DATA=../shared/data)")
    proc = _run("--quick", "--seeds", "0,1,2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _table(proc.stdout)


@needs_mnist
def test_every_experiment_reports_percentages_in_range(quick_rows: list) -> None:
    assert {r["experiment"] for r in quick_rows} == {"cost", "overfitting", "regularized_full", "init", "schedule",
                                                    "expanded"}
    percentages = [_mean(r["ours"]) for r in quick_rows if r["ours"].split("(")[0].strip().endswith("%")]
    assert len(percentages) >= 20
    assert all(0 < p <= 100 for p in percentages)


@needs_mnist
def test_the_networks_learn(quick_rows: list) -> None:
    cross_entropy = [_mean(r["ours"]) for r in quick_rows
                     if r["experiment"] == "cost" and "cross-entropy" in r["run"] and "best test" in r["quantity"]]
    assert len(cross_entropy) == 2 and min(cross_entropy) > 30  # chance is 10%
    for row in quick_rows:
        if row["experiment"] == "expanded":
            assert _mean(row["ours"]) > 20


@needs_mnist
def test_small_training_set_overfits(quick_rows: list) -> None:
    for lmbda in ("λ=0 ", "λ=0.1 "):
        train = _find(quick_rows, "overfitting", lmbda, "final training accuracy")
        test = _find(quick_rows, "overfitting", lmbda, "final test accuracy")
        assert train > test + 15


@needs_mnist
def test_l2_regularization_shrinks_the_weights(quick_rows: list) -> None:
    assert _find(quick_rows, "regularized_full", "λ=5 ", "Σw²") < 0.5 * _find(quick_rows, "regularized_full", "λ=0 ",
                                                                           "Σw²")
    assert _find(quick_rows, "overfitting", "λ=0.1 ", "Σw²") < _find(quick_rows, "overfitting", "λ=0 ", "Σw²")


@needs_mnist
def test_scaled_initialization_learns_faster(quick_rows: list) -> None:
    last = [r["quantity"] for r in quick_rows if r["experiment"] == "init" and "epoch 1" not in r["quantity"]][0]
    assert _find(quick_rows, "init", "default init", last) > _find(quick_rows, "init", "large init", last) + 10


@needs_mnist
def test_halving_schedule_only_halves(quick_rows: list) -> None:
    final = _find(quick_rows, "schedule", "η0=0.5", "final η")
    halvings = [0.5 / 2 ** k for k in range(0, 3)]
    assert any(abs(final - h) < 1e-9 for h in halvings)
    assert 1 <= _find(quick_rows, "schedule", "η0=0.5", "epochs run") <= 10


def test_bad_experiment_name_is_one_clear_line() -> None:
    proc = _run("--quick", "--experiment", "nope")
    assert proc.returncode == 2
    assert "unknown experiment nope" in proc.stderr


def test_missing_data_is_one_clear_line(tmp_path: Path) -> None:
    proc = _run("--quick", "--experiment", "cost", "--data-dir", str(tmp_path))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
