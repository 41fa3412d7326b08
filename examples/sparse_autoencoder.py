"""Sparse autoencoder on MNIST, trained with L-BFGS: UFLDL's "Exercise: Vectorization".

Source: Andrew Ng, Jiquan Ngiam, Chuan Yu Foo, Yifan Mai, Caroline Suen, *UFLDL Tutorial*
(Stanford, 2011), the "Sparse Autoencoder" notes and "Exercise: Vectorization"
(http://ufldl.stanford.edu/wiki/index.php/Exercise:Vectorization).

A 784-196-784 network with sigmoid units learns to reproduce its input through a hidden layer
whose units are pushed to be active (near 1) on only a fraction ρ of the images:

    h  = σ(x·W1ᵀ + b1)            x (m, 784), W1 (196, 784), b1 (196,), h (m, 196)
    x̂  = σ(h·W2ᵀ + b2)            W2 (784, 196), b2 (784,), x̂ (m, 784)
    ρ̂_j = (1/m) Σ_i h_ij           the mean activation of hidden unit j
    J  = (1/2m) Σ_i ‖x̂_i − x_i‖²  +  (λ/2)(‖W1‖² + ‖W2‖²)  +  β Σ_j KL(ρ ‖ ρ̂_j)
    KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂))

with ρ = 0.1, β = 3, λ = 3e-3; weights start uniform in ±√6/√(n_in + n_out + 1), biases at 0.
J is minimised by ``mg.optim.LBFGS`` with a strong-Wolfe line search for 400 iterations on the
first 10,000 MNIST training images.  UFLDL gives no number for this exercise: the claim is the
picture — each hidden unit's input weights (a row of W1, drawn as a 28×28 image) look like a pen
stroke.  The script prints the cost terms before and after training, the L-BFGS iterations and
evaluations used, the mean ρ̂ reached, and draws the 196 features as a 14×14 grid.

The arithmetic is float32 by default (``--dtype float64`` for double precision): the matrix
products cost about half as much, and L-BFGS still has cost decreases far above float32's
rounding for all 400 iterations here, so its change tolerance does not stop it early.

Run from the repository root (MNIST in $MINIGRAD_DATA/mnist, or pass --data-dir):
    python examples/sparse_autoencoder.py                  # 3 seeds; docs/img/sparse_autoencoder_features.png
    python examples/sparse_autoencoder.py --quick          # 1,000 images, 30 iterations, one seed, a few seconds
    python examples/sparse_autoencoder.py --save runs/ae   # also keep the numbers and W1 (JSON + .npy)
    python examples/sparse_autoencoder.py --load runs/ae   # reprint the table and redraw from those files
                                                          # (several folders: their seeds together)
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
from typing import Callable, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DTYPES = {"float32": mg.float32, "float64": mg.float64}


# -- the model and its cost -------------------------------------------------------------------------
@dataclass(frozen=True)
class SparsitySettings:
    """The sparse autoencoder's penalty weights: target activation ρ, sparsity weight β, weight decay λ."""

    rho: float = 0.1
    beta: float = 3.0
    weight_decay: float = 3e-3


@dataclass
class CostTerms:
    """The cost J and its three terms (0-d tensors on the tape), and ρ̂ (n_hidden,), the hidden units'
    mean activations."""

    total: mg.Tensor
    reconstruction: mg.Tensor
    weight_decay: mg.Tensor
    sparsity: mg.Tensor
    mean_activation: mg.Tensor


def sparse_autoencoder_cost(x: mg.Tensor, w1: mg.Tensor, b1: mg.Tensor, w2: mg.Tensor, b2: mg.Tensor,
                            settings: SparsitySettings) -> CostTerms:
    """The sparse autoencoder cost J for inputs x (m, n_visible) and weights W1 (n_hidden, n_visible),
    b1 (n_hidden,), W2 (n_visible, n_hidden), b2 (n_visible,):

        J = (1/2m) Σ‖x̂ − x‖²  +  (λ/2)(‖W1‖² + ‖W2‖²)  +  β Σ_j KL(ρ ‖ ρ̂_j)

    (see the module docstring).  Every term is differentiable in all four weight tensors.
    """
    m = x.shape[0]
    hidden = mg.sigmoid(x @ w1.T + b1)
    reconstruction = mg.sigmoid(hidden @ w2.T + b2)
    squared_error = ((reconstruction - x) ** 2).sum() * (0.5 / m)
    decay = ((w1 ** 2).sum() + (w2 ** 2).sum()) * (0.5 * settings.weight_decay)
    rho, rho_hat = settings.rho, hidden.mean(0)
    kl = (rho * mg.log(rho / rho_hat) + (1 - rho) * mg.log((1 - rho) / (1 - rho_hat))).sum()
    sparsity = kl * settings.beta
    return CostTerms(squared_error + decay + sparsity, squared_error, decay, sparsity, rho_hat)


