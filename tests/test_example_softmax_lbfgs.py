"""examples/softmax_lbfgs.py: the cost's gradient is right, and the quick run shows what the
example claims (L-BFGS ahead of gradient descent, every method lowering the loss, accuracy far
above chance, Newton-CG working).  The MNIST runs skip where the IDX files are absent."""
from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "softmax_lbfgs.py"
MNIST_DIR = Path(os.environ.get("MINIGRAD_DATA", ROOT.parent / "shared" / "data"))
HAVE_MNIST = (MNIST_DIR / "mnist" / "train-images-idx3-ubyte.gz").exists()
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _load_example():
    spec = importlib.util.spec_from_file_location("softmax_lbfgs_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _table(out: str) -> dict:
    """method -> the first number in each of the row's cells (the mean where a ± follows)."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 7 and cells[0] != "method":
            rows[cells[0]] = [float(_NUM.search(c).group()) for c in cells[1:]]
    return rows


def test_cost_gradient_matches_central_differences():
    example = _load_example()
    rng = np.random.default_rng(0)
    images = mg.tensor(rng.random((6, 5)), dtype=mg.float64)
    labels = mg.tensor(np.array([0, 2, 1, 3, 3, 0]), dtype=mg.int64)
    theta = mg.tensor(rng.standard_normal((4, 5)), dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: example.softmax_cost(t, images, labels, 0.3), (theta,))

    # and the closed form ∇J = (1/m)(P − Y)ᵀX + λθ, P the softmax probabilities, Y the one-hot labels
    example.softmax_cost(theta, images, labels, 0.3).backward()
    x, t = images.numpy(), theta.detach().numpy()
    logits = x @ t.T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(6), labels.numpy()] -= 1
    np.testing.assert_allclose(theta.grad.numpy(), p.T @ x / 6 + 0.3 * t, rtol=1e-10, atol=1e-12)


def test_missing_data_and_bad_flags_get_one_line(tmp_path):
    proc = _run("--quick", "--data-dir", str(tmp_path))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = _run("--quick", "--seeds", "a,b")
    assert proc.returncode == 2 and "--seeds" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found (set MINIGRAD_DATA=../shared/data)")
def test_quick_run():
    proc = _run("--quick", "--data-dir", str(MNIST_DIR))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    initial = float(re.search(r"initial training loss (" + _NUM.pattern + ")", proc.stdout).group(1))
    assert abs(initial - math.log(10)) < 0.05  # θ ≈ 0: every class equally likely
    rows = _table(proc.stdout)
    assert set(rows) == {"L-BFGS", "gradient descent, step 1/L", "gradient descent, tuned step", "Newton-CG"}
    # columns: iterations, evaluations, Hessian-vector products, final loss, test accuracy (%), wall time
    lbfgs = rows["L-BFGS"]
    for name in ("gradient descent, step 1/L", "gradient descent, tuned step"):
        gd = rows[name]
        assert gd[0] >= lbfgs[0] and gd[1] == lbfgs[1]  # as many evaluations, so at least as many iterations
        assert lbfgs[3] < gd[3], (name, lbfgs, gd)
    for name, (iterations, evaluations, hvps, loss, test_accuracy, _) in rows.items():
        assert iterations >= 1 and evaluations >= iterations
        assert loss < initial - 0.5, name
        assert test_accuracy > 60, name  # chance: 10%
    assert lbfgs[3] < 0.5 and lbfgs[4] > 80
    iterations, evaluations, hvps, loss, test_accuracy, _ = rows["Newton-CG"]
    assert iterations == 5 and hvps >= iterations and loss < 0.5 and test_accuracy > 80
