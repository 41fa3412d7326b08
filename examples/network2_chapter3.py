"""Nielsen's *Neural Networks and Deep Learning*, chapters 1 and 3, with sigmoid networks in minigrad.

Reproduces the experiments of the book's ``network2`` programme (and one result it cites):

* ``cost``: quadratic vs cross-entropy cost (784-30-10, 784-100-10), the chapter 1 and 3 accuracies;
* ``overfitting``: 784-30-10 trained 400 epochs on the first 1,000 training images, without and
  with L2 regularization (the curves of the "overfitting" and "regularization" figures);
* ``regularized_full``: L2 on all 50,000 training images (784-30-10, and 784-100-10 with η=0.1);
* ``init``: N(0, 1) weights ("large") vs N(0, 1/n_in) weights ("default");
* ``schedule``: the chapter's exercise, halving η when validation accuracy stalls for 10 epochs;
* ``expanded``: Simard, Steinkraus & Platt (2003), "Best practices for convolutional neural
  networks applied to visual document analysis" (cited in chapter 3): the 2-layer 784-800-10 MLP
  on plain, affine-distorted and elastically distorted training images, plus dropout.  Here:
  sigmoid hidden units, softmax output, mini-batch 32, η = 0.5 with cosine decay over 15 epochs,
  each training batch warped afresh (affine: rotation ±10°, skew ±0.2, shift ±2 px; elastic:
  α = 34, σ = 4).

The network2 settings: sigmoid units everywhere, mini-batches of 10, plain SGD, a new shuffle
every epoch.  For a batch of m images with one-hot targets y and outputs a = σ(z) (10 sigmoid units)

    quadratic      C = (1/m) Σ_x ½‖a − y‖²
    cross-entropy  C = (1/m) Σ_x Σ_j −y_j ln a_j − (1 − y_j) ln(1 − a_j)

computed from the logits z (``binary_cross_entropy_with_logits``, which never takes ln 0).  L2
regularization adds (λ/2n) Σ w² over the weight matrices (not the biases), n = the training-set
size, which is SGD with ``weight_decay = λ/n`` on the weights: w ← (1 − ηλ/n) w − η ∇C.  The
"large" initializer draws weights and biases from N(0, 1); the "default" one weights from
N(0, 1/n_in) and biases from N(0, 1).  MNIST splits: train = the first 50,000 training images,
validation = the last 10,000, test = the 10,000 test images.

``--quick`` runs every experiment in seconds (1,000 training / 1,000 validation and test images,
784-10-10 and 784-20-10 nets, a few epochs) and prints the same table.

Every run's per-epoch history is written as JSON to ``--runs-dir`` (runs already there are read
back instead of trained again), so ``--from-json DIR`` rebuilds the table and the pictures
without training.

Run from the repository root (MNIST in $MINIGRAD_DATA/mnist or --data-dir)::

    python examples/network2_chapter3.py --quick
    OMP_NUM_THREADS=1 python examples/network2_chapter3.py --experiment cost,init --seeds 0,1,2 \\
        --runs-dir runs/network2
    python examples/network2_chapter3.py --from-json runs/network2
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn  # noqa: E402

EVAL_CHUNK = 10_000  # rows per forward pass when measuring a whole split


# -- data ----------------------------------------------------------------------------------------------
@dataclass
class Splits:
    """MNIST as arrays: features float32 (N, 784) in [0, 1], labels int64 (N,)."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def load_splits(root: str | None, train_size: int | None = None, eval_size: int | None = None) -> Splits:
    """The network2 splits, optionally cut to their first ``train_size`` / ``eval_size`` rows."""
    arrays = [mg.data.MNIST(root, split=split).arrays for split in ("train", "val", "test")]
    (tx, ty), (vx, vy), (sx, sy) = arrays
    return Splits(tx[:train_size], ty[:train_size], vx[:eval_size], vy[:eval_size], sx[:eval_size], sy[:eval_size])


