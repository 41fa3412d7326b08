"""Initialization of a deep net: vanishing and exploding signals, saturated tanh units, and the
symmetry that zero initialization never breaks.

A 10-layer tanh net and a 10-layer ReLU net (``--width`` units per layer, zero biases) are
initialized with each of six schemes, all from ``mg.nn.init``:

=========  ==========================================  ======================================
scheme     weights                                     per-layer gain σ_w² = fan_in·Var[W]
=========  ==========================================  ======================================
zero       0                                           0
small      N(0, 0.01²)                                 fan_in·10⁻⁴  (0.05 at width 500)
large      N(0, 1)                                     fan_in       (500)
standard   U(-1/√fan_in, 1/√fan_in)                    1/3   (Glorot & Bengio's "standard")
xavier     U(-a, a), a = √(6 / (fan_in + fan_out))     1     (Glorot & Bengio's "normalized")
he         N(0, 2 / fan_in)                            2     (He et al.)
=========  ==========================================  ======================================

One forward pass of a batch of inputs and one backward pass are measured per net.  The
backward pass starts from a fixed random output gradient G with unit-variance entries,
G = ∂L/∂a_L ~ N(0, 1) (the loss L = Σ G ⊙ a_L): that isolates the ten layers from any readout
layer and labels, whose gradient would scale every layer's gradient by the same factor and so
cancel in the ratios below.  Per layer l = 1..10, with z_l = a_{l-1} W_lᵀ + b_l and a_l = φ(z_l):

* the back-propagated gradient ‖∂L/∂z_l‖ (Frobenius norm over the batch) and the
  weight gradient ‖∂L/∂W_l‖, where ∂L/∂W_l = (∂L/∂z_l)ᵀ a_{l-1};
* the ratios first / last layer of both: ``dz ratio`` = ‖∂L/∂z_1‖ / ‖∂L/∂z_10‖ and
  ``dW ratio`` = ‖∂L/∂W_1‖ / ‖∂L/∂W_10‖ — the part of the gradient that reaches the bottom of
  the net, so ≪ 1 is vanishing and ≫ 1 exploding (with zero weights every activation and
  weight gradient is 0, so ``dW ratio`` is 0/0 = nan; ``dz ratio`` is 0 for tanh, whose
  z_10 still gets G·tanh'(0) = G, and nan for ReLU, whose relu'(0) = 0 blocks even that);
* the spread of the activations (std) and, for tanh, the fraction of saturated units |a| > 0.99.

Each layer multiplies the variance of the backward signal by fan_out·Var[W_{l+1}]·E[φ'(z_l)²]
(the forward signal's by σ_w²·E[φ(z)²]/E[z²]), so ‖∂L/∂z_1‖ / ‖∂L/∂z_10‖ ≈
Π_{l=1..9} (fan_out·Var[W_{l+1}]·E[φ'(z_l)²])^(1/2).  The table prints this prediction twice:
``linear`` with E[φ'²] = 1 for tanh (its slope at 0) and 1/2 for ReLU, i.e. (σ_w²·E[φ'²])^(9/2),
and ``layerwise`` with E[φ'(z_l)²] measured on the batch.  The weight gradient multiplies a backward
signal that shrank (or grew) over 10 - l layers by a forward signal that shrank (or grew) over
l - 1 layers, so with equal widths its size hardly depends on l — Glorot & Bengio's remark that
the variance of the weight gradients is the same in every layer even where the back-propagated
gradients vanish.  The ``dW ratio`` column shows this; the ``dz ratio`` column shows the
vanishing and exploding.  Saturation breaks the balance: a saturated tanh unit passes almost no
gradient back (φ' ≈ 0) but still sends ±1 forward.  With N(0, 1) weights, Wᵀ still multiplies the
gradient's variance by the width, more than the saturated slopes take away (E[φ'²] ≈ 0.03), so
the large tanh net's gradients explode even though 90% of its units are saturated.

Last, symmetry: a net whose weights in a layer are all equal (zero, or one constant) computes
the same function in every unit of that layer and receives the same gradient for each, so after
any number of SGD steps every row of W_l is still the same; the table prints the largest
difference between two rows of any W_l.  Zero weights get no gradient at all (every activation
is 0); constant weights 1/fan_in do train, yet every row takes the same steps (equal up to
rounding: the matrix product may add different output columns in different orders).  Random
weights (Xavier for tanh, He for ReLU) are the contrast.  This part trains on the 8x8 digits
built into ``mg.data`` (float64, cross-entropy loss, a linear readout initialized like the
hidden layers, SGD with batches of 128 and learning rate 0.1).

Inputs of the measurements: standard-normal vectors of the net's width (``--inputs gaussian``,
the default: every layer then has fan_in = fan_out = width, the case the formulas above
describe), or the 64-pixel 8x8 digits, each pixel standardized (``--inputs digits``).

Sources: X. Glorot & Y. Bengio, "Understanding the difficulty of training deep feedforward
neural networks", AISTATS 2010; K. He, X. Zhang, S. Ren & J. Sun, "Delving deep into
rectifiers", ICCV 2015; I. Goodfellow, Y. Bengio & A. Courville, "Deep Learning", MIT Press
2016, ch. 8.4 (parameter initialization strategies, breaking symmetry).

Run from the repository root:
    python examples/init_and_saturation.py --quick            # one seed, width 256, no pictures: seconds
                                                              # (on a busy machine: OPENBLAS_NUM_THREADS=1)
    python examples/init_and_saturation.py                    # width 500, seeds 0-4, docs/img/init_and_saturation_*.png
    python examples/init_and_saturation.py --inputs digits --seeds 0,1,2 --out /tmp/pics
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad.nn import init  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEPTH = 10
ACTIVATIONS = ("tanh", "relu")
SCHEMES = ("zero", "small", "large", "standard", "xavier", "he")
SATURATION = 0.99  # a tanh unit with |a| above this passes back less than 1 - 0.99² ≈ 2% of its gradient
HISTOGRAM_SAMPLES = 20_000  # activation values kept per layer for the pictures
RANDOM_REFERENCE = {"tanh": "xavier", "relu": "he"}  # the symmetry table's contrast: random weights


def initialize(weight: mg.Tensor, scheme: str) -> None:
    """Fill ``weight`` (shape (fan_out, fan_in)) in place with the scheme's distribution (one of
    ``SCHEMES``, or ``"constant"``: every entry 1/fan_in, for the symmetry check)."""
    if scheme == "zero":
        init.zeros_(weight)
    elif scheme == "small":
        init.normal_(weight, 0.0, 0.01)
    elif scheme == "large":
        init.large_normal_(weight)
    elif scheme == "standard":
        fan_in = weight.shape[1]
        init.uniform_(weight, -1.0 / math.sqrt(fan_in), 1.0 / math.sqrt(fan_in))
    elif scheme == "xavier":
        init.xavier_uniform_(weight)
    elif scheme == "he":
        init.kaiming_normal_(weight, nonlinearity="relu")
    elif scheme == "constant":
        init.constant_(weight, 1.0 / weight.shape[1])
    else:
        raise ValueError(f"unknown initialization scheme {scheme!r}")


def build_layers(in_features: int, width: int, scheme: str, dtype: object = mg.float32) -> list:
    """``DEPTH`` Linear layers in_features -> width -> ... -> width, weights by ``scheme``, biases 0."""
    layers = []
    for depth in range(DEPTH):
        layer = mg.nn.Linear(in_features if depth == 0 else width, width, dtype=dtype, bias_init="zeros")
        initialize(layer.weight, scheme)
        layers.append(layer)
    return layers


def nonlinearity(name: str) -> Callable:
    return {"tanh": mg.tanh, "relu": F.relu}[name]


# -- one forward and backward pass ---------------------------------------------------------------
@dataclass
class Measurement:
    """What one (activation, scheme, seed) pass measured; arrays have one entry per layer (DEPTH,)."""
    activation: str
    scheme: str
    seed: int
    activation_std: np.ndarray
    saturated: np.ndarray           # fraction of (sample, unit) with |a| > SATURATION
    backprop_norms: np.ndarray      # ‖∂L/∂z_l‖
    weight_grad_norms: np.ndarray   # ‖∂L/∂W_l‖
    backward_gain: np.ndarray       # fan_out·mean(W_l²): what W_lᵀ does to the variance of a gradient
    slope_squared: np.ndarray       # mean of φ'(z_l)² over the batch and the units
    histogram_values: list = field(default_factory=list)  # per layer, a sample of the activations

    @property
    def dz_ratio(self) -> float:
        return _ratio(self.backprop_norms[0], self.backprop_norms[-1])

    @property
    def dw_ratio(self) -> float:
        return _ratio(self.weight_grad_norms[0], self.weight_grad_norms[-1])

    @property
    def linear_prediction(self) -> float:
        """dz ratio of the linear regime: Π_{l=2..10} √(fan_out·Var[W_l]·c), c = E[φ'²] taken as
        1 for tanh (φ'(0) = 1) and 1/2 for ReLU (half the units pass the gradient)."""
        c = 1.0 if self.activation == "tanh" else 0.5
        return float(np.prod(np.sqrt(self.backward_gain[1:] * c)))

    @property
    def layerwise_prediction(self) -> float:
        """dz ratio if every layer scaled the gradient's variance by fan_out·Var[W_{l+1}]·E[φ'(z_l)²],
        with E[φ'²] measured on the batch: Π_{l=1..9} √(backward_gain[l+1]·slope_squared[l])."""
        return float(np.prod(np.sqrt(self.backward_gain[1:] * self.slope_squared[:-1])))


def _ratio(first: float, last: float) -> float:
    return float(first / last) if last > 0 else math.nan


def _norm(t: mg.Tensor) -> float:
    return float(np.linalg.norm(t.numpy().astype(np.float64)))


def measure(activation: str, scheme: str, seed: int, inputs: np.ndarray, width: int,
            keep_histograms: bool) -> Measurement:
    """Initialize a net (``mg.manual_seed(seed)``), push ``inputs`` (N, d) through it, and
    back-propagate a unit-variance random output gradient (N, width)."""
    mg.manual_seed(seed)
    layers = build_layers(inputs.shape[1], width, scheme)
    phi = nonlinearity(activation)
    rng = np.random.default_rng(10_000 + seed)
    output_grad = rng.standard_normal((inputs.shape[0], width)).astype(np.float32)

    a = mg.tensor(inputs)
    pre_activations, outputs = [], []
    for layer in layers:
        z = layer(a)
        a = phi(z)
        pre_activations.append(z)
        outputs.append(a)
    grads = mg.grad(a, pre_activations + [layer.weight for layer in layers], grad_outputs=mg.tensor(output_grad))
    dz, dw = grads[:DEPTH], grads[DEPTH:]

    values = [out.detach().numpy() for out in outputs]
    slopes = [1.0 - v.astype(np.float64) ** 2 if activation == "tanh" else (v > 0).astype(np.float64)
              for v in values]
    weights = [layer.weight.detach().numpy().astype(np.float64) for layer in layers]
    histograms = []
    if keep_histograms:
        pick = rng.choice(values[0].size, size=min(HISTOGRAM_SAMPLES, values[0].size), replace=False)
        histograms = [v.reshape(-1)[pick] for v in values]
    return Measurement(
        activation=activation, scheme=scheme, seed=seed,
        activation_std=np.array([float(v.astype(np.float64).std()) for v in values]),
        saturated=np.array([float((np.abs(v) > SATURATION).mean()) for v in values]),
        backprop_norms=np.array([_norm(g) for g in dz]),
        weight_grad_norms=np.array([_norm(g) for g in dw]),
        backward_gain=np.array([w.shape[0] * float((w ** 2).mean()) for w in weights]),
        slope_squared=np.array([float((d ** 2).mean()) for d in slopes]),
        histogram_values=histograms,
    )


def make_inputs(kind: str, n: int, width: int, seed: int) -> np.ndarray:
    """(n, width) standard-normal rows, or the digits' training images (1,085, 64) with every
    pixel standardized over the set (pixels that never vary stay 0)."""
    if kind == "gaussian":
        return np.random.default_rng(seed).standard_normal((n, width)).astype(np.float32)
    x = mg.data.digits("train").arrays[0].astype(np.float64)
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


# -- symmetry ------------------------------------------------------------------------------------
@dataclass
class SymmetryResult:
    activation: str
    scheme: str
    steps: int
    loss_before: float
    loss_after: float
    row_spread: float   # max over layers l and rows i of max_j |W_l[i, j] - W_l[0, j]| after training
    moved: float        # max over layers of max |W_l(after) - W_l(before)|


def train_symmetric(activation: str, scheme: str, width: int, steps: int, lr: float, seed: int,
                    batch_size: int = 128) -> SymmetryResult:
    """SGD on cross-entropy of the digits for a net whose hidden layers and readout all start
    from ``scheme`` (float64, so any rounding difference between rows would show)."""
    mg.manual_seed(seed)
    data = mg.data.digits("train")
    x_all, y_all = data.arrays
    layers = build_layers(x_all.shape[1], width, scheme, dtype=mg.float64)
    readout = mg.nn.Linear(width, 10, dtype=mg.float64, bias_init="zeros")
    initialize(readout.weight, scheme)
    phi = nonlinearity(activation)
    params = [p for layer in layers + [readout] for p in layer.parameters()]
    optimizer = mg.optim.SGD(params, lr=lr)
    before = [layer.weight.detach().numpy().copy() for layer in layers]
    rng = np.random.default_rng(seed)

    def loss_on(index: np.ndarray) -> mg.Tensor:
        a = mg.tensor(x_all[index].astype(np.float64))
        for layer in layers:
            a = phi(layer(a))
        return F.cross_entropy(readout(a), mg.tensor(y_all[index]))

    everything = np.arange(len(data))
    with mg.no_grad():
        loss_before = loss_on(everything).item()
    for _ in range(steps):
        loss = loss_on(rng.choice(len(data), size=batch_size, replace=False))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with mg.no_grad():
        loss_after = loss_on(everything).item()
    after = [layer.weight.detach().numpy() for layer in layers]
    return SymmetryResult(
        activation=activation, scheme=scheme, steps=steps, loss_before=loss_before, loss_after=loss_after,
        row_spread=max(float(np.abs(w - w[:1]).max()) for w in after),
        moved=max(float(np.abs(w - w0).max()) for w, w0 in zip(after, before)),
    )


# -- printing ------------------------------------------------------------------------------------
def _mean_sd(values: list) -> tuple:
    arr = np.array(values, dtype=np.float64)
    if np.isnan(arr).any():
        return math.nan, math.nan
    return float(arr.mean()), (float(arr.std(ddof=1)) if len(arr) > 1 else math.nan)


def _sd(value: float) -> str:
    return f"{'-':>8}" if math.isnan(value) else f"{value:8.2g}"


def print_ratio_table(results: dict, seeds: list) -> None:
    print(f"\nGradient ratios first / last layer (mean and sd over {len(seeds)} seed(s));\n"
          "predicted dz ratio: linear regime, and layer by layer from the measured mean phi'(z_l)^2")
    print(f"{'act':<5} {'scheme':<9} {'dz ratio':>10} {'sd':>8} {'linear':>10} {'layerwise':>10}"
          f" {'dW ratio':>10} {'sd':>8} {'|dW_1|':>10} {'std a_10':>9} {'sat_10':>7}")
    for activation in ACTIVATIONS:
        for scheme in SCHEMES:
            runs = results[activation, scheme]
            dz, dz_sd = _mean_sd([r.dz_ratio for r in runs])
            dw, dw_sd = _mean_sd([r.dw_ratio for r in runs])
            linear, _ = _mean_sd([r.linear_prediction for r in runs])
            layerwise, _ = _mean_sd([r.layerwise_prediction for r in runs])
            dw1, _ = _mean_sd([r.weight_grad_norms[0] for r in runs])
            std10, _ = _mean_sd([r.activation_std[-1] for r in runs])
            sat10, _ = _mean_sd([r.saturated[-1] for r in runs])
            sat = f"{sat10:7.3f}" if activation == "tanh" else f"{'-':>7}"
            print(f"{activation:<5} {scheme:<9} {dz:10.3g} {_sd(dz_sd)} {linear:10.3g} {layerwise:10.3g}"
                  f" {dw:10.3g} {_sd(dw_sd)} {dw1:10.3g} {std10:9.3g} {sat}")


def print_layer_table(title: str, results: dict, activation: str, attribute: str, fmt: str) -> None:
    print(f"\n{title} (mean over seeds), layer 1 .. {DEPTH}")
    print(f"{'scheme':<9}" + "".join(f"{l:>9}" for l in range(1, DEPTH + 1)))
    for scheme in SCHEMES:
        per_layer = np.mean([getattr(r, attribute) for r in results[activation, scheme]], axis=0)
        print(f"{scheme:<9}" + "".join(f"{v:>9{fmt}}" for v in per_layer))


def print_symmetry_table(rows: list) -> None:
    print("\nSymmetry: SGD on the digits (cross-entropy, batch 128, lr 0.1); zero: W = 0, constant: "
          "W = 1/fan_in,\nagainst random weights (row spread = max over l, i of max |W_l[i,:] - W_l[0,:]| "
          "after training;\nmax |dW| = largest change of a weight)")
    print(f"{'act':<5} {'scheme':<9} {'steps':>5} {'loss before':>12} {'loss after':>11}"
          f" {'max |dW|':>10} {'row spread':>11}")
    for r in rows:
        print(f"{r.activation:<5} {r.scheme:<9} {r.steps:>5} {r.loss_before:12.4f} {r.loss_after:11.4f}"
              f" {r.moved:10.3g} {r.row_spread:11.3g}")


# -- pictures ------------------------------------------------------------------------------------
def draw_histograms(results: dict, activation: str, seed: int, out: Path) -> Path:
    """One panel per (scheme, layer): tanh activations on [-1, 1]; for ReLU, log10 of the positive
    activations on one shared axis (the scale changes by many decades), with the fraction of zeros."""
    import matplotlib.pyplot as plt

    runs = {scheme: next(r for r in results[activation, scheme] if r.seed == seed) for scheme in SCHEMES}
    if activation == "tanh":
        bins = np.linspace(-1, 1, 41)
    else:
        logs = np.concatenate([np.log10(v[v > 0]) for run in runs.values() for v in run.histogram_values])
        bins = np.linspace(math.floor(np.percentile(logs, 0.1)), math.ceil(np.percentile(logs, 99.9)), 61)
    fig, axes = plt.subplots(len(SCHEMES), DEPTH, figsize=(17, 1.75 * len(SCHEMES)), dpi=80, sharex=True)
    for row, scheme in enumerate(SCHEMES):
        run = runs[scheme]
        for col, values in enumerate(run.histogram_values):
            ax = axes[row, col]
            label = f"std {run.activation_std[col]:.2g}"
            if activation == "tanh":
                ax.hist(values, bins=bins, color="tab:blue")
                label += f"\nsat {run.saturated[col]:.2f}"
            else:
                positive = values[values > 0]
                if positive.size:
                    ax.hist(np.log10(positive), bins=bins, color="tab:orange")
                label += f"\nzero {1 - positive.size / values.size:.2f}"
            ax.set_xlim(bins[0], bins[-1])
            ax.set_yticks([])
            ax.tick_params(axis="x", labelsize=6)
            ax.text(0.97, 0.95, label, transform=ax.transAxes, ha="right", va="top", fontsize=6)
            if row == 0:
                ax.set_title(f"layer {col + 1}", fontsize=9)
            if col == 0:
                ax.set_ylabel(scheme, fontsize=9)
    what = "a" if activation == "tanh" else "log10 a of the units with a > 0"
    fig.suptitle(f"{activation} net: histograms of {what}, per layer, at initialization (seed {seed})",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path = out / f"init_and_saturation_{activation}_activations.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def draw_gradients(results: dict, out: Path) -> Path:
    import matplotlib.pyplot as plt

    colors = dict(zip(SCHEMES, ("black", "tab:blue", "tab:red", "tab:purple", "tab:green", "tab:orange")))
    layers = np.arange(1, DEPTH + 1)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), dpi=80)
    for row, activation in enumerate(ACTIVATIONS):
        for col, (attribute, label) in enumerate((("backprop_norms", "‖∂L/∂z_l‖ (back-propagated)"),
                                                  ("weight_grad_norms", "‖∂L/∂W_l‖ (weight gradient)"))):
            ax = axes[row, col]
            for scheme in SCHEMES[1:]:  # zero weights: every gradient is exactly 0, nothing to draw on a log axis
                curves = np.array([getattr(r, attribute) for r in results[activation, scheme]])
                # normalized by the top layer, so the schemes share one axis
                curves = curves / curves[:, -1:]
                ax.plot(layers, np.exp(np.log(curves).mean(axis=0)), "o-", color=colors[scheme], label=scheme)
                if len(curves) > 1:
                    ax.fill_between(layers, curves.min(axis=0), curves.max(axis=0), color=colors[scheme], alpha=0.15)
            ax.set_yscale("log")
            if col == 1:
                ax.set_ylim(axes[row, 0].get_ylim())  # the same decades as the back-propagated panel
            ax.set_xticks(layers)
            ax.set_xlabel("layer")
            ax.set_title(f"{activation}: {label} / its layer-{DEPTH} value", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        ax = axes[row, 2]
        for scheme in SCHEMES if activation == "tanh" else SCHEMES[1:]:  # (std 0 has no place on a log axis)
            runs = results[activation, scheme]
            if activation == "tanh":
                values, ylabel = np.mean([r.saturated for r in runs], axis=0), f"fraction |a| > {SATURATION}"
            else:
                values, ylabel = np.mean([r.activation_std for r in runs], axis=0), "std of activations"
            ax.plot(layers, values, "o-", color=colors[scheme], label=scheme)
        if activation == "relu":
            ax.set_yscale("log")
        ax.set_xticks(layers)
        ax.set_xlabel("layer")
        ax.set_title(f"{activation}: {ylabel}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Gradients and activations per layer at initialization (mean over seeds; band: min-max; "
                 "zero weights: every gradient is 0)")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path = out / "init_and_saturation_gradients.png"
    fig.savefig(path)
    plt.close(fig)
    return path


# -- main ----------------------------------------------------------------------------------------
def _seed_list(text: str) -> list:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"expected one or more non-negative integers, got {text!r}")
    return seeds


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def parse_args(argv: list | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small run for the tests: width 256, batch 256, one seed, 20 SGD steps, no pictures")
    p.add_argument("--width", type=_positive, default=None, help="units per layer (default 500; --quick 256)")
    p.add_argument("--batch", type=_positive, default=None,
                   help="gaussian inputs per pass (default 1000; --quick 256)")
    p.add_argument("--inputs", choices=("gaussian", "digits"), default="gaussian",
                   help="standard-normal vectors (default) or the standardized 8x8 digits")
    p.add_argument("--seeds", type=_seed_list, default=None, help="comma-separated seeds (default 0,1,2,3,4; --quick 0)")
    p.add_argument("--seed", type=int, default=None, help="a single seed (same as --seeds N)")
    p.add_argument("--steps", type=_positive, default=None, help="SGD steps of the symmetry check (default 50; --quick 20)")
    p.add_argument("--out", type=Path, default=None, help="folder for the PNG pictures (default docs/img)")
    args = p.parse_args(argv)
    if args.seed is not None:
        if args.seeds is not None:
            p.error("give --seed or --seeds, not both")
        if args.seed < 0:
            p.error(f"--seed must be non-negative, got {args.seed}")
        args.seeds = [args.seed]
    args.width = args.width or (256 if args.quick else 500)
    args.batch = args.batch or (256 if args.quick else 1000)
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2, 3, 4])
    args.steps = args.steps or (20 if args.quick else 50)
    return args


