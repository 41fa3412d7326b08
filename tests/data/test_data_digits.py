"""The embedded 8x8 digits: contents, the documented split, learnability."""
import hashlib
from pathlib import Path

import numpy as np
import pytest

import minigrad.data as D
from minigrad.data.digits import DIGITS_FILE, digits_arrays, split_codes


def test_embedded_file_is_small_loads_without_pickle_and_has_a_licence():
    assert DIGITS_FILE.stat().st_size < 100_000
    with np.load(DIGITS_FILE, allow_pickle=False) as z:
        assert set(z.files) == {"images", "labels"}
        assert z["images"].dtype == np.uint8 and z["images"].max() == 16
    licence = DIGITS_FILE.with_name("LICENSE-digits.txt").read_text()
    assert "CC BY 4.0" in licence and "BSD 3-Clause" in licence and "scikit-learn" in licence


def test_package_data_ships_the_files():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    line = next(ln for ln in pyproject.splitlines() if ln.startswith("minigrad = ["))
    assert '"data/*.npz"' in line and '"data/*.txt"' in line


def test_all_split_matches_the_scikit_learn_copy():
    images, labels = digits_arrays("all")
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    np.testing.assert_array_equal(np.bincount(labels), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # The first row of digits.csv.gz (a 0) and its first labels.
    np.testing.assert_array_equal(images[0, 1], [0, 0, 13, 15, 10, 15, 5, 0])
    np.testing.assert_array_equal(labels[:10], np.arange(10))
    # Whole-content fingerprint, computed from digits.csv.gz when the file was made: it changes if
    # any pixel or label of the embedded copy changes.
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
    assert int(images.astype(np.int64).sum()) == 561718 and int(labels.astype(np.int64).sum()) == 8070


@pytest.mark.parametrize("split,n", [("train", 1085), ("val", 357), ("test", 355), ("train+val", 1442), ("all", 1797)])
def test_split_sizes_dtypes_and_range(split, n):
    ds = D.digits(split)
    x, y = ds.arrays
    assert x.shape == (n, 64) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x * 16, np.round(x * 16))  # exactly count / 16


def test_split_rule_is_stratified_disjoint_and_covering():
    images, labels = digits_arrays("all")
    code = split_codes(labels)
    for c in range(10):  # within a class, codes run 0,1,2,3,4,0,1,... in file order
        np.testing.assert_array_equal(code[labels == c], np.arange((labels == c).sum()) % 5)
    parts = [digits_arrays(s) for s in ("train", "val", "test")]
    assert sum(len(p[1]) for p in parts) == 1797
    flat = {tuple(im.ravel()) + (lab,) for p in parts for im, lab in zip(*p)}
    assert len(flat) == len({tuple(im.ravel()) + (lab,) for im, lab in zip(images, labels)})
    for p in parts:  # every class in every split, in about the same proportion
        frac = np.bincount(p[1], minlength=10) / np.bincount(labels)
        assert frac.max() - frac.min() < 0.02
    np.testing.assert_array_equal(D.digits("test").arrays[0], D.digits("test").arrays[0])


def test_layouts():
    assert D.digits("val", layout="hw").arrays[0].shape == (357, 8, 8)
    assert D.digits("val", layout="chw").arrays[0].shape == (357, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown layout"):
        D.digits(layout="nhwc")
    with pytest.raises(ValueError, match="unknown split"):
        D.digits("training")


def test_labels_belong_to_their_images():
    """A nearest-class-mean classifier fitted on 'train' classifies 'test' far above chance."""
    xtr, ytr = D.digits("train").arrays
    xte, yte = D.digits("test").arrays
    means = np.stack([xtr[ytr == c].mean(0) for c in range(10)])
    pred = ((xte[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == yte).mean() > 0.85
