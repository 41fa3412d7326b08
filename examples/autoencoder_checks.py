"""Follow-up checks behind docs/results.md's autoencoder notes.

* ``time-dtype``: one cost-and-gradient evaluation of the sparse autoencoder (784-196-784 on the
  first 10,000 training images, or ``--images``) in float32 and in float64, fastest and median of
  ``--repeats``: why the scripts default to float32.
* ``softmax-stage DIR``: the stacked autoencoder's softmax stage again, on the pretrained encoders
  that ``stacked_autoencoder.py --save DIR`` kept: in float32 as in the run, in float32 with L-BFGS's
  change tolerance off, and in float64.  If all three reach the same cost and accuracy, the early
  stop and the precision are not why the accuracy before fine-tuning differs from UFLDL's.

Run from the repository root (MNIST in $MINIGRAD_DATA/mnist or --data-dir)::

    OMP_NUM_THREADS=1 python examples/autoencoder_checks.py time-dtype
    OMP_NUM_THREADS=1 python examples/autoencoder_checks.py softmax-stage runs/stacked_pretrained
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import minigrad as mg  # noqa: E402
from sparse_autoencoder import SparseAutoencoder, SparsitySettings, minimize_lbfgs, positive_int  # noqa: E402
from stacked_autoencoder import StackedClassifier, accuracy, softmax_cost  # noqa: E402

SOFTMAX_WEIGHT_DECAY, SOFTMAX_ITERATIONS = 1e-4, 100  # the stacked run's softmax stage


def time_dtype(images: np.ndarray, repeats: int) -> None:
    for name in ("float32", "float64"):
        dtype = mg.float32 if name == "float32" else mg.float64
        x = mg.tensor(images, dtype=dtype)
        model = SparseAutoencoder(x.shape[1], 196, np.random.default_rng(0), dtype=dtype)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.zero_grad()
            model.cost(x, SparsitySettings()).total.backward()
            times.append(time.perf_counter() - start)
        print(f"{name}: fastest {min(times):.3f} s, median {np.median(times):.3f} s per evaluation "
              f"(cost + gradient, {len(images)} images, {repeats} repeats)")


def softmax_stage(folder: Path, train: mg.data.MNIST, test: mg.data.MNIST, seed: int) -> None:
    encoders = np.load(folder / "stacked_autoencoder_pretrained.npz")
    y, y_test = np.asarray(train.arrays[1]), np.asarray(test.arrays[1])
    y_tensor = mg.tensor(y)
    n_classes, n2 = 10, encoders["w2"].shape[0]
    for dtype, tolerance_change in ((mg.float32, 1e-9), (mg.float32, 0.0), (mg.float64, 1e-9)):
        def t(a: np.ndarray) -> mg.Tensor:
            return mg.tensor(np.asarray(a), dtype=dtype)
        theta = 0.005 * np.random.default_rng([seed, 2]).standard_normal((n_classes, n2))
        stack = StackedClassifier(t(encoders["w1"]), t(encoders["b1"]), t(encoders["w2"]), t(encoders["b2"]), t(theta))
        with mg.no_grad():
            h2, h2_test = stack.features(t(train.arrays[0])), stack.features(t(test.arrays[0]))

        def cost() -> mg.Tensor:
            return softmax_cost(h2 @ stack.theta.T, y_tensor, stack.theta, SOFTMAX_WEIGHT_DECAY)
        run = minimize_lbfgs([stack.theta], cost, SOFTMAX_ITERATIONS, tolerance_change=tolerance_change)
        with mg.no_grad():
            print(f"{dtype} tolerance_change={tolerance_change:g}: {run.iterations} iterations, {run.evaluations} "
                  f"evaluations, stop: {run.stop_reason}, cost {cost().item():.6f}, "
                  f"train {accuracy(h2 @ stack.theta.T, y):.2f}%, test {accuracy(h2_test @ stack.theta.T, y_test):.2f}%")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    timing = sub.add_parser("time-dtype", help="one cost-and-gradient evaluation in float32 and float64")
    timing.add_argument("--images", type=positive_int, default=10_000, help="first N training images (10,000)")
    timing.add_argument("--repeats", type=positive_int, default=5, help="evaluations per dtype (5)")
    softmax = sub.add_parser("softmax-stage", help="the stacked run's softmax stage in float32/float64")
    softmax.add_argument("folder", type=Path, help="a stacked_autoencoder.py --save folder with the encoders")
    softmax.add_argument("--seed", type=int, default=0, help="the stacked run's seed (default 0)")
    for p in (timing, softmax):
        p.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"), help="MNIST root ($MINIGRAD_DATA)")
    args = parser.parse_args(argv)
    try:
        train = mg.data.MNIST(args.data_dir, split="train")
        test = mg.data.MNIST(args.data_dir, split="test")
    except mg.data.DataFilesNotFound as exc:
        print(exc)
        return 1
    if args.check == "time-dtype":
        time_dtype(np.asarray(train.arrays[0][:args.images]), args.repeats)
    else:
        if not (args.folder / "stacked_autoencoder_pretrained.npz").exists():
            parser.error(f"{args.folder}: no stacked_autoencoder_pretrained.npz there "
                         "(write one with stacked_autoencoder.py --save)")
        softmax_stage(args.folder, train, test, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
