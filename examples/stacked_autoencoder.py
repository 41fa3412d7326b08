"""Stacked sparse autoencoders for MNIST digit classification: UFLDL's "Exercise: Implement deep
networks for digit classification".

Source: Andrew Ng et al., *UFLDL Tutorial* (Stanford, 2011), "Stacked Autoencoders", "Fine-tuning
Stacked AEs" and the exercise
(http://ufldl.stanford.edu/wiki/index.php/Exercise:_Implement_deep_networks_for_digit_classification),
which reports 87.7% test accuracy before fine-tuning and 97.6% after.

A 784-200-200-10 classifier is built greedily, one layer at a time, then trained as a whole:

1. sparse autoencoder 1 (784-200-784) on the training images x;
2. sparse autoencoder 2 (200-200-200) on autoencoder 1's features h1 = σ(x·W1ᵀ + b1);
   both with ρ = 0.1, β = 3, λ = 3e-3 and 400 L-BFGS iterations (the cost is
   ``sparse_autoencoder_cost`` from sparse_autoencoder.py);
3. a softmax classifier p = softmax(h2·θᵀ) on autoencoder 2's features h2 = σ(h1·W2ᵀ + b2),
   θ (10, 200) without a bias, as in UFLDL; cost −(1/m) Σ_i log p_{i,y_i} + (λ/2)‖θ‖², λ = 1e-4,
   100 L-BFGS iterations from θ ~ 0.005·N(0, 1);
4. fine-tuning: the encoders (W1, b1, W2, b2) and θ together, by backpropagation through the
   whole stack, on the same softmax cost (weight decay on θ only, no sparsity term), 400 L-BFGS
   iterations.

For comparison the same 784-200-200-10 network is trained from a random start (encoder weights
uniform in ±√6/√(n_in + n_out + 1), biases 0, θ ~ 0.005·N(0, 1)) with the fine-tuning cost and
budget.  Training uses the first 50,000 MNIST training images (split 'train'; UFLDL used all
60,000, which costs a fifth more time); accuracies are on the 10,000 test images.

Run from the repository root (MNIST in $MINIGRAD_DATA/mnist, or pass --data-dir):
    python examples/stacked_autoencoder.py                  # about 2.5 hours on one core (float32)
    python examples/stacked_autoencoder.py --quick          # 1,000 images, small layers, a few seconds
    python examples/stacked_autoencoder.py --save runs/sae  # also keep the numbers and encoders (JSON + .npz)
    python examples/stacked_autoencoder.py --load runs/sae  # reprint the table and redraw from those files
    python examples/stacked_autoencoder.py --part pretrained --save runs/a   # the two halves in parallel,
    python examples/stacked_autoencoder.py --part random --save runs/b       # then --load runs/a runs/b
    python examples/stacked_autoencoder.py --part pretrained --resume runs/a --save runs/a2  # after an interruption
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn  # noqa: E402
from sparse_autoencoder import (DTYPES, LBFGSRun, SparsitySettings, draw_features,  # noqa: E402
                                minimize_lbfgs, positive_int, train_sparse_autoencoder, uniform_init)

ROOT = Path(__file__).resolve().parents[1]
UFLDL_BEFORE, UFLDL_AFTER = 87.7, 97.6  # test accuracy (%) the exercise page reports


class StackedClassifier(nn.Module):
    """x (m, n_in) → h1 = σ(x·W1ᵀ + b1) (m, n1) → h2 = σ(h1·W2ᵀ + b2) (m, n2) → logits h2·θᵀ (m, n_classes)."""

    def __init__(self, w1: mg.Tensor, b1: mg.Tensor, w2: mg.Tensor, b2: mg.Tensor, theta: mg.Tensor) -> None:
        super().__init__()
        self.w1, self.b1 = nn.Parameter(w1.detach().clone()), nn.Parameter(b1.detach().clone())
        self.w2, self.b2 = nn.Parameter(w2.detach().clone()), nn.Parameter(b2.detach().clone())
        self.theta = nn.Parameter(theta.detach().clone())

    @classmethod
    def random(cls, sizes: tuple, rng: np.random.Generator, dtype) -> "StackedClassifier":
        """A random start: encoders as the autoencoders start, θ ~ 0.005·N(0, 1); sizes (n_in, n1, n2, classes)."""
        n_in, n1, n2, n_classes = sizes
        t = lambda a: mg.tensor(a, dtype=dtype)  # noqa: E731
        return cls(t(uniform_init(n1, n_in, rng)), t(np.zeros(n1)), t(uniform_init(n2, n1, rng)), t(np.zeros(n2)),
                   t(0.005 * rng.standard_normal((n_classes, n2))))

    def features(self, x: mg.Tensor) -> mg.Tensor:
        """h2, the second layer's activations (m, n2)."""
        return mg.sigmoid(mg.sigmoid(x @ self.w1.T + self.b1) @ self.w2.T + self.b2)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.features(x) @ self.theta.T