# -- the network2 model, costs and initializers -----------------------------------------------------------
def sigmoid_mlp(sizes: list[int], init: str, dropout: float = 0.0) -> nn.Sequential:
    """Linear → Sigmoid → ... → Linear for layer widths ``sizes`` (e.g. [784, 30, 10]); the last
    layer gives logits z, the output activations are σ(z) (the cost applies the sigmoid).

    ``init``: "large" (weights and biases N(0, 1)) or "default" (weights N(0, 1/n_in), biases N(0, 1)).
    ``dropout`` > 0 puts a Dropout after every hidden sigmoid layer."""
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        if init == "large":
            nn.init.large_normal_(linear.weight)
        elif init == "default":
            nn.init.lecun_normal_(linear.weight)
        else:
            raise ValueError(f"unknown init {init!r}; choose large or default")
        nn.init.normal_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.Sigmoid())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def quadratic_cost(z: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    """(1/m) Σ_x ½‖σ(z) − onehot(y)‖² for logits z of shape (m, 10) and labels y of shape (m,)."""
    target = F.one_hot(y, z.shape[-1]).to(z.dtype)
    return F.mse_loss(z.sigmoid(), target, reduction="sum") / (2 * z.shape[0])


def cross_entropy_cost(z: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    """(1/m) Σ_x Σ_j −y_j ln σ(z_j) − (1 − y_j) ln(1 − σ(z_j)): one sigmoid cross-entropy per output."""
    target = F.one_hot(y, z.shape[-1]).to(z.dtype)
    return F.binary_cross_entropy_with_logits(z, target, reduction="sum") / z.shape[0]


def softmax_cross_entropy(z: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    """(1/m) Σ_x −ln softmax(z)_y: the log-likelihood cost of a softmax output layer."""
    return F.cross_entropy(z, y)


COSTS: dict[str, Callable[[mg.Tensor, mg.Tensor], mg.Tensor]] = {
    "quadratic": quadratic_cost, "cross_entropy": cross_entropy_cost, "softmax": softmax_cross_entropy}


def weight_matrices(model: nn.Module) -> list:
    return [p for p in model.parameters() if p.ndim >= 2]


def sgd_with_l2(model: nn.Module, lr: float, lmbda: float, n_train: int) -> mg.optim.SGD:
    """Plain SGD; the L2 term (λ/2n)Σw² acts as weight decay λ/n on the weight matrices only."""
    weights = weight_matrices(model)
    biases = [p for p in model.parameters() if p.ndim < 2]
    return mg.optim.SGD([{"params": weights, "weight_decay": lmbda / n_train},
                         {"params": biases, "weight_decay": 0.0}], lr=lr)


def sum_squared_weights(model: nn.Module) -> float:
    """Σ w² over the weight matrices (biases excluded)."""
    return float(sum(float((w.detach().numpy().astype(np.float64) ** 2).sum()) for w in weight_matrices(model)))


@dataclass
class Measurement:
    cost: float
    accuracy: float


def measure(model: nn.Module, cost: Callable, x: np.ndarray, y: np.ndarray) -> Measurement:
    """Mean cost and accuracy of ``model`` on a whole split, without gradients, in big chunks."""
    model.eval()
    total_cost = 0.0
    correct = 0
    with mg.no_grad():
        for start in range(0, len(x), EVAL_CHUNK):
            xb, yb = mg.tensor(x[start:start + EVAL_CHUNK]), mg.tensor(y[start:start + EVAL_CHUNK])
            z = model(xb)
            total_cost += cost(z, yb).item() * len(xb)
            correct += int((z.numpy().argmax(axis=1) == y[start:start + EVAL_CHUNK]).sum())
    model.train()
    return Measurement(total_cost / len(x), correct / len(x))


# -- one run ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSpec:
    """One training run.  ``key`` names it (and its JSON file) by everything that decides its result."""

    hidden: int
    cost: str
    lr: float
    lmbda: float = 0.0
    init: str = "large"
    epochs: int = 30
    batch_size: int = 10
    train_size: int | None = None  # the first rows of the training split (None: all 50,000)
    track_costs: bool = False      # measure training/test cost and training accuracy every epoch
    halving: bool = False          # network2's schedule (epochs is then the upper limit)
    halving_patience: int = 10
    halving_floor: int = 1024      # stop once η = η0 / halving_floor
    augment: str = "none"          # none | affine | elastic (expanded experiment)
    dropout: float = 0.0
    cosine: bool = False           # η_t = η·½(1 + cos(π(t−1)/epochs)) in epoch t, instead of a constant η
    data_tag: str = "full"         # which data the run saw (full / quick)

    @property
    def key(self) -> str:
        parts = [f"{self.data_tag}", f"784-{self.hidden}-10", self.cost, f"eta{self.lr:g}", f"lmbda{self.lmbda:g}",
                 self.init, f"ep{self.epochs}", f"mb{self.batch_size}"]
        if self.train_size:
            parts.append(f"n{self.train_size}")
        if self.halving:
            parts.append(f"halving{self.halving_patience}-{self.halving_floor}")
        if self.augment != "none":
            parts.append(self.augment)
        if self.dropout:
            parts.append(f"dropout{self.dropout:g}")
        if self.cosine:
            parts.append("cosine")
        return "_".join(parts)


@dataclass
class RunHistory:
    """What one run measured, one list entry per epoch (empty lists: not tracked)."""

    spec: dict
    seed: int
    val_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    train_cost: list = field(default_factory=list)   # includes the L2 term (λ/2n)Σw²
    test_cost: list = field(default_factory=list)    # the cost alone
    lr: list = field(default_factory=list)           # η in each epoch (halving runs: plus the η they ended at)
    final_sum_sq_weights: float = 0.0
    seconds: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.val_accuracy) or len(self.test_accuracy)


def shear_rows(x: mg.Tensor, max_shear: float, rng: np.random.Generator) -> mg.Tensor:
    """Horizontal skew of a batch of flat 28x28 images: row i of image n moves right by
    s_n · (i − 13.5) pixels, s_n ~ U(−max_shear, max_shear), linear interpolation, zeros outside."""
    imgs = x.numpy().reshape(-1, 28, 28)
    n, h, w = imgs.shape
    s = rng.uniform(-max_shear, max_shear, size=(n, 1, 1))
    rows = np.arange(h).reshape(1, h, 1) - (h - 1) / 2
    src = np.arange(w).reshape(1, 1, w) - s * rows          # output column j reads input column j − s·(i − c)
    left = np.floor(src).astype(np.int64)
    frac = (src - left).astype(imgs.dtype)
    padded = np.pad(imgs, ((0, 0), (0, 0), (1, 1)))          # column −1 and column w are background
    pick = lambda cols: np.take_along_axis(padded, np.clip(cols + 1, 0, w + 1), axis=2)  # noqa: E731
    out = (1 - frac) * pick(left) + frac * pick(left + 1)
    out[(src < -1) | (src > w)] = 0.0
    return mg.tensor(out.reshape(n, h * w))


def augmentation(name: str, seed: int) -> Callable | None:
    """The training-batch warp of the expanded experiment: "affine" = rotation ±10°, skew ±0.2,
    shift ±2 pixels; "elastic" = Simard's elastic distortion (α=34, σ=4); "none"."""
    if name == "none":
        return None
    if name == "elastic":
        return mg.data.ElasticDistortion(34.0, 4.0, seed=seed + 101)
    if name == "affine":
        rotate = mg.data.RandomRotation(10.0, seed=seed + 102)
        shift = mg.data.RandomShift(2, seed=seed + 103)
        rng = np.random.default_rng(seed + 104)
        return mg.data.Compose([rotate, lambda xb: shear_rows(xb, 0.2, rng), shift])
    raise ValueError(f"unknown augmentation {name!r}")


def train(spec: RunSpec, data: Splits, seed: int, log: Callable[[str], None]) -> RunHistory:
    """Train one network2-style run and measure it after every epoch."""
    mg.manual_seed(seed)
    train_x, train_y = data.train_x[:spec.train_size], data.train_y[:spec.train_size]
    n_train = len(train_x)
    model = sigmoid_mlp([784, spec.hidden, 10], spec.init, spec.dropout)
    cost = COSTS[spec.cost]
    optimizer = sgd_with_l2(model, spec.lr, spec.lmbda, n_train)
    loader = mg.data.DataLoader(mg.data.TensorDataset(train_x, train_y), batch_size=spec.batch_size, shuffle=True,
                                seed=seed, transform=augmentation(spec.augment, seed))
    history = RunHistory(spec=asdict(spec), seed=seed)
    start = time.perf_counter()

    if spec.halving:
        schedule = mg.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=spec.halving_patience,
            min_lr=spec.lr / spec.halving_floor)
        val_loader = mg.data.DataLoader(mg.data.TensorDataset(data.val_x, data.val_y), batch_size=EVAL_CHUNK)
        rows = mg.train.fit(model, cost, optimizer, loader, val_loader, epochs=spec.epochs, scheduler=schedule,
                            stop_at_min_lr=True, quiet=True, metrics=("accuracy",))
        history.val_accuracy = [row["val_accuracy"] for row in rows]
        history.lr = [row["lr"] for row in rows]
        history.test_accuracy = [math.nan] * (len(rows) - 1) + [measure(model, cost, data.test_x, data.test_y).accuracy]
        history.lr.append(optimizer.param_groups[0]["lr"])  # the rate the schedule ended at
    else:
        schedule = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec.epochs) if spec.cosine else None
        for epoch in range(1, spec.epochs + 1):
            for xb, yb in loader:
                loss = cost(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            history.lr.append(optimizer.param_groups[0]["lr"])
            if schedule is not None:
                schedule.step()
            history.val_accuracy.append(measure(model, cost, data.val_x, data.val_y).accuracy)
            test = measure(model, cost, data.test_x, data.test_y)
            history.test_accuracy.append(test.accuracy)
            if spec.track_costs:
                on_train = measure(model, cost, train_x, train_y)
                l2_term = spec.lmbda / (2 * n_train) * sum_squared_weights(model)
                history.train_cost.append(on_train.cost + l2_term)
                history.train_accuracy.append(on_train.accuracy)
                history.test_cost.append(test.cost)
    history.final_sum_sq_weights = sum_squared_weights(model)
    history.seconds = time.perf_counter() - start
    log(f"  {spec.key} seed {seed}: {history.epochs_run} epochs, best val {100 * max(history.val_accuracy):.2f}%, "
        f"last test {100 * history.test_accuracy[-1]:.2f}%, {history.seconds:.0f} s")
    return history


class RunStore:
    """Runs by (spec key, seed): trained once per process, read from / written to ``runs_dir``
    as ``<key>__seed<k>.json``; with ``read_only`` a missing run is an error instead of trained."""

    def __init__(self, data_loader: Callable[[], Splits], runs_dir: Path | None, read_only: bool,
                 log: Callable[[str], None]) -> None:
        self._data_loader = data_loader
        self._data: Splits | None = None
        self.runs_dir = runs_dir
        self.read_only = read_only
        self.log = log
        self._runs: dict = {}

    def get(self, spec: RunSpec, seed: int) -> RunHistory:
        key = (spec.key, seed)
        if key in self._runs:
            return self._runs[key]
        path = self.runs_dir / f"{spec.key}__seed{seed}.json" if self.runs_dir else None
        if path is not None and path.exists():
            run = RunHistory(**json.loads(path.read_text()))
        elif self.read_only:
            raise SystemExit(f"no stored run {path} (run the experiment with --runs-dir first)")
        else:
            if self._data is None:
                self._data = self._data_loader()
            run = train(spec, self._data, seed, self.log)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(asdict(run)))
        self._runs[key] = run
        return run


