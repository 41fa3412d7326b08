"""examples/sparse_autoencoder.py and examples/stacked_autoencoder.py: the gradient of the sparse
autoencoder cost (every term, the KL sparsity penalty included) and of the stacked network's
fine-tuning cost against central differences, and the ``--quick`` runs' printed tables
(which need the MNIST files; skipped without them)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from sparse_autoencoder import SparsitySettings, sparse_autoencoder_cost, uniform_init  # noqa: E402
from stacked_autoencoder import StackedClassifier, softmax_cost  # noqa: E402

MNIST_DIR = Path(os.environ.get("MINIGRAD_DATA", ROOT.parent / "shared" / "data"))
HAVE_MNIST = (MNIST_DIR / "mnist" / "train-images-idx3-ubyte.gz").exists()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found (set MINIGRAD_DATA)")


def _run(script: str, *args: str, data_dir: Path = MNIST_DIR) -> subprocess.CompletedProcess:
    env = dict(os.environ, MINIGRAD_DATA=str(data_dir), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _rows(out: str, first_column: str) -> list:
    """The table below the header line starting with ``first_column``, as dicts column → cell; the
    table ends at the first line that does not end in a stop reason and a number of seconds."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_column])
    names = lines[start].split()
    assert names[-2:] == ["stop", "seconds"], lines[start]
    rows = []
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) < len(names) or not re.fullmatch(r"-|[a-z]+_(limit|tolerance)", cells[-2]):
            break
        # the first column of the stacked table is a name with spaces: the last len(names) - 1 cells are the rest
        rows.append(dict(zip(names, [" ".join(cells[:len(cells) - len(names) + 1])] + cells[len(cells) - len(names) + 1:])))
    return rows


# -- gradients, float64, tiny instances ------------------------------------------------------------------
@pytest.mark.parametrize("settings", [SparsitySettings(), SparsitySettings(rho=0.3, beta=5.0, weight_decay=0.1)])
def test_sparse_autoencoder_cost_gradient(settings):
    rng = np.random.default_rng(0)
    n_visible, n_hidden, m = 6, 4, 5
    x = mg.tensor(rng.uniform(0, 1, (m, n_visible)), dtype=mg.float64)
    weights = [mg.tensor(uniform_init(n_hidden, n_visible, rng), dtype=mg.float64, requires_grad=True),
               mg.tensor(rng.normal(0, 0.1, n_hidden), dtype=mg.float64, requires_grad=True),
               mg.tensor(uniform_init(n_visible, n_hidden, rng), dtype=mg.float64, requires_grad=True),
               mg.tensor(rng.normal(0, 0.1, n_visible), dtype=mg.float64, requires_grad=True)]
    terms = sparse_autoencoder_cost(x, *weights, settings)
    assert terms.sparsity.item() > 1e-3  # ρ̂ ≠ ρ here, so the KL term and its gradient are exercised
    assert gradcheck(lambda *w: sparse_autoencoder_cost(x, *w, settings).total, weights)
    assert gradcheck(lambda *w: sparse_autoencoder_cost(x, *w, settings).sparsity, weights)


def test_sparse_autoencoder_cost_terms_by_hand():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (7, 5))
    w1, b1 = rng.normal(0, 0.5, (3, 5)), rng.normal(0, 0.5, 3)
    w2, b2 = rng.normal(0, 0.5, (5, 3)), rng.normal(0, 0.5, 5)
    s = SparsitySettings()
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = sigmoid(x @ w1.T + b1)
    x_hat = sigmoid(h @ w2.T + b2)
    rho_hat = h.mean(0)
    kl = np.sum(s.rho * np.log(s.rho / rho_hat) + (1 - s.rho) * np.log((1 - s.rho) / (1 - rho_hat)))
    expected = (0.5 * np.sum((x_hat - x) ** 2) / 7 + 0.5 * s.weight_decay * (np.sum(w1 ** 2) + np.sum(w2 ** 2))
                + s.beta * kl)
    t = lambda a: mg.tensor(a, dtype=mg.float64)  # noqa: E731
    got = sparse_autoencoder_cost(t(x), t(w1), t(b1), t(w2), t(b2), s)
    assert np.isclose(got.total.item(), expected, rtol=1e-12)
    assert np.allclose(got.mean_activation.numpy(), rho_hat, rtol=1e-12)