def softmax_cost(logits: mg.Tensor, labels: mg.Tensor, theta: mg.Tensor, weight_decay: float) -> mg.Tensor:
    """UFLDL's softmax cost: −(1/m) Σ_i log softmax(logits_i)_{y_i} + (λ/2)‖θ‖²; logits (m, C), labels (m,)."""
    return F.cross_entropy(logits, labels) + (theta ** 2).sum() * (0.5 * weight_decay)


def accuracy(logits: mg.Tensor, labels: np.ndarray) -> float:
    """Percentage of rows whose largest logit is at the label."""
    return 100.0 * float((logits.numpy().argmax(axis=1) == labels).mean())


@dataclass
class Stage:
    """One row of the table: a training stage, its cost before and after, its optimizer record, and the
    train/test accuracy of the classifier it produced (None for the autoencoders)."""

    name: str
    cost_before: float
    cost_after: float
    iterations: int
    evaluations: int
    stop_reason: str
    seconds: float
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    mean_rho_hat: float | None = None


def stage_from_run(name: str, before: float, after: float, run: LBFGSRun, **extra) -> Stage:
    return Stage(name, before, after, run.iterations, run.evaluations, run.stop_reason, run.seconds, **extra)


@dataclass
class Config:
    """The sizes and budgets of one run."""

    hidden: tuple
    autoencoder_iterations: int
    softmax_iterations: int
    finetune_iterations: int
    softmax_weight_decay: float = 1e-4


def minimize_and_measure(cost: Callable[[], mg.Tensor], params: list, max_iter: int) -> tuple[float, float, LBFGSRun]:
    """Minimise ``cost()`` over ``params`` with L-BFGS; (cost before, cost after, optimizer record)."""
    with mg.no_grad():
        before = cost().item()
    run = minimize_lbfgs(params, cost, max_iter)
    with mg.no_grad():
        after = cost().item()
    return before, after, run


PARTS = ("all", "pretrained", "random")
PRETRAINED_STAGES = ("softmax on features", "fine-tuned stack")
RANDOM_STAGE = "random start, same net"


@dataclass
class Record:
    """What a run has produced so far: its stages, the cost per evaluation of the two whole-network
    trainings, and the pretrained encoders (w1 (n1, 784), b1, w2 (n2, n1), b2, as NumPy arrays).
    With a ``folder``, every stage that ends rewrites stacked_autoencoder.json there (and the
    encoders as stacked_autoencoder_pretrained.npz), so an interrupted run keeps what it finished."""

    header: str
    seed: int
    config: Config
    images: int
    folder: Path | None = None
    stages: list = field(default_factory=list)
    curves: dict = field(default_factory=dict)
    encoders: dict = field(default_factory=dict)

    def add(self, stage: Stage, curve: list | None = None) -> None:
        self.stages.append(stage)
        if curve is not None:
            self.curves[stage.name] = curve
        accuracy_note = "" if stage.test_accuracy is None else f", test accuracy {stage.test_accuracy:.2f}%"
        print(f"  {stage.name}: cost {stage.cost_before:.4g} -> {stage.cost_after:.4g}, {stage.iterations} "
              f"iterations, {stage.seconds:.0f} s{accuracy_note}", file=sys.stderr, flush=True)
        if self.folder is not None:
            self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"header": self.header, "seed": self.seed, "config": asdict(self.config), "images": self.images,
                  "stages": [asdict(s) for s in self.stages], "curves": self.curves}
        (self.folder / "stacked_autoencoder.json").write_text(json.dumps(record, indent=1))
        if self.encoders:
            np.savez(self.folder / "stacked_autoencoder_pretrained.npz", **self.encoders)


