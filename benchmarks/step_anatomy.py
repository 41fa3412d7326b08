"""Where minigrad's time over the NumPy floor goes, for bench_mlp's 784-100-10 SGD step.

Four contenders, interleaved in one process, single-threaded, from the same weights and data:

  numpy     bench_mlp's hand-written floor
  arrays    exactly the NumPy calls minigrad's step makes, in its order, with no autograd around
            them: what minigrad's array work alone costs
  tape      a stripped-down tape autograd written for this one network (tensors, nodes, a
            reverse walk by tape position, SGD), with none of minigrad's checks, version counters,
            hooks, dtype rules or device branches: what taping itself costs
  minigrad  bench_mlp's minigrad step

so minigrad − arrays is the bookkeeping, and tape − arrays the part of it no tape can avoid.
``--bytecodes`` instead counts the Python bytecodes one step of each executes (sys.settrace
opcode events), by function.  ``--loop NAME --seconds S`` runs one contender's step alone for
S seconds (after ``--warmup`` seconds, 3 by default, of untimed steps) and prints its step
count, for a sampling profiler, e.g.
``perf record -D 3000 -e cpu-clock -F 4000 python benchmarks/step_anatomy.py --loop minigrad``.

Run:  python benchmarks/step_anatomy.py [--batch 64] [--rounds 21] [--repeat 20] [--bytecodes]
                                        [--loop NAME [--seconds 12] [--warmup 3]]
(docs/performance.md, "Where the step time goes", has the figures and what they say.)
"""
from __future__ import annotations

import argparse
import collections
import heapq
import itertools
import statistics
import sys
import time

from _common import interleaved_times, paired_ratio

import numpy as np

import bench_mlp


def make_arrays(batch: int):
    """The NumPy calls minigrad's step makes (in linear, relu, cross_entropy and SGD), in its order,
    with no autograd around them.  When those change, change this too: check_agreement compares
    only the losses, not the calls."""
    x, t = bench_mlp.make_data(batch)
    ws = bench_mlp.make_weights()
    dt = np.float32
    zero, lr = np.zeros((), dt), np.asarray(bench_mlp.LR, dt)
    rows = np.arange(batch)
    ones_c, ones_n = np.ones((bench_mlp.OUT, 1), dt), np.ones(batch, dt)

    def step() -> float:
        w1, b1, w2, b2 = ws
        h = x @ w1.T
        h += b1
        y = np.maximum(h, zero)
        mask = (y != zero).astype(dt)
        z = y @ w2.T
        z += b2
        flat = np.ravel_multi_index((rows, t), z.shape)
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e @ ones_c
        nll = np.log(s).reshape(batch) - shifted.take(flat)
        loss = nll.sum() * (1.0 / batch)
        r = np.asarray(1.0 / batch, dt)
        g = e * (r / s)
        g.reshape(-1)[flat] -= r
        gh = (g @ w2) * mask
        grads = (gh.T @ x, ones_n @ gh, g.T @ y, ones_n @ g)
        for w, gw in zip(ws, grads):
            w -= gw * lr
        return loss

    return step


# -- the stripped-down tape ---------------------------------------------------------------------
_position = itertools.count()
_ones: dict = {}


def _ones_of(shape: tuple, dtype) -> np.ndarray:
    """Cached ones for sums as products, as minigrad's devices.cached_ones."""
    key = (shape, dtype)
    if key not in _ones:
        _ones[key] = np.ones(shape, dtype)
    return _ones[key]


class _T:
    __slots__ = ("data", "grad", "node", "needs_grad")

    def __init__(self, data, needs_grad: bool = False, node=None) -> None:
        self.data, self.grad, self.node, self.needs_grad = data, None, node, needs_grad


class _Node:
    __slots__ = ("inputs", "position", "saved")

    @classmethod
    def apply(cls, *args):
        node = cls()
        out = node.forward(*args)
        node.inputs = [(a.node or a) if isinstance(a, _T) and a.needs_grad else None for a in args]
        node.position = next(_position)
        return _T(out, True, node)


class _Linear(_Node):
    __slots__ = ()

    def forward(self, x, w, b):
        out = x.data @ w.data.T
        out += b.data
        self.saved = (x, w)
        return out

    def backward(self, g):
        x, w = self.saved
        ones = _ones_of((len(g),), g.dtype)
        return (_T(g @ w.data) if self.inputs[0] is not None else None, _T(g.T @ x.data), _T(ones @ g))


class _ReLU(_Node):
    __slots__ = ()

    def forward(self, x):
        zero = np.zeros((), x.data.dtype)
        y = np.maximum(x.data, zero)
        self.saved = (y != zero).astype(y.dtype)
        return y

    def backward(self, g):
        return (_T(g * self.saved),)