def uniform_init(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    """A (n_out, n_in) weight matrix uniform in ±√6/√(n_in + n_out + 1), UFLDL's initialization."""
    r = math.sqrt(6) / math.sqrt(n_in + n_out + 1)
    return rng.uniform(-r, r, size=(n_out, n_in))


class SparseAutoencoder(nn.Module):
    """n_visible → n_hidden → n_visible with sigmoid units; ``encode`` gives the features h (m, n_hidden),
    ``cost`` the sparse autoencoder cost of a batch x (m, n_visible)."""

    def __init__(self, n_visible: int, n_hidden: int, rng: np.random.Generator, dtype=mg.float64) -> None:
        super().__init__()
        self.w1 = nn.Parameter(mg.tensor(uniform_init(n_hidden, n_visible, rng), dtype=dtype))
        self.b1 = nn.Parameter(mg.zeros(n_hidden, dtype=dtype))
        self.w2 = nn.Parameter(mg.tensor(uniform_init(n_visible, n_hidden, rng), dtype=dtype))
        self.b2 = nn.Parameter(mg.zeros(n_visible, dtype=dtype))

    def encode(self, x: mg.Tensor) -> mg.Tensor:
        """h = σ(x·W1ᵀ + b1), shape (m, n_hidden)."""
        return mg.sigmoid(x @ self.w1.T + self.b1)

    def cost(self, x: mg.Tensor, settings: SparsitySettings) -> CostTerms:
        return sparse_autoencoder_cost(x, self.w1, self.b1, self.w2, self.b2, settings)


# -- L-BFGS on a whole-batch cost --------------------------------------------------------------------
@dataclass
class LBFGSRun:
    """What one L-BFGS minimisation did: iterations and cost evaluations used, why it stopped, the cost
    at every evaluation (in order), and the wall time in seconds."""

    iterations: int
    evaluations: int
    stop_reason: str
    costs: list
    seconds: float


def minimize_lbfgs(params: Sequence[mg.Tensor], cost: Callable[[], mg.Tensor], max_iter: int,
                   tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9) -> LBFGSRun:
    """Minimise ``cost()`` (a 0-d tensor built from ``params``) with L-BFGS and a strong-Wolfe line search:
    at most ``max_iter`` iterations and 2.5·max_iter cost evaluations (1,000 for 400 iterations, the
    evaluation budget of minFunc, the optimizer UFLDL's exercises use with only the iteration count
    set), and the last 100 steps kept (minFunc's default too)."""
    max_eval = max_iter * 5 // 2
    optimizer = optim.LBFGS(params, lr=1, max_iter=max_iter, max_eval=max_eval, history_size=100,
                            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                            line_search_fn="strong_wolfe")
    costs: list = []

    def closure() -> mg.Tensor:
        optimizer.zero_grad()
        loss = cost()
        loss.backward()
        costs.append(loss.item())
        return loss

    start = time.perf_counter()
    optimizer.step(closure)
    seconds = time.perf_counter() - start
    state = optimizer.state[params[0]]
    iterations, evaluations = state["n_iter"], state["func_evals"]
    largest_gradient = max(float(np.abs(p.grad.numpy()).max()) for p in params)
    if iterations >= max_iter:
        reason = "iteration limit"
    elif evaluations >= max_eval:
        reason = "evaluation limit"
    elif largest_gradient <= tolerance_grad:
        reason = "gradient tolerance"
    else:
        reason = "change tolerance"
    return LBFGSRun(iterations, evaluations, reason, costs, seconds)


# -- one training run ----------------------------------------------------------------------------------
@dataclass
class CostNumbers:
    """The cost terms as plain numbers, and the mean over hidden units of ρ̂."""

    total: float
    reconstruction: float
    weight_decay: float
    sparsity: float
    mean_rho_hat: float

    @classmethod
    def of(cls, terms: CostTerms) -> "CostNumbers":
        return cls(terms.total.item(), terms.reconstruction.item(), terms.weight_decay.item(),
                   terms.sparsity.item(), terms.mean_activation.mean().item())


@dataclass
class SeedResult:
    """One seed's run: the cost before and after training, and the optimizer's record."""

    seed: int
    initial: CostNumbers
    trained: CostNumbers
    iterations: int
    evaluations: int
    stop_reason: str
    seconds: float
    costs: list = field(repr=False)


def train_sparse_autoencoder(x: mg.Tensor, n_hidden: int, settings: SparsitySettings, seed: int, max_iter: int,
                             tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9
                             ) -> tuple[SparseAutoencoder, SeedResult]:
    """Train a sparse autoencoder on x (m, n_visible) from seed ``seed``'s initialization."""
    model = SparseAutoencoder(x.shape[1], n_hidden, np.random.default_rng(seed), dtype=x.dtype)
    with mg.no_grad():
        initial = CostNumbers.of(model.cost(x, settings))
    run = minimize_lbfgs(list(model.parameters()), lambda: model.cost(x, settings).total, max_iter,
                         tolerance_grad, tolerance_change)
    with mg.no_grad():
        trained = CostNumbers.of(model.cost(x, settings))
    return model, SeedResult(seed, initial, trained, run.iterations, run.evaluations, run.stop_reason,
                             run.seconds, run.costs)


# -- output ---------------------------------------------------------------------------------------------
def mean_sd(values: Sequence[float]) -> str:
    """'mean ± sd' (sample sd) with the sd's first two significant digits, or the single value."""
    if len(values) == 1:
        return f"{values[0]:.5g}"
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    if sd == 0:
        return f"{mean:.5g} ± 0"
    decimals = max(0, 1 - math.floor(math.log10(sd)))
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}"


