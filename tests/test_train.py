"""The training loop: History, evaluate, early stopping, checkpoints and exact resume."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F
from minigrad.train import Checkpoint, EarlyStopping, History, evaluate, fit


def _blobs(n=240, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.normal(0, 0.7, (n, 2))).astype(np.float32)
    return TensorDataset(x, y.astype(np.int64))


def _setup(seed=0, dropout=0.0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 3))
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train = DataLoader(_blobs(), batch_size=16, shuffle=True, seed=seed)
    val = DataLoader(_blobs(90, seed=1), batch_size=64)
    return model, opt, train, val


def test_fit_learns_and_records_history():
    model, opt, train, val = _setup()
    h = fit(model, F.cross_entropy, opt, train, val, epochs=8, quiet=True)
    assert len(h) == 8 and h["epoch"] == list(range(1, 9))
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time"} <= set(h.keys())
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["val_accuracy"][-1] > 0.85
    assert all(lr == pytest.approx(0.1) for lr in h["lr"])


def test_evaluate_matches_a_direct_computation_and_uses_eval_mode():
    model, opt, train, val = _setup(dropout=0.5)
    fit(model, F.cross_entropy, opt, train, epochs=2, quiet=True)
    model.train()
    r1 = evaluate(model, F.cross_entropy, val)
    r2 = evaluate(model, F.cross_entropy, val)
    assert r1 == r2  # dropout is off during evaluation
    assert model.training  # and the mode is put back
    x, y = _blobs(90, seed=1).arrays
    model.eval()
    with mg.no_grad():
        logits = model(mg.tensor(x))
        direct = F.cross_entropy(logits, mg.tensor(y)).item()
    assert r1["loss"] == pytest.approx(direct, rel=1e-5)
    assert r1["accuracy"] == pytest.approx((logits.numpy().argmax(1) == y).mean())


def test_early_stopping_stops_and_restores_the_best_weights():
    model, opt, train, val = _setup()
    es = EarlyStopping(patience=2, monitor="val_loss")
    # a learning rate so large the validation loss soon gets worse
    for g in opt.param_groups:
        g["lr"] = 3.0
    h = fit(model, F.cross_entropy, opt, train, val, epochs=30, early_stopping=es, quiet=True)
    assert len(h) < 30 and es.stopped_epoch == len(h)
    assert es.bad_epochs == 2
    best = min(h["val_loss"])
    assert es.best == pytest.approx(best)
    assert evaluate(model, F.cross_entropy, val)["loss"] == pytest.approx(best, rel=1e-5)


def test_early_stopping_rejects_bad_settings_and_missing_metric():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    model, opt, train, _ = _setup()
    with pytest.raises(KeyError, match="val_loss"):
        fit(model, F.cross_entropy, opt, train, epochs=2, early_stopping=EarlyStopping(1), quiet=True)


def test_resume_continues_exactly(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    path = tmp_path / "ck.safetensors"
    model, opt, train, val = _setup(dropout=0.2)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    straight = fit(model, F.cross_entropy, opt, train, val, epochs=5, scheduler=sched, quiet=True)
    straight_params = [p.detach().numpy().copy() for p in model.parameters()]

    model, opt, train, val = _setup(dropout=0.2)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    fit(model, F.cross_entropy, opt, train, val, epochs=3, scheduler=sched, quiet=True, checkpoint=Checkpoint(path))
    mg.manual_seed(12345)  # disturb every generator: resume must restore them
    model, opt, train, val = _setup(seed=7, dropout=0.2)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    resumed = fit(model, F.cross_entropy, opt, train, val, epochs=5, scheduler=sched, quiet=True, resume=path)
    assert resumed["train_loss"] == straight["train_loss"]
    assert resumed["lr"] == straight["lr"]
    for p, q in zip(model.parameters(), straight_params):
        np.testing.assert_array_equal(p.detach().numpy(), q)


def test_checkpoint_writes_last_and_best(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    model, opt, train, val = _setup()
    ck = Checkpoint(tmp_path / "sub" / "run.safetensors", monitor="val_accuracy")
    fit(model, F.cross_entropy, opt, train, val, epochs=3, checkpoint=ck, quiet=True)
    last = mg.load(ck.path)
    best = mg.load(ck.best_path)
    assert last["epoch"] == 3 and 1 <= best["epoch"] <= 3
    assert set(last["model"]) == set(model.state_dict())


def test_history_exports_and_plot(tmp_path):
    h = History([{"epoch": 1, "train_loss": 1.0, "val_accuracy": 0.5}, {"epoch": 2, "train_loss": 0.5,
                                                                        "val_accuracy": 0.75}])
    assert json.loads(h.to_json(tmp_path / "h.json")) == h.rows
    csv = h.to_csv(tmp_path / "h.csv").splitlines()
    assert csv[0] == "epoch,train_loss,val_accuracy" and csv[2] == "2,0.5,0.75"
    assert h.best("val_accuracy")["epoch"] == 2 and h.best("train_loss", "min")["epoch"] == 2
    pytest.importorskip("matplotlib")
    png = h.plot(tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's "invalid value" on the inf/nan arrays
def test_nan_loss_stops_training_with_a_message():
    model, opt, train, _ = _setup()
    lines = []

    def diverging(out, target):  # what a far too large learning rate ends in
        return F.cross_entropy(out, target) * float("inf")

    h = fit(model, diverging, opt, train, epochs=5, log=lines.append)
    assert len(h) < 5 and not math.isfinite(h["train_loss"][-1])
    assert any("learning rate" in line for line in lines)


def test_one_line_per_epoch_log_when_not_a_terminal():
    model, opt, train, val = _setup()
    lines = []
    fit(model, F.cross_entropy, opt, train, val, epochs=3, log=lines.append)
    assert len(lines) == 3 and all(line.startswith(f"epoch {i + 1}/3") for i, line in enumerate(lines))
    assert all("val_acc" in line and "lr" in line for line in lines)
