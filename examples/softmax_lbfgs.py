"""Softmax regression on MNIST pixels trained with L-BFGS, gradient descent and Newton-CG.

Reproduces the softmax regression exercise of the UFLDL tutorial (Stanford, Ng et al.,
http://ufldl.stanford.edu/wiki/index.php/Exercise:Softmax_Regression): a linear classifier on
the 784 raw pixels (no hidden layer, no bias, as in UFLDL), parameters θ (10, 784) initialised
as 0.005·N(0, 1), trained on the 60,000 MNIST training images by minimising

    J(θ) = −(1/m) Σᵢ log softmax(θ·xᵢ)_{yᵢ} + (λ/2)·‖θ‖²,     λ = 1e-4,

with L-BFGS (strong-Wolfe line search, 100 iterations), then tested on the 10,000 test
images.  Published: 92.6% test accuracy (wiki text; the starter code's comment says 92.2%).

The same cost is also minimised by

* gradient descent with a fixed step, given as many loss+gradient evaluations as L-BFGS used
  (hence at least as many iterations), twice: with the step 1/L, where L = ½·λ_max(XᵀX/m) + λ
  bounds the largest eigenvalue of the Hessian (each example's softmax curvature diag(p) − ppᵀ
  has eigenvalues at most ½), so that every step lowers J; and with the step c/L, c ∈ {4, 8, 16,
  32, 64}, that ends at the lowest J for that seed (a tuned step: the bound is loose);
* Newton-CG (``mg.optim.NewtonCG``, 10 steps): each step solves H·d = −g approximately by
  conjugate gradients (at most 100 iterations, one Hessian-vector product each), then
  backtracks along d (Armijo).

The training set is all 60,000 training images, as in UFLDL: nothing is tuned on held-out data
(λ is the exercise's, the gradient-descent step is chosen by training loss), so the 10,000 kept
back as ``val`` elsewhere are not needed; ``--split train`` uses the first 50,000 instead.
Everything runs in float64 (the exercise ran in MATLAB doubles).  The script prints a table
(method, iterations, loss+gradient evaluations, Hessian-vector products, final training loss,
test accuracy, wall time; mean ± sd over the seeds, which change only the initial θ) and draws,
for the first seed, J per iteration and the gap J − J* per iteration and per unit of work
(J*: the lowest J any method reached), log scale.

Run from the repository root (MNIST IDX files in $MINIGRAD_DATA/mnist or --data-dir):
    python examples/softmax_lbfgs.py                    # 3 seeds, writes docs/img/softmax_lbfgs_loss.png
    python examples/softmax_lbfgs.py --quick            # 3,000 images, ~20 iterations, a few seconds
    python examples/softmax_lbfgs.py --seeds 0 --out /tmp/pictures
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import optim  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_PIXELS, N_CLASSES = 784, 10
GD_SAFE, GD_TUNED = "gradient descent, step 1/L", "gradient descent, tuned step"
METHODS = ("L-BFGS", GD_SAFE, GD_TUNED, "Newton-CG")


# -- the model and its cost -------------------------------------------------------------------------
@dataclasses.dataclass
class Data:
    """Training and test images (float64, (m, 784), pixels in [0, 1]) with their labels (int64, (m,))."""
    train_images: mg.Tensor
    train_labels: mg.Tensor
    test_images: mg.Tensor
    test_labels: mg.Tensor


def softmax_cost(theta: mg.Tensor, images: mg.Tensor, labels: mg.Tensor, weight_decay: float) -> mg.Tensor:
    """J(θ) = −(1/m) Σᵢ log softmax(θ·xᵢ)_{yᵢ} + (λ/2)·‖θ‖²: a 0-d tensor.

    theta (10, 784), images (m, 784), labels (m,) class indices; the logits are images @ θᵀ, (m, 10)."""
    return F.cross_entropy(images @ theta.T, labels) + 0.5 * weight_decay * (theta * theta).sum()


def accuracy(theta: mg.Tensor, images: mg.Tensor, labels: mg.Tensor) -> float:
    """Fraction of images whose largest logit θ·x is at the true class."""
    with mg.no_grad():
        predicted = (images @ theta.T).numpy().argmax(axis=1)
    return float((predicted == labels.numpy()).mean())


def gradient_lipschitz_bound(images: mg.Tensor, weight_decay: float, power_iterations: int = 100) -> float:
    """L = ½·λ_max(XᵀX/m) + λ, an upper bound on the Hessian's largest eigenvalue.

    The Hessian of J is (1/m) Σᵢ (diag(pᵢ) − pᵢpᵢᵀ) ⊗ xᵢxᵢᵀ + λI and diag(p) − ppᵀ has eigenvalues
    in [0, ½]; λ_max(XᵀX/m) comes from power iteration on the (784, 784) matrix XᵀX/m."""
    x = images.numpy()
    gram = x.T @ x / x.shape[0]
    v = np.ones(gram.shape[0])
    for _ in range(power_iterations):
        v = gram @ v
        v /= np.linalg.norm(v)
    return 0.5 * float(v @ gram @ v) + weight_decay


# -- one training run -------------------------------------------------------------------------------
@dataclasses.dataclass
class Run:
    """One method from one initial θ.

    ``loss_per_iteration[k]`` is J after k iterations (k = 0: the initial θ).  ``loss_per_evaluation``
    pairs (work, J): work = the loss evaluations made up to and including the one that measured
    this J, plus, for Newton-CG, the Hessian-vector products made before it."""
    method: str
    seed: int
    iterations: int = 0
    evaluations: int = 0
    hessian_vector_products: int = 0
    final_loss: float = math.nan
    final_grad_norm: float = math.nan
    test_accuracy: float = math.nan
    wall_s: float = 0.0
    lr: float = math.nan
    loss_per_iteration: list = dataclasses.field(default_factory=list)
    loss_per_evaluation: list = dataclasses.field(default_factory=list)


def initial_theta(seed: int) -> np.ndarray:
    """0.005·N(0, 1) entries, (10, 784), from the seed."""
    return 0.005 * np.random.default_rng(seed).standard_normal((N_CLASSES, N_PIXELS))


def _finish(run: Run, theta: mg.Tensor, data: Data, weight_decay: float, started: float) -> Run:
    run.wall_s = time.perf_counter() - started
    (gradient,) = mg.grad(softmax_cost(theta, data.train_images, data.train_labels, weight_decay), theta)
    run.final_grad_norm = float(np.linalg.norm(gradient.numpy()))
    with mg.no_grad():
        run.final_loss = softmax_cost(theta, data.train_images, data.train_labels, weight_decay).item()
    run.test_accuracy = accuracy(theta, data.test_images, data.test_labels)
    return run


def train_lbfgs(data: Data, seed: int, weight_decay: float, max_iter: int) -> Run:
    """L-BFGS with the strong-Wolfe line search, all ``max_iter`` iterations in one step() call.

    Each closure call is one loss+gradient evaluation; the optimizer's ``n_iter`` at the call says
    which iteration's line search made it.  J after iteration k is the lowest J evaluated up to the
    end of iteration k (the line search accepts the lowest point it tried)."""
    run = Run("L-BFGS", seed)
    theta = mg.tensor(initial_theta(seed), dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([theta], lr=1, max_iter=max_iter, line_search_fn="strong_wolfe")
    evaluated: list = []  # (iteration, J)

    def closure() -> mg.Tensor:
        opt.zero_grad()
        loss = softmax_cost(theta, data.train_images, data.train_labels, weight_decay)
        loss.backward()
        evaluated.append((opt.state[theta]["n_iter"], loss.item()))
        return loss

    started = time.perf_counter()
    opt.step(closure)
    run.iterations = opt.state[theta]["n_iter"]
    run.evaluations = opt.state[theta]["func_evals"]
    best = math.inf
    per_iteration = [evaluated[0][1]]
    for count, (iteration, loss) in enumerate(evaluated, 1):
        best = min(best, loss)
        run.loss_per_evaluation.append((count, best))
        if iteration >= len(per_iteration):
            per_iteration.append(best)
        else:
            per_iteration[iteration] = best
    run.loss_per_iteration = per_iteration
    return _finish(run, theta, data, weight_decay, started)


def train_gradient_descent(data: Data, seed: int, weight_decay: float, steps: int, lr: float) -> Run:
    """``steps`` iterations of θ ← θ − lr·∇J(θ) (``optim.SGD`` on the full batch): one evaluation each."""
    run = Run(GD_SAFE, seed)
    theta = mg.tensor(initial_theta(seed), dtype=mg.float64, requires_grad=True)
    opt = optim.SGD([theta], lr=lr)
    run.lr = lr
    started = time.perf_counter()
    for k in range(steps):
        opt.zero_grad()
        loss = softmax_cost(theta, data.train_images, data.train_labels, weight_decay)
        loss.backward()
        opt.step()
        run.loss_per_iteration.append(loss.item())
        run.loss_per_evaluation.append((k + 1, loss.item()))
    run.iterations = run.evaluations = steps
    run = _finish(run, theta, data, weight_decay, started)
    run.loss_per_iteration.append(run.final_loss)
    run.loss_per_evaluation.append((steps + 1, run.final_loss))  # the evaluation that measured it
    return run


def tuned_gradient_descent(data: Data, seed: int, weight_decay: float, steps: int, lipschitz: float,
                           multipliers: tuple) -> Run:
    """Gradient descent with each step c/L, c in ``multipliers``: the run that ends at the lowest J
    (steps that diverge end at NaN or inf and lose).  Its wall time is that run's alone."""
    tried = [train_gradient_descent(data, seed, weight_decay, steps, c / lipschitz) for c in multipliers]
    best = min(tried, key=lambda r: r.final_loss if math.isfinite(r.final_loss) else math.inf)
    return dataclasses.replace(best, method=GD_TUNED)


