"""Run N training steps of bench_mlp's NumPy floor or minigrad, for counting instructions.

Timings on shared machines swing by tens of percent; instruction counts do not.  Count a run of
20 steps and one of 120 under valgrind and divide the difference by 100 (start-up cancels out):

    PY=$(python -c "import sys; print(sys.executable)")   # the interpreter itself, not a wrapper script
    valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY benchmarks/step_instructions.py minigrad 4 20
    valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY benchmarks/step_instructions.py minigrad 4 120

("Collected" in valgrind's summary is the count.)  Below 8 samples per batch the network shrinks
to 8-6-3, so the count is almost all per-call bookkeeping; from 8 up it is the 784-100-10 MLP.
``--tool=cachegrind --cache-sim=yes`` in the same way gives cache misses.  Run the same Python
binary for both counts, with its bytecode cache already written (a first run does that).
"""
from __future__ import annotations

import argparse

from _common import try_torch  # noqa: F401  (single-threaded BLAS first)

import bench_mlp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("impl", choices=["numpy", "minigrad"])
    ap.add_argument("batch", type=int)
    ap.add_argument("steps", type=int)
    args = ap.parse_args()
    if args.batch < 8:
        bench_mlp.IN, bench_mlp.HIDDEN, bench_mlp.OUT = 8, 6, 3
    step = bench_mlp.make_numpy(args.batch) if args.impl == "numpy" else bench_mlp.make_minigrad(args.batch)
    for _ in range(5 + args.steps):
        step()


if __name__ == "__main__":
    main()