def run_experiment(x: mg.Tensor, y: np.ndarray, x_test: mg.Tensor, y_test: np.ndarray, record: Record,
                   part: str = "all") -> None:
    """Greedy pretraining, softmax and fine-tuning (part 'pretrained'), the random-start baseline
    (part 'random'), or both ('all'); each stage is added to ``record`` as it ends."""
    config, seed = record.config, record.seed
    settings = SparsitySettings()
    y_tensor = mg.tensor(y)
    n1, n2 = config.hidden

    def evaluate(model: StackedClassifier) -> dict:
        with mg.no_grad():
            return {"train_accuracy": accuracy(model(x), y), "test_accuracy": accuracy(model(x_test), y_test)}

    if part in ("all", "pretrained"):
        if set(record.encoders) >= {"w1", "b1", "w2", "b2"}:  # resumed: pretraining already done
            w1, b1, w2, b2 = (mg.tensor(record.encoders[k], dtype=x.dtype) for k in ("w1", "b1", "w2", "b2"))
        else:
            # 1-2: greedy layer-wise pretraining
            ae1, r1 = train_sparse_autoencoder(x, n1, settings, seed, config.autoencoder_iterations)
            record.encoders.update(w1=ae1.w1.detach().numpy(), b1=ae1.b1.detach().numpy())
            record.add(Stage(f"autoencoder 1 ({x.shape[1]}-{n1})", r1.initial.total, r1.trained.total,
                             r1.iterations, r1.evaluations, r1.stop_reason, r1.seconds,
                             mean_rho_hat=r1.trained.mean_rho_hat))
            with mg.no_grad():
                h1 = ae1.encode(x)
            ae2, r2 = train_sparse_autoencoder(h1, n2, settings, seed + 1, config.autoencoder_iterations)
            record.encoders.update(w2=ae2.w1.detach().numpy(), b2=ae2.b1.detach().numpy())
            record.add(Stage(f"autoencoder 2 ({n1}-{n2})", r2.initial.total, r2.trained.total, r2.iterations,
                             r2.evaluations, r2.stop_reason, r2.seconds, mean_rho_hat=r2.trained.mean_rho_hat))
            w1, b1, w2, b2 = ae1.w1, ae1.b1, ae2.w1, ae2.b1

        # 3: softmax on the second layer's features (the encoders stay fixed)
        theta = mg.tensor(0.005 * np.random.default_rng([seed, 2]).standard_normal((10, n2)), dtype=x.dtype)
        stack = StackedClassifier(w1, b1, w2, b2, theta)
        with mg.no_grad():
            h2 = stack.features(x)  # fixed while θ is trained: computed once
        before, after, run = minimize_and_measure(
            lambda: softmax_cost(h2 @ stack.theta.T, y_tensor, stack.theta, config.softmax_weight_decay),
            [stack.theta], config.softmax_iterations)
        record.add(stage_from_run(PRETRAINED_STAGES[0], before, after, run, **evaluate(stack)))

        # 4: fine-tuning the whole stack
        before, after, run = minimize_and_measure(
            lambda: softmax_cost(stack(x), y_tensor, stack.theta, config.softmax_weight_decay),
            list(stack.parameters()), config.finetune_iterations)
        record.add(stage_from_run(PRETRAINED_STAGES[1], before, after, run, **evaluate(stack)), run.costs)

    if part in ("all", "random"):
        # the same network and budget from a random start
        scratch = StackedClassifier.random((x.shape[1], n1, n2, 10), np.random.default_rng([seed, 3]), x.dtype)
        before, after, run = minimize_and_measure(
            lambda: softmax_cost(scratch(x), y_tensor, scratch.theta, config.softmax_weight_decay),
            list(scratch.parameters()), config.finetune_iterations)
        record.add(stage_from_run(RANDOM_STAGE, before, after, run, **evaluate(scratch)), run.costs)


