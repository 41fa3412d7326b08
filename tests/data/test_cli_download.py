"""``minigrad train --download``: the command fetches MNIST (checked, resumable) from the mirrors,
here a loopback server holding the real files (never the internet)."""
from __future__ import annotations

import pytest

from minigrad.cli import main

from data_helpers import MNIST_NAMES


def test_train_downloads_missing_mnist_files_resuming_a_partial_one(server, tmp_path, real_mnist_root, capsys,
                                                                   monkeypatch):
    for name in MNIST_NAMES:
        server.files[f"mnist/{name}.gz"] = (real_mnist_root / "mnist" / (name + ".gz")).read_bytes()
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", server.url + "mnist/")
    folder = tmp_path / "mnist"
    folder.mkdir()
    partial = "train-labels-idx1-ubyte.gz"
    (folder / (partial + ".part")).write_bytes(server.files["mnist/" + partial][:1000])  # an interrupted download

    argv = ["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1", "--hidden", "16",
            "--plot", "none", "--quiet"]
    assert main(argv) == 2  # without --download: one line pointing at the flag
    assert "add --download" in capsys.readouterr().err

    assert main(argv + ["--download"]) == 0
    assert float(capsys.readouterr().out.split()[2].rstrip("%")) > 85
    for name in MNIST_NAMES:
        assert (folder / (name + ".gz")).read_bytes() == server.files[f"mnist/{name}.gz"]
    assert ("mnist/" + partial, "bytes=1000-") in server.requests  # the partial file was resumed
    assert not list(folder.glob("*.part"))

    fetched = len(server.requests)
    assert main(argv + ["--download"]) == 0  # everything is there now: no request
    assert len(server.requests) == fetched


def test_a_failed_download_is_one_line(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", server.url + "nothing-here/")
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--download", "--epochs", "1",
                 "--plot", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("minigrad train: error: could not download train-images-idx3-ubyte.gz")
    assert "nothing-here/train-images-idx3-ubyte.gz: no such file" in err
    assert len(err.strip().splitlines()) == 1
