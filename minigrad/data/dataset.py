"""Datasets: the map-style ``Dataset`` protocol, ``TensorDataset`` (whole arrays, the fast
path), ``Subset``, ``ConcatDataset`` and ``random_split``.

A dataset is anything with ``__len__`` and ``__getitem__(i)`` returning one sample (a
tuple such as ``(features, target)``).  ``TensorDataset`` additionally exposes its whole
arrays, so :class:`~minigrad.data.DataLoader` can slice a batch out of them with one
fancy-index per array instead of a Python loop over samples.
"""
from __future__ import annotations

import bisect
import math
from typing import Any, Iterable, Sequence

import numpy

from .. import devices
from ..tensor import Tensor, make_tensor
from ._rng import host_generator


class Dataset:
    """Base class of map-style datasets: subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Any) -> "ConcatDataset":
        """``a + b``: the samples of ``a`` followed by those of ``b``."""
        return ConcatDataset([self, other])

    def _array_view(self) -> "tuple[tuple, Any] | None":
        """``(arrays, indices)`` when this dataset is rows of whole arrays (``indices`` None =
        all rows in order), else None.  The loader's fast path uses it."""
        return None


def _raw(x: Any) -> Any:
    """The array inside a Tensor, a NumPy/CuPy array as is, anything else via numpy.asarray."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, numpy.ndarray) or devices.is_cuda_array(x):
        return x
    arr = numpy.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != numpy.float32 and not isinstance(x, numpy.generic):
        arr = arr.astype(numpy.float32)  # Python floats -> the default float dtype, as mg.tensor does
    return arr


class TensorDataset(Dataset):
    """Rows of one or more arrays of equal length: sample ``i`` is ``(a[i], b[i], ...)``.

    Args:
        *tensors: Tensors or NumPy/CuPy arrays, all with the same first dimension N.  They are
            kept as given (no copy, dtypes unchanged); the built-in datasets hand over float32
            features and int64 targets.

    ``ds[i]`` gives a tuple of Tensors (an int drops the first dim, a slice or index array keeps
    it).  ``ds.arrays`` is the tuple of underlying arrays, ``ds.tensors`` the same as Tensors.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = tuple(_raw(t) for t in tensors)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d (shape ()); every tensor needs a first "
                                 "dimension indexing the samples")
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays):
            raise ValueError("TensorDataset: all tensors must have the same first dimension, got shapes "
                             + ", ".join(str(tuple(a.shape)) for a in arrays))
        self.arrays = arrays
        self._on_device: dict = {}

    @property
    def tensors(self) -> tuple:
        return tuple(make_tensor(a, False, None) for a in self.arrays)

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple:
        if isinstance(index, Tensor):
            index = index._data
        n = len(self)
        if isinstance(index, (int, numpy.integer)) and not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} samples")
        return tuple(make_tensor(a[index], False, None) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in self.arrays)
        return f"{type(self).__name__}({len(self)} samples: {shapes})"

    def _array_view(self) -> tuple:
        return self.arrays, None

    def arrays_on(self, device: Any) -> tuple:
        """The arrays moved to ``device`` once and memoised (the loader's GPU path uses this)."""
        dev = devices.device(device)
        if all(devices.device_of(a) == dev for a in self.arrays):
            return self.arrays
        key = str(dev)
        if key not in self._on_device:
            self._on_device[key] = tuple(devices.move(a, dev) for a in self.arrays)
        return self._on_device[key]


class Subset(Dataset):
    """The samples ``dataset[indices[0]], dataset[indices[1]], ...`` (no copy of the data)."""

    def __init__(self, dataset: Any, indices: Any) -> None:
        idx = numpy.asarray(indices._data if isinstance(indices, Tensor) else indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-d sequence of integers, got shape {idx.shape} "
                            f"dtype {idx.dtype}")
        n = len(dataset)
        idx = idx.astype(numpy.int64)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices range over [{idx.min()}, {idx.max()}] but the dataset has {n} "
                             "samples")
        self.dataset = dataset
        self.indices = numpy.where(idx < 0, idx + n, idx)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, numpy.integer)):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"

    def _array_view(self) -> "tuple | None":
        view = getattr(self.dataset, "_array_view", lambda: None)()
        if view is None:
            return None
        arrays, base = view
        return arrays, (self.indices if base is None else base[self.indices])

    def arrays_on(self, device: Any) -> tuple:
        return self.dataset.arrays_on(device)


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other: ``ds[i]`` is sample ``i - offset``
    of the dataset that index ``i`` falls in.  ``cumulative_sizes[k]`` is the number of samples
    in datasets ``0..k``."""

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for k, ds in enumerate(self.datasets):
            if not hasattr(ds, "__len__") or not hasattr(ds, "__getitem__"):
                raise TypeError(f"ConcatDataset: dataset {k} ({type(ds).__name__}) has no __len__ and __getitem__")
        self.cumulative_sizes = numpy.cumsum([len(ds) for ds in self.datasets]).tolist()

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: Any) -> Any:
        n = len(self)
        if isinstance(index, Tensor):
            index = index.item()
        if not isinstance(index, (int, numpy.integer)) or isinstance(index, bool):
            raise TypeError(f"ConcatDataset indices must be integers, got {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} samples")
        index = int(index) % n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]

    def __repr__(self) -> str:
        return f"ConcatDataset({len(self)} samples from {len(self.datasets)} datasets)"


def _split_lengths(n: int, lengths: Sequence) -> list:
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if all(isinstance(v, (int, numpy.integer)) for v in lengths):
        if any(v < 0 for v in lengths) or sum(lengths) != n:
            raise ValueError(f"random_split: lengths {lengths} must be non-negative and sum to the dataset "
                             f"size {n} (they sum to {sum(lengths)})")
        return [int(v) for v in lengths]
    fracs = [float(v) for v in lengths]
    if any(f < 0 or f > 1 for f in fracs) or not math.isclose(sum(fracs), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1 "
                         f"(they sum to {sum(fracs)})")
    out = [int(math.floor(n * f)) for f in fracs]
    # Hand the remainder out one sample at a time, round-robin from the first split.
    for i in range(n - sum(out)):
        out[i % len(out)] += 1
    return out


def random_split(dataset: Any, lengths: Sequence, generator: Any = None, seed: int | None = None) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    Args:
        lengths: sizes summing to ``len(dataset)``, or fractions summing to 1 (floors, then the
            remainder goes one by one to the first splits).
        generator / seed: a ``numpy.random.Generator`` or an int seed; neither -> minigrad's global
            CPU generator (so ``mg.manual_seed`` makes it reproducible).
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    perm = host_generator(generator, seed).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[start:start + size]))
        start += size
    return out