# -- summaries ----------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the results table: a run's setting, one measured quantity, the book's value."""

    experiment: str
    run: str
    quantity: str
    published: str
    values: list        # one per seed
    unit: str = "%"     # "%": values are fractions printed as percentages; "epoch"; "" plain numbers
    seconds: float = 0.0

    def ours(self) -> str:
        vals = np.asarray(self.values, dtype=float)
        if self.unit == "%":
            show: Callable[[float], str] = lambda v: f"{100 * v:.2f}"  # noqa: E731
        elif self.unit == "epoch":
            show = lambda v: f"{v:.0f}"  # noqa: E731
        else:
            show = lambda v: f"{v:.4g}" if abs(v) < 1 else f"{v:.1f}"  # noqa: E731
        suffix = "%" if self.unit == "%" else ""
        if len(vals) == 1:
            return f"{show(vals[0])}{suffix} (1 seed)"
        sd = vals.std(ddof=1)
        sd_text = f"{sd:.1f}" if self.unit == "epoch" else show(sd)
        return f"{show(vals.mean())} ± {sd_text}{suffix} ({len(vals)} seeds)"


def best(values: list) -> tuple[float, int]:
    """(highest value, its 1-based epoch; the first one on ties)."""
    i = int(np.nanargmax(values))
    return values[i], i + 1


