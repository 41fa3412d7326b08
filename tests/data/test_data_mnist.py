"""MNIST / FashionMNIST readers on small IDX files written here, mnist.pkl.gz, and (where present)
the real MNIST files."""
import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import minigrad.data as D
from minigrad.data.download import sha256_of

from data_helpers import make_small_mnist


def test_splits_scaling_and_layouts(small_mnist):
    root, arrays = small_mnist
    tr_x, tr_y = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    train = D.MNIST(root, split="train", val_size=8)
    val = D.MNIST(root, split="val", val_size=8)
    both = D.MNIST(root, split="train+val")
    test = D.MNIST(root, split="test")
    assert (len(train), len(val), len(both), len(test)) == (22, 8, 30, 12)
    x, y = train.arrays
    assert x.shape == (22, 784) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x, tr_x[:22].reshape(22, -1) / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(y, tr_y[:22])
    np.testing.assert_array_equal(val.arrays[1], tr_y[22:])  # 'val' = the last val_size training images
    np.testing.assert_array_equal(test.arrays[1], arrays["t10k-labels-idx1-ubyte"])
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert D.MNIST(root, split="test", layout="hw").arrays[0].shape == (12, 28, 28)
    assert D.MNIST(root, split="test", layout="chw").arrays[0].shape == (12, 1, 28, 28)
    assert train.source[0].name == "train-images-idx3-ubyte.gz"


def test_default_val_size_is_ten_thousand(small_mnist):
    root, _ = small_mnist
    with pytest.raises(ValueError, match="val_size=10000 must lie in 1..29"):
        D.MNIST(root, split="train")
    assert len(D.MNIST(root, split="train+val")) == 30  # needs no val_size


def test_uncompressed_and_dotted_names(tmp_path):
    arrays = make_small_mnist(tmp_path / "mnist", gz=False)
    os.rename(tmp_path / "mnist" / "t10k-images-idx3-ubyte", tmp_path / "mnist" / "t10k-images.idx3-ubyte")
    test = D.MNIST(tmp_path, split="test")
    np.testing.assert_array_equal(test.arrays[1], arrays["t10k-labels-idx1-ubyte"])
    assert test.source[0].name == "t10k-images.idx3-ubyte"


def test_root_defaults_to_minigrad_data(small_mnist, monkeypatch):
    root, _ = small_mnist
    monkeypatch.setenv("MINIGRAD_DATA", str(root))
    assert len(D.MNIST(split="test")) == 12
    monkeypatch.delenv("MINIGRAD_DATA")
    assert D.default_root() == Path.home() / ".cache" / "minigrad"


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        D.MNIST(tmp_path, split="test")
    msg = str(e.value)
    assert str(tmp_path / "mnist") in msg and "t10k-images-idx3-ubyte" in msg and "MINIGRAD_DATA" in msg
    assert "download=True" in msg
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        D.FashionMNIST(tmp_path)


def test_corrupt_files_name_the_file(tmp_path):
    make_small_mnist(tmp_path / "mnist")
    bad = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-6])
    with pytest.raises(D.IDXError, match="t10k-labels-idx1-ubyte.gz"):
        D.MNIST(tmp_path, split="test")


def test_inconsistent_files(tmp_path):
    make_small_mnist(tmp_path / "mnist")
    D.write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(D.IDXError, match="holds 12 images but .* holds 5 labels"):
        D.MNIST(tmp_path, split="test")
    D.write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.full(12, 10, dtype=np.uint8))
    with pytest.raises(D.IDXError, match="label 10 is out of range"):
        D.MNIST(tmp_path, split="test")
    D.write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", np.zeros((12, 784), dtype=np.uint8))
    with pytest.raises(D.IDXError, match=r"expected uint8 images of shape \(N, rows, cols\)"):
        D.MNIST(tmp_path, split="test")


def test_bad_arguments(small_mnist):
    root, _ = small_mnist
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        D.MNIST(root, split="validation")
    with pytest.raises(ValueError, match="unknown layout"):
        D.MNIST(root, split="test", layout="square")


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    arrays = make_small_mnist(tmp_path / "fashion-mnist", seed=4)
    ds = D.FashionMNIST(tmp_path, split="train", val_size=10)
    np.testing.assert_array_equal(ds.arrays[1], arrays["train-labels-idx1-ubyte"][:20])
    assert ds.classes[9] == "Ankle boot"


# -- mnist.pkl.gz --------------------------------------------------------------------------------------
def _write_pkl(path, sizes=(6, 3, 2), seed=0):
    rng = np.random.default_rng(seed)
    parts = tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)) for n in sizes)
    with gzip.open(path, "wb") as f:
        pickle.dump(parts, f, protocol=2)  # the protocol of the classic Python 2 file
    return parts


def test_pkl_needs_explicit_opt_in(tmp_path):
    _write_pkl(tmp_path / "mnist.pkl.gz")
    with pytest.raises(ValueError, match="allow_pickle=True"):
        D.load_mnist_pkl(tmp_path / "mnist.pkl.gz")


def test_pkl_reads_the_three_parts(tmp_path):
    parts = _write_pkl(tmp_path / "mnist.pkl.gz")
    got = D.load_mnist_pkl(tmp_path / "mnist.pkl.gz", allow_pickle=True)
    for name, (x, y) in zip(("train", "val", "test"), parts):
        np.testing.assert_array_equal(got[name][0], x)
        np.testing.assert_array_equal(got[name][1], y)
        assert got[name][0].dtype == np.float32 and got[name][1].dtype == np.int64


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


def test_pkl_refuses_anything_but_arrays(tmp_path):
    p = tmp_path / "evil.pkl.gz"
    with gzip.open(p, "wb") as f:
        pickle.dump(((_Evil(), 1), (2, 3), (4, 5)), f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load posix\.getcwd|refusing to load os\.getcwd"):
        D.load_mnist_pkl(p, allow_pickle=True)


def test_mnist_falls_back_to_pkl_only_when_allowed(tmp_path):
    (tmp_path / "mnist").mkdir()
    parts = _write_pkl(tmp_path / "mnist" / "mnist.pkl.gz")
    with pytest.raises(FileNotFoundError, match="needs allow_pickle=True"):
        D.MNIST(tmp_path, split="val")
    val = D.MNIST(tmp_path, split="val", allow_pickle=True, layout="hw")
    np.testing.assert_array_equal(val.arrays[0], parts[1][0].reshape(3, 28, 28))
    assert len(D.MNIST(tmp_path, split="train+val", allow_pickle=True)) == 9


# -- the real files ------------------------------------------------------------------------------------------
def test_real_mnist_files(real_mnist_root):
    folder = real_mnist_root / "mnist"
    for spec in D.MNIST.files.values():
        path = next(p for p in (folder / (spec.name + ".gz"), folder / spec.name) if p.is_file())
        assert sha256_of(path, decompress=path.suffix == ".gz") == spec.sha256
    train = D.MNIST(real_mnist_root, split="train")
    val = D.MNIST(real_mnist_root, split="val")
    test = D.MNIST(real_mnist_root, split="test", layout="chw")
    assert (len(train), len(val), len(test)) == (50_000, 10_000, 10_000)
    assert test.arrays[0].shape == (10_000, 1, 28, 28)
    everything = D.MNIST(real_mnist_root, split="train+val").arrays[0]
    assert abs(float(everything.mean()) - 0.1307) < 1e-3 and abs(float(everything.std()) - 0.3081) < 1e-3
    np.testing.assert_array_equal(everything[50_000:], val.arrays[0])
    np.testing.assert_array_equal(np.bincount(test.arrays[1]), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