def train_newton_cg(data: Data, seed: int, weight_decay: float, steps: int, cg_max_iter: int) -> Run:
    """``steps`` Newton-CG steps (at most ``cg_max_iter`` CG iterations each, Armijo backtracking).

    Evaluations: the closure's calls (one with the graph kept for second derivatives per step, plus
    the line search's trial points); Hessian-vector products: the CG iterations."""
    run = Run("Newton-CG", seed)
    theta = mg.tensor(initial_theta(seed), dtype=mg.float64, requires_grad=True)
    opt = optim.NewtonCG([theta], cg_max_iter=cg_max_iter)
    calls = [0]

    def closure() -> mg.Tensor:  # returns the loss without backward(): NewtonCG differentiates it itself
        calls[0] += 1
        return softmax_cost(theta, data.train_images, data.train_labels, weight_decay)

    started = time.perf_counter()
    for _ in range(steps):
        work_before = calls[0] + run.hessian_vector_products
        loss_before = float(opt.step(closure))  # J at the start of the step: the step's first evaluation
        run.loss_per_iteration.append(loss_before)
        run.loss_per_evaluation.append((work_before + 1, loss_before))
        run.iterations += 1
        if opt.state[theta]["grad_norm"] == 0.0:  # a stationary point: the step did nothing
            break
        run.hessian_vector_products += opt.state[theta]["cg_iters"]
    run.evaluations = calls[0]
    run = _finish(run, theta, data, weight_decay, started)
    run.loss_per_iteration.append(run.final_loss)
    run.loss_per_evaluation.append((run.evaluations + run.hessian_vector_products, run.final_loss))
    return run


