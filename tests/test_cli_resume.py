"""``minigrad train --resume``: which flags a resumed run applies, which it refuses, and the
learning rate it goes on with."""
from __future__ import annotations

import re

import pytest

from minigrad.cli import main

pytest.importorskip("safetensors")

SMALL = ["--hidden", "16", "--plot", "none"]


def _lrs(out: str) -> dict:
    """epoch -> the learning rate its line reports."""
    return {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"^epoch +(\d+)/\d+ .* lr (\S+) ", out, re.M)}


def _train(capsys, *argv) -> tuple:
    code = main(["train", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _saved_groups(path) -> list:
    from minigrad.serialization import load

    return load(path)["optimizer"]["param_groups"]


@pytest.mark.parametrize("flag, value", [("--optimizer", "sgd"), ("--seed", "7"), ("--activation", "tanh"),
                                         ("--dropout", "0.5"), ("--dataset", "spirals"), ("--no-normalize", None)])
def test_flags_that_define_the_run_are_refused_in_one_line(tmp_path, capsys, flag, value):
    ck = tmp_path / "run.safetensors"
    assert _train(capsys, "--epochs", "1", "--save", str(ck), *SMALL)[0] == 0
    code, out, err = _train(capsys, "--resume", str(ck), "--epochs", "2", flag, *([value] if value else []), *SMALL)
    assert code == 2 and "epoch 2/2" not in out
    assert f"{flag if value else '--normalize'} " in err and "differs from the checkpoint's" in err
    assert len(err.strip().splitlines()) == 1


def test_a_new_lr_is_applied_to_the_resumed_optimizer(tmp_path, capsys):
    ck = tmp_path / "run.safetensors"
    assert _train(capsys, "--epochs", "2", "--lr-schedule", "none", "--optimizer", "sgd", "--lr", "0.05",
                  "--momentum", "0.5", "--save", str(ck), *SMALL)[0] == 0
    code, out, _ = _train(capsys, "--resume", str(ck), "--epochs", "3", "--lr", "0.01", "--momentum", "0.8",
                          "--save", str(ck), *SMALL)
    assert code == 0
    assert _lrs(out) == {3: 0.01}
    assert "lr 0.01" in out.splitlines()[0]  # the banner shows what runs
    assert "momentum 0.8 (was 0.5)" in out
    groups = _saved_groups(ck)
    assert [g["lr"] for g in groups] == [0.01, 0.01] and [g["momentum"] for g in groups] == [0.8, 0.8]


def test_extending_a_finished_cosine_run_replans_the_schedule(tmp_path, capsys):
    ck = tmp_path / "run.safetensors"
    code, out, _ = _train(capsys, "--epochs", "2", "--lr-schedule", "cosine", "--lr", "0.004", "--save", str(ck),
                          *SMALL)
    assert code == 0 and _saved_groups(ck)[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # a finished cosine: lr 0
    code, out, _ = _train(capsys, "--resume", str(ck), "--epochs", "4", *SMALL)
    assert code == 0
    lrs = _lrs(out)
    assert sorted(lrs) == [3, 4]
    # cosine over 4 epochs from 0.004: epoch e (1-based) runs at 0.002·(1 + cos(π(e-1)/4))
    assert lrs[3] == pytest.approx(0.002, rel=1e-2) and lrs[4] == pytest.approx(0.002 * (1 - 2 ** -0.5), rel=1e-2)
    assert "cosine schedule from lr 0.004 over 4 epochs" in out


def test_switching_a_finished_cosine_run_to_no_schedule_trains_at_the_base_lr(tmp_path, capsys):
    ck = tmp_path / "run.safetensors"
    assert _train(capsys, "--epochs", "2", "--lr-schedule", "cosine", "--lr", "0.004", "--save", str(ck),
                  *SMALL)[0] == 0
    code, out, _ = _train(capsys, "--resume", str(ck), "--epochs", "3", "--lr-schedule", "none", *SMALL)
    assert code == 0 and _lrs(out) == {3: 0.004}


def test_a_run_extended_by_resuming_follows_the_longer_runs_schedule(tmp_path, capsys):
    code, out, _ = _train(capsys, "--epochs", "6", "--lr-schedule", "step", "--lr", "0.01", *SMALL)
    full = _lrs(out)  # ×0.1 every 2 epochs
    assert code == 0 and [full[e] for e in range(1, 7)] == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4])
    ck = tmp_path / "run.safetensors"
    assert _train(capsys, "--epochs", "3", "--lr-schedule", "step", "--lr", "0.01", "--save", str(ck),
                  *SMALL)[0] == 0
    code, out, _ = _train(capsys, "--resume", str(ck), "--epochs", "6", "--save", str(ck), *SMALL)
    assert code == 0
    assert _lrs(out) == pytest.approx({4: full[4], 5: full[5], 6: full[6]})
    code, out, _ = _train(capsys, "--resume", str(ck), "--epochs", "6", *SMALL)  # nothing left to do
    assert code == 0 and "finished epoch 6 of 6" in out and not _lrs(out)


def test_a_tampered_config_is_compared_with_the_stored_weights_before_building_anything(tmp_path, capsys,
                                                                                        monkeypatch):
    from minigrad.serialization import load, save
    from minigrad.train import recipe

    ck = tmp_path / "run.safetensors"
    assert _train(capsys, "--epochs", "1", "--save", str(ck), *SMALL)[0] == 0
    state = load(ck)

    def no_model(cfg):
        raise AssertionError("the model was built before its shapes were checked")

    monkeypatch.setattr(recipe, "build_model", no_model)
    for hidden, problem in (("100000", "0.weight has shape (16, 64), the config needs (100000, 64)"),
                            ("100000,100000", "missing 6.weight, 6.bias")):  # ~40 GB of weights if built
        state["config"]["hidden"] = hidden
        save(state, ck)
        for argv in (["eval", str(ck)], ["train", "--resume", str(ck), "--epochs", "2", "--plot", "none"]):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert "the stored weights do not fit the model its config describes" in err and problem in err
            assert len(err.strip().splitlines()) == 1
