"""``DataLoader``: mini-batches of a dataset as minigrad Tensors, with PyTorch's keywords.

Three paths:

* **Whole arrays** (a :class:`TensorDataset`, or a :class:`Subset` of one, with the default
  ``collate_fn``): each epoch draws one order and every batch is ``array[rows]`` — one
  fancy-index per array, no Python loop over samples.  With ``device='cuda'`` the arrays are
  copied to the GPU once (if they fit in half its free memory) and batches are sliced there;
  only the epoch's index order crosses the bus, never a batch.  A ``sampler`` or
  ``batch_sampler`` only chooses the rows, so it keeps this path.  Worker processes would add
  nothing here (slicing is already vectorised, and moving the batch between processes costs
  more than making it), so ``num_workers`` is ignored on this path.
* **Any other dataset, one process** (``num_workers=0``): ``dataset[i]`` per sample, then
  ``collate_fn`` (by default :func:`default_collate`) stacks the samples into a batch.
* **Any other dataset, ``num_workers > 0``**: worker processes call ``dataset[i]`` and
  ``collate_fn``; batch k goes to worker ``k % num_workers`` over that worker's pipe, and the
  main process reads the workers' pipes in the same rotation, so batches arrive in order.  The
  main process turns the host arrays it receives into Tensors on ``device``.  Worker w is
  seeded with ``base_seed + w``, where ``base_seed`` is drawn from the loader's generator each
  epoch (once, with ``persistent_workers``), so a seeded run is reproducible.

Batches come out as PyTorch's ``default_collate`` shapes them: a tuple of Tensors for tuple
samples (``for x, y in loader``), one Tensor for single-tensor samples, a dict for dict samples.
"""
from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import numbers
import os
import pickle
import random as _py_random
import signal
import time
import traceback
import weakref
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy

from .. import devices
from .. import dtypes as _dtypes
from .. import random as _random
from ..tensor import Tensor, make_tensor
from ._rng import host_generator


def _fits_on(arrays: tuple, dev: devices.Device) -> bool:
    """Whether ``arrays`` fit in half of ``dev``'s free memory (the rest is left to the model)."""
    with devices.cuda_device(dev):
        free, _total = devices.cupy_module().cuda.runtime.memGetInfo()
    return sum(int(a.nbytes) for a in arrays) <= free // 2


# -- collation ------------------------------------------------------------------------------------

def _is_array(x: Any) -> bool:
    return isinstance(x, numpy.ndarray) or devices.is_cuda_array(x)


def _stack(items: Sequence) -> Tensor:
    """Tensors or arrays of one shape, stacked along a new first dim."""
    arrays = []
    for k, item in enumerate(items):
        a = item._data if isinstance(item, Tensor) else item
        if not _is_array(a):
            raise TypeError(f"default_collate: sample {k} has a {type(item).__name__} where sample 0 has a "
                            f"{type(items[0]).__name__}; a field must hold the same kind of value in every sample")
        arrays.append(a)
    shape = arrays[0].shape
    for k, a in enumerate(arrays):
        if a.shape != shape:
            raise ValueError(f"default_collate: cannot stack samples of different shapes: {tuple(shape)} (sample 0) "
                             f"and {tuple(a.shape)} (sample {k}); pad or resize them, or pass a collate_fn")
    return make_tensor(devices.array_module(arrays[0]).stack(arrays), False, None)


def _numbers(items: Sequence) -> Tensor:
    """Python numbers -> a 1-D Tensor: bool -> bool, int -> int64, float -> the default float dtype."""
    for k, v in enumerate(items):
        if not isinstance(v, numbers.Number) or isinstance(v, complex):
            raise TypeError(f"default_collate: sample {k} has a {type(v).__name__} where sample 0 has a "
                            f"{type(items[0]).__name__}")
    if all(isinstance(v, bool) for v in items):
        return make_tensor(numpy.asarray(items, dtype=numpy.bool_), False, None)
    if all(isinstance(v, int) for v in items):
        return make_tensor(numpy.asarray(items, dtype=numpy.int64), False, None)
    return make_tensor(numpy.asarray(items, dtype=_dtypes.get_default_dtype()), False, None)