def last_improvement(values: list) -> int:
    """The epoch of the last new best (after it, accuracy never exceeds it)."""
    return best(values)[1]


def first_epoch_at(values: list, level: float) -> float:
    """First epoch whose value reaches ``level`` (nan when none does)."""
    hits = [i + 1 for i, v in enumerate(values) if v >= level]
    return float(hits[0]) if hits else math.nan


def seconds_of(runs: list) -> float:
    return float(np.mean([r.seconds for r in runs]))


# -- experiments -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    """How big the runs are: the book's (full) or a few-second version (quick)."""

    data_tag: str
    hidden_small: int       # the book's 30
    hidden_large: int       # the book's 100
    hidden_simard: int      # Simard's 800
    epochs: int             # the book's 30
    epochs_long: int        # the book's 60
    overfit_size: int       # the book's 1,000
    overfit_epochs: int     # the book's 400
    expanded_epochs: int
    schedule_patience: int
    schedule_floor: int
    schedule_max_epochs: int


FULL = Scale("full", 30, 100, 800, 30, 60, 1000, 400, 15, 10, 1024, 1000)
QUICK = Scale("quick", 10, 20, 40, 5, 6, 200, 30, 2, 1, 4, 10)

Experiment = Callable[[RunStore, Scale, list], list]


