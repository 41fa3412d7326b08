"""One Adam step over a ~1M-parameter model (the weights of an MLP 784-1024-256-10, float32),
or over the tensors given with ``--shapes``.

Compared in one process, interleaved, single-threaded, medians of per-step time:
  numpy     a hand-written NumPy Adam (the textbook update, temporaries allowed): the floor
  torch     torch.optim.Adam(foreach=True), PyTorch CPU (skipped if not installed)
  minigrad  mg.optim.Adam (its fast form on the CPU, adam_update_chunked)
  minigrad@N  the same with ``--whole-bytes N``: parameters up to N bytes updated whole, larger
            ones in 256 KiB chunks (minigrad's default N is ``_WHOLE_BYTES`` in
            minigrad/optim/optimizer.py; 0 chunks every parameter, a huge N none)
  minigrad-plain  with ``--plain``: mg.optim.Adam with ``update_form = "plain"``, the update rule
            adam_update as the paper writes it (a temporary per array operation)
Only the optimizer step is timed: gradients are fixed random tensors set once.  The
parameters drift a little every step on both sides, which does not change the cost.

Run:  python benchmarks/bench_adam.py [--rounds 30] [--repeat 10] [--amsgrad] [--weight-decay 0.01]
                                      [--shapes 100x784,100,10x100,10] [--whole-bytes 0] [--plain]
"""
from __future__ import annotations

import argparse

from _common import interleaved, try_torch

import numpy as np

SHAPES = [(1024, 784), (1024,), (256, 1024), (256,), (10, 256), (10,)]


def parse_shapes(spec: str) -> list:
    """Parse "100x784,100" into [(100, 784), (100,)]."""
    return [tuple(int(d) for d in item.split("x")) for item in spec.split(",")]


def make_arrays(shapes: list = SHAPES, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in shapes]
    return params, grads


def make_minigrad(kwargs: dict, shapes: list = SHAPES, whole_bytes: int | None = None, update_form: str = "fast"):
    """minigrad's Adam step; with ``whole_bytes``, parameters up to that size are updated whole
    and larger ones in cache-sized chunks, instead of minigrad's ``_WHOLE_BYTES``;
    ``update_form="plain"`` runs the plain update rule instead of the fast forms."""
    import minigrad as mg
    from minigrad.optim import optimizer

    params, grads = make_arrays(shapes)
    ps = [mg.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = mg.tensor(g)
    opt = mg.optim.Adam(ps, lr=1e-3, **kwargs)
    opt.update_form = update_form
    if whole_bytes is None:
        return opt.step, ps
    default = optimizer._WHOLE_BYTES

    def step() -> None:
        optimizer._WHOLE_BYTES = whole_bytes
        try:
            opt.step()
        finally:
            optimizer._WHOLE_BYTES = default

    return step, ps


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


def make_numpy(kwargs: dict, shapes: list = SHAPES):
    params, grads = make_arrays(shapes)
    update = numpy_adam(params)
    return lambda: update(grads)


def make_torch(torch, kwargs: dict, shapes: list = SHAPES):
    params, grads = make_arrays(shapes)
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
    p.add_argument("--shapes", type=parse_shapes, default=SHAPES,
                   help="comma-separated parameter shapes, e.g. 100x784,100,10x100,10 (784-100-10 MLP)")
    p.add_argument("--whole-bytes", type=int, help="also time minigrad updating parameters up to this many bytes "
                   "whole (0: every parameter in chunks)")
    p.add_argument("--plain", action="store_true", help="also time the plain update rule (update_form='plain')")
    args = p.parse_args()
    kwargs = dict(amsgrad=args.amsgrad, weight_decay=args.weight_decay)
    shapes = args.shapes
    n = sum(int(np.prod(s)) for s in shapes)
    step_mg, ps_mg = make_minigrad(kwargs, shapes)
    contenders = {"numpy": make_numpy(kwargs, shapes), "minigrad": step_mg}
    other = f"minigrad@{args.whole_bytes}"
    if args.whole_bytes is not None:
        contenders[other] = make_minigrad(kwargs, shapes, whole_bytes=args.whole_bytes)[0]
    if args.plain:
        contenders["minigrad-plain"] = make_minigrad(kwargs, shapes, update_form="plain")[0]
    torch = try_torch()
    if torch is not None:
        step_t, ps_t = make_torch(torch, kwargs, shapes)
        contenders["torch"] = step_t
    med = interleaved(contenders, args.rounds, args.repeat)
    print(f"Adam step over {n:,} float32 parameters in {len(shapes)} tensors ({kwargs}); "
          f"single-threaded, medians of {args.rounds} rounds x {args.repeat} steps")
    for name, t in med.items():
        print(f"{name:20s} {t * 1e3:8.3f} ms/step  {n / t / 1e6:8.1f} Mparam/s  {t / med['numpy']:5.2f}x numpy")
    if args.whole_bytes is not None:
        print(f"minigrad / {other} = {med['minigrad'] / med[other]:.2f}")
    if args.plain:
        print(f"minigrad / minigrad-plain = {med['minigrad'] / med['minigrad-plain']:.2f}")
    if torch is not None:
        print(f"minigrad / torch = {med['minigrad'] / med['torch']:.2f}")
        # same number of steps on both sides from the same start: the parameters must agree
        diff = max(float(np.abs(a.detach().numpy() - b.detach().numpy()).max()) for a, b in zip(ps_mg, ps_t))
        print(f"max |param difference| after {args.rounds * args.repeat + 1} steps = {diff:.2e}")


if __name__ == "__main__":
    main()
