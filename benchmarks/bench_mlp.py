"""One training step of an MLP 784-100-10 (Linear, ReLU, Linear, cross-entropy, SGD).

Compared in one process, interleaved, single-threaded, medians of per-step time:
  numpy     hand-written forward + backward + in-place SGD in plain NumPy (the floor)
  torch     PyTorch CPU eager: nn.Sequential, F.cross_entropy, backward, optim.SGD (skipped if not installed)
  minigrad  mg.nn.Sequential, mg.nn.functional.cross_entropy, backward, SGD

"mg/np" is the ratio of the medians; "mg/np paired" the median of the per-round ratios (each
minigrad block over the NumPy block of the same round), which cancels most of the load drift of
a shared machine.

  mg.jit    (--jit) the same minigrad step under mg.jit: captured once, replayed as a flat program

Run:  python benchmarks/bench_mlp.py [--batches 10 64 256] [--rounds 30] [--repeat 20] [--warm 5] [--no-torch] [--jit]
      [--profile 64]
"""
from __future__ import annotations

import argparse
import statistics

from _common import interleaved_times, paired_ratio, try_torch

import numpy as np

IN, HIDDEN, OUT = 784, 100, 10
LR = 0.01


def make_data(batch: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, IN)).astype(np.float32)
    t = rng.integers(0, OUT, batch)
    return x, t


def make_weights(seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    b1, b2 = 1 / np.sqrt(IN), 1 / np.sqrt(HIDDEN)
    return [rng.uniform(-b1, b1, (HIDDEN, IN)).astype(np.float32), rng.uniform(-b1, b1, HIDDEN).astype(np.float32),
            rng.uniform(-b2, b2, (OUT, HIDDEN)).astype(np.float32), rng.uniform(-b2, b2, OUT).astype(np.float32)]


def numpy_gradients(x: np.ndarray, t: np.ndarray, ws: list, rows: np.ndarray | None = None,
                    with_loss: bool = True, monitor: bool = False) -> tuple:
    """The floor's forward and backward: Linear-ReLU-Linear with softmax cross-entropy, written
    out in NumPy, for the weights ``ws`` = [w1, b1, w2, b2].

    Returns (gradients in the order of ``ws``, loss), where loss is the mean loss as a float
    (``with_loss``), or with ``monitor`` what a training loop that reports its epoch's loss and
    accuracy keeps per batch, as arrays (no float conversion): (batch loss sum, number of
    correct predictions); else None."""
    w1, b1, w2, b2 = ws
    batch = len(x)
    rows = np.arange(batch) if rows is None else rows
    h = x @ w1.T
    h += b1
    a = np.maximum(h, 0)
    z = a @ w2.T
    z += b2
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    loss = float((np.log(s[:, 0]) - zs[rows, t]).mean()) if with_loss and not monitor else None
    if monitor:
        loss = ((np.log(s[:, 0]) - zs[rows, t]).sum(), (z.argmax(axis=1) == t).sum())
    dz = e / s
    dz[rows, t] -= 1
    dz /= batch
    dw2 = dz.T @ a
    db2 = dz.sum(axis=0)
    dh = dz @ w2
    dh *= h > 0
    dw1 = dh.T @ x
    db1 = dh.sum(axis=0)
    return (dw1, db1, dw2, db2), loss


def numpy_sgd_step(x: np.ndarray, t: np.ndarray, ws: list, lr: float, rows: np.ndarray | None = None,
                   with_loss: bool = True, monitor: bool = False) -> float | tuple | None:
    """The floor: one hand-written forward/backward (:func:`numpy_gradients`, which says what is
    returned) and SGD step, updating the arrays in ``ws`` = [w1, b1, w2, b2] in place."""
    grads, loss = numpy_gradients(x, t, ws, rows, with_loss, monitor)
    for w, g in zip(ws, grads):
        w -= lr * g  # in place: ws holds the same arrays the forward reads
    return loss


def make_numpy(batch: int):
    x, t = make_data(batch)
    ws = make_weights()
    rows = np.arange(batch)
    return lambda: numpy_sgd_step(x, t, ws, LR, rows)


def make_torch(torch, batch: int):
    x, t = make_data(batch)
    model = torch.nn.Sequential(torch.nn.Linear(IN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, OUT))
    with torch.no_grad():
        for p, w in zip(model.parameters(), make_weights()):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    F = torch.nn.functional

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xt), tt)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def make_minigrad(batch: int):
    import minigrad as mg

    x, t = make_data(batch)
    nn, F = mg.nn, mg.nn.functional
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))
    model.load_state_dict({k: w for k, w in zip(model.state_dict(), make_weights())})
    params = list(model.parameters())
    xt, tt = mg.tensor(x), mg.tensor(t)
    opt = mg.optim.SGD(params, lr=LR)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xt), tt)
        loss.backward()
        opt.step()
        return loss

    return step


