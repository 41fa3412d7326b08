"""Shared benchmark plumbing: single-threaded BLAS, interleaved rounds, medians."""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def try_torch():
    """PyTorch CPU if importable (a benchmark oracle only), else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def interleaved_times(contenders: Dict[str, Callable[[], None]], rounds: int, repeat: int,
                      warm: int = 0) -> Dict[str, list]:
    """Seconds per call of each contender in every round, timing them in turn each round.

    Each round times a block of ``repeat`` calls per contender, after ``warm`` untimed calls
    (so a block measures the contender with its own data in the caches, as in a training loop,
    not right after another contender evicted them).  The order rotates from round to round, so
    every contender follows every other equally often and no one pays for a neighbour's mess.
    """
    times = {name: [] for name in contenders}
    names = list(contenders)
    for fn in contenders.values():  # warm-up
        fn()
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = contenders[name]
            for _ in range(warm):
                fn()
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            times[name].append((time.perf_counter() - t0) / repeat)
    return times


def interleaved(contenders: Dict[str, Callable[[], None]], rounds: int, repeat: int,
                warm: int = 0) -> Dict[str, float]:
    """Median seconds per call of each contender (see :func:`interleaved_times`)."""
    times = interleaved_times(contenders, rounds, repeat, warm)
    return {name: statistics.median(v) for name, v in times.items()}


def paired_ratio(times: Dict[str, list], name: str, base: str) -> float:
    """Median over rounds of ``name``'s time over ``base``'s time in the same round.

    On a shared machine the load drifts over a run; blocks of one round are timed seconds
    apart, so their ratio cancels most of the drift that the ratio of overall medians keeps."""
    return statistics.median(a / b for a, b in zip(times[name], times[base]))
