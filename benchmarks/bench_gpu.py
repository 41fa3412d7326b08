"""GPU timings (run where CuPy sees a GPU): an MLP training step on CUDA, minigrad vs PyTorch CUDA
(if importable) vs a hand-written CuPy floor, and the same step on the CPU for reference.

Run:  python benchmarks/bench_gpu.py [--batch 256] [--hidden 1024]
"""
from __future__ import annotations

import argparse
import statistics
import time

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


def timed(step, sync, rounds: int = 20, repeat: int = 20) -> float:
    for _ in range(5):
        step()
    sync()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeat):
            step()
        sync()
        times.append((time.perf_counter() - t0) / repeat)
    return statistics.median(times)


def minigrad_step(device: str, batch: int, hidden: int):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 10)).to(device)
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    x = mg.randn(batch, 784, device=device)
    y = mg.randint(0, 10, (batch,), device=device)

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--hidden", type=int, default=1024)
    args = p.parse_args()
    if not mg.cuda.is_available():
        print("no CUDA GPU: nothing to measure")
        return
    results = {"minigrad cuda": timed(minigrad_step("cuda", args.batch, args.hidden), mg.cuda.synchronize),
               "minigrad cpu": timed(minigrad_step("cpu", args.batch, args.hidden), lambda: None, rounds=5,
                                     repeat=5)}
    try:
        import torch

        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(784, args.hidden), torch.nn.ReLU(),
                                    torch.nn.Linear(args.hidden, args.hidden), torch.nn.ReLU(),
                                    torch.nn.Linear(args.hidden, 10)).cuda()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(args.batch, 784, device="cuda")
        y = torch.randint(0, 10, (args.batch,), device="cuda")

        def tstep() -> None:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

        results["torch cuda"] = timed(tstep, torch.cuda.synchronize)
    except ImportError:
        pass
    print(f"MLP 784-{args.hidden}-{args.hidden}-10 Adam step, batch {args.batch}; medians")
    for name, t in results.items():
        print(f"{name:15s} {t * 1e3:9.3f} ms/step")
    if "torch cuda" in results:
        print(f"minigrad cuda / torch cuda = {results['minigrad cuda'] / results['torch cuda']:.2f}")


if __name__ == "__main__":
    main()
