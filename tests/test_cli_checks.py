"""``minigrad train`` / ``eval`` refuse bad flags and unwritable outputs in one line, before any
training, and never throw a finished run's result away."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from minigrad.cli import main

SMALL = ["--hidden", "16", "--plot", "none"]


def _run(capsys, argv) -> tuple:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(code, out, err, fragment) -> None:
    assert code == 2, (out, err)
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "epoch 1/" not in out  # refused before training


@pytest.mark.parametrize("argv, fragment", [
    (["--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--l1", "nan"], "--l1 must be a finite number >= 0, got nan"),
    (["--weight-decay", "-1"], "--weight-decay must be a finite number >= 0"),
    (["--momentum", "inf", "--optimizer", "sgd"], "--momentum must be a finite number >= 0"),
    (["--momentum", "0.9", "--optimizer", "adam"], "--momentum applies to sgd, momentum, nesterov, rmsprop"),
    (["--dropout", "nan"], "--dropout must be in [0, 1)"),
    (["--hidden", ""], "--hidden must be comma-separated"),
    (["--hidden", ","], "--hidden must be comma-separated"),
    (["--hidden", "10,,10"], "--hidden must be comma-separated"),
    (["--hidden", "10,-3"], "--hidden must be comma-separated"),
    (["--seed", "-1"], "--seed must be an integer in [0, 2**63), got -1"),
    (["--batch-norm", "--batch-size", "1"], "--batch-norm needs --batch-size of at least 2"),
    (["--hidden", "99999999999"], "--hidden 99999999999 makes a model that needs about"),
])
def test_bad_values_are_refused_naming_the_flag(capsys, argv, fragment):
    _one_line_error(*_run(capsys, ["train", "--epochs", "1", *argv]), fragment)


def test_hidden_none_means_no_hidden_layer(capsys):
    code, out, _ = _run(capsys, ["train", "--epochs", "1", "--hidden", "none", "--plot", "none"])
    assert code == 0 and out.startswith("MLP 64-10 ")


def test_an_unsupported_plot_format_is_refused_before_training(capsys):
    pytest.importorskip("matplotlib")
    _one_line_error(*_run(capsys, ["train", "--epochs", "1", "--hidden", "16", "--plot", "curves.xyz"]),
                    "--plot curves.xyz: matplotlib cannot write .xyz files; use one of")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc, a read-only file system")
@pytest.mark.parametrize("flag", ["--plot", "--save", "--graph"])
def test_an_unwritable_output_is_refused_before_training(capsys, flag):
    pytest.importorskip({"--plot": "matplotlib", "--save": "safetensors", "--graph": "minigrad"}[flag])
    argv = ["train", "--epochs", "1", "--hidden", "16", "--plot", "none", flag, "/proc/minigrad/out.svg"]
    if flag == "--plot":
        argv = argv[:5] + argv[7:]  # (drop --plot none)
    _one_line_error(*_run(capsys, argv), f"{flag} /proc/minigrad/out.svg: cannot write in /proc")


def test_an_output_that_is_a_folder_is_refused(tmp_path, capsys):
    pytest.importorskip("safetensors")
    _one_line_error(*_run(capsys, ["train", "--epochs", "1", *SMALL, "--save", str(tmp_path)]),
                    f"--save {tmp_path} is a folder")


def test_a_plot_that_fails_after_training_keeps_the_result(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from minigrad.train import History

    def broken_plot(self, path, title=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(History, "plot", broken_plot)
    code, out, _ = _run(capsys, ["train", "--epochs", "1", "--hidden", "16", "--plot", str(tmp_path / "c.png")])
    assert code == 0
    assert "(no plot: [Errno 28] No space left on device)" in out
    assert out.strip().splitlines()[-1].startswith("test accuracy ")


def test_a_run_whose_loss_became_nan_exits_nonzero(capsys):
    code, out, err = _run(capsys, ["train", "--epochs", "3", *SMALL, "--optimizer", "sgd", "--lr", "1e30"])
    assert code == 1
    assert "the training loss became" in err and len(err.strip().splitlines()) == 1
    assert "test accuracy" not in out


def test_batch_norm_with_a_last_batch_of_one_sample_trains(capsys):
    # the digits training split has 1085 = 271·4 + 1 images
    code, out, err = _run(capsys, ["train", "--epochs", "1", *SMALL, "--batch-norm", "--batch-size", "4"])
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("test accuracy ")


def test_memory_errors_are_one_line(capsys, monkeypatch):
    from minigrad.train import recipe

    def exhausted(cfg):
        raise MemoryError("Unable to allocate 37.3 GiB for an array")

    monkeypatch.setattr(recipe, "build_model", exhausted)
    code, _, err = _run(capsys, ["train", "--epochs", "1", *SMALL])
    assert code == 2 and err.startswith("minigrad train: error: out of memory")
    assert len(err.strip().splitlines()) == 1


def test_eval_names_the_datasets_it_knows(capsys):
    code, _, err = _run(capsys, ["eval", "x.safetensors", "--dataset", "nosuch"])
    assert code == 2 and "invalid choice: 'nosuch'" in err and "mnist" in err


def test_missing_mnist_files_point_to_the_download_flag(tmp_path, capsys):
    code, _, err = _run(capsys, ["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1"])
    assert code == 2
    assert f"MNIST files not found in {Path(tmp_path) / 'mnist'}" in err
    assert "add --download" in err and "download=True" not in err
    assert len(err.strip().splitlines()) == 1