def main(argv: list | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    results = {}
    for activation in ACTIVATIONS:
        for scheme in SCHEMES:
            results[activation, scheme] = [
                measure(activation, scheme, seed, make_inputs(args.inputs, args.batch, args.width, seed),
                        args.width, keep_histograms=(seed == args.seeds[0] and not args.quick))
                for seed in args.seeds]
    n_inputs = make_inputs(args.inputs, args.batch, args.width, args.seeds[0]).shape[0]
    print(f"{DEPTH}-layer nets, width {args.width}, {n_inputs} {args.inputs} inputs, seeds "
          f"{','.join(map(str, args.seeds))}; output gradient dL/da_{DEPTH} ~ N(0, 1)")
    print_ratio_table(results, args.seeds)
    print_layer_table("tanh: fraction of saturated units |a| > 0.99", results, "tanh", "saturated", ".3f")
    print_layer_table("tanh: std of activations", results, "tanh", "activation_std", ".3g")
    print_layer_table("relu: std of activations", results, "relu", "activation_std", ".3g")

    symmetry = []
    for activation in ACTIVATIONS:
        for scheme in ("zero", "constant", RANDOM_REFERENCE[activation]):
            symmetry.append(train_symmetric(activation, scheme, args.width, args.steps, lr=0.1, seed=args.seeds[0]))
    print_symmetry_table(symmetry)
    print(f"\nwall time {time.perf_counter() - start:.1f} s")

    if args.quick:
        return
    out = args.out or ROOT / "docs" / "img"
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("matplotlib is not installed: no pictures were drawn")
        return
    out.mkdir(parents=True, exist_ok=True)
    paths = [draw_histograms(results, activation, args.seeds[0], out) for activation in ACTIVATIONS]
    paths.append(draw_gradients(results, out))
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