def default_collate(batch: Sequence) -> Any:
    """Stack a list of samples into one batch, field by field (PyTorch's rules).

    * Tensors and NumPy/CuPy arrays -> one Tensor of shape ``(B, *sample_shape)``;
    * Python numbers -> a Tensor of shape ``(B,)``: bools -> bool, ints -> int64, floats -> the
      default float dtype (float32; PyTorch makes float64 here); NumPy scalars keep their dtype;
    * strings and bytes -> the list of them;
    * a dict -> a dict of the collated values, key by key;
    * a tuple -> a tuple (a namedtuple -> the same namedtuple), a list -> a list, of the
      collated fields (every sample needs the same number of fields).  PyTorch gives a list
      for tuples too; unpacking ``x, y = batch`` works the same.

    Anything else is a TypeError naming its type.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor) or _is_array(first):
        return _stack(batch)
    if isinstance(first, numpy.generic):
        return make_tensor(numpy.asarray(batch), False, None)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, numbers.Number):
        return _numbers(batch)
    if isinstance(first, Mapping):
        try:
            return {key: default_collate([sample[key] for sample in batch]) for key in first}
        except KeyError as missing:
            raise KeyError(f"default_collate: a sample lacks the key {missing} that sample 0 has") from None
    if isinstance(first, (tuple, list)):
        width = len(first)
        for k, sample in enumerate(batch):
            if not isinstance(sample, (tuple, list)) or len(sample) != width:
                raise ValueError(f"default_collate: sample 0 has {width} fields but sample {k} is "
                                 f"{type(sample).__name__} of {len(sample) if hasattr(sample, '__len__') else '?'}; "
                                 "every sample needs the same number of fields")
        fields = [default_collate([sample[j] for sample in batch]) for j in range(width)]
        if isinstance(first, tuple):
            return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
        return fields
    raise TypeError(f"default_collate: a batch must hold tensors, arrays, numbers, strings, dicts, tuples or lists; "
                    f"found {type(first).__name__}")


def default_convert(data: Any) -> Any:
    """One sample made batch-ready without stacking (``batch_size=None``): NumPy arrays and
    scalars become Tensors, dicts/tuples/lists are converted element by element, anything else
    is returned as it is."""
    if isinstance(data, numpy.ndarray) and data.dtype.kind in "fiub":
        return make_tensor(data, False, None)
    if isinstance(data, numpy.generic) and data.dtype.kind in "fiub":
        return make_tensor(numpy.asarray(data), False, None)
    return _map_structure(data, default_convert)


def _map_structure(data: Any, fn: Callable) -> Any:
    """``fn`` applied to each element of a dict / tuple / namedtuple / list; ``data`` itself otherwise."""
    if isinstance(data, Mapping):
        return {k: fn(v) for k, v in data.items()}
    if isinstance(data, tuple):
        items = [fn(v) for v in data]
        return type(data)(*items) if hasattr(data, "_fields") else tuple(items)
    if isinstance(data, list):
        return [fn(v) for v in data]
    return data


def _as_tensors(data: Any, dev: "devices.Device | None") -> Any:
    """Every array in a (nested) batch as a Tensor on ``dev`` (None: where it is)."""
    if isinstance(data, Tensor):
        if dev is None or data.device == dev:
            return data
        return data.to(dev) if data.requires_grad else make_tensor(devices.move(data._data, dev), False, None)
    if _is_array(data):
        return make_tensor(data if dev is None else devices.move(data, dev), False, None)
    return _map_structure(data, lambda v: _as_tensors(v, dev))


def _to_host(data: Any) -> Any:
    """Every Tensor or CuPy array in a (nested) batch as a NumPy array, to send between processes."""
    if isinstance(data, Tensor):
        data = data._data
    if devices.is_cuda_array(data):
        return data.get()
    if isinstance(data, numpy.ndarray):
        return data
    return _map_structure(data, _to_host)


# -- samplers -------------------------------------------------------------------------------------

class Sampler:
    """Base class of samplers: an iterable over dataset indices (``__iter__``), usually with a
    ``__len__``.  Pass one as ``DataLoader(sampler=...)``; a plain list of indices works too."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _own_generator(generator: Any) -> "numpy.random.Generator | None":
    """A sampler's generator: None (minigrad's global one, looked up per epoch) or a NumPy
    generator (an int seed makes a new one, kept, so successive epochs differ)."""
    return None if generator is None else host_generator(generator)


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices each epoch.

    Args:
        replacement: draw ``num_samples`` indices independently (uniform, with repeats);
            without it, whole permutations are concatenated (then cut) to ``num_samples``.
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: a ``numpy.random.Generator`` or an int seed; None -> minigrad's global generator.
    """

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement must be a bool, got {replacement!r}")
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples <= 0):
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _own_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        gen = self.generator if self.generator is not None else host_generator()
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return iter(gen.integers(0, n, size=k).tolist())
        order = [gen.permutation(n) for _ in range(-(-k // n))] if n else []
        return iter(numpy.concatenate(order)[:k].tolist() if order else [])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = _own_generator(generator)

    def __iter__(self) -> Iterator[int]:
        gen = self.generator if self.generator is not None else host_generator()
        return iter([self.indices[i] for i in gen.permutation(len(self.indices)).tolist()])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability ``weights[i] / sum(weights)``.

    Args:
        weights: one non-negative, finite weight per index (they need not sum to 1).
        replacement: with replacement (the default) an index can come up more than once.
        generator: a ``numpy.random.Generator`` or an int seed; None -> minigrad's global generator.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        w = numpy.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=numpy.float64)
        if w.ndim != 1 or not numpy.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-d sequence of non-negative finite numbers "
                             f"with a positive sum, got shape {w.shape}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: {num_samples} samples without replacement, but only "
                             f"{int((w > 0).sum())} weights are positive")
        self.weights, self.num_samples, self.replacement = w, num_samples, bool(replacement)
        self.generator = _own_generator(generator)

    def __iter__(self) -> Iterator[int]:
        gen = self.generator if self.generator is not None else host_generator()
        picks = gen.choice(self.weights.size, size=self.num_samples, replace=self.replacement,
                           p=self.weights / self.weights.sum())
        return iter(picks.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``).  Pass one as ``DataLoader(batch_sampler=...)``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise TypeError(f"drop_last must be a bool, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# -- worker processes -----------------------------------------------------------------------------

class WorkerInfo:
    """Inside a worker process, what :func:`get_worker_info` returns: ``id`` (0..num_workers-1),
    ``num_workers``, ``seed`` (this worker's seed) and ``dataset`` (the worker's copy)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_worker_info: "WorkerInfo | None" = None