class _CrossEntropy(_Node):
    __slots__ = ()

    def forward(self, z, t):
        a = z.data
        m, c = a.shape
        flat = np.ravel_multi_index((np.arange(m), t), a.shape)
        shifted = a - a.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e @ _ones_of((c, 1), a.dtype)
        self.saved = (e, s, flat, m)
        return (np.log(s).reshape(m) - shifted.take(flat)).sum() * (1.0 / m)

    def backward(self, g):
        e, s, flat, m = self.saved
        r = np.asarray(float(g) / m, e.dtype)
        grad = e * (r / s)
        grad.reshape(-1)[flat] -= r
        return (_T(grad), None)


def _backward(loss: _T) -> None:
    grads = {loss.node: np.ones((), loss.data.dtype)}
    heap = [(-loss.node.position, loss.node)]
    while heap:
        node = heapq.heappop(heap)[1]
        for target, g in zip(node.inputs, node.backward(grads.pop(node))):
            if target is None or g is None:
                continue
            if target in grads:
                grads[target] = grads[target] + g.data
            else:
                grads[target] = g.data
                if target.__class__ is not _T:
                    heapq.heappush(heap, (-target.position, target))
        node.saved = None
    for leaf, g in grads.items():
        leaf.grad = _T(g)


def make_tape(batch: int):
    x, t = bench_mlp.make_data(batch)
    params = [_T(w, True) for w in bench_mlp.make_weights()]
    w1, b1, w2, b2 = params
    xt = _T(x)
    lr = np.asarray(bench_mlp.LR, np.float32)

    def step() -> float:
        for p in params:
            p.grad = None
        loss = _CrossEntropy.apply(_Linear.apply(_ReLU.apply(_Linear.apply(xt, w1, b1)), w2, b2), t)
        _backward(loss)
        for p in params:
            p.data -= p.grad.data * lr
        return loss.data

    return step


def contenders(batch: int) -> dict:
    return {"numpy": bench_mlp.make_numpy(batch), "arrays": make_arrays(batch), "tape": make_tape(batch),
            "minigrad": bench_mlp.make_minigrad(batch)}


def check_agreement(batch: int) -> None:
    """All four start from the same weights: their losses must agree for three steps."""
    steps = contenders(batch)
    for _ in range(3):
        losses = {name: float(fn()) for name, fn in steps.items()}
        for name, v in losses.items():
            if abs(v - losses["numpy"]) > 1e-4 * max(1.0, abs(losses["numpy"])):
                raise SystemExit(f"batch {batch}: {name} loss {v} disagrees with numpy {losses['numpy']}")


def count_bytecodes(step, steps: int = 10) -> collections.Counter:
    """Bytecodes executed per step, by (file, function)."""
    counts: collections.Counter = collections.Counter()

    def tracer(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename.rsplit("/", 2)[-1], code.co_name)] += 1
        return tracer

    for _ in range(3):
        step()
    sys.settrace(tracer)
    try:
        for _ in range(steps):
            step()
    finally:
        sys.settrace(None)
    return collections.Counter({k: v / steps for k, v in counts.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--bytecodes", action="store_true", help="count bytecodes per step instead of timing")
    ap.add_argument("--loop", choices=("numpy", "arrays", "tape", "minigrad"),
                    help="run this contender alone (for a profiler) instead of timing all")
    ap.add_argument("--seconds", type=float, default=12.0, help="with --loop: how long, after the warm-up")
    ap.add_argument("--warmup", type=float, default=3.0, help="with --loop: seconds of untimed steps first")
    args = ap.parse_args()
    check_agreement(args.batch)
    if args.loop:
        step = contenders(args.batch)[args.loop]
        for seconds in (args.warmup, args.seconds):  # warm-up, then the stretch reported
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                step()
                n += 1
        print(f"{args.loop}: {n} steps in {args.seconds:g} s after {args.warmup:g} s of warm-up, "
              f"{(time.perf_counter() - t0) / n * 1e6:.1f} us/step")
        return
    if args.bytecodes:
        for name, step in contenders(args.batch).items():
            counts = count_bytecodes(step)
            print(f"{name}: {sum(counts.values()):.0f} bytecodes per step")
            for (file, fn), n in counts.most_common(8):
                print(f"  {n:6.0f}  {file}:{fn}")
        return
    times = interleaved_times(contenders(args.batch), args.rounds, args.repeat, args.warm)
    print(f"batch {args.batch}, single thread, {args.rounds} rounds x {args.repeat} steps, order rotating")
    print(f"{'':10s} {'median us':>10s} {'/ numpy':>8s} {'paired':>8s}")
    for name, v in times.items():
        med = statistics.median(v)
        print(f"{name:10s} {med * 1e6:10.1f} {med / statistics.median(times['numpy']):7.3f}x"
              f" {paired_ratio(times, name, 'numpy'):7.3f}x")


if __name__ == "__main__":
    main()