def print_table(results: Sequence[SeedResult], header: str) -> None:
    """One row per seed and weights (initial / trained), then the mean ± sd of the trained rows."""
    print(header)
    columns = ("seed", "weights", "cost", "reconstruction", "weight_decay", "sparsity", "mean_rho_hat",
               "iterations", "evaluations", "stop", "seconds")
    widths = (4, 7, 10, 14, 12, 10, 12, 10, 11, 16, 7)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for r in results:
        for name, c in (("initial", r.initial), ("trained", r.trained)):
            cells = [r.seed, name, f"{c.total:.5f}", f"{c.reconstruction:.5f}", f"{c.weight_decay:.5f}",
                     f"{c.sparsity:.5f}", f"{c.mean_rho_hat:.5f}"]
            cells += [r.iterations, r.evaluations, r.stop_reason.replace(" ", "_"), f"{r.seconds:.1f}"] \
                if name == "trained" else ["-"] * 4
            print(" ".join(f"{str(v):>{w}}" for v, w in zip(cells, widths)))
    if len(results) > 1:
        t = [r.trained for r in results]
        print(f"mean ± sd over {len(results)} seeds: cost {mean_sd([c.total for c in t])}, "
              f"reconstruction {mean_sd([c.reconstruction for c in t])}, "
              f"mean_rho_hat {mean_sd([c.mean_rho_hat for c in t])}, "
              f"iterations {mean_sd([r.iterations for r in results])}, "
              f"evaluations {mean_sd([r.evaluations for r in results])}, "
              f"seconds {mean_sd([r.seconds for r in results])}")


def feature_grid(weights: np.ndarray, rows: int, cols: int, side: int = 28, border: int = 1) -> np.ndarray:
    """Tile the rows of ``weights`` (n_units, side²) into a (rows, cols) image grid, each unit's weights
    shifted to mean 0 and scaled to max |w| = 1; the borders between tiles are −1 (black)."""
    n = weights.shape[0]
    grid = -np.ones((rows * (side + border) + border, cols * (side + border) + border))
    for k in range(min(n, rows * cols)):
        w = weights[k] - weights[k].mean()
        w = w / max(np.abs(w).max(), 1e-12)
        r, c = divmod(k, cols)
        top, left = border + r * (side + border), border + c * (side + border)
        grid[top:top + side, left:left + side] = w.reshape(side, side)
    return grid