def get_worker_info() -> "WorkerInfo | None":
    """In a DataLoader worker process: the :class:`WorkerInfo` of this worker (e.g. to shard
    files, or to seed a library minigrad does not seed).  In the main process: None."""
    return _worker_info


def _seed_worker(seed: int) -> None:
    """Seed every generator a dataset is likely to draw from: minigrad's, Python's ``random``
    and NumPy's legacy global one (``numpy.random.rand`` & co.)."""
    _random.manual_seed(seed)
    _py_random.seed(seed)
    numpy.random.seed(seed % 2**32)


_LIBRARY_DIRS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                 os.path.dirname(os.path.abspath(numpy.__file__)))


class _WorkerFailure:
    """An exception raised in a worker, sent back to the main process as plain data."""

    def __init__(self, exc: BaseException, worker_id: int, where: str) -> None:
        self.worker_id, self.where = worker_id, where
        self.type_name, self.message = type(exc).__name__, str(exc)
        self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        frames = traceback.extract_tb(exc.__traceback__)
        # Name the innermost frame of the caller's code (a dataset's __getitem__), not numpy's or ours.
        mine = [f for f in frames if not os.path.abspath(f.filename).startswith(_LIBRARY_DIRS)] or frames
        last = mine[-1] if mine else None
        self.location = f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}" if last else ""
        try:
            pickle.dumps(type(exc))
            self.exc_type = type(exc)
        except Exception:  # a class that cannot be sent by reference (defined inside a function)
            self.exc_type = None

    def error(self) -> Exception:
        """The exception to raise in the main process: the worker's type where it can be made
        from a message (so ``except ValueError`` still works), else a RuntimeError."""
        at = f" (at {self.location})" if self.location else ""
        msg = f"DataLoader worker {self.worker_id} failed {self.where}: {self.type_name}: {self.message}{at}"
        err: Exception = RuntimeError(msg)
        if self.exc_type is not None and issubclass(self.exc_type, Exception):
            try:
                err = self.exc_type(msg)
            except Exception:
                pass
        err.worker_traceback = self.traceback  # type: ignore[attr-defined]
        return err