# -- output -------------------------------------------------------------------------------------------------
def print_table(stages: list, header: str) -> None:
    print(header)
    columns = ("stage", "cost_before", "cost_after", "mean_rho_hat", "train_acc%", "test_acc%", "iterations",
               "evaluations", "stop", "seconds")
    widths = (28, 11, 10, 12, 10, 9, 10, 11, 16, 7)
    print(" ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(columns, widths))))
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    for s in stages:
        cells = [s.name, f"{s.cost_before:.5f}", f"{s.cost_after:.5f}", fmt(s.mean_rho_hat, ".5f"),
                 fmt(s.train_accuracy, ".2f"), fmt(s.test_accuracy, ".2f"), s.iterations, s.evaluations,
                 s.stop_reason.replace(" ", "_"), f"{s.seconds:.1f}"]
        print(" ".join(f"{str(v):<{w}}" if i == 0 else f"{str(v):>{w}}"
                       for i, (v, w) in enumerate(zip(cells, widths))))
    by_name = {s.name: s for s in stages}
    found = lambda name: f"{by_name[name].test_accuracy:.2f}%" if name in by_name else "(not run)"  # noqa: E731
    print(f"test accuracy before fine-tuning {found(PRETRAINED_STAGES[0])} (UFLDL {UFLDL_BEFORE}%), "
          f"after {found(PRETRAINED_STAGES[1])} (UFLDL {UFLDL_AFTER}%), random start {found(RANDOM_STAGE)}")


def draw(w1: np.ndarray | None, stages: list, curves: dict, out: Path, seed: int) -> None:
    """The first layer's features, and the whole-network training costs and test accuracies."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no pictures were drawn")
        return
    if w1 is not None:
        path = out / "stacked_autoencoder_features.png"
        draw_features(w1, path, f"stacked autoencoder: the {w1.shape[0]} first-layer features after pretraining "
                                f"(seed {seed})")
        print(f"wrote {path}")
    by_name = {s.name: s for s in stages}
    names = [n for n in (*PRETRAINED_STAGES, RANDOM_STAGE) if n in by_name]
    if not names:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for label, costs in curves.items():
        left.semilogy(np.arange(1, len(costs) + 1), costs, label=label)
    left.set_xlabel("cost evaluation (L-BFGS)")
    left.set_ylabel("softmax cost + weight decay (train)")
    left.set_title("training the whole network")
    if curves:
        left.legend()
    labels = {PRETRAINED_STAGES[0]: "before fine-tuning", PRETRAINED_STAGES[1]: "after fine-tuning",
              RANDOM_STAGE: "random start"}
    ufldl = {PRETRAINED_STAGES[0]: UFLDL_BEFORE, PRETRAINED_STAGES[1]: UFLDL_AFTER, RANDOM_STAGE: math.nan}
    ours = [by_name[n].test_accuracy for n in names]
    pos = np.arange(len(names))
    right.bar(pos - 0.2, [ufldl[n] for n in names], width=0.4, label="UFLDL (reported)", color="0.7")
    right.bar(pos + 0.2, ours, width=0.4, label="minigrad", color="tab:blue")
    for p, v in zip(pos, ours):
        right.text(p + 0.2, v + 0.3, f"{v:.1f}", ha="center", fontsize=9)
    right.set_xticks(pos, [labels[n] for n in names])
    right.set_ylim(min(ours + [UFLDL_BEFORE]) - 10, 106)
    right.set_ylabel("test accuracy (%)")
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = out / "stacked_autoencoder_accuracy.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


# -- command line -----------------------------------------------------------------------------------------
def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 images, 100-100 hidden units, 25-30 "
                        "iterations per stage: a check that runs in seconds")
    parser.add_argument("--seed", type=int, default=0, help="seed of every initialization (default 0)")
    parser.add_argument("--images", type=positive_int, default=None,
                        help="first N training images (default: all 50,000 of split 'train')")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="float32 (default) or float64")
    parser.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"),
                        help="folder holding mnist/ (default $MINIGRAD_DATA)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs")
    parser.add_argument("--part", choices=PARTS, default="all", help="all (default); pretrained: pretraining, "
                        "softmax and fine-tuning only; random: the random-start baseline only")
    parser.add_argument("--save", type=Path, default=None, help="folder to write stacked_autoencoder.json and the "
                        "pretrained encoders (.npz) into, rewritten as each stage ends")
    parser.add_argument("--load", type=Path, nargs="+", default=None, help="reprint and redraw from --save "
                        "folders (one or more, e.g. a 'pretrained' and a 'random' run) instead of training")
    parser.add_argument("--resume", type=Path, default=None, help="a --save folder whose run stopped after "
                        "pretraining: reuse its encoders and go on from the softmax stage")
    args = parser.parse_args(argv)

    if args.load is not None:
        return replay(args.load, args.out, args.quick)

    if args.quick:
        config = Config(hidden=(100, 100), autoencoder_iterations=25, softmax_iterations=25, finetune_iterations=30)
    else:
        config = Config(hidden=(200, 200), autoencoder_iterations=400, softmax_iterations=100, finetune_iterations=400)
    try:
        train = mg.data.MNIST(args.data_dir, split="train")
        test = mg.data.MNIST(args.data_dir, split="test")
    except mg.data.DataFilesNotFound as e:
        print(e)
        return 1
    n_images = args.images or (1000 if args.quick else len(train))
    if n_images > len(train):
        parser.error(f"--images {n_images}: the training images number {len(train)}")
    dtype = DTYPES[args.dtype]
    x = mg.tensor(np.asarray(train.arrays[0][:n_images]), dtype=dtype)
    y = np.asarray(train.arrays[1][:n_images])
    x_test, y_test = mg.tensor(np.asarray(test.arrays[0]), dtype=dtype), np.asarray(test.arrays[1])

    n1, n2 = config.hidden
    header = (f"stacked autoencoder 784-{n1}-{n2}-10, {n_images} MNIST training images, {len(y_test)} test images, "
              f"{args.dtype}, seed {args.seed}; L-BFGS iterations: autoencoders {config.autoencoder_iterations}, "
              f"softmax {config.softmax_iterations}, fine-tuning {config.finetune_iterations}")
    record = Record(header, args.seed, config, n_images, args.save)
    if args.resume is not None:
        if args.part == "random":
            parser.error("--resume continues the 'pretrained' part; it does not apply to --part random")
        try:
            saved = json.loads((args.resume / "stacked_autoencoder.json").read_text())
            encoders = dict(np.load(args.resume / "stacked_autoencoder_pretrained.npz"))
        except (OSError, ValueError) as e:
            parser.error(f"--resume {args.resume}: no readable stacked_autoencoder.json and "
                         f"stacked_autoencoder_pretrained.npz there ({e})")
        if saved["header"] != header or not set(encoders) >= {"w1", "b1", "w2", "b2"}:
            parser.error(f"--resume {args.resume}: that folder holds '{saved['header']}' with encoders "
                         f"{sorted(encoders)}; this run is '{header}' and needs w1, b1, w2, b2")
        record.encoders = encoders
        record.stages = [Stage(**s) for s in saved["stages"] if s["name"].startswith("autoencoder")]
    run_experiment(x, y, x_test, y_test, record, args.part)
    print_table(record.stages, header)
    if not args.quick:
        draw(record.encoders.get("w1"), record.stages, record.curves, args.out, args.seed)
    return 0


def replay(folders: list, out: Path, quick: bool) -> int:
    """Reprint the table and redraw from one or more --save folders of the same setup."""
    records = [json.loads((folder / "stacked_autoencoder.json").read_text()) for folder in folders]
    if any(r["header"] != records[0]["header"] for r in records):
        print("--load: the folders hold runs of different setups: " + "; ".join(r["header"] for r in records))
        return 1
    stages = [Stage(**s) for r in records for s in r["stages"]]
    curves = {name: c for r in records for name, c in r["curves"].items()}
    print_table(stages, records[0]["header"])
    if not quick:
        saved = [f / "stacked_autoencoder_pretrained.npz" for f in folders
                 if (f / "stacked_autoencoder_pretrained.npz").exists()]
        draw(np.load(saved[0])["w1"] if saved else None, stages, curves, out, records[0]["seed"])
    return 0

if __name__ == "__main__":
    sys.exit(main())