def make_minigrad_jit(batch: int):
    """The minigrad step under ``mg.jit``: the batch passed in as arguments (copied into the
    program's input buffers at each call, as a training loop's new batches are), and warmed up
    (one eager call, one traced) before it is timed."""
    import minigrad as mg

    x, t = make_data(batch)
    nn, F = mg.nn, mg.nn.functional
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))
    model.load_state_dict({k: w for k, w in zip(model.state_dict(), make_weights())})
    opt = mg.optim.SGD(model.parameters(), lr=LR)

    @mg.jit
    def step(xb, tb):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), tb)
        loss.backward()
        opt.step()
        return loss

    xt, tt = mg.tensor(x), mg.tensor(t)
    return lambda: step(xt, tt)


def check_agreement(batch: int, torch, with_jit: bool = False) -> None:
    """All contenders start from the same weights, so their losses must agree step by step."""
    steps = {"numpy": make_numpy(batch), "minigrad": make_minigrad(batch)}
    if with_jit:
        steps["mg.jit"] = make_minigrad_jit(batch)
    if torch is not None:
        steps["torch"] = make_torch(torch, batch)
    for _ in range(3):
        losses = {name: float(fn()) for name, fn in steps.items()}
        ref = losses["numpy"]
        for name, v in losses.items():
            if abs(v - ref) > 1e-4 * max(1.0, abs(ref)):
                raise SystemExit(f"batch {batch}: {name} loss {v} disagrees with numpy {ref}")


def profile(batch: int, steps: int = 2000) -> None:
    import cProfile
    import pstats

    step = make_minigrad(batch)
    for _ in range(20):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[10, 64, 256])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warm", type=int, default=5, help="untimed steps before each timed block")
    ap.add_argument("--no-torch", action="store_true",
                    help="time only NumPy and minigrad (PyTorch in the rotation evicts the floor's caches)")
    ap.add_argument("--profile", type=int, default=None, metavar="BATCH",
                    help="instead of timing, cProfile minigrad's step at this batch size")
    ap.add_argument("--jit", action="store_true", help="also time the minigrad step under mg.jit (captured, replayed)")
    args = ap.parse_args()
    if args.profile:
        profile(args.profile)
        return
    torch = None if args.no_torch else try_torch()
    print(f"MLP {IN}-{HIDDEN}-{OUT} training step, single thread, median of {args.rounds} rounds x {args.repeat} steps "
          f"(each block after {args.warm} untimed steps, order rotating)")
    jit_header = f" {'jit us':>8} {'jit/np':>7} {'jit/np paired':>13}" if args.jit else ""
    print(f"{'batch':>6} {'numpy us':>10} {'torch us':>10} {'minigrad us':>12} {'torch/np':>9} {'mg/np':>7} {'mg/torch':>9}"
          f" {'mg/np paired':>12}{jit_header}")
    for batch in args.batches:
        check_agreement(batch, torch, args.jit)
        contenders = {"numpy": make_numpy(batch), "minigrad": make_minigrad(batch)}
        if args.jit:
            contenders["mg.jit"] = make_minigrad_jit(batch)
        if torch is not None:
            contenders["torch"] = make_torch(torch, batch)
        times = interleaved_times(contenders, args.rounds, args.repeat, args.warm)
        r = {name: statistics.median(v) for name, v in times.items()}
        np_t, mg_t = r["numpy"], r["minigrad"]
        th_t = r.get("torch")
        th = f"{th_t * 1e6:10.1f}" if th_t else f"{'-':>10}"
        rel_th = f"{th_t / np_t:8.2f}x" if th_t else f"{'-':>9}"
        mg_th = f"{mg_t / th_t:8.2f}x" if th_t else f"{'-':>9}"
        paired = paired_ratio(times, "minigrad", "numpy")
        jit_cells = ""
        if args.jit:
            jit_t = r["mg.jit"]
            jit_cells = f" {jit_t * 1e6:8.1f} {jit_t / np_t:6.2f}x {paired_ratio(times, 'mg.jit', 'numpy'):12.3f}x"
        print(f"{batch:>6} {np_t * 1e6:10.1f} {th} {mg_t * 1e6:12.1f} {rel_th} {mg_t / np_t:6.2f}x {mg_th} {paired:11.3f}x"
              f"{jit_cells}")


if __name__ == "__main__":
    main()