def _short(indices: Any) -> str:
    if isinstance(indices, list) and len(indices) > 8:
        return "[" + ", ".join(str(i) for i in indices[:8]) + f", ... ({len(indices)} in all)]"
    return str(indices)


def _worker_loop(conn: Any, dataset: Any, collate_fn: Callable, auto_collation: bool, worker_id: int,
                 num_workers: int, seed: int, init_fn: Callable | None, inherited: list) -> None:
    """A worker: receive a batch's indices, send back ``(batch, None)`` or ``(None, failure)``;
    stop on None, or when the main process closes its end of the pipe."""
    global _worker_info
    for c in inherited:  # the main process's pipe ends copied by fork: closing them lets EOF through
        c.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    _seed_worker(seed)
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as exc:
            _send(conn, (None, _WorkerFailure(exc, worker_id, "in worker_init_fn")))
            return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        where = f"on dataset index {task}"
        try:
            if auto_collation:
                samples = []
                for i in task:
                    where = f"on dataset index {i}"
                    samples.append(dataset[i])
                where = f"collating the batch of dataset indices {_short(task)}"
                batch = collate_fn(samples)
            else:
                batch = collate_fn(dataset[task])
            message: tuple = (_to_host(batch), None)
        except Exception as exc:
            message = (None, _WorkerFailure(exc, worker_id, where))
        if not _send(conn, message, worker_id, task):
            return


def _send(conn: Any, message: tuple, worker_id: int = 0, task: Any = None) -> bool:
    """Send ``message``; False when the main process is gone.  A batch that cannot be pickled
    is reported as a failure instead."""
    try:
        conn.send(message)
        return True
    except OSError:  # broken pipe: the main process closed its end
        return False
    except Exception as exc:  # pickling failed before anything was written
        failure = _WorkerFailure(exc, worker_id, f"sending the batch of dataset indices {_short(task)} to the "
                                                 "main process (its contents cannot be pickled)")
        failure.location = ""  # the frame is pickle's, which says nothing about the batch
        try:
            conn.send((None, failure))
            return True
        except Exception:
            return False


def _stop_workers(procs: list, conns: list) -> None:
    """Ask every worker to stop, close the pipes, and terminate any that has not stopped in a
    second (one still inside a slow ``__getitem__``)."""
    for c in conns:
        try:
            os.set_blocking(c.fileno(), False)  # never wait on a worker that is not reading
            c.send(None)
        except Exception:  # a full or broken pipe: closing it below stops the worker as well
            pass
    for c in conns:
        c.close()
    deadline = time.monotonic() + 1.0
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(5.0)


