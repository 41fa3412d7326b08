"""The training loop's edge cases: iterating a History, the best checkpoint across a resume,
and training loaders that give no batches."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F
from minigrad.train import Checkpoint, History, fit


# -- History: rows, columns, bad keys ----------------------------------------------------------
ROWS = [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5, "val_accuracy": 0.75}]


def test_iterating_a_history_gives_its_rows_and_ends():
    h = History(ROWS)
    # islice bounds the loop: without __iter__, Python's old sequence protocol calls h[0], h[1], ... forever
    rows = list(itertools.islice(iter(h), 10))
    assert rows == ROWS
    assert [r["epoch"] for r in h] == [1, 2]
    assert list(History()) == []


def test_in_asks_for_a_column():
    h = History(ROWS)
    assert len(list(itertools.islice(iter(h), 10))) == 2  # (so that `in` below cannot loop forever)
    assert "val_accuracy" in h and "epoch" in h
    assert "val_loss" not in h and 0 not in h
    assert "epoch" not in History()


def test_int_key_is_a_type_error_pointing_to_rows():
    h = History(ROWS)
    with pytest.raises(TypeError, match=r"history\.rows\[i\]"):
        h[0]
    with pytest.raises(TypeError, match=r"history\.rows\[i\]"):
        h[0:1]


def test_unknown_column_is_a_key_error_naming_the_columns():
    h = History(ROWS)
    with pytest.raises(KeyError, match=r"'val_loss'.*epoch, train_loss, val_accuracy"):
        h["val_loss"]
    with pytest.raises(KeyError, match="no rows"):
        History()["epoch"]
    # a column some rows lack is still a column: None where a row has no value
    assert h["val_accuracy"] == [None, 0.75]


def test_plot_with_missing_columns(tmp_path):
    pytest.importorskip("matplotlib")
    h = History([{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}])  # no accuracy, no val_*
    png = h.plot(tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the best checkpoint survives a resume -----------------------------------------------------
# The monitored value is the learning rate, which a LambdaLR scripts exactly epoch by epoch
# (and which a resume restores): epoch e logs lr = 0.01 * FACTORS[e - 1].
FACTORS = [1.0, 3.0, 2.0, 1.5, 4.0, 1.0]


def _run(path, epochs, resume=None, drop_tracker=False):
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Linear(2, 2)
    opt = mg.optim.SGD(model.parameters(), lr=0.01)
    sched = mg.optim.lr_scheduler.LambdaLR(opt, lambda t: FACTORS[t])
    ck = Checkpoint(path, monitor="lr", mode="max")
    return fit(model, F.cross_entropy, opt, DataLoader(TensorDataset(x, y), batch_size=8), epochs=epochs,
               scheduler=sched, checkpoint=ck, resume=resume, quiet=True)


def test_resume_keeps_a_better_best_checkpoint(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    path = tmp_path / "run.safetensors"
    ck = Checkpoint(path)
    _run(path, epochs=3)  # lr 0.01, 0.03, 0.02: the best is epoch 2
    assert mg.load(ck.best_path)["epoch"] == 2
    h = _run(path, epochs=4, resume=path)  # epoch 4: lr 0.015, worse than epoch 2
    assert h["epoch"] == [1, 2, 3, 4]
    assert mg.load(path)["epoch"] == 4
    assert mg.load(ck.best_path)["epoch"] == 2
    saved = mg.load(path)["best_checkpoint"]
    assert saved["monitor"] == "lr" and saved["best_epoch"] == 2 and saved["best"] == pytest.approx(0.03)
    _run(path, epochs=5, resume=path)  # epoch 5: lr 0.04, a new best
    assert mg.load(ck.best_path)["epoch"] == 5


def test_resume_from_a_checkpoint_without_the_tracker_rebuilds_it_from_the_history(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    path = tmp_path / "old.safetensors"
    _run(path, epochs=3)
    state = mg.load(path)
    state.pop("best_checkpoint", None)  # as a checkpoint written before the tracker was stored
    mg.save(state, path)
    _run(path, epochs=4, resume=path)
    assert mg.load(Checkpoint(path).best_path)["epoch"] == 2


def test_resume_with_another_monitor_rebuilds_the_tracker(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    path = tmp_path / "m.safetensors"
    _run(path, epochs=3)
    state = mg.load(path)
    state["best_checkpoint"] = {"monitor": "train_loss", "mode": "min", "best": -1.0, "best_epoch": 1}
    mg.save(state, path)
    _run(path, epochs=4, resume=path)  # the saved tracker watched something else: rebuilt from rows
    ck = Checkpoint(path)
    assert mg.load(ck.best_path)["epoch"] == 2
    assert mg.load(path)["best_checkpoint"]["monitor"] == "lr"


# -- loaders that give no batches ----------------------------------------------------------------
def _tiny():
    mg.manual_seed(0)
    model = nn.Linear(2, 2)
    return model, mg.optim.SGD(model.parameters(), lr=0.1)


def _batches(n=3):
    rng = np.random.default_rng(0)
    for _ in range(n):
        yield mg.tensor(rng.standard_normal((4, 2)).astype(np.float32)), mg.tensor(rng.integers(0, 2, 4))


def test_an_exhausted_generator_is_refused_in_the_first_epoch():
    model, opt = _tiny()
    gen = _batches()
    list(gen)  # used up
    with pytest.raises(ValueError, match=r"gave no batches.*generator can be iterated only once.*DataLoader"):
        fit(model, F.cross_entropy, opt, gen, epochs=1, quiet=True)


def test_an_empty_loader_is_refused():
    model, opt = _tiny()
    with pytest.raises(ValueError, match="gave no batches in epoch 1"):
        fit(model, F.cross_entropy, opt, [], epochs=2, quiet=True)
    x, y = np.zeros((3, 2), np.float32), np.zeros(3, np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)  # 3 samples: no full batch
    with pytest.raises(ValueError, match="gave no batches"):
        fit(model, F.cross_entropy, opt, loader, epochs=1, quiet=True)


def test_a_generator_used_up_after_the_first_epoch_is_refused():
    model, opt = _tiny()
    lines = []
    with pytest.raises(ValueError, match=r"no batches in epoch 2.*only once"):
        fit(model, F.cross_entropy, opt, _batches(), epochs=3, log=lines.append)
    assert len(lines) == 1 and lines[0].startswith("epoch 1/3")  # the first epoch trained and was logged


def test_a_generator_for_one_epoch_is_fine():
    model, opt = _tiny()
    h = fit(model, F.cross_entropy, opt, _batches(), epochs=1, quiet=True)
    assert len(h) == 1 and np.isfinite(h["train_loss"][0])


def test_resume_from_a_checkpoint_read_already(tmp_path):
    pytest.importorskip("safetensors")  # (mg.save writes safetensors)
    path = tmp_path / "read.safetensors"
    _run(path, epochs=3)
    h = _run(path, epochs=4, resume=mg.load(path))
    assert h["epoch"] == [1, 2, 3, 4] and mg.load(path)["epoch"] == 4
    assert mg.load(Checkpoint(path).best_path)["epoch"] == 2