def cost_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    settings = [(f"784-{s.hidden_small}-10 quadratic η=3.0 (large init)", RunSpec(s.hidden_small, "quadratic", 3.0),
                 "95.42% (ch. 1, test, best epoch)"),
                (f"784-{s.hidden_small}-10 cross-entropy η=0.5", RunSpec(s.hidden_small, "cross_entropy", 0.5),
                 "95.49% (ch. 3, test, best epoch)"),
                (f"784-{s.hidden_large}-10 cross-entropy η=0.5 (large init)",
                 RunSpec(s.hidden_large, "cross_entropy", 0.5), "96.82% (ch. 3, test, best epoch)")]
    rows = []
    for label, spec, published in settings:
        spec = scaled_spec(spec, s)
        runs = [store.get(spec, seed) for seed in seeds]
        rows.append(Row("cost", label, f"best test accuracy ({spec.epochs} epochs)", published,
                        [best(r.test_accuracy)[0] for r in runs], seconds=seconds_of(runs)))
        rows.append(Row("cost", label, "epoch of the best", "", [best(r.test_accuracy)[1] for r in runs], "epoch"))
    return rows


def scaled_spec(spec: RunSpec, s: Scale, **changes: object) -> RunSpec:
    """``spec`` on the data of scale ``s`` (its epochs: the scale's standard count unless changed)."""
    return RunSpec(**(asdict(spec) | {"data_tag": s.data_tag, "epochs": s.epochs} | changes))


