"""How long drawing takes: a 10,000-op chain to DOT text, and small graphs through ``dot``.

Figures, not assertions (CI machines vary).  Reported, as medians of wall-clock and of
this process's CPU time (the steadier number on a busy machine):
  to_dot untraced      draw_graph(...).to_dot() on a 10,000-op chain recorded normally
  to_dot traced        the same chain recorded under viz.trace() (every result becomes a vertex)
  SVG through dot      DOT text through Graphviz's dot to SVG, 200 ops (skipped without dot)
  backward_viewer      steps + page for a 200-op chain

Run:  python benchmarks/bench_viz.py [--ops 10000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (single-threaded BLAS, repository on sys.path)

import minigrad as mg
from minigrad import viz


def chain(n_ops: int, traced: bool) -> mg.Tensor:
    """n_ops element-wise ops cycling through mul, add, tanh, exp-of-small (then the sum)."""
    mg.manual_seed(0)
    x = mg.randn(8, requires_grad=True)

    def run() -> mg.Tensor:
        y = x
        for i in range(n_ops - 1):
            k = i % 4
            y = y * 0.5 if k == 0 else y + 0.1 if k == 1 else y.tanh() if k == 2 else (y * 0.01).exp()
        return y.sum()

    if traced:
        with viz.trace():
            return run()
    return run()


def median_time(fn, rounds: int) -> tuple:
    """Median (wall seconds, CPU seconds of this process) per call; CPU time is the steadier
    figure on a shared machine."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def show(what: str, times: tuple, extra: str = "") -> None:
    print(f"{what:28s} wall {times[0] * 1e3:8.1f} ms   cpu {times[1] * 1e3:8.1f} ms   {extra}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    for traced in (False, True):
        out = chain(args.ops, traced)
        d = viz.draw_graph(out)
        t = median_time(lambda: viz.draw_graph(out).to_dot(), args.rounds)
        show(f"to_dot {'traced' if traced else 'untraced'}, {args.ops} ops", t,
             f"({len(d.graph.items)} vertices, {len(d.graph.edges)} edges, {len(d.to_dot()) / 1e6:.1f} MB of DOT)")

    small = chain(200, True)
    if shutil.which("dot"):
        d = viz.draw_graph(small)
        show("SVG through dot, 200 ops", median_time(lambda: d.pipe("svg"), max(1, args.rounds // 2)))
    else:
        print("SVG through dot: skipped (Graphviz's dot is not installed)")
    with tempfile.TemporaryDirectory() as tmp:
        t = median_time(lambda: viz.backward_viewer(small, Path(tmp) / "bp.html"), max(1, args.rounds // 2))
    show("backward_viewer, 200 ops", t)

if __name__ == "__main__":
    main()
