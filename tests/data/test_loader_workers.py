"""DataLoader(num_workers > 0): batches built in worker processes, in order, reproducibly
seeded; worker failures become one clear error; workers never outlive their loader."""
import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, TensorDataset, get_worker_info

REPO = Path(__file__).resolve().parents[2]


class Squares(Dataset):
    """Deterministic samples computed in Python: (features, target)."""

    def __init__(self, n=37):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), i * i


class Noisy(Dataset):
    """Samples drawn from the generators a dataset typically uses for augmentation."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        info = get_worker_info()
        return (mg.rand(2), np.random.rand(), random.random(), i, -1 if info is None else info.id)


class Failing(Dataset):
    """Sample ``bad`` misbehaves as ``mode`` says."""

    def __init__(self, mode, bad=17, n=40):
        self.mode, self.bad, self.n = mode, bad, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.mode == "raise":
                raise ValueError(f"sample {i} is broken")
            if self.mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.mode == "sleep":
                time.sleep(60)
        return np.zeros(2, dtype=np.float32), i


def _workers():
    """The loader worker processes alive now."""
    return [p for p in multiprocessing.active_children() if p.name.startswith("minigrad-DataLoader-worker")]


def _epoch(loader):
    return [tuple(t.numpy().copy() if isinstance(t, mg.Tensor) else t for t in batch) for batch in loader]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert len(x) == len(y)
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("num_workers", [1, 3])
def test_workers_give_the_single_process_batches_in_order(num_workers):
    single = _epoch(DataLoader(Squares(), batch_size=5, shuffle=True, seed=4))
    multi = _epoch(DataLoader(Squares(), batch_size=5, shuffle=True, seed=4, num_workers=num_workers))
    _same(multi, single)
    assert multi[0][0].dtype == np.float32 and multi[0][1].dtype == np.int64
    targets = np.concatenate([b[1] for b in multi])
    np.testing.assert_array_equal(np.sort(targets), np.arange(37) ** 2)
    ordered = _epoch(DataLoader(Squares(), batch_size=4, num_workers=num_workers, drop_last=True))
    assert len(ordered) == 9
    np.testing.assert_array_equal(np.concatenate([b[1] for b in ordered]), np.arange(36) ** 2)


def test_workers_are_seeded_reproducibly_and_differently():
    def run(**kw):
        return _epoch(DataLoader(Noisy(), batch_size=4, num_workers=2, **kw))

    first, again = run(seed=7), run(seed=7)
    _same(first, again)  # the same seed: the same augmentations
    other = run(seed=8)
    assert not np.array_equal(first[0][0], other[0][0])
    # Batch k comes from worker k % 2, and the two workers draw different numbers.
    assert first[0][4].tolist() == [0] * 4 and first[1][4].tolist() == [1] * 4
    for field in (0, 1, 2):
        assert not np.array_equal(first[0][field], first[1][field])
    # Without a loader seed, mg.manual_seed makes the run reproducible; each epoch reseeds the workers.
    mg.manual_seed(3)
    loader = DataLoader(Noisy(), batch_size=4, num_workers=2)
    e1, e2 = _epoch(loader), _epoch(loader)
    mg.manual_seed(3)
    _same(_epoch(DataLoader(Noisy(), batch_size=4, num_workers=2)), e1)
    assert not np.array_equal(e1[0][0], e2[0][0])


def _record_init(worker_id):
    info = get_worker_info()
    info.dataset.init_calls = (worker_id, info.num_workers, info.seed)


class InitRecorder(Dataset):
    init_calls = None

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array(self.init_calls), np.array([info.id, info.num_workers, info.seed])


def test_worker_init_fn_and_get_worker_info():
    assert get_worker_info() is None  # the main process
    batches = list(DataLoader(InitRecorder(), batch_size=2, num_workers=3, worker_init_fn=_record_init, seed=0))
    seeds = []
    for k, (init, info) in enumerate(batches):
        worker, count, seed = info.numpy()[0]
        assert worker == k % 3 and count == 3
        np.testing.assert_array_equal(init.numpy()[0], [worker, 3, seed])  # init ran in that worker first
        seeds.append(seed)
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2  # base seed + worker id


def test_worker_exception_is_one_clear_error_naming_worker_and_index():
    loader = DataLoader(Failing("raise"), batch_size=4, num_workers=2)
    with pytest.raises(ValueError, match=r"DataLoader worker 0 failed on dataset index 17: ValueError: sample 17 "
                                         r"is broken \(at test_loader_workers.py:\d+ in __getitem__\)") as info:
        list(loader)
    assert "\n" not in str(info.value)
    assert "sample 17 is broken" in info.value.worker_traceback and "Traceback" in info.value.worker_traceback
    assert _workers() == []


def test_collate_and_pickling_failures_name_the_batch():
    def bad_collate(samples):
        raise KeyError("no such field")

    with pytest.raises(KeyError, match=r"worker 0 failed collating the batch of dataset indices \[0, 1, 2\]"):
        next(iter(DataLoader(Squares(), batch_size=3, num_workers=1, collate_fn=bad_collate)))

    def unpicklable(samples):
        return [lambda: 0]

    with pytest.raises(Exception, match=r"worker 0 failed sending the batch of dataset indices \[0, 1, 2\] to the "
                                        r"main process \(its contents cannot be pickled\)"):
        next(iter(DataLoader(Squares(), batch_size=3, num_workers=1, collate_fn=unpicklable)))


def test_worker_init_fn_failure_is_reported():
    def init(worker_id):
        raise OSError(f"worker {worker_id} cannot open its shard")

    with pytest.raises(OSError, match=r"DataLoader worker 0 failed in worker_init_fn: OSError: worker 0 cannot open"):
        list(DataLoader(Squares(), batch_size=4, num_workers=2, worker_init_fn=init))
    assert _workers() == []


class SlowBatches:
    """A batch sampler that takes its time, so the loader sends tasks after a worker has gone."""

    def __iter__(self):
        for i in range(4):
            if i:
                time.sleep(0.3)
            yield [i]

    def __len__(self):
        return 4


def _fail_init(worker_id):
    raise OSError("no shard")


def test_worker_init_fn_failure_wins_over_the_closed_pipe():
    loader = DataLoader(Squares(), batch_sampler=SlowBatches(), num_workers=1, prefetch_factor=4,
                        worker_init_fn=_fail_init)
    with pytest.raises(OSError, match="DataLoader worker 0 failed in worker_init_fn: OSError: no shard"):
        list(loader)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_worker_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) was killed by signal SIGKILL"):
        list(DataLoader(Failing("kill"), batch_size=4, num_workers=2))
    assert _workers() == []


def test_timeout_raises_and_stops_the_stuck_worker():
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 s waiting for a batch from worker 0"):
        list(DataLoader(Failing("sleep"), batch_size=4, num_workers=2, timeout=0.5))
    assert _workers() == []


def test_break_and_garbage_collection_stop_the_workers():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2)
    for _ in loader:
        assert len(_workers()) == 2
        break
    assert _workers() == []
    it = iter(loader)
    next(it)
    assert len(_workers()) == 2
    del it
    gc.collect()
    assert _workers() == []


def test_interpreter_exit_with_a_live_iterator_does_not_hang():
    script = textwrap.dedent("""
        import numpy as np
        from minigrad.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 1000
            def __getitem__(self, i):
                return np.zeros(20000, dtype=np.float32)   # big batches: workers block on the pipe

        it = iter(DataLoader(Slow(), batch_size=64, num_workers=3, persistent_workers=True))
        next(it)
        print("done")
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"


