"""Follow-up checks behind docs/results.md's network2 notes: is a published single run inside our
seed-to-seed spread, and do the causes we suspected move our figure toward it?

Each check trains (or reads back from ``--runs-dir``) runs of ``network2_chapter3.py`` and prints
the per-seed figures, their mean, sample sd, min and max:

* ``seeds quadratic|l2|overfitting``: the table's run with more seeds.  quadratic: 784-30-10,
  quadratic cost, η=3 (book: 95.42% best test); l2: 784-30-10 cross-entropy η=0.5 λ=5 on 50,000
  images (96.49%); overfitting: 1,000 images, λ=0, 400 epochs (82.27%; also prints the first epoch
  with 100% training accuracy, book ≈ 67).
* ``quadratic-variant float64|pix256``: the quadratic run in float64 arithmetic (as the book's
  NumPy code) or with the book's pixel scale (mnist.pkl.gz stores x/256 rather than x/255).
* ``elastic-epochs``: the Simard elastic-distortion MLP trained for ``--epochs`` epochs instead of 15,
  printing validation and test accuracy per epoch.

Run from the repository root (MNIST in $MINIGRAD_DATA/mnist or --data-dir); ``--quick`` uses the
few-second scale of ``network2_chapter3.py --quick``::

    OMP_NUM_THREADS=1 python examples/network2_checks.py seeds l2 --seeds 0,1,2,3,4,5,6,7 --runs-dir runs/network2
    OMP_NUM_THREADS=1 python examples/network2_checks.py quadratic-variant float64 --seeds 0,1,2 --runs-dir runs/network2
    OMP_NUM_THREADS=1 python examples/network2_checks.py elastic-epochs --epochs 30 --runs-dir runs/network2
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import minigrad as mg  # noqa: E402
import network2_chapter3 as n2  # noqa: E402


def spread_line(percent: np.ndarray) -> str:
    sd = percent.std(ddof=1) if len(percent) > 1 else float("nan")
    return (f"mean {percent.mean():.2f} sd {sd:.2f} min {percent.min():.2f} max {percent.max():.2f} "
            f"({len(percent)} seeds)")


def report_best(spec: n2.RunSpec, runs: list, seeds: list) -> np.ndarray:
    best = np.array([100 * max(r.test_accuracy) for r in runs])
    print(spec.key, "seeds", seeds)
    print("best test accuracy per seed (%):", np.round(best, 2).tolist())
    print(spread_line(best))
    return best


def check_seeds(which: str, store: n2.RunStore, scale: n2.Scale, seeds: list) -> None:
    if which == "overfitting":
        spec = dict(n2.overfitting_specs(scale))[0.0]
        runs = [store.get(spec, seed) for seed in seeds]
        report_best(spec, runs, seeds)
        print("first epoch with 100% training accuracy per seed:",
              [n2.first_epoch_at(r.train_accuracy, 1.0) for r in runs])
        return
    quadratic = which == "quadratic"
    spec = n2.scaled_spec(n2.RunSpec(scale.hidden_small, "quadratic" if quadratic else "cross_entropy",
                                     3.0 if quadratic else 0.5, lmbda=0.0 if quadratic else 5.0), scale)
    report_best(spec, [store.get(spec, seed) for seed in seeds], seeds)


def variant_data(variant: str, data: n2.Splits) -> n2.Splits:
    """The splits in float64 (labels untouched), or with pixels rescaled from x/255 to x/256."""
    arrays = dataclasses.astuple(data)
    if variant == "float64":
        return n2.Splits(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])
    return n2.Splits(*[a * np.float32(255 / 256) if a.dtype.kind == "f" else a for a in arrays])


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    seeds_parser = sub.add_parser("seeds", help="a table run with more seeds")
    seeds_parser.add_argument("which", choices=("quadratic", "l2", "overfitting"))
    variant_parser = sub.add_parser("quadratic-variant", help="the quadratic run in float64 or with x/256 pixels")
    variant_parser.add_argument("variant", choices=("float64", "pix256"))
    elastic_parser = sub.add_parser("elastic-epochs", help="the elastic-distortion MLP trained longer")
    elastic_parser.add_argument("--epochs", type=int, default=30, help="epochs (default 30; the table uses 15)")
    for p in (seeds_parser, variant_parser, elastic_parser):
        p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
        p.add_argument("--quick", action="store_true", help="the few-second scale of network2_chapter3.py --quick")
        p.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"), help="MNIST root ($MINIGRAD_DATA)")
        p.add_argument("--runs-dir", type=Path, help="read stored runs from / write new runs to this folder")
    args = parser.parse_args(argv)
    try:
        seeds = [int(v) for v in args.seeds.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    if not seeds:
        parser.error("--seeds needs at least one seed")
    scale = n2.QUICK if args.quick else n2.FULL
    sizes = (1000, 1000) if args.quick else (None, None)
    try:
        data = n2.load_splits(args.data_dir, *sizes)
    except mg.data.DataFilesNotFound as exc:
        print(exc)
        return 1
    log = (lambda line: None) if args.quick else (lambda line: print(line, flush=True))

    if args.check == "seeds":
        check_seeds(args.which, n2.RunStore(lambda: data, args.runs_dir, False, log), scale, seeds)
    elif args.check == "quadratic-variant":
        if args.variant == "float64":
            mg.set_default_dtype(mg.float64)
        store = n2.RunStore(lambda: variant_data(args.variant, data), args.runs_dir, False, log)
        spec = n2.scaled_spec(n2.RunSpec(scale.hidden_small, "quadratic", 3.0), scale,
                              data_tag=f"{scale.data_tag}-{args.variant}")
        report_best(spec, [store.get(spec, seed) for seed in seeds], seeds)
    else:
        store = n2.RunStore(lambda: data, args.runs_dir, False, log)
        longer = dataclasses.replace(scale, expanded_epochs=args.epochs)
        spec = dict((name, spec) for name, spec, _ in n2.expanded_specs(longer))["elastic distortions"]
        for seed in seeds:
            run = store.get(spec, seed)
            print(f"{spec.key} seed {seed}")
            print("validation accuracy per epoch (%):", [round(100 * v, 2) for v in run.val_accuracy])
            print("test accuracy per epoch (%):", [round(100 * v, 2) for v in run.test_accuracy])
    return 0


if __name__ == "__main__":
    sys.exit(main())
