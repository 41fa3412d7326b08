"""The ``minigrad`` command.  ``minigrad train`` trains a small MLP and reports accuracy;
``minigrad info`` prints versions and what hardware/software was found."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

import numpy as np

import minigrad as mg


def _spirals(n_per_class: int, classes: int, rng: np.random.Generator) -> tuple:
    r = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    k = np.repeat(np.arange(classes), n_per_class)
    t = r * 4.0 + k * (2 * np.pi / classes) + rng.normal(0, 0.15, r.size)
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(np.float32)
    return x, k.astype(np.int64)


def train(args: argparse.Namespace) -> int:
    """Train a 2-64-64-3 tanh MLP on synthetic spirals with plain mini-batch SGD."""
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, y = _spirals(300, 3, rng)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    xtr, ytr, xte, yte = x[n_test:], y[n_test:], x[:n_test], y[:n_test]
    sizes = [2, 64, 64, 3]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (mg.randn(fan_in, fan_out) * (1 / fan_in) ** 0.5).requires_grad_()
        b = mg.zeros(fan_out, requires_grad=True)
        params += [w, b]

    def forward(inp: mg.Tensor) -> mg.Tensor:
        h = inp
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = h.tanh()
        return h

    def loss_fn(logits: mg.Tensor, target: np.ndarray) -> mg.Tensor:
        logp = logits.log_softmax(-1)
        return -logp[np.arange(len(target)), target].mean()

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = rng.permutation(len(xtr))
        total = 0.0
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = loss_fn(forward(mg.tensor(xtr[idx])), ytr[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with mg.no_grad():
                for p in params:
                    p -= args.lr * p.grad
            total += loss.item() * len(idx)
        if not args.quiet and (epoch % 10 == 0 or epoch == args.epochs):
            with mg.no_grad():
                acc = (forward(mg.tensor(xtr)).argmax(-1).numpy() == ytr).mean()
            print(f"epoch {epoch:3d}  loss {total / len(xtr):.4f}  train accuracy {acc * 100:.1f}%")
    with mg.no_grad():
        acc = (forward(mg.tensor(xte)).argmax(-1).numpy() == yte).mean()
    print(f"test accuracy {acc * 100:.1f}%  ({time.perf_counter() - start:.1f} s)")
    return 0


def info(args: argparse.Namespace) -> int:
    import shutil

    print(f"minigrad {mg.__version__}")
    print(f"numpy {np.__version__}")
    try:
        import cupy

        print(f"cupy {cupy.__version__}")
    except Exception:
        print("cupy not installed")
    print(f"CUDA GPU: {'found' if mg.cuda.is_available() else 'not found'}")
    print(f"graphviz dot: {shutil.which('dot') or 'not found'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minigrad", description="minigrad command line")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a small MLP")
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=train)
    sub.add_parser("info", help="versions and devices").set_defaults(func=info)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
