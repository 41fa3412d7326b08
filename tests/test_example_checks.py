"""examples/network2_checks.py, examples/autoencoder_checks.py and stacked_autoencoder.py --resume:
the follow-up checks that docs/results.md cites run on the quick scale, print one figure per seed,
and agree with what they summarise; a resumed stacked run equals an uninterrupted one.  Skipped
without the MNIST files."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("MINIGRAD_DATA", ROOT.parent / "shared" / "data"))
HAVE_MNIST = (MNIST_DIR / "mnist" / "train-images-idx3-ubyte.gz").exists()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found (set MINIGRAD_DATA)")


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MINIGRAD_DATA=str(MNIST_DIR), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _per_seed_and_summary(out: str) -> tuple[list, dict]:
    per_seed = [float(v) for v in re.search(r"per seed \(%\): \[([^\]]*)\]", out).group(1).split(",")]
    summary = dict(re.findall(r"(mean|sd|min|max) (-?[\d.]+|nan)", out))
    return per_seed, {k: float(v) for k, v in summary.items()}


@needs_mnist
@pytest.mark.parametrize("which", ["quadratic", "l2", "overfitting"])
def test_network2_more_seeds_quick(which, tmp_path):
    proc = _run("network2_checks.py", "seeds", which, "--quick", "--seeds", "0,1,2", "--runs-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    per_seed, summary = _per_seed_and_summary(proc.stdout)
    assert len(per_seed) == 3 and all(10 < v <= 100 for v in per_seed)  # above chance
    assert summary["min"] == min(per_seed) and summary["max"] == max(per_seed)
    assert summary["mean"] == pytest.approx(sum(per_seed) / 3, abs=0.006)
    assert len(list(tmp_path.glob("*.json"))) == 3  # one stored run per seed
    again = _run("network2_checks.py", "seeds", which, "--quick", "--seeds", "0,1,2", "--runs-dir", str(tmp_path))
    assert again.stdout == proc.stdout  # read back, not retrained


@needs_mnist
def test_network2_quadratic_variants_and_longer_elastic_quick(tmp_path):
    for variant in ("float64", "pix256"):
        proc = _run("network2_checks.py", "quadratic-variant", variant, "--quick", "--seeds", "0",
                    "--runs-dir", str(tmp_path))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"quick-{variant}_" in proc.stdout
    proc = _run("network2_checks.py", "elastic-epochs", "--epochs", "3", "--quick", "--seeds", "0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    test_line = next(line for line in proc.stdout.splitlines() if line.startswith("test accuracy per epoch"))
    assert len(test_line.split(":")[1].split(",")) == 3  # one figure per epoch


@needs_mnist
def test_network2_checks_bad_seeds_is_one_line():
    proc = _run("network2_checks.py", "seeds", "l2", "--seeds", "a,b")
    assert proc.returncode == 2 and "--seeds must be comma-separated integers" in proc.stderr


@needs_mnist
def test_autoencoder_time_dtype():
    proc = _run("autoencoder_checks.py", "time-dtype", "--images", "200", "--repeats", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"float32: fastest [\d.]+ s", proc.stdout) and re.search(r"float64: fastest [\d.]+ s", proc.stdout)


@needs_mnist
def test_stacked_resume_equals_uninterrupted_and_softmax_stage_check(tmp_path):
    first, resumed = tmp_path / "first", tmp_path / "resumed"
    whole = _run("stacked_autoencoder.py", "--quick", "--part", "pretrained", "--save", str(first))
    assert whole.returncode == 0, whole.stdout + whole.stderr
    again = _run("stacked_autoencoder.py", "--quick", "--part", "pretrained", "--resume", str(first),
                 "--save", str(resumed))
    assert again.returncode == 0, again.stdout + again.stderr

    def table_without_seconds(out: str) -> list:
        return [line.rsplit(None, 1)[0] for line in out.splitlines() if "limit" in line or "tolerance" in line]
    # the autoencoder rows are copied, the softmax and fine-tuning rows recomputed: all equal
    assert table_without_seconds(again.stdout) == table_without_seconds(whole.stdout)
    assert "fine-tuned stack" in again.stdout

    check = _run("autoencoder_checks.py", "softmax-stage", str(first))
    assert check.returncode == 0, check.stdout + check.stderr
    costs = re.findall(r"cost ([\d.]+)", check.stdout)
    assert len(costs) == 3 and max(map(float, costs)) - min(map(float, costs)) < 1e-3 * float(costs[0])


@needs_mnist
def test_stacked_resume_of_another_setup_is_one_line(tmp_path):
    proc = _run("stacked_autoencoder.py", "--quick", "--part", "pretrained", "--save", str(tmp_path))
    assert proc.returncode == 0
    other = _run("stacked_autoencoder.py", "--quick", "--seed", "3", "--resume", str(tmp_path))
    assert other.returncode == 2 and "--resume" in other.stderr and "seed 3" in other.stderr