def overfitting_specs(s: Scale) -> list:
    return [(lmbda, scaled_spec(RunSpec(s.hidden_small, "cross_entropy", 0.5, lmbda=lmbda), s, epochs=s.overfit_epochs,
                            train_size=s.overfit_size, track_costs=True)) for lmbda in (0.0, 0.1)]


def overfitting_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    published = {0.0: dict(best="82.27% (best; plateau near 82.2%)", stop="about 280", full="about 67",
                           cost="about 14"),
                 0.1: dict(best="about 87.1% (still rising at 400)", stop="", full="", cost="")}
    rows = []
    for lmbda, spec in overfitting_specs(s):
        runs = [store.get(spec, seed) for seed in seeds]
        label = f"first {spec.train_size} images, 784-{spec.hidden}-10 CE η=0.5, λ={lmbda:g} ({spec.epochs} epochs)"
        p = published[lmbda]
        rows += [Row("overfitting", label, "best test accuracy", p["best"], [best(r.test_accuracy)[0] for r in runs],
                     seconds=seconds_of(runs)),
                 Row("overfitting", label, "epoch of the best (test acc. never higher after it)", p["stop"],
                     [last_improvement(r.test_accuracy) for r in runs], "epoch"),
                 Row("overfitting", label, "final test accuracy", "", [r.test_accuracy[-1] for r in runs]),
                 Row("overfitting", label, "final training accuracy", "", [r.train_accuracy[-1] for r in runs]),
                 Row("overfitting", label, "first epoch with 100% training accuracy", p["full"],
                     [first_epoch_at(r.train_accuracy, 1.0) for r in runs], "epoch"),
                 Row("overfitting", label, "epoch of the lowest test cost", p["cost"],
                     [int(np.argmin(r.test_cost)) + 1 for r in runs], "epoch"),
                 Row("overfitting", label, "final Σw² (weights)", "", [r.final_sum_sq_weights for r in runs], "")]
    return rows


def regularized_full_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    rows = []
    for lmbda, published in ((0.0, "95.33% (fig. data, test, best epoch)"),
                             (5.0, "96.49% (fig. data, test, best epoch)")):
        spec = scaled_spec(RunSpec(s.hidden_small, "cross_entropy", 0.5, lmbda=lmbda), s)
        runs = [store.get(spec, seed) for seed in seeds]
        rows.append(Row("regularized_full", f"784-{s.hidden_small}-10 CE η=0.5 λ={lmbda:g} (large init)",
                        f"best test accuracy ({spec.epochs} epochs)", published,
                        [best(r.test_accuracy)[0] for r in runs], seconds=seconds_of(runs)))
        rows.append(Row("regularized_full", f"784-{s.hidden_small}-10 CE η=0.5 λ={lmbda:g} (large init)",
                        "final Σw² (weights)", "", [r.final_sum_sq_weights for r in runs], ""))
    spec = scaled_spec(RunSpec(s.hidden_large, "cross_entropy", 0.1, lmbda=5.0, init="default"), s, epochs=s.epochs_long)
    runs = [store.get(spec, seeds[0])]
    label = f"784-{s.hidden_large}-10 CE η=0.1 λ=5 (default init, {spec.epochs} epochs)"
    rows.append(Row("regularized_full", label, "best validation accuracy (1 seed: long run)", "98.04% (ch. 3)",
                    [best(r.val_accuracy)[0] for r in runs], seconds=seconds_of(runs)))
    rows.append(Row("regularized_full", label, "test accuracy at the best-validation epoch", "",
                    [r.test_accuracy[best(r.val_accuracy)[1] - 1] for r in runs]))
    return rows


def init_specs(s: Scale) -> list:
    return [(init, scaled_spec(RunSpec(s.hidden_small, "cross_entropy", 0.1, lmbda=5.0, init=init), s))
            for init in ("large", "default")]


