"""``DataLoader``: mini-batches of a dataset as minigrad Tensors.

Two paths:

* **Whole arrays** (a :class:`TensorDataset`, or a :class:`Subset` of one): each epoch draws
  one permutation and every batch is ``array[perm[i:i+B]]`` — one fancy-index per array, no
  Python loop over samples.  With ``device='cuda'`` the arrays are copied to the GPU once (if
  they fit in half its free memory) and batches are sliced there; only the epoch's index
  permutation crosses the bus, never a batch.
* **Any other dataset**: ``dataset[i]`` per sample, stacked into a batch ("collated").
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import numpy

from .. import _device
from ..tensor import Tensor, _make
from ._rng import host_generator


def _fits_on(arrays: tuple, dev: _device.Device) -> bool:
    """Whether ``arrays`` fit in half of ``dev``'s free memory (the rest is left to the model)."""
    with _device.cuda_device(dev):
        free, _total = _device.cupy_module().cuda.runtime.memGetInfo()
    return sum(int(a.nbytes) for a in arrays) <= free // 2


def _stack(items: list) -> Any:
    first = items[0]
    if isinstance(first, Tensor):
        arrays = [t._data for t in items]
        return _device.array_module(arrays[0]).stack(arrays)
    if isinstance(first, numpy.ndarray) or _device.is_cuda_array(first):
        return _device.array_module(first).stack(items)
    arr = numpy.asarray(items)
    if arr.dtype == numpy.float64 and isinstance(first, float):
        arr = arr.astype(numpy.float32)  # Python floats -> the default float dtype
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"DataLoader cannot batch samples of type {type(first).__name__} (dtype {arr.dtype})")
    return arr


def default_collate(samples: list) -> tuple:
    """Stack a list of samples into a tuple of batch arrays (one per field of a sample)."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(s) != width for s in samples):
            raise ValueError("DataLoader: samples have different numbers of fields; they cannot be batched")
        return tuple(_stack([s[j] for s in samples]) for j in range(width))
    return (_stack(samples),)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    Args:
        dataset: a :class:`Dataset` (``len`` + ``__getitem__``); a :class:`TensorDataset` or a
            :class:`Subset` of one takes the fast whole-array path.
        batch_size: samples per batch (the last batch may be smaller unless ``drop_last``).
        shuffle: a new random order each epoch.
        drop_last: drop the final incomplete batch.
        generator / seed: where the shuffle order comes from — a ``numpy.random.Generator`` or
            an int seed (the loader keeps its own generator, so epoch k's order is the same on
            every run); neither -> minigrad's global CPU generator, made reproducible by
            ``mg.manual_seed``.  The order is drawn on the host, so it is the same on any device.
        device: where batches live (``'cpu'``, ``'cuda'``, ``'cuda:N'``); ``None`` = where the
            data is.  For CUDA, whole-array datasets are moved there once (see module docs).
        transform: optional ``f(features) -> features`` applied to the first element of every
            batch (e.g. augmentation), after the batch is on ``device``.

    Yields tuples of Tensors, one per field of a sample: ``for x, y in loader``.  Batches are
    fresh arrays, never views of the dataset, so in-place edits of a batch leave the data alone.
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 generator: Any = None, seed: int | None = None, device: Any = None,
                 transform: Callable | None = None, collate_fn: Callable | None = None) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = None if device is None else _device.device(device)
        self.transform = transform
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        # An explicit generator/seed is owned by the loader; otherwise look the global one up per epoch.
        self._own_generator = None if generator is None and seed is None else host_generator(generator, seed)
        view = getattr(dataset, "_array_view", lambda: None)() if collate_fn is None else None
        self._view = view

    # -- size -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    # -- reproducibility --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The loader's own generator state (empty when it uses the global generator)."""
        return {} if self._own_generator is None else {"generator": self._own_generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        if "generator" in state:
            if self._own_generator is None:
                raise ValueError("this DataLoader uses minigrad's global generator; its state is restored "
                                 "with mg.random.set_rng_state, not DataLoader.load_state_dict")
            self._own_generator.bit_generator.state = state["generator"]

    def _order(self, n: int) -> "numpy.ndarray | None":
        if not self.shuffle:
            return None
        gen = self._own_generator if self._own_generator is not None else host_generator()
        return gen.permutation(n)

    # -- iteration --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple]:
        if self._view is not None:
            return self._iter_arrays()
        return self._iter_samples()

    def _bounds(self, n: int) -> range:
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        return range(0, stop, self.batch_size)

    def _iter_arrays(self) -> Iterator[tuple]:
        arrays, base = self._view
        n = len(self.dataset)
        dev = self.device
        move_batches = False  # True: arrays stay on the host and each batch is copied over
        if dev is not None and dev.type == "cuda":
            if all(_device.device_of(a) == dev for a in arrays) or _fits_on(arrays, dev):
                arrays = self.dataset.arrays_on(dev)
            else:
                move_batches = True
        elif dev is not None:
            arrays = tuple(_device.move(a, dev) for a in arrays)

        order = self._order(n)
        idx = order if base is None else (base if order is None else base[order])
        xp = _device.array_module(arrays[0])
        if idx is not None and xp is not numpy:
            idx = xp.asarray(idx)  # one copy of the epoch's indices, not one per batch
        transform = self.transform
        bs = self.batch_size
        if idx is not None and len(arrays) == 2 and transform is None and not move_batches:
            # The common (features, targets) case, kept lean: per-batch overhead matters at small batches.
            a0, a1 = arrays
            for start in self._bounds(n):
                rows = idx[start:start + bs]
                yield _make(a0[rows], False, None), _make(a1[rows], False, None)
            return
        for start in self._bounds(n):
            sel = slice(start, start + self.batch_size)
            if idx is None:
                batch = [a[sel].copy() for a in arrays]
            else:
                rows = idx[sel]
                batch = [a[rows] for a in arrays]  # fancy indexing already copies
            if move_batches:
                batch = [_device.move(b, dev) for b in batch]
            out = tuple(_make(b, False, None) for b in batch)
            if transform is not None:
                out = (transform(out[0]),) + out[1:]
            yield out

    def _iter_samples(self) -> Iterator[tuple]:
        n = len(self.dataset)
        order = self._order(n)
        dev = self.device
        transform = self.transform
        for start in self._bounds(n):
            stop = min(start + self.batch_size, n)
            rows = range(start, stop) if order is None else order[start:stop]
            batch = self.collate_fn([self.dataset[int(i)] for i in rows])
            if dev is not None:
                batch = tuple(_device.move(b, dev) if not isinstance(b, Tensor) else b.to(dev) for b in batch)
            out = tuple(b if isinstance(b, Tensor) else _make(b, False, None) for b in batch)
            if transform is not None:
                out = (transform(out[0]),) + out[1:]
            yield out

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, device={self.device})")