def test_persistent_workers_live_across_epochs_and_survive_a_break():
    loader = DataLoader(Squares(), batch_size=4, num_workers=2, persistent_workers=True, shuffle=True, seed=1)
    reference = DataLoader(Squares(), batch_size=4, num_workers=1, shuffle=True, seed=1)  # new workers per epoch
    _same(_epoch(loader), _epoch(reference))
    pids = [p.pid for p in loader._pool.procs]
    for k, _ in enumerate(loader):
        if k == 1:
            break  # the batches still in flight are drained before the next epoch
    for k, _ in enumerate(reference):
        if k == 1:
            break
    _same(_epoch(loader), _epoch(reference))
    assert [p.pid for p in loader._pool.procs] == pids and len(_workers()) == 2
    del loader
    gc.collect()
    assert _workers() == []


def test_tensordataset_keeps_the_whole_array_path_without_workers():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    ds = TensorDataset(x, np.arange(20))
    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=0, num_workers=4)
    assert loader._view is not None
    for _ in loader:
        assert _workers() == []  # sliced in this process: no workers started
    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=0, num_workers=4)
    _same(_epoch(loader), _epoch(DataLoader(ds, batch_size=6, shuffle=True, seed=0)))


def test_spawn_context_and_batching_off():
    ds = TensorDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6))
    # collate_fn=list keeps samples apart (and takes the per-sample path); builtins pickle for spawn.
    batches = list(DataLoader(ds, batch_size=4, num_workers=1, collate_fn=list, multiprocessing_context="spawn"))
    assert [len(b) for b in batches] == [4, 2]
    assert [int(sample[1].item()) for b in batches for sample in b] == list(range(6))
    single = list(DataLoader(Squares(5), batch_size=None, num_workers=2,
                             multiprocessing_context=multiprocessing.get_context()))
    assert [s[1] for s in single] == [0, 1, 4, 9, 16]  # numbers stay numbers, as PyTorch's default_convert
    assert all(isinstance(s[0], mg.Tensor) and s[0].shape == (3,) for s in single)


def test_unpicklable_dataset_with_spawn_is_one_clear_error():
    class Local(Squares):
        pass

    with pytest.raises(TypeError, match=r"'spawn' start method has to pickle the dataset.*define them at module"):
        list(DataLoader(Local(), batch_size=4, num_workers=1, multiprocessing_context="spawn"))
    assert _workers() == []


def test_device_is_applied_in_the_main_process(device):
    batches = list(DataLoader(Squares(9), batch_size=4, num_workers=2, device=device))
    assert all(t.device == device for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[1].cpu().numpy() for b in batches]), np.arange(9) ** 2)