def _death_message(worker_id: int, proc: Any) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = " (often the system running out of memory: try fewer workers)" if -code == signal.SIGKILL else ""
        how = f"was killed by signal {name}{hint}"
    else:
        how = f"exited unexpectedly with exit code {code} (its own error, if it printed one, is above)"
    return f"DataLoader worker {worker_id} (pid {proc.pid}) {how}"


class _WorkerPool:
    """``num_workers`` processes, each with its own duplex pipe.  Tasks go out round-robin and
    each worker answers its tasks in order, so the k-th result read (reading the workers in the
    same rotation) belongs to the k-th task sent."""

    def __init__(self, loader: "DataLoader", base_seed: int) -> None:
        ctx = loader._context()
        fork = ctx.get_start_method() == "fork"
        self.procs: list = []
        self.conns: list = []
        self.sent = self.received = 0
        self.timeout = loader.timeout
        self._stop = weakref.finalize(self, _stop_workers, self.procs, self.conns)
        auto = loader.batch_size is not None or loader._batch_sampler is not None
        for wid in range(loader.num_workers):
            mine, theirs = ctx.Pipe(duplex=True)
            inherited = self.conns + [mine] if fork else []
            proc = ctx.Process(target=_worker_loop, name=f"minigrad-DataLoader-worker-{wid}", daemon=True,
                               args=(theirs, loader.dataset, loader.collate_fn, auto, wid, loader.num_workers,
                                     base_seed + wid, loader.worker_init_fn, inherited))
            try:
                proc.start()
            except Exception as exc:
                theirs.close()
                mine.close()
                self.close()
                if not isinstance(exc, (pickle.PicklingError, AttributeError, TypeError)):
                    raise
                raise TypeError(
                    f"DataLoader(num_workers={loader.num_workers}): the '{ctx.get_start_method()}' start method has "
                    f"to pickle the dataset, collate_fn and worker_init_fn for the workers, and that failed: {exc}; "
                    "define them at module level, or pass multiprocessing_context='fork'") from None
            theirs.close()
            self.procs.append(proc)
            self.conns.append(mine)

    def submit(self, task: Any) -> None:
        try:
            self.conns[self.sent % len(self.conns)].send(task)
        except OSError:
            pass  # the worker is gone; reading its next result reports why (its last message, or its death)
        self.sent += 1

    def get(self) -> Any:
        """The next result (the oldest task's batch), or the worker's error raised here."""
        w = self.received % len(self.conns)
        conn, proc = self.conns[w], self.procs[w]
        ready = multiprocessing.connection.wait([conn, proc.sentinel], timeout=self.timeout or None)
        if not ready:
            raise RuntimeError(f"DataLoader timed out after {self.timeout} s waiting for a batch from worker {w}; "
                               "raise timeout= if its samples are slow to make")
        try:
            if conn not in ready:  # only the process sentinel: the worker is gone
                raise EOFError
            batch, failure = conn.recv()
        except (EOFError, OSError):
            proc.join(1.0)
            raise RuntimeError(_death_message(w, proc)) from None
        self.received += 1
        if failure is not None:
            raise failure.error() from None
        return batch

    def drain(self) -> None:
        """Read and drop the results still owed (an epoch left early), so the next epoch starts clean."""
        while self.received < self.sent:
            self.get()

    def close(self) -> None:
        self._stop()


# -- the loader -----------------------------------------------------------------------------------