def draw_features(weights: np.ndarray, path: Path, title: str) -> bool:
    """Save the features grid as a PNG; False (and nothing written) when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cols = math.ceil(math.sqrt(weights.shape[0]))
    rows = math.ceil(weights.shape[0] / cols)
    fig, ax = plt.subplots(figsize=(8, 8 * rows / cols + 0.4))
    ax.imshow(feature_grid(weights, rows, cols), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -- command line ---------------------------------------------------------------------------------------
def parse_seeds(text: str) -> list:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one seed")
    return seeds


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1,000 images, 30 iterations, one seed: a check that runs in seconds")
    parser.add_argument("--seeds", type=parse_seeds, default=None, help="comma-separated seeds (default 0,1,2; "
                        "--quick: 0)")
    parser.add_argument("--images", type=positive_int, default=None, help="first N training images (default 10000)")
    parser.add_argument("--hidden", type=positive_int, default=196, help="hidden units (default 196)")
    parser.add_argument("--iterations", type=positive_int, default=None, help="L-BFGS iterations (default 400)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="float32 (default) or float64")
    parser.add_argument("--tolerance-grad", type=float, default=1e-7, help="L-BFGS stops when max|g| is below this")
    parser.add_argument("--tolerance-change", type=float, default=1e-9,
                        help="L-BFGS stops when the cost or the step changes by less than this")
    parser.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"), help="folder holding mnist/ "
                        "(default $MINIGRAD_DATA)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNG")
    parser.add_argument("--save", type=Path, default=None, help="folder to write sparse_autoencoder.json and "
                        "the first seed's W1 (.npy) into")
    parser.add_argument("--load", type=Path, nargs="+", default=None, help="reprint and redraw from --save "
                        "folders (one or more, e.g. runs of different seeds) instead of training")
    args = parser.parse_args(argv)

    if args.load is not None:
        return replay(args.load, args.out, args.quick)

    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    n_images = args.images or (1000 if args.quick else 10_000)
    iterations = args.iterations or (30 if args.quick else 400)
    settings = SparsitySettings()
    try:
        train = mg.data.MNIST(args.data_dir, split="train")
    except mg.data.DataFilesNotFound as e:
        print(e)
        return 1
    if n_images > len(train):
        parser.error(f"--images {n_images}: the training split has {len(train)} images")
    images = np.asarray(train.arrays[0][:n_images])
    x = mg.tensor(images, dtype=DTYPES[args.dtype])

    header = (f"sparse autoencoder 784-{args.hidden}-784 on the first {n_images} MNIST training images, "
              f"{args.dtype}, rho={settings.rho} beta={settings.beta} lambda={settings.weight_decay}, "
              f"L-BFGS (strong Wolfe) up to {iterations} iterations")
    results, first_w1 = [], None
    for seed in seeds:
        model, result = train_sparse_autoencoder(x, args.hidden, settings, seed, iterations,
                                                 args.tolerance_grad, args.tolerance_change)
        results.append(result)
        if first_w1 is None:
            first_w1 = model.w1.detach().numpy().astype(np.float64)
    print_table(results, header)

    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
        record = {"header": header, "settings": asdict(settings), "images": n_images, "hidden": args.hidden,
                  "dtype": args.dtype, "iterations": iterations, "results": [asdict(r) for r in results]}
        (args.save / "sparse_autoencoder.json").write_text(json.dumps(record, indent=1))
        np.save(args.save / f"sparse_autoencoder_w1_seed{seeds[0]}.npy", first_w1)
    if not args.quick:
        draw(first_w1, seeds[0], n_images, args.out)
    return 0


def draw(w1: np.ndarray, seed: int, n_images: int, out: Path) -> None:
    path = out / "sparse_autoencoder_features.png"
    title = (f"sparse autoencoder: the {w1.shape[0]} hidden units' input weights "
             f"(seed {seed}, {n_images} MNIST images)")
    if draw_features(w1, path, title):
        print(f"wrote {path}")
    else:
        print("matplotlib is not installed: no pictures were drawn")


def replay(folders: Sequence[Path], out: Path, quick: bool) -> int:
    """Reprint the table and redraw the features from one or more --save folders of the same setup
    (their seeds are listed together; the picture is the first folder's first seed)."""
    records = [json.loads((folder / "sparse_autoencoder.json").read_text()) for folder in folders]
    if any(r["header"] != records[0]["header"] for r in records):
        print("--load: the folders hold runs of different setups: " + "; ".join(r["header"] for r in records))
        return 1
    results = [SeedResult(**{**r, "initial": CostNumbers(**r["initial"]), "trained": CostNumbers(**r["trained"])})
               for record in records for r in record["results"]]
    print_table(results, records[0]["header"])
    seed = results[0].seed
    if not quick:
        draw(np.load(folders[0] / f"sparse_autoencoder_w1_seed{seed}.npy"), seed, records[0]["images"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
