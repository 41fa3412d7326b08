"""MNIST and Fashion-MNIST from their four IDX files (or MNIST from the classic ``mnist.pkl.gz``).

Files are looked for in ``root/mnist/`` (``root/fashion-mnist/``), ``root`` defaulting to
``$MINIGRAD_DATA``, else ``~/.cache/minigrad``.  Each IDX file may be gzipped or not, under its
usual name (``train-images-idx3-ubyte[.gz]``) or the dotted variant (``train-images.idx3-ubyte``).

Splits (the one *Neural Networks and Deep Learning*'s network2 uses):

=============  ============================================
``'train'``    the first 60,000 - ``val_size`` (50,000) training images
``'val'``      the last ``val_size`` (10,000) training images
``'train+val'`` all 60,000 training images
``'test'``     the 10,000 test images
=============  ============================================

Features are float32 in [0, 1] (``pixel / 255``), flattened to (N, 784) by default
(``layout='hw'`` gives (N, 28, 28), ``layout='chw'`` (N, 1, 28, 28)); labels int64 0..9.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy

from ._layout import reshape_images
from .dataset import TensorDataset
from .download import default_root, download_file, mirrors_from_env
from .idx import IDXError, read_idx
from .mnist_pkl import load_mnist_pkl

SPLITS = ("train", "val", "test", "train+val")


@dataclass(frozen=True)
class IDXFile:
    """One IDX file: its name (without .gz) and accepted checksums (of the .gz as the default mirrors
    serve it, and of the decompressed IDX data)."""

    name: str
    sha256_gz: str | None
    sha256: str | None


@lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int) -> numpy.ndarray:
    arr = read_idx(path)
    arr.setflags(write=False)  # shared between datasets made from the same file
    return arr


def _read(path: Path) -> numpy.ndarray:
    st = path.stat()
    return _read_cached(str(path), st.st_mtime_ns, st.st_size)


class DataFilesNotFound(FileNotFoundError):
    """A dataset's files are not in its folder (and downloading was not asked for).

    Attributes: ``title`` (the dataset's name), ``folder`` (where the files were looked for),
    ``missing`` (the file names not found)."""

    def __init__(self, message: str, title: str, folder: Path, missing: list) -> None:
        super().__init__(message)
        self.title, self.folder, self.missing = title, folder, list(missing)


class MNIST(TensorDataset):
    """The MNIST handwritten digits as a :class:`TensorDataset` ``(features, labels)``.

    Args:
        root: data folder holding ``mnist/``; default ``$MINIGRAD_DATA`` or ``~/.cache/minigrad``.
        split: ``'train'``, ``'val'``, ``'test'`` or ``'train+val'`` (see the module docstring).
        download: fetch missing IDX files from the mirrors (sha256-checked) into ``root/mnist/``.
        layout: ``'flat'`` (N, 784), ``'hw'`` (N, 28, 28) or ``'chw'`` (N, 1, 28, 28).
        val_size: how many of the last training images form ``'val'`` (10,000).
        mirrors: base URLs to download from, overriding the defaults and the environment
            variable (``MINIGRAD_MNIST_MIRRORS`` / ``MINIGRAD_FASHION_MNIST_MIRRORS``, comma separated).
        allow_pickle: permit reading ``mnist.pkl.gz`` when the IDX files are absent (it is a pickle;
            see :mod:`minigrad.data.mnist_pkl`).
        progress: show a download progress bar (tqdm, if installed).

    Attributes: ``split``, ``folder``, ``classes``, ``source`` (the files read).
    """

    folder_name = "mnist"
    title = "MNIST"
    mirrors_env = "MINIGRAD_MNIST_MIRRORS"
    default_mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    )
    pkl_name: str | None = "mnist.pkl.gz"
    classes = [str(i) for i in range(10)]
    # gz checksums: the files as the mirrors above serve them (also listed by TensorFlow Datasets);
    # decompressed checksums: the same for every faithful copy, however it was compressed.
    files = {
        "train_images": IDXFile("train-images-idx3-ubyte",
                                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train_labels": IDXFile("train-labels-idx1-ubyte",
                                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "test_images": IDXFile("t10k-images-idx3-ubyte",
                               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                               "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "test_labels": IDXFile("t10k-labels-idx1-ubyte",
                               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                               "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    }

    def __init__(self, root: "str | Path | None" = None, split: str = "train", download: bool = False,
                 layout: str = "flat", *, val_size: int = 10_000, mirrors: Any = None, allow_pickle: bool = False,
                 progress: bool = True) -> None:
        if split not in SPLITS:
            raise ValueError(f"{self.title}: unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        reshape_images(numpy.zeros((0, 1, 1)), layout)  # validates layout early, before any file work
        self.root = default_root() if root is None else Path(root).expanduser()
        self.folder = self.root / self.folder_name
        self.split = split
        paths = {key: self.locate(key) for key in self.files}
        if not self._missing_needed(paths):
            images, labels = self._from_idx(paths, split, val_size)
        else:
            pkl = self._pkl_path()
            if pkl is not None and allow_pickle:
                images, labels = self._from_pkl(pkl, split)
            elif download:
                paths = self._download(paths, mirrors, progress)
                images, labels = self._from_idx(paths, split, val_size)
            else:
                raise DataFilesNotFound(self._missing_message(paths, pkl), self.title, self.folder,
                                        [self.files[k].name for k in self._missing_needed(paths)])
        x = reshape_images(images, layout)
        super().__init__(x, labels)

    # -- finding files -------------------------------------------------------------------------
    def locate(self, key: str) -> "Path | None":
        """The existing file for ``key`` ('train_images', ...) in :attr:`folder`, or None."""
        name = self.files[key].name
        dotted = name.replace("-idx", ".idx")
        for candidate in (name + ".gz", name, dotted + ".gz", dotted):
            p = self.folder / candidate
            if p.is_file():
                return p
        return None

    def _needed(self) -> tuple:
        return ("test_images", "test_labels") if self.split == "test" else ("train_images", "train_labels")

    def _missing_needed(self, paths: dict) -> list:
        return [k for k in self._needed() if paths[k] is None]

    def _pkl_path(self) -> "Path | None":
        if self.pkl_name is None:
            return None
        for p in (self.folder / self.pkl_name, self.root / self.pkl_name):
            if p.is_file():
                return p
        return None

    def _missing_message(self, paths: dict, pkl: "Path | None") -> str:
        missing = [self.files[k].name + "[.gz]" for k in self._missing_needed(paths)]
        msg = (f"{self.title} files not found in {self.folder}: missing {', '.join(missing)}. Put the four IDX files "
               f"({', '.join(f.name + '.gz' for f in self.files.values())}; gzipped or not) in that folder, set "
               f"MINIGRAD_DATA to a folder that holds {self.folder_name}/, or pass download=True.")
        if pkl is not None:
            msg += f" ({pkl} exists, but reading it needs allow_pickle=True because it is a Python pickle.)"
        return msg

    # -- reading ----------------------------------------------------------------------------------
    def _read_pair(self, images_path: Path, labels_path: Path) -> tuple:
        images, labels = _read(images_path), _read(labels_path)
        if images.ndim != 3 or images.dtype != numpy.uint8:
            raise IDXError(f"{images_path}: expected uint8 images of shape (N, rows, cols), got {images.dtype} "
                           f"{images.shape}")
        if labels.ndim != 1 or labels.dtype != numpy.uint8:
            raise IDXError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise IDXError(f"{images_path} holds {images.shape[0]} images but {labels_path} holds {labels.shape[0]} "
                           "labels")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise IDXError(f"{labels_path}: label {int(labels.max())} is out of range 0..{len(self.classes) - 1}")
        return images, labels

    def _from_idx(self, paths: dict, split: str, val_size: int) -> tuple:
        if split == "test":
            images, labels = self._read_pair(paths["test_images"], paths["test_labels"])
            self.source = (paths["test_images"], paths["test_labels"])
        else:
            images, labels = self._read_pair(paths["train_images"], paths["train_labels"])
            self.source = (paths["train_images"], paths["train_labels"])
            n = images.shape[0]
            if split in ("train", "val"):
                if not 0 < val_size < n:
                    raise ValueError(f"{self.title}: val_size={val_size} must lie in 1..{n - 1} (the training file "
                                     f"has {n} images)")
                sel = slice(0, n - val_size) if split == "train" else slice(n - val_size, n)
                images, labels = images[sel], labels[sel]
        x = images.astype(numpy.float32)
        x /= numpy.float32(255.0)
        return x, labels.astype(numpy.int64)

    def _from_pkl(self, pkl: Path, split: str) -> tuple:
        parts = load_mnist_pkl(pkl, allow_pickle=True)
        self.source = (pkl,)
        names = ("train", "val") if split == "train+val" else (split,)
        x = numpy.concatenate([parts[k][0] for k in names])
        y = numpy.concatenate([parts[k][1] for k in names])
        side = int(round(x.shape[1] ** 0.5))
        if side * side != x.shape[1]:
            raise ValueError(f"{pkl}: images have {x.shape[1]} pixels, not a square image")
        return x.reshape(-1, side, side), y

    # -- downloading --------------------------------------------------------------------------------
    def _download(self, paths: dict, mirrors: Any, progress: bool) -> dict:
        if mirrors is None:
            bases = mirrors_from_env(self.mirrors_env, self.default_mirrors)
        else:
            bases = [mirrors] if isinstance(mirrors, str) else list(mirrors)
        names = ", ".join(f.name + ".gz" for f in self.files.values())
        for key, spec in self.files.items():
            if paths[key] is not None:
                continue
            urls = [base.rstrip("/") + "/" + spec.name + ".gz" for base in bases]
            paths[key] = download_file(urls, self.folder / (spec.name + ".gz"), sha256=spec.sha256_gz,
                                       sha256_decompressed=spec.sha256, progress=progress,
                                       hint=f"{self.title} needs all of {names} in {self.folder}")
        return paths

    def __repr__(self) -> str:
        shape = tuple(self.arrays[0].shape)
        return f"{type(self).__name__}(split={self.split!r}, {len(self)} samples, features {shape})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (same format, sizes and splits as :class:`MNIST`), from ``root/fashion-mnist/``."""

    folder_name = "fashion-mnist"
    title = "Fashion-MNIST"
    mirrors_env = "MINIGRAD_FASHION_MNIST_MIRRORS"
    default_mirrors = (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    pkl_name = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    # sha256 of the .gz files as published (TensorFlow Datasets lists the same); no decompressed
    # checksum is recorded here, so a recompressed copy would be rejected rather than trusted.
    files = {
        "train_images": IDXFile("train-images-idx3-ubyte",
                                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", None),
        "train_labels": IDXFile("train-labels-idx1-ubyte",
                                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", None),
        "test_images": IDXFile("t10k-images-idx3-ubyte",
                               "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", None),
        "test_labels": IDXFile("t10k-labels-idx1-ubyte",
                               "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", None),
    }