def _positive_int(name: str, value: Any, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < low:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches; the keywords are PyTorch's.

    Args:
        dataset: a map-style dataset (``__len__`` + ``__getitem__``); a :class:`TensorDataset`
            or a :class:`Subset` of one takes the fast whole-array path (see the module docs).
        batch_size: samples per batch; ``None`` turns batching off (each sample is returned
            on its own, arrays made Tensors by :func:`default_convert`).
        shuffle: a new random order each epoch.
        sampler: an iterable of dataset indices per epoch (a :class:`Sampler` or a list);
            excludes ``shuffle``.
        batch_sampler: an iterable of lists of indices, one list per batch; excludes
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: worker processes that build batches (0: the main process does).  Used
            for datasets computed per sample; ignored on the whole-array path.
        collate_fn: ``f(list of samples) -> batch`` (default :func:`default_collate`).
        pin_memory, pin_memory_device: accepted and ignored (batches are moved to ``device``
            directly).
        drop_last: drop the final incomplete batch.
        timeout: seconds to wait for a batch from a worker before raising (0: no limit).
        worker_init_fn: ``f(worker_id)``, called in each worker after it is seeded.
        multiprocessing_context: ``'fork'``, ``'spawn'``, ``'forkserver'`` or a context from
            ``multiprocessing.get_context``; default: the platform's.  With ``spawn`` and
            ``forkserver`` the dataset, ``collate_fn`` and ``worker_init_fn`` must pickle.
        generator / seed: where the shuffle order and the workers' seeds come from — a
            ``numpy.random.Generator`` or an int seed (the loader keeps its own generator, so
            epoch k's order is the same on every run); neither -> minigrad's global CPU
            generator, made reproducible by ``mg.manual_seed``.  The order is drawn on the
            host, so it is the same on any device.
        prefetch_factor: batches in flight per worker (default 2).
        persistent_workers: keep the workers (and their datasets and seeds) from one epoch
            to the next instead of starting new ones.
        in_order: accepted; batches always come in order.
        device: where batches live (``'cpu'``, ``'cuda'``, ``'cuda:N'``); ``None`` = where the
            data is.  For CUDA, whole-array datasets are moved there once (see module docs).
        transform: optional ``f(features) -> features`` applied to the first field of every
            batch (or to the batch, for single-tensor samples), after the batch is on ``device``.

    Yields batches shaped by ``collate_fn``: ``for x, y in loader`` for ``(x, y)`` samples.
    Batches are fresh arrays, never views of the dataset, so in-place edits of a batch leave the
    data alone.  ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable | None = None, batch_sampler: Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Callable | None = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None, device: Any = None,
                 transform: Callable | None = None) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got {type(dataset).__name__}")
        if batch_size is not None:
            batch_size = _positive_int("batch_size", batch_size)
        shuffle = bool(shuffle)
        drop_last = bool(drop_last)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the sampler sets the order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler and drop_last "
                             "(it makes the batches itself)")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None turns batching off, so drop_last=True has no batch to drop")
        self.num_workers = _positive_int("num_workers", num_workers, allow_zero=True)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise ValueError(f"timeout must be a non-negative number of seconds, got {timeout!r}")
        if self.num_workers == 0:
            for name, given in (("prefetch_factor", prefetch_factor is not None),
                                ("persistent_workers", bool(persistent_workers)),
                                ("multiprocessing_context", multiprocessing_context is not None)):
                if given:
                    raise ValueError(f"DataLoader: {name} needs worker processes (num_workers > 0)")
        self.prefetch_factor = 2 if prefetch_factor is None else _positive_int("prefetch_factor", prefetch_factor)
        if multiprocessing_context is not None and isinstance(multiprocessing_context, str):
            try:
                multiprocessing.get_context(multiprocessing_context)
            except ValueError:
                raise ValueError(f"DataLoader: unknown multiprocessing_context {multiprocessing_context!r}; choose "
                                 f"one of {', '.join(multiprocessing.get_all_start_methods())}") from None
        elif multiprocessing_context is not None and not hasattr(multiprocessing_context, "Process"):
            raise TypeError("multiprocessing_context must be a start method name or a multiprocessing context, got "
                            f"{type(multiprocessing_context).__name__}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {type(worker_init_fn).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory = bool(pin_memory)  # accepted; nothing to pin (see the class docs)
        self.pin_memory_device = pin_memory_device
        self.in_order = bool(in_order)  # accepted; results always come in order
        self.device = None if device is None else devices.device(device)
        self.transform = transform
        if collate_fn is None:
            collate_fn = default_convert if batch_size is None and batch_sampler is None else default_collate
        self.collate_fn = collate_fn
        # An explicit generator/seed is owned by the loader; otherwise look the global one up per epoch.
        self._own_generator = None if generator is None and seed is None else host_generator(generator, seed)
        self.generator = self._own_generator
        self._sampler = sampler
        self._batch_sampler = batch_sampler
        # PyTorch's attributes: the sampler and batch sampler in use (those built here are for
        # inspection, e.g. len(loader.sampler); iteration does not go through them).
        self.sampler = sampler if sampler is not None else (
            RandomSampler(dataset, generator=self._own_generator) if shuffle else SequentialSampler(dataset))
        self.batch_sampler = batch_sampler if batch_sampler is not None else (
            None if batch_size is None else BatchSampler(self.sampler, batch_size, drop_last))
        batched = batch_size is not None or batch_sampler is not None
        view = getattr(dataset, "_array_view", lambda: None)() if collate_fn is default_collate and batched else None
        self._view = view
        self._pool: "_WorkerPool | None" = None

    # -- size -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        if self._batch_sampler is not None:
            return len(self._batch_sampler)
        n = len(self._sampler) if self._sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
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

    def _generator(self) -> numpy.random.Generator:
        return self._own_generator if self._own_generator is not None else host_generator()

    def _order(self, n: int) -> "numpy.ndarray | None":
        """The epoch's dataset indices in visiting order (None: 0..n-1)."""
        if self._sampler is not None:
            order = numpy.fromiter((int(i) for i in self._sampler), dtype=numpy.int64)
            if order.size and (order.min() < -n or order.max() >= n):
                bad = order.min() if order.min() < -n else order.max()
                raise IndexError(f"DataLoader: the sampler gave index {bad}, but the dataset has {n} samples")
            return numpy.where(order < 0, order + n, order)
        if not self.shuffle:
            return None
        return self._generator().permutation(n)

    # -- iteration --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        if self._view is not None:
            return self._iter_arrays()
        if self.num_workers > 0:
            return self._iter_workers()
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
            if all(devices.device_of(a) == dev for a in arrays) or _fits_on(arrays, dev):
                arrays = self.dataset.arrays_on(dev)
            else:
                move_batches = True
        elif dev is not None:
            arrays = tuple(devices.move(a, dev) for a in arrays)
        xp = devices.array_module(arrays[0])
        transform = self.transform

        def finish(batch: list) -> tuple:
            if move_batches:
                batch = [devices.move(b, dev) for b in batch]
            out = tuple(make_tensor(b, False, None) for b in batch)
            return out if transform is None else (transform(out[0]),) + out[1:]

        if self._batch_sampler is not None:
            for chosen in self._batch_sampler:
                rows = numpy.asarray([int(i) for i in chosen], dtype=numpy.int64)
                if rows.size and (rows.min() < -n or rows.max() >= n):
                    bad = rows.min() if rows.min() < -n else rows.max()
                    raise IndexError(f"DataLoader: the batch_sampler gave index {bad}, but the dataset has {n} samples")
                rows = numpy.where(rows < 0, rows + n, rows)
                if base is not None:
                    rows = base[rows]
                yield finish([a[rows if xp is numpy else xp.asarray(rows)] for a in arrays])
            return

        order = self._order(n)
        count = n if order is None else order.shape[0]
        idx = order if base is None else (base if order is None else base[order])
        if idx is not None and xp is not numpy:
            idx = xp.asarray(idx)  # one copy of the epoch's indices, not one per batch
        bs = self.batch_size
        if idx is not None and len(arrays) == 2 and transform is None and not move_batches:
            # The common (features, targets) case, kept lean: per-batch overhead matters at small batches.
            a0, a1 = arrays
            for start in self._bounds(count):
                rows = idx[start:start + bs]
                yield make_tensor(a0[rows], False, None), make_tensor(a1[rows], False, None)
            return
        for start in self._bounds(count):
            sel = slice(start, start + bs)
            if idx is None:
                batch = [a[sel].copy() for a in arrays]
            else:
                rows = idx[sel]
                batch = [a[rows] for a in arrays]  # fancy indexing already copies
            yield finish(batch)

    def _index_batches(self) -> Iterator[Any]:
        """One epoch's batches of dataset indices: lists of ints, or single ints when batching is
        off.  The epoch's order is drawn now, not when the first batch is asked for."""
        if self._batch_sampler is not None:
            return ([int(i) for i in chosen] for chosen in self._batch_sampler)
        n = len(self.dataset)
        order = self._order(n)
        count = n if order is None else order.shape[0]
        if self.batch_size is None:
            return iter(range(count) if order is None else order.tolist())
        bs = self.batch_size
        if order is None:
            return (list(range(start, min(start + bs, count))) for start in self._bounds(count))
        return (order[start:start + bs].tolist() for start in self._bounds(count))

    def _finish(self, batch: Any) -> Any:
        """A collated batch as Tensors on the loader's device, with ``transform`` applied."""
        out = _as_tensors(batch, self.device)
        transform = self.transform
        if transform is None:
            return out
        if isinstance(out, Tensor):
            return transform(out)
        if isinstance(out, (tuple, list)) and len(out) > 0:
            items = [transform(out[0]), *out[1:]]
            if isinstance(out, list):
                return items
            return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
        raise TypeError(f"DataLoader(transform=...) applies to the first field of tuple batches or to a tensor "
                        f"batch, but this batch is a {type(out).__name__}; apply it in the dataset or collate_fn")

    def _iter_samples(self) -> Iterator[Any]:
        dataset, collate = self.dataset, self.collate_fn
        batched = self.batch_size is not None or self._batch_sampler is not None
        for rows in self._index_batches():
            batch = collate([dataset[i] for i in rows]) if batched else collate(dataset[rows])
            yield self._finish(batch)

    # -- worker processes -------------------------------------------------------------------------
    def _context(self) -> Any:
        ctx = self.multiprocessing_context
        if ctx is None:
            return multiprocessing.get_context()
        return multiprocessing.get_context(ctx) if isinstance(ctx, str) else ctx

    def _iter_workers(self) -> Iterator[Any]:
        plan = self._index_batches()  # drawn first: the first epoch's order is that of num_workers=0
        # A base seed per epoch, also with persistent workers (which keep their first one), so the
        # generator advances the same way whether or not the workers persist.
        base_seed = int(self._generator().integers(0, 2**62))
        pool = self._pool
        if pool is None:
            pool = _WorkerPool(self, base_seed)
            if self.persistent_workers:
                self._pool = pool
        finished = False
        try:
            for task in plan:
                pool.submit(task)
                if pool.sent - pool.received >= self.prefetch_factor * self.num_workers:
                    break
            while pool.received < pool.sent:
                batch = pool.get()
                task = next(plan, None)
                if task is not None:
                    pool.submit(task)
                yield self._finish(batch)
            finished = True
        finally:
            if not self.persistent_workers:
                pool.close()
            elif not finished:
                self._drain_or_close(pool)

    def _drain_or_close(self, pool: _WorkerPool) -> None:
        """After an epoch left early: drain the persistent workers for the next epoch, or, when a
        worker failed, stop them (the next epoch starts new ones)."""
        try:
            pool.drain()
        except Exception:
            pool.close()
            self._pool = None

    def __repr__(self) -> str:
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}{workers}, device={self.device})")