# -- the table and the picture ----------------------------------------------------------------------
def _mean_sd(values: list, digits: int) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(runs: list) -> str:
    """One row per method: mean ± sd over the seeds (the value alone for one seed)."""
    head = ("| method | iterations | loss+gradient evaluations | Hessian-vector products | final training loss "
            "| test accuracy (%) | wall time (s) |")
    lines = [head, "|---|---|---|---|---|---|---|"]
    for method in METHODS:
        rows = [r for r in runs if r.method == method]
        if not rows:
            continue
        lines.append(f"| {method} | {_mean_sd([r.iterations for r in rows], 1)} "
                     f"| {_mean_sd([r.evaluations for r in rows], 1)} "
                     f"| {_mean_sd([r.hessian_vector_products for r in rows], 1)} "
                     f"| {_mean_sd([r.final_loss for r in rows], 5)} "
                     f"| {_mean_sd([100 * r.test_accuracy for r in rows], 2)} "
                     f"| {_mean_sd([r.wall_s for r in rows], 1)} |")
    return "\n".join(lines)


def draw(runs: list, out: Path, title: str) -> Path:
    """Three panels for one seed's runs, log scale: J per iteration; J − J* per iteration; J − J* per
    unit of work.  J* is the lowest J any of the runs evaluated (points at J* itself are left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"L-BFGS": "tab:blue", GD_SAFE: "tab:orange", GD_TUNED: "tab:red", "Newton-CG": "tab:green"}
    best = min(min(r.loss_per_iteration + [j for _, j in r.loss_per_evaluation]) for r in runs)
    fig, (loss_ax, gap_ax, work_ax) = plt.subplots(1, 3, figsize=(15, 4.4), dpi=100)
    for r in runs:
        style = dict(marker=".", ms=3, lw=1.2, color=colors[r.method], label=r.method)
        iterations = np.arange(len(r.loss_per_iteration))
        loss = np.array(r.loss_per_iteration)
        loss_ax.plot(iterations, loss, **style)
        above = loss > best
        gap_ax.plot(iterations[above], loss[above] - best, **style)
        work, loss = (np.array(v) for v in zip(*r.loss_per_evaluation))
        above = loss > best
        work_ax.plot(work[above], loss[above] - best, **style)
    loss_ax.set_ylabel("training loss J(θ)")
    gap_ax.set_ylabel(f"J(θ) − J*,  J* = {best:.8f}")
    work_ax.set_ylabel("J(θ) − J*")
    loss_ax.set_xlabel("iteration")
    gap_ax.set_xlabel("iteration")
    work_ax.set_xlabel("loss+gradient evaluations\n(Newton-CG: + Hessian-vector products)")
    for ax in (loss_ax, gap_ax, work_ax):
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = out / "softmax_lbfgs_loss.png"
    fig.savefig(path)
    plt.close(fig)
    return path


# -- the command line -------------------------------------------------------------------------------
def _seeds(text: str) -> list:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("expected at least one seed")
    return seeds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _multipliers(text: str) -> tuple:
    try:
        values = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive numbers, got {text!r}") from None
    if not values or not all(v > 0 and math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive numbers, got {text!r}")
    return values


METHOD_FLAGS = {"lbfgs": "L-BFGS", "gd": "both gradient descents", "newton": "Newton-CG"}


def _methods(text: str) -> tuple:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [n for n in names if n not in METHOD_FLAGS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected names from {','.join(METHOD_FLAGS)}, got {text!r}")
    return names


def load_data(data_dir: str | None, train_size: int | None, split: str) -> Data:
    """MNIST as float64 tensors; the first ``train_size`` training images if given."""
    train = mg.data.MNIST(data_dir, split=split)
    test = mg.data.MNIST(data_dir, split="test")
    (train_images, train_labels), (test_images, test_labels) = train.tensors, test.tensors
    if train_size is not None:
        train_images, train_labels = train_images[:train_size], train_labels[:train_size]
    return Data(train_images.to(mg.float64), train_labels, test_images.to(mg.float64), test_labels)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="3,000 training images, 20 L-BFGS iterations, 5 Newton-CG steps, seed 0")
    parser.add_argument("--seeds", type=_seeds, default=None, help="comma-separated seeds (default 0,1,2; quick: 0)")
    parser.add_argument("--seed", type=int, default=None, help="a single seed (same as --seeds N)")
    parser.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA"),
                        help="folder holding mnist/ (default $MINIGRAD_DATA)")
    parser.add_argument("--split", choices=("train+val", "train"), default="train+val",
                        help="training images: all 60,000 as in UFLDL (default) or the first 50,000")
    parser.add_argument("--train-size", type=_positive_int, default=None, help="use only the first N training images")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="λ in (λ/2)·‖θ‖² (default 1e-4)")
    parser.add_argument("--max-iter", type=_positive_int, default=None, help="L-BFGS iterations (default 100; quick: 20)")
    parser.add_argument("--gd-multipliers", type=_multipliers, default=(4, 8, 16, 32, 64),
                        help="steps c/L tried for the tuned gradient descent (default 4,8,16,32,64)")
    parser.add_argument("--methods", type=_methods, default=tuple(METHOD_FLAGS),
                        help=f"methods to run, comma-separated from {','.join(METHOD_FLAGS)} (default all)")
    parser.add_argument("--newton-steps", type=_positive_int, default=None, help="Newton-CG steps (default 10; quick: 5)")
    parser.add_argument("--cg-max-iter", type=_positive_int, default=None,
                        help="most CG iterations per Newton-CG step (default 100; quick: 20)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNG (full mode)")
    args = parser.parse_args(argv)
    if args.weight_decay < 0 or not math.isfinite(args.weight_decay):
        parser.error(f"--weight-decay must be a non-negative number, got {args.weight_decay}")
    if args.seed is not None and args.seeds is not None:
        parser.error("give --seed or --seeds, not both")
    seeds = [args.seed] if args.seed is not None else args.seeds or ([0] if args.quick else [0, 1, 2])
    train_size = args.train_size or (3000 if args.quick else None)
    max_iter = args.max_iter or (20 if args.quick else 100)
    newton_steps = args.newton_steps or (5 if args.quick else 10)
    cg_max_iter = args.cg_max_iter or (20 if args.quick else 100)

    try:
        data = load_data(args.data_dir, train_size, args.split)
    except mg.data.DataFilesNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    m = data.train_images.shape[0]
    lipschitz = gradient_lipschitz_bound(data.train_images, args.weight_decay)
    print(f"softmax regression, {m} training images, {data.test_images.shape[0]} test images, "
          f"lambda = {args.weight_decay:g}, float64, seeds {','.join(map(str, seeds))}")
    print(f"Hessian bound L = {lipschitz:.4f}; gradient descent steps c/L, c = 1 and the best of "
          f"{','.join(f'{c:g}' for c in args.gd_multipliers)}")

    runs = []
    for seed in seeds:
        with mg.no_grad():
            theta0 = mg.tensor(initial_theta(seed), dtype=mg.float64)
            initial_loss = softmax_cost(theta0, data.train_images, data.train_labels, args.weight_decay).item()
        seed_runs = []
        if "lbfgs" in args.methods or "gd" in args.methods:
            lbfgs = train_lbfgs(data, seed, args.weight_decay, max_iter)
            seed_runs += [lbfgs] if "lbfgs" in args.methods else []
        if "gd" in args.methods:  # as many evaluations as L-BFGS used
            seed_runs.append(train_gradient_descent(data, seed, args.weight_decay, lbfgs.evaluations,
                                                    1.0 / lipschitz))
            seed_runs.append(tuned_gradient_descent(data, seed, args.weight_decay, lbfgs.evaluations, lipschitz,
                                                    args.gd_multipliers))
        if "newton" in args.methods:
            seed_runs.append(train_newton_cg(data, seed, args.weight_decay, newton_steps, cg_max_iter))
        runs += seed_runs
        print(f"seed {seed}: initial training loss {initial_loss:.5f}")
        for r in seed_runs:
            step = f", step {r.lr * lipschitz:g}/L = {r.lr:.4f}" if r.method == GD_TUNED else ""
            print(f"  {r.method}{step}: {r.iterations} iterations, {r.evaluations} evaluations, "
                  f"{r.hessian_vector_products} Hessian-vector products, loss {r.final_loss:.8f}, "
                  f"|grad| {r.final_grad_norm:.2e}, test {100 * r.test_accuracy:.2f}%, {r.wall_s:.1f} s", flush=True)

    print(f"\nmean ± sd over {len(seeds)} seed(s); gradient descent gets as many evaluations as L-BFGS used; "
          "wall time: CPU")
    print(table(runs))
    if args.quick:
        return 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: no pictures were drawn")
        return 0
    os.makedirs(args.out, exist_ok=True)
    first = [r for r in runs if r.seed == seeds[0]]
    path = draw(first, args.out, f"softmax regression on MNIST ({m} images, λ = {args.weight_decay:g}), "
                                 f"seed {seeds[0]}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
