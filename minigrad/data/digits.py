"""``digits()``: the 8x8 handwritten digits shipped inside the package (no network needed).

1,797 images of 0-9 (UCI "Optical Recognition of Handwritten Digits", the copy scikit-learn
ships; source and licences in ``LICENSE-digits.txt`` beside this file).  Pixels are stored as
uint8 counts 0..16 and returned as float32 ``count / 16`` in [0, 1]; labels int64.

The split is fixed and uses no random numbers: within each class, its images in file order are
numbered k = 0, 1, 2, ...; ``k % 5`` in {0, 1, 2} is **train**, 3 is **val**, 4 is **test**.
So every split is stratified (each class in the same proportion, about 60/20/20): 1,085 train,
357 val, 355 test images.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy

from .dataset import TensorDataset
from ._layout import reshape_images

DIGITS_FILE = Path(__file__).with_name("digits.npz")
SPLITS = ("train", "val", "test", "train+val", "all")


@lru_cache(maxsize=1)
def _load() -> tuple:
    with numpy.load(DIGITS_FILE, allow_pickle=False) as z:
        images, labels = z["images"], z["labels"]
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise ValueError(f"{DIGITS_FILE} is damaged: expected images (1797, 8, 8) and labels (1797,), got "
                         f"{images.shape} and {labels.shape}")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def split_codes(labels: numpy.ndarray, period: int = 5) -> numpy.ndarray:
    """Per sample, ``k % period`` where k is its rank among the samples of its class (file order)."""
    rank = numpy.empty(labels.shape[0], dtype=numpy.int64)
    for c in numpy.unique(labels):
        where = numpy.flatnonzero(labels == c)
        rank[where] = numpy.arange(where.size)
    return rank % period


def digits_arrays(split: str = "train") -> tuple:
    """``(images uint8 (N, 8, 8) in 0..16, labels uint8 (N,))`` of one split (read-only arrays)."""
    if split not in SPLITS:
        raise ValueError(f"digits: unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    images, labels = _load()
    if split == "all":
        return images, labels
    code = split_codes(labels)
    keep = {"train": code <= 2, "val": code == 3, "test": code == 4, "train+val": code <= 3}[split]
    return images[keep], labels[keep]


def digits(split: str = "train", layout: str = "flat") -> TensorDataset:
    """The 8x8 digits as a :class:`TensorDataset` ``(features, labels)``.

    Args:
        split: ``'train'`` (1,085), ``'val'`` (357), ``'test'`` (355), ``'train+val'`` (1,442) or
            ``'all'`` (1,797); see the module docstring for the exact rule.
        layout: ``'flat'`` -> features (N, 64); ``'hw'`` -> (N, 8, 8); ``'chw'`` -> (N, 1, 8, 8).

    Features are float32 in [0, 1] (``pixel / 16``), labels int64 in 0..9.
    """
    images, labels = digits_arrays(split)
    x = reshape_images(images.astype(numpy.float32) / numpy.float32(16.0), layout)
    ds = TensorDataset(x, labels.astype(numpy.int64))
    ds.classes = list(range(10))
    ds.split = split
    return ds
