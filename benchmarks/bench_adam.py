"""One Adam step over a ~1M-parameter model (the weights of an MLP 784-1024-256-10, float32).

Compared in one process, interleaved, single-threaded, medians of per-step time:
  numpy     a hand-written NumPy Adam (the textbook update, temporaries allowed): the floor
  torch     torch.optim.Adam(foreach=True), PyTorch CPU (skipped if not installed)
  minigrad  mg.optim.Adam
Only the optimizer step is timed: gradients are fixed random tensors set once.  The
parameters drift a little every step on both sides, which does not change the cost.

Run:  python benchmarks/bench_adam.py [--rounds 30] [--repeat 10] [--amsgrad] [--weight-decay 0.01]
"""
from __future__ import annotations

import argparse

from _common import interleaved, try_torch

import numpy as np

SHAPES = [(1024, 784), (1024,), (256, 1024), (256,), (10, 256), (10,)]


def make_arrays(seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    return params, grads


def make_minigrad(kwargs: dict):
    import minigrad as mg

    params, grads = make_arrays()
    ps = [mg.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = mg.tensor(g)
    opt = mg.optim.Adam(ps, lr=1e-3, **kwargs)
    return opt.step, ps


def numpy_adam(params: list, lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """The floor's Adam over the arrays ``params``: ``update(grads)`` steps them in place by
    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·m̂ / (√v̂ + ε), the textbook update written
    directly with array expressions (no amsgrad / weight decay)."""
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    state = {"t": 0}

    def update(grads: list) -> None:
        state["t"] += 1
        t = state["t"]
        for p, g, m, v in zip(params, grads, ms, vs):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= (lr / (1 - b1 ** t)) * m / (np.sqrt(v / (1 - b2 ** t)) + eps)

    return update


def make_numpy(kwargs: dict):
    params, grads = make_arrays()
    update = numpy_adam(params)
    return lambda: update(grads)


def make_torch(torch, kwargs: dict):
    params, grads = make_arrays()
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = torch.tensor(g)
    opt = torch.optim.Adam(ps, lr=1e-3, foreach=True, **kwargs)
    return opt.step, ps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--amsgrad", action="store_true")
    p.add_argument("--weight-decay", type=float, default=0.0)
    args = p.parse_args()
    kwargs = dict(amsgrad=args.amsgrad, weight_decay=args.weight_decay)
    n = sum(int(np.prod(s)) for s in SHAPES)
    step_mg, ps_mg = make_minigrad(kwargs)
    contenders = {"numpy": make_numpy(kwargs), "minigrad": step_mg}
    torch = try_torch()
    if torch is not None:
        step_t, ps_t = make_torch(torch, kwargs)
        contenders["torch"] = step_t
    med = interleaved(contenders, args.rounds, args.repeat)
    print(f"Adam step over {n:,} float32 parameters in {len(SHAPES)} tensors ({kwargs}); "
          f"single-threaded, medians of {args.rounds} rounds x {args.repeat} steps")
    for name, t in med.items():
        print(f"{name:10s} {t * 1e3:8.3f} ms/step  {n / t / 1e6:8.1f} Mparam/s  {t / med['numpy']:5.2f}x numpy")
    if torch is not None:
        print(f"minigrad / torch = {med['minigrad'] / med['torch']:.2f}")
        # same number of steps on both sides from the same start: the parameters must agree
        diff = max(float(np.abs(a.detach().numpy() - b.detach().numpy()).max()) for a, b in zip(ps_mg, ps_t))
        print(f"max |param difference| after {args.rounds * args.repeat + 1} steps = {diff:.2e}")


if __name__ == "__main__":
    main()
