"""Samples per second of the training behind ``minigrad train --dataset mnist`` versus the same
model and training hand-written in NumPy (the floor).

minigrad runs the command's own code: model, optimizer, loss and training loader built by
``minigrad.train.recipe`` from the command's MNIST defaults (784-100-10 ReLU, Adam lr 1e-3, batch
64, inputs standardized with the training split's statistics), trained by ``mg.train.fit``.
The floor: the same forward and backward written in NumPy (``bench_mlp.numpy_gradients``), the
same update (Adam: ``bench_adam.numpy_adam``; SGD: in place), on inputs standardized once before
training, shuffled each epoch, keeping the epoch's loss and accuracy as the command prints them.
``--optimizer sgd --lr 0.1`` times the same loop with the cheapest update, where minigrad's
per-step bookkeeping weighs most.  Both start from the same weights; their losses are checked to
agree over the first steps.  Interleaved, single-threaded, medians; the first N MNIST training
images (random data of that shape when MNIST is absent).

Run:  MINIGRAD_DATA=../shared/data python benchmarks/bench_train.py [--n 10000] [--rounds 21] [--optimizer sgd]
"""
from __future__ import annotations

import argparse
import statistics
import time

from _common import paired_ratio, try_torch  # noqa: F401  (sets single-threaded BLAS first)

import numpy as np
from bench_adam import numpy_adam
from bench_mlp import numpy_gradients

import minigrad as mg
from minigrad.train import recipe as R

IN, OUT = 784, 10


def load(n: int) -> tuple:
    try:
        x, y = mg.data.MNIST(split="train").arrays
        return np.ascontiguousarray(x[:n]), np.asarray(y[:n], dtype=np.int64), "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((n, IN), dtype=np.float32), rng.integers(0, OUT, n).astype(np.int64), "random"


def command_setup(x: np.ndarray, y: np.ndarray, **overrides) -> tuple:
    """What ``minigrad train --dataset mnist`` builds, on the images ``x``: (config, model, loss,
    optimizer, training loader, normalizer)."""
    cfg = R.resolve({"dataset": "mnist", **overrides})
    if R.hidden_sizes(cfg["hidden"]) != [100] or cfg["activation"] != "relu" or cfg["loss"] != "cross_entropy":
        raise SystemExit(f"the floor is a 784-100-10 ReLU MLP with cross-entropy; the command's config is {cfg}")
    mg.manual_seed(cfg["seed"])
    split = mg.data.TensorDataset(x, y)
    norm = mg.data.Normalize(per_feature=False).fit(split) if cfg["normalize"] else None
    model = R.build_model(cfg)
    loader = R.build_loaders(cfg, (split, split, split), norm)[0]
    return cfg, model, R.build_loss(cfg["loss"]), R.build_optimizer(model, cfg), loader, norm


def numpy_trainer(cfg: dict, model, norm, x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple:
    """The floor: (epoch(), step(xb, yb), weights) for a NumPy copy of ``model``'s weights, trained as
    ``cfg`` says.  ``epoch`` returns the epoch's mean loss and accuracy."""
    ws = [p.detach().numpy().copy() for p in model.parameters()]  # w1, b1, w2, b2
    xs = norm(x) if norm is not None else x  # standardized once, before training
    bs = cfg["batch_size"]
    if cfg["optimizer"] == "adam" and not cfg["weight_decay"]:
        update = numpy_adam(ws, lr=cfg["lr"])
    elif cfg["optimizer"] == "sgd" and not cfg["momentum"] and not cfg["weight_decay"]:
        lr = cfg["lr"]

        def update(grads: tuple) -> None:
            for w, g in zip(ws, grads):
                w -= lr * g
    else:
        raise SystemExit(f"the floor has plain SGD and Adam (no momentum, no weight decay), not {cfg['optimizer']} "
                         f"with momentum {cfg['momentum']} and weight decay {cfg['weight_decay']}")
    rng = np.random.default_rng(seed)

    def step(xb: np.ndarray, yb: np.ndarray) -> tuple:
        grads, monitored = numpy_gradients(xb, yb, ws, monitor=True)
        update(grads)
        return monitored

    def epoch() -> tuple:
        order = rng.permutation(len(xs))
        loss_sum = correct = 0
        for i in range(0, len(xs), bs):
            idx = order[i:i + bs]
            batch_loss, batch_correct = step(xs[idx], y[idx])
            loss_sum = loss_sum + batch_loss
            correct = correct + batch_correct
        return float(loss_sum) / len(xs), float(correct) / len(xs)

    return epoch, step, ws


def check_agreement(x: np.ndarray, y: np.ndarray, steps: int = 3, **overrides) -> None:
    """The floor and the command's training, from the same weights on the same batches, must give the
    same losses and weights for ``steps`` steps (else the timings compare different work)."""
    cfg, model, loss_fn, opt, loader, norm = command_setup(x, y, **overrides)
    _, floor_step, floor_weights = numpy_trainer(cfg, model, norm, x, y)
    for i, (xb, yb) in enumerate(loader):
        if i == steps:
            break
        floor_loss = float(floor_step(xb.numpy(), yb.numpy())[0]) / len(xb)
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if abs(loss.item() - floor_loss) > 1e-4 * max(1.0, abs(floor_loss)):
            raise SystemExit(f"step {i}: minigrad loss {loss.item()} disagrees with the floor's {floor_loss}")
    for p, w in zip(model.parameters(), floor_weights):
        if not np.allclose(p.detach().numpy(), w, rtol=1e-4, atol=1e-6):
            raise SystemExit(f"after {steps} steps, minigrad's weights of shape {w.shape} differ from the floor's")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000, help="training images per epoch")
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--optimizer", choices=("adam", "sgd"), help="default: the command's (adam)")
    p.add_argument("--lr", type=float, help="default: the command's for the optimizer")
    args = p.parse_args()
    if args.optimizer == "sgd" and args.lr is None:
        args.lr = 0.1  # (the command's MNIST lr, 1e-3, is Adam's)
    overrides = {k: v for k, v in (("optimizer", args.optimizer), ("lr", args.lr)) if v is not None}
    x, y, source = load(args.n)
    check_agreement(x[:1000], y[:1000], **overrides)

    cfg, model, loss_fn, opt, loader, norm = command_setup(x, y, **overrides)
    floor_epoch, _, _ = numpy_trainer(cfg, model, norm, x, y)
    contenders = {
        "numpy": floor_epoch,
        "minigrad": lambda: mg.train.fit(model, loss_fn, opt, loader, epochs=1, quiet=True),
    }
    times: dict = {k: [] for k in contenders}
    for fn in contenders.values():  # warm-up
        fn()
    for r in range(args.rounds):
        names = list(contenders) if r % 2 == 0 else list(contenders)[::-1]
        for name in names:
            t0 = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{source} training, {args.n} images per epoch, MLP 784-100-10 ReLU, {cfg['optimizer']} lr {cfg['lr']:g}, "
          f"batch {cfg['batch_size']}, inputs {'standardized' if norm else 'raw'}; medians of {args.rounds} epochs")
    for k, t in med.items():
        print(f"{k:10s} {args.n / t:10.0f} samples/s")
    print(f"time ratio minigrad / numpy (ratio of medians)                    = {med['minigrad'] / med['numpy']:.3f}")
    print(f"median over rounds of minigrad / numpy in the same round (paired) = "
          f"{paired_ratio(times, 'minigrad', 'numpy'):.3f}")


if __name__ == "__main__":
    main()
