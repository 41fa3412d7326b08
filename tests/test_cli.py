"""The ``minigrad`` command: train (the main job), eval, graph, info, and its errors."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.cli import main

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("MINIGRAD_DATA", ROOT.parent / "shared" / "data"))
HAVE_MNIST = (MNIST_DIR / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_default_train_reaches_96_percent(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train"]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy ")
    accuracy = float(last.split()[2].rstrip("%"))
    assert accuracy >= 96.0
    assert "epoch 60/60" in out and "val_acc" in out
    pytest.importorskip("matplotlib")  # (the test extra installs it; without it the plot is skipped)
    assert (tmp_path / "training_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_save_eval_and_resume(tmp_path, capsys):
    pytest.importorskip("safetensors")
    ck = tmp_path / "run.safetensors"
    assert main(["train", "--epochs", "3", "--hidden", "32", "--save", str(ck), "--plot", "none", "--quiet"]) == 0
    trained = capsys.readouterr().out.strip().splitlines()[-1].split()[2]
    assert main(["eval", str(ck)]) == 0
    assert capsys.readouterr().out.split()[2] == trained  # the same model, the same test accuracy
    # resuming picks up the saved config (hidden 32) and continues to epoch 5
    assert main(["train", "--resume", str(ck), "--epochs", "5", "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert "epoch 4/5" in out and "epoch 1/5" not in out


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--dataset", "nope"], "invalid choice: 'nope'"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent-dir"], "MNIST files not found"),
    (["train", "--lr", "-1"], "--lr must be a finite number > 0"),
    (["train", "--hidden", "10,x"], "--hidden must be comma-separated"),
    (["eval", "/nonexistent.safetensors"], "No such file"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_errors_are_one_line_with_nonzero_exit(argv, fragment, capsys):
    with pytest.raises(SystemExit) if argv[0] == "frobnicate" or argv[1].startswith("--bogus") or \
            argv[1:3] == ["--dataset", "nope"] else _NoRaise() as exc:
        code = main(argv)
    code = exc.value.code if exc is not None and hasattr(exc, "value") else code
    err = capsys.readouterr().err
    assert code != 0
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


class _NoRaise:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_resuming_with_another_architecture_is_a_one_line_error(tmp_path, capsys):
    pytest.importorskip("safetensors")
    ck = tmp_path / "small.safetensors"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--save", str(ck), "--plot", "none", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(ck), "--hidden", "16", "--epochs", "2", "--plot", "none"]) == 2
    err = capsys.readouterr().err
    assert "--hidden 16 differs from the checkpoint's 8" in err and len(err.strip().splitlines()) == 1


def test_graph_and_info(tmp_path, capsys):
    pytest.importorskip("graphviz")
    out = tmp_path / "g.dot"
    assert main(["graph", "--out", str(out)]) == 0
    assert out.read_text().startswith("digraph")
    assert main(["info"]) == 0
    info = capsys.readouterr().out
    assert "minigrad" in info and "CUDA GPU:" in info and "graphviz" in info


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found (set MINIGRAD_DATA=../shared/data)")
def test_one_epoch_of_mnist_from_the_idx_files(capsys):
    assert main(["train", "--dataset", "mnist", "--data-dir", str(MNIST_DIR), "--epochs", "1", "--quiet",
                 "--plot", "none"]) == 0
    accuracy = float(capsys.readouterr().out.split()[2].rstrip("%"))
    assert accuracy > 90


def test_python_dash_m_entry_point(tmp_path):
    r = subprocess.run([sys.executable, "-m", "minigrad", "train", "--epochs", "1", "--quiet", "--plot", "none"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("test accuracy")


def test_dtype_float64_trains_evaluates_and_resumes_in_float64(tmp_path, capsys):
    pytest.importorskip("safetensors")
    from minigrad.serialization import load

    ck = tmp_path / "f64.safetensors"
    assert main(["train", "--dataset", "spirals", "--dtype", "float64", "--epochs", "2", "--save", str(ck),
                 "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert "float64" in out.splitlines()[0]  # the description names a non-default dtype
    trained = out.strip().splitlines()[-1].split()[2]
    state = load(ck)
    assert state["config"]["dtype"] == "float64"
    assert {str(t.dtype) for t in state["model"].values()} == {"float64"}
    assert main(["eval", str(ck)]) == 0  # rebuilt in float64 from the saved config
    assert capsys.readouterr().out.split()[2] == trained
    assert main(["train", "--resume", str(ck), "--epochs", "3", "--plot", "none", "--quiet"]) == 0


def test_cast_splits_converts_float_features_once_and_keeps_targets():
    import numpy as np

    from minigrad import data
    from minigrad.train import recipe as R

    full = data.spirals(n=60, classes=3, seed=0)
    splits = data.random_split(full, [0.5, 0.5], seed=0)
    assert R.cast_splits(splits, "float32") == tuple(splits)  # the default: no copy
    a, b = R.cast_splits(splits, "float64")
    assert a.dataset is b.dataset  # the shared dataset is converted once
    x, y = a.dataset.arrays
    assert x.dtype == np.float64 and y.dtype == full.arrays[1].dtype
    np.testing.assert_array_equal(x, full.arrays[0].astype(np.float64))
    np.testing.assert_array_equal(a.indices, splits[0].indices)
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        R.cast_splits(splits, "int8")


def test_loaders_normalize_the_training_split_once_and_the_rest_per_batch():
    import numpy as np

    from minigrad import data
    from minigrad.train import recipe as R

    cfg = R.resolve({"dataset": "digits", "batch_size": 50})
    splits = R.load_splits(cfg)
    norm = data.Normalize(per_feature=False).fit(splits[0])
    train, val, test = R.build_loaders(cfg, splits, norm)
    assert train.transform is None  # normalized once, when built: nothing left to do per batch
    raw = data.DataLoader(splits[0], batch_size=50, shuffle=True, seed=cfg["seed"])  # same order
    for (xb, yb), (rx, ry) in zip(train, raw):
        np.testing.assert_array_equal(xb.numpy(), norm(rx.numpy()))  # bitwise what a per-batch transform gives
        np.testing.assert_array_equal(yb.numpy(), ry.numpy())
    for loader, split in ((val, splits[1]), (test, splits[2])):
        assert loader.transform is norm  # read once per epoch: normalized per batch, no copy of the split
        x = np.concatenate([xb.numpy() for xb, _ in loader])
        np.testing.assert_array_equal(x, norm(split.arrays[0]))
    np.testing.assert_array_equal(splits[0].arrays[0], data.digits("train").arrays[0])  # the raw split is untouched

    augmented, _, _ = R.build_loaders(R.resolve({"dataset": "digits", "augment": True}), splits, norm)
    assert augmented.transform.transforms[-1] is norm  # normalized after the shifts and rotations
    assert R.build_loaders(cfg, splits, norm, training=False)[0] is None  # evaluation only
