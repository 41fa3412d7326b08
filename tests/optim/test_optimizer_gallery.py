"""examples/optimizer_gallery.py runs (short budget), draws its pictures and prints its table."""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("matplotlib")
pytest.importorskip("PIL")


def test_gallery_runs_and_second_order_methods_converge(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "examples/optimizer_gallery.py", "--out", str(tmp_path), "--steps", "40",
                           "--frames", "3"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ["SGD", "Momentum", "Nesterov", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax",
                 "NAdam", "L-BFGS", "Newton", "NewtonCG"]:
        assert re.search(rf"^\| {re.escape(name)} \|", out, re.M), name
    # Newton reaches the Rosenbrock and Beale minima well within 40 steps (20 and 8 steps: it
    # converges quadratically there, so rounding cannot move these counts by the margins allowed);
    # first-order methods don't
    newton = re.search(r"^\| Newton \| (\d+) \(\d+\), \S+ \| (\d+) \(", out, re.M)
    assert newton and int(newton.group(1)) <= 30 and int(newton.group(2)) <= 15
    assert re.search(r"^\| SGD \| > 40 \(40\)", out, re.M)
    # L-BFGS reaches Beale's minimum (14 steps), and its line search, extrapolating over the
    # saddle's concave direction, leaves it with a finite loss
    lbfgs = re.search(r"^\| L-BFGS \| [^|]+\| (\d+) \(\d+\), \S+ \| (\d+) \(\d+\), (\S+) \|", out, re.M)
    assert lbfgs and int(lbfgs.group(1)) <= 30 and int(lbfgs.group(2)) <= 5, out
    assert math.isfinite(float(lbfgs.group(3))) and float(lbfgs.group(3)) < -1
    for f in ["optimizer_gallery_rosenbrock.png", "optimizer_gallery_beale.png", "optimizer_gallery_saddle.png",
              "optimizer_gallery.gif"]:
        p = tmp_path / f
        assert p.exists() and 1000 < p.stat().st_size < 2 * 1024 * 1024, f