def init_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    published = {"large": ("86.43% (fig. data)", "about 96.5%"), "default": ("92.70% (fig. data)", "about 96.5%")}
    rows = []
    for init, spec in init_specs(s):
        runs = [store.get(spec, seed) for seed in seeds]
        label = f"784-{s.hidden_small}-10 CE η=0.1 λ=5, {init} init"
        rows.append(Row("init", label, "validation accuracy after epoch 1", published[init][0],
                        [r.val_accuracy[0] for r in runs], seconds=seconds_of(runs)))
        rows.append(Row("init", label, f"validation accuracy after epoch {spec.epochs}", published[init][1],
                        [r.val_accuracy[-1] for r in runs]))
    return rows


def schedule_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    spec = scaled_spec(RunSpec(s.hidden_large, "cross_entropy", 0.5, lmbda=5.0, init="default", halving=True,
                           halving_patience=s.schedule_patience, halving_floor=s.schedule_floor),
                   s, epochs=s.schedule_max_epochs)
    run = store.get(spec, seeds[0])
    patience = f"{spec.halving_patience} epoch{'s' if spec.halving_patience > 1 else ''}"
    label = (f"784-{s.hidden_large}-10 CE λ=5 η0=0.5 (default init), halve η when validation accuracy has not "
             f"improved for {patience}, stop at η0/{spec.halving_floor}")
    none = "(no published figure)"
    return [Row("schedule", label, "epochs run (1 seed: long run)", none, [run.epochs_run], "epoch",
                seconds=run.seconds),
            Row("schedule", label, "final η", none, [run.lr[-1]], ""),
            Row("schedule", label, "best validation accuracy", none, [max(run.val_accuracy)]),
            Row("schedule", label, "test accuracy at the end", none, [run.test_accuracy[-1]])]


def expanded_specs(s: Scale) -> list:
    base = dict(hidden=s.hidden_simard, cost="softmax", lr=0.5, init="default", epochs=s.expanded_epochs,
                batch_size=32, cosine=True, data_tag=s.data_tag)
    return [("plain", RunSpec(**base), "98.4% (Simard et al. 2003, 2-layer MLP: 1.6% error)"),
            ("affine distortions", RunSpec(**base, augment="affine"), "98.9% (Simard 2003: 1.1% error)"),
            ("elastic distortions", RunSpec(**base, augment="elastic"), "99.3% (Simard 2003: 0.7% error)"),
            ("plain + dropout 0.5", RunSpec(**base, dropout=0.5), "(no published figure)")]


def expanded_experiment(store: RunStore, s: Scale, seeds: list) -> list:
    rows = []
    for name, spec, published in expanded_specs(s):
        run = store.get(spec, seeds[0])
        label = f"784-{spec.hidden}-10 sigmoid + softmax, mb {spec.batch_size}, η={spec.lr:g} cosine decay, {name}"
        rows.append(Row("expanded", label, f"test accuracy after {spec.epochs} epochs (1 seed: long run)", published,
                        [run.test_accuracy[-1]], seconds=run.seconds))
    return rows


EXPERIMENTS: dict[str, Experiment] = {
    "cost": cost_experiment,
    "overfitting": overfitting_experiment,
    "regularized_full": regularized_full_experiment,
    "init": init_experiment,
    "schedule": schedule_experiment,
    "expanded": expanded_experiment,
}