def test_stacked_finetuning_cost_gradient():
    rng = np.random.default_rng(2)
    model = StackedClassifier.random((6, 4, 3, 5), rng, mg.float64)
    x = mg.tensor(rng.uniform(0, 1, (8, 6)), dtype=mg.float64)
    y = mg.tensor(rng.integers(0, 5, 8))

    def cost(w1, b1, w2, b2, theta):
        h2 = mg.sigmoid(mg.sigmoid(x @ w1.T + b1) @ w2.T + b2)
        return softmax_cost(h2 @ theta.T, y, theta, 0.1)

    params = [p.detach().clone().requires_grad_(True) for p in (model.w1, model.b1, model.w2, model.b2, model.theta)]
    assert gradcheck(cost, params)
    # the module computes the same cost
    with mg.no_grad():
        assert np.isclose(softmax_cost(model(x), y, model.theta, 0.1).item(), cost(*params).item(), rtol=1e-12)


# -- the scripts' command lines ----------------------------------------------------------------------------
@pytest.mark.parametrize("script", ["sparse_autoencoder.py", "stacked_autoencoder.py"])
def test_missing_data_is_one_clear_line(script, tmp_path):
    proc = _run(script, "--quick", data_dir=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.strip().count("\n") == 0 and "MNIST files not found" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("script, args", [("sparse_autoencoder.py", ["--seeds", "a,b"]),
                                          ("sparse_autoencoder.py", ["--iterations", "0"]),
                                          ("stacked_autoencoder.py", ["--images", "-5"]),
                                          ("stacked_autoencoder.py", ["--dtype", "float16"])])
def test_bad_flag_is_an_error_line(script, args):
    proc = _run(script, *args)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr


# -- the quick runs ----------------------------------------------------------------------------------------
@needs_mnist
def test_sparse_autoencoder_quick():
    proc = _run("sparse_autoencoder.py", "--quick")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["weights"]: r for r in _rows(proc.stdout, "seed")}
    initial, trained = rows["initial"], rows["trained"]
    rho = SparsitySettings().rho
    assert float(trained["cost"]) < 0.5 * float(initial["cost"])
    assert float(trained["reconstruction"]) < float(initial["reconstruction"])
    # ρ̂ starts near 0.5 (sigmoid of small inputs) and is pulled toward ρ
    assert abs(float(trained["mean_rho_hat"]) - rho) < 0.5 * abs(float(initial["mean_rho_hat"]) - rho)
    assert 1 <= int(trained["iterations"]) <= 30
    assert int(trained["evaluations"]) >= int(trained["iterations"])


@needs_mnist
def test_stacked_autoencoder_quick():
    proc = _run("stacked_autoencoder.py", "--quick")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["stage"]: r for r in _rows(proc.stdout, "stage")}
    assert set(rows) == {"autoencoder 1 (784-100)", "autoencoder 2 (100-100)", "softmax on features",
                         "fine-tuned stack", "random start, same net"}
    for row in rows.values():  # every stage lowered its cost
        assert float(row["cost_after"]) < float(row["cost_before"])
    softmax, tuned, scratch = rows["softmax on features"], rows["fine-tuned stack"], rows["random start, same net"]
    assert float(softmax["test_acc%"]) > 20  # above chance (10%) on features learned without labels
    assert float(tuned["train_acc%"]) >= float(softmax["train_acc%"])
    assert float(tuned["test_acc%"]) > float(softmax["test_acc%"])
    assert float(tuned["test_acc%"]) > 60 and float(scratch["test_acc%"]) > 30
    assert "UFLDL 87.7%" in proc.stdout and "UFLDL 97.6%" in proc.stdout
