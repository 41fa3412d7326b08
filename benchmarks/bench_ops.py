"""Per-op overhead: forward+backward of a chain of 100 small element-wise ops.

Compared in one process, interleaved, single-threaded, medians:
  numpy-fwd  the same chain's forward in plain NumPy (the floor: no autodiff at all)
  torch      PyTorch CPU eager, forward + backward
  minigrad   forward + backward

Run:  python benchmarks/bench_ops.py [--size 256] [--rounds 30]
"""
from __future__ import annotations

import argparse

from _common import interleaved, try_torch

import numpy as np

N_OPS = 100


def chain(y, w, b, tanh):
    """The benchmarked chain: 25 × (y·w, y+b, tanh, y·0.9), for any array/tensor type."""
    for i in range(N_OPS // 4):
        y = y * w
        y = y + b
        y = tanh(y)
        y = y * 0.9
    return y


def chain_numpy(x, w, b):
    return chain(x, w, b, np.tanh)


def make_autograd(make_tensor, size):
    """forward + backward + reset of the chain with ``make_tensor(array)`` leaves (minigrad or torch)."""
    rng = np.random.default_rng(0)
    x, w, b = (make_tensor(rng.standard_normal(size).astype("float32")) for _ in range(3))
    tanh = type(x).tanh  # the unbound method: no extra call per op

    def step():
        chain(x, w, b, tanh).sum().backward()
        x.grad = w.grad = b.grad = None

    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256, help="elements per tensor")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(args.size).astype("float32") for _ in range(3))
    import minigrad as mg

    contenders = {"numpy-fwd": lambda: chain_numpy(x, w, b),
                  "minigrad": make_autograd(lambda a: mg.tensor(a, requires_grad=True), args.size)}
    torch = try_torch()
    if torch is not None:
        contenders["torch"] = make_autograd(lambda a: torch.tensor(a, requires_grad=True), args.size)
    med = interleaved(contenders, args.rounds, args.repeat)
    floor = med["numpy-fwd"]
    print(f"chain of {N_OPS} element-wise ops on float32[{args.size}], fwd+bwd; medians of {args.rounds} rounds")
    print(f"{'':10s} {'us/op':>8s} {'x numpy-fwd':>12s}")
    for name, t in med.items():
        print(f"{name:10s} {t / N_OPS * 1e6:8.2f} {t / floor:12.2f}")
    if "torch" in med:
        print(f"minigrad / torch = {med['minigrad'] / med['torch']:.2f}")


if __name__ == "__main__":
    main()