# -- output ------------------------------------------------------------------------------------------------------
def format_table(rows: list) -> str:
    """A markdown table: experiment | run | quantity | published | ours | wall time per run."""
    lines = ["| experiment | run | quantity | published | ours | wall time per run |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        wall = f"{r.seconds:.0f} s" if r.seconds else ""
        lines.append(f"| {r.experiment} | {r.run} | {r.quantity} | {r.published} | {r.ours()} | {wall} |")
    return "\n".join(lines)


def draw_pictures(store: RunStore, s: Scale, seeds: list, experiments: list, out: Path) -> list:
    """network2_overfitting.png (four curves, both λ) and network2_init.png; returns the paths written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no pictures were drawn")
        return []
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "overfitting" in experiments:
        fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
        panels = [("train_cost", "training cost (incl. L2 term)"), ("test_cost", "test cost"),
                  ("train_accuracy", "training accuracy (%)"), ("test_accuracy", "test accuracy (%)")]
        for lmbda, spec in overfitting_specs(s):
            runs = [store.get(spec, seed) for seed in seeds]
            for ax, (name, title) in zip(axes.flat, panels):
                curve = np.mean([getattr(r, name) for r in runs], axis=0) * (100 if "accuracy" in name else 1)
                ax.plot(np.arange(1, len(curve) + 1), curve, label=f"λ = {lmbda:g}")
                ax.set_title(title)
                ax.set_xlabel("epoch")
        for ax in axes.flat:
            ax.grid(alpha=0.3)
            ax.legend()
        fig.suptitle(f"784-{s.hidden_small}-10, cross-entropy, η = 0.5, first {s.overfit_size} training images "
                     f"(mean of {len(seeds)} seed{'s' if len(seeds) > 1 else ''})")
        fig.tight_layout()
        written.append(out / "network2_overfitting.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if "init" in experiments:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for init, spec in init_specs(s):
            runs = [store.get(spec, seed) for seed in seeds]
            curve = 100 * np.mean([r.val_accuracy for r in runs], axis=0)
            label = "N(0, 1) weights (large)" if init == "large" else "N(0, 1/n_in) weights (default)"
            ax.plot(np.arange(1, len(curve) + 1), curve, marker=".", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"784-{s.hidden_small}-10, cross-entropy, η = 0.1, λ = 5 (mean of {len(seeds)} seeds)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        written.append(out / "network2_init.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def parse_args(argv: list | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="all",
                        help=f"comma-separated names from {', '.join(EXPERIMENTS)} (default: all)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2; long runs use the first)")
    parser.add_argument("--seed", type=int, help="a single seed (same as --seeds N)")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 training / 1,000 test images, tiny nets, a few epochs: seconds, same table")
    parser.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"), help="MNIST root (default $MINIGRAD_DATA)")
    parser.add_argument("--runs-dir", type=Path, help="read stored runs from / write new runs to this folder (JSON)")
    parser.add_argument("--from-json", type=Path, metavar="DIR", help="only read stored runs from DIR; train nothing")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNG pictures")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.experiment.split(",") if n.strip()]
    if names == ["all"]:
        names = list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown or not names:
        parser.error(f"unknown experiment {', '.join(unknown) or '(none)'}; choose from all, {', '.join(EXPERIMENTS)}")
    args.experiments = names
    try:
        args.seed_list = [args.seed] if args.seed is not None else [int(v) for v in args.seeds.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    if not args.seed_list:
        parser.error("--seeds needs at least one seed")
    if args.from_json is not None and args.runs_dir is not None:
        parser.error("--from-json and --runs-dir exclude each other")
    return args


def main(argv: list | None = None) -> None:
    args = parse_args(argv)
    scale = QUICK if args.quick else FULL
    sizes = (1000, 1000) if args.quick else (None, None)

    def data() -> Splits:
        try:
            return load_splits(args.data_dir, *sizes)
        except mg.data.DataFilesNotFound as exc:
            raise SystemExit(str(exc)) from None

    store = RunStore(data, args.from_json or args.runs_dir, args.from_json is not None,
                     log=(lambda line: None) if args.quick else (lambda line: print(line, flush=True)))
    start = time.perf_counter()
    rows = []
    for name in args.experiments:
        rows += EXPERIMENTS[name](store, scale, args.seed_list)
    print(format_table(rows))
    print(f"total time {time.perf_counter() - start:.1f} s")
    if not args.quick:
        for path in draw_pictures(store, scale, args.seed_list, args.experiments, args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
