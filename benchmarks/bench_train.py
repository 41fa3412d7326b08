"""Samples per second of the training loop behind ``minigrad train --dataset mnist`` versus the
same model trained by a hand-written NumPy loop (the floor).

Both: 784-100-10 ReLU MLP, softmax cross-entropy, plain SGD (lr 0.1), batch 64, shuffled each
epoch, on the first N MNIST training images (or random data of that shape when MNIST is absent).
minigrad runs through ``mg.train.fit`` with a ``DataLoader`` — the command's code path.
Interleaved, single-threaded, medians.

Run:  MINIGRAD_DATA=../shared/data python benchmarks/bench_train.py [--n 10000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

from _common import paired_ratio, try_torch  # noqa: F401  (sets single-threaded BLAS first)

import numpy as np
from bench_mlp import numpy_sgd_step

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

IN, HIDDEN, OUT, LR, BATCH = 784, 100, 10, 0.1, 64


def load(n: int) -> tuple:
    try:
        x, y = mg.data.MNIST(split="train").arrays
        return np.ascontiguousarray(x[:n]), np.asarray(y[:n], dtype=np.int64), "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((n, IN), dtype=np.float32), rng.integers(0, OUT, n).astype(np.int64), "random"


def numpy_epoch(x: np.ndarray, y: np.ndarray, ws: list, rng: np.random.Generator, monitor: bool = False) -> tuple:
    """One shuffled epoch of hand-written NumPy SGD.  With ``monitor`` it also keeps the epoch's
    training loss and accuracy the way ``fit`` does (per-batch sums on arrays, read once at the end),
    which is what the command prints; without, it does the bare updates."""
    order = rng.permutation(len(x))
    loss_sum = correct = 0
    for i in range(0, len(x), BATCH):
        idx = order[i:i + BATCH]
        r = numpy_sgd_step(x[idx], y[idx], ws, LR, with_loss=False, monitor=monitor)
        if monitor:
            loss_sum = loss_sum + r[0]
            correct = correct + r[1]
    return float(loss_sum) / len(x), float(correct) / len(x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000, help="training images per epoch")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    x, y, source = load(args.n)
    rng = np.random.default_rng(0)
    ws = [rng.normal(0, 0.05, (HIDDEN, IN)).astype(np.float32), np.zeros(HIDDEN, np.float32),
          rng.normal(0, 0.05, (OUT, HIDDEN)).astype(np.float32), np.zeros(OUT, np.float32)]

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))
    opt = mg.optim.SGD(model.parameters(), lr=LR)
    loader = mg.data.DataLoader(mg.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True, seed=0)

    times: dict = {"numpy": [], "numpy+monitor": [], "minigrad": []}
    numpy_epoch(x, y, ws, rng)  # warm-up
    mg.train.fit(model, F.cross_entropy, opt, loader, epochs=1, quiet=True)
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        numpy_epoch(x, y, ws, rng)
        times["numpy"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        numpy_epoch(x, y, ws, rng, monitor=True)
        times["numpy+monitor"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        mg.train.fit(model, F.cross_entropy, opt, loader, epochs=1, quiet=True)
        times["minigrad"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{source} training, {args.n} images per epoch, batch {BATCH}, medians of {args.rounds} epochs")
    for k, t in med.items():
        print(f"{k:14s} {args.n / t:10.0f} samples/s")
    print(f"time ratio minigrad / numpy (bare updates)            = {med['minigrad'] / med['numpy']:.2f}")
    print(f"time ratio minigrad / numpy+monitor (same epoch loss/acc) = {med['minigrad'] / med['numpy+monitor']:.2f}")
    paired = paired_ratio(times, "minigrad", "numpy+monitor")
    print(f"median over rounds of minigrad / numpy+monitor in the same round = {paired:.2f}")


if __name__ == "__main__":
    main()
