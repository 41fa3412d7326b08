"""Cliffs and gradient clipping: SGD on a one-unit recurrent network, with and without clip_grad_norm_.

Reproduces, qualitatively, the picture of Pascanu, Mikolov & Bengio (2013), "On the difficulty of
training recurrent neural networks" (ICML), that Goodfellow, Bengio & Courville's *Deep Learning*
(2016) shows in Figure 8.3 (§8.2.4, cliffs and exploding gradients) and Figure 10.17 (§10.11.1,
clipping gradients): near a steep wall of the loss surface one gradient step can throw the
parameters far away; rescaling the gradient to a bounded norm keeps the step short.

The model is one tanh unit run for T time steps with a shared weight w and bias b:

    h₀ = 0.5,   hₜ = tanh(w·hₜ₋₁ + b)  (t = 1 … T),   L(w, b) = (h_T − 0.7)²

For w > 1 the map h ↦ tanh(w·h + b) has two stable fixed points (near +1 and −1) and an unstable
one between them; h_T runs to the one on h₀'s side.  Along the curve tanh(0.5·w + b) = 0.5, h₀ sits
exactly on the unstable point, and crossing that curve flips h_T from about +1 to about −1: L jumps
from near 0 to about (−1 − 0.7)² ≈ 2.9 across a band whose width shrinks like λ^−T, with
λ = w·(1 − 0.5²) the map's slope there.  That wall is the cliff; ∂L/∂(w, b) on its face is of order
λ^T.  At its foot, on the low side, runs a ravine (h_T closest to 0.7) down to (w, b) ≈ (1.6, −0.2),
where it meets the line of exact minima (h_T = 0.7, close to tanh(0.7·w + b) = 0.7) that runs off
to the upper left.

Both runs use plain SGD (``mg.optim.SGD``) with the same learning rate from the same start in that
ravine.  The clipped run calls ``mg.nn.utils.clip_grad_norm_(params, max_norm)`` before each step,
so every step is at most lr·max_norm long and points the same way as the gradient.  Without it,
SGD zigzags down the ravine until one step lands on the cliff face; the gradient there throws
(w, b) away, usually onto a plateau (h_T ≈ −1 beyond the wall, or h_T ≈ +1 far out) where tanh is
saturated and the gradient all but vanishes, so SGD crawls or stops there; a shorter throw can land
where the surface still slopes back to the minima, and SGD then recovers, slowly.  Which zigzag
lands on the face depends on the last bits of the start, so the script runs several starts — the
given one (``--start``, seed 0) and starts drawn uniformly within ``--jitter`` of it (seeds 1, 2, …)
— and counts.

Run from the repository root:
    python examples/cliffs_and_clipping.py            # 30 starts, writes docs/img/cliffs_and_clipping.png
    python examples/cliffs_and_clipping.py --quick    # 6 starts, no picture
    python examples/cliffs_and_clipping.py --seeds 0,1,2 --lr 0.05 --iterations 600 --out /tmp/cliff
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
H0 = 0.5          # the initial state h₀
TARGET = 0.7      # the wanted final state
THROWN = 10.0     # a step longer than THROWN × lr·max_norm counts as "thrown off the cliff"


@dataclass
class Settings:
    time_steps: int = 15               # T, the length of the unrolled recurrence
    lr: float = 0.05                   # SGD learning rate (both runs)
    max_norm: float = 0.5              # clip_grad_norm_'s bound on ‖∇L‖ (clipped run)
    iterations: int = 600              # SGD steps per run
    start: tuple = (2.8, -0.36)        # (w, b) of seed 0
    jitter: float = 0.1                # radius of the disk the other starts are drawn from


@dataclass
class Run:
    """One SGD run: ``path`` (iterations + 1, 2) holds (w, b) before each step and at the end,
    ``losses`` (iterations + 1,) the loss there, ``grad_norms`` (iterations,) ‖∇L‖ before clipping."""
    path: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        """(iterations,) the length ‖θₖ₊₁ − θₖ‖ of every step."""
        return np.linalg.norm(np.diff(self.path, axis=0), axis=1)

    @property
    def largest_step(self) -> float:
        return float(self.steps.max())

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


@dataclass
class StartResult:
    seed: int
    start: tuple
    plain: Run       # SGD
    clipped: Run     # SGD after clip_grad_norm_


def final_state(w: mg.Tensor, b: mg.Tensor, time_steps: int) -> mg.Tensor:
    """h_T of hₜ = tanh(w·hₜ₋₁ + b), h₀ = H0, element-wise for w and b of any (equal) shape."""
    h = mg.full_like(w, H0)
    for _ in range(time_steps):
        h = mg.tanh(w * h + b)
    return h


def loss_fn(w: mg.Tensor, b: mg.Tensor, time_steps: int) -> mg.Tensor:
    """L(w, b) = (h_T − TARGET)², element-wise."""
    return (final_state(w, b, time_steps) - TARGET) ** 2


def train(start: tuple, settings: Settings, clip: bool) -> Run:
    """SGD on L from ``start``; with ``clip``, ``clip_grad_norm_`` rescales ∇L to norm ≤ max_norm first."""
    w = mg.tensor(start[0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor(start[1], dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.SGD([w, b], lr=settings.lr)
    path, losses, grad_norms = [], [], []
    for _ in range(settings.iterations):
        optimizer.zero_grad()
        loss = loss_fn(w, b, settings.time_steps)
        loss.backward()
        path.append((w.item(), b.item()))
        losses.append(loss.item())
        if clip:
            norm = mg.nn.utils.clip_grad_norm_([w, b], settings.max_norm)   # the norm before clipping
            grad_norms.append(norm.item())
        else:
            grad_norms.append(math.hypot(w.grad.item(), b.grad.item()))
        optimizer.step()
    path.append((w.item(), b.item()))
    with mg.no_grad():
        losses.append(loss_fn(w, b, settings.time_steps).item())
    return Run(np.array(path), np.array(losses), np.array(grad_norms))


def start_of(seed: int, settings: Settings) -> tuple:
    """Seed 0: ``settings.start``; seed s > 0: a point drawn uniformly from the disk of radius
    ``settings.jitter`` around it."""
    if seed == 0:
        return settings.start
    rng = np.random.default_rng(seed)
    radius = settings.jitter * math.sqrt(rng.uniform())
    angle = rng.uniform(0.0, 2.0 * math.pi)
    return (settings.start[0] + radius * math.cos(angle), settings.start[1] + radius * math.sin(angle))


def run_start(seed: int, settings: Settings) -> StartResult:
    """Both runs, SGD and SGD with clipping, from the start of ``seed``."""
    start = start_of(seed, settings)
    return StartResult(seed, start, train(start, settings, clip=False), train(start, settings, clip=True))


# -- the tables --------------------------------------------------------------------------------------
def per_start_table(results: list) -> str:
    """A markdown table, one row per start: largest steps, largest gradient norm, final losses."""
    header = ("| seed | start (w, b) | largest step, SGD | largest step, clipped | largest ‖∇L‖ | "
              "final loss, SGD | final loss, clipped |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in results:
        largest_gradient = max(r.plain.grad_norms.max(), r.clipped.grad_norms.max())
        lines.append(f"| {r.seed} | ({r.start[0]:.3f}, {r.start[1]:.3f}) | {r.plain.largest_step:.3g} | "
                     f"{r.clipped.largest_step:.3g} | {largest_gradient:.3g} | {r.plain.final_loss:.3g} | "
                     f"{r.clipped.final_loss:.3g} |")
    return "\n".join(lines)


def summary(results: list, settings: Settings) -> str:
    """The claims, each on a line of its own: counts over the starts, then medians and spreads."""
    n = len(results)
    bound = settings.lr * settings.max_norm
    plain_steps = np.array([r.plain.largest_step for r in results])
    clipped_steps = np.array([r.clipped.largest_step for r in results])
    plain_loss = np.array([r.plain.final_loss for r in results])
    clipped_loss = np.array([r.clipped.final_loss for r in results])

    def spread(values: np.ndarray) -> str:
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        return (f"median {np.median(values):.3g}, mean {values.mean():.3g} ± {sd:.2g}, "
                f"min {values.min():.3g}, max {values.max():.3g}")

    return "\n".join([
        f"bound lr*max_norm = {bound:g}; a step longer than {THROWN:g} x that ({THROWN * bound:g}) counts as thrown",
        f"starts thrown without clipping: {int((plain_steps > THROWN * bound).sum())} of {n}",
        f"starts thrown with clipping: {int((clipped_steps > THROWN * bound).sum())} of {n}",
        f"starts where clipping ends lower: {int((clipped_loss < plain_loss).sum())} of {n}",
        f"largest step without clipping: {spread(plain_steps)}",
        f"largest step with clipping: {spread(clipped_steps)}",
        f"final loss without clipping: {spread(plain_loss)}",
        f"final loss with clipping: {spread(clipped_loss)}",
    ])


# -- the picture ---------------------------------------------------------------------------------------
def loss_surface(settings: Settings, w_range: tuple, b_range: tuple, resolution: int = 400) -> tuple:
    """(W, B, L) on a resolution × resolution grid, computed with the same minigrad function."""
    w_grid, b_grid = np.meshgrid(np.linspace(*w_range, resolution), np.linspace(*b_range, resolution))
    with mg.no_grad():
        surface = loss_fn(mg.tensor(w_grid, dtype=mg.float64), mg.tensor(b_grid, dtype=mg.float64),
                          settings.time_steps).numpy()
    return w_grid, b_grid, surface


def draw(result: StartResult, settings: Settings, out: Path) -> Path | None:
    """Three panels: the loss surface with the SGD path, with the clipped path, and loss per
    iteration; None (nothing written) when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from matplotlib.colors import LogNorm

    w_range, b_range = (0.5, 3.5), (-1.5, 0.5)
    w_grid, b_grid, surface = loss_surface(settings, w_range, b_range)
    levels = np.logspace(-4, math.log10(surface.max()), 31)   # log levels: the ravine shows
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), constrained_layout=True)
    runs = [("SGD, no clipping", result.plain, "tab:red"),
            (f"SGD + clip_grad_norm_(max_norm={settings.max_norm:g})", result.clipped, "white")]
    for ax, (title, run, color) in zip(axes[:2], runs):
        filled = ax.contourf(w_grid, b_grid, np.clip(surface, levels[0], None), levels=levels, norm=LogNorm(),
                             cmap="viridis")
        ax.plot(run.path[:, 0], run.path[:, 1], ".-", color=color, lw=0.8, ms=2.5)
        ax.plot(*run.path[0], "o", color="orange", ms=7, label="start")
        ax.plot(*run.path[-1], "*", color=color, mec="black", ms=13, label="end")
        jump = int(run.steps.argmax())
        ax.annotate("", xy=run.path[jump + 1], xytext=run.path[jump],
                    arrowprops=dict(arrowstyle="->", color=color, lw=1.5))
        end_w, end_b = run.path[-1]
        inside = w_range[0] <= end_w <= w_range[1] and b_range[0] <= end_b <= b_range[1]
        ax.set(xlim=w_range, ylim=b_range, xlabel="w", ylabel="b",
               title=(f"{title}\nlargest step {run.largest_step:.3g} (arrow), final loss {run.final_loss:.3g}\n"
                      f"ends at (w, b) = ({end_w:.2f}, {end_b:.2f}){'' if inside else ', outside the axes'}"))
        ax.title.set_fontsize(10)
        ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(filled, ax=axes[:2], label=f"L(w, b) = (h_T - {TARGET})², T = {settings.time_steps}",
                 ticks=[1e-4, 1e-3, 1e-2, 1e-1, 1])
    ax = axes[2]
    ax.semilogy(np.maximum(result.plain.losses, 1e-16), color="tab:red", label="SGD")
    ax.semilogy(np.maximum(result.clipped.losses, 1e-16), color="black", label="SGD + clipping")
    ax.set(xlabel="iteration", ylabel="loss", title=f"loss, lr = {settings.lr:g}, start seed {result.seed}")
    ax.legend()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cliffs_and_clipping.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


# -- the command line --------------------------------------------------------------------------------
def seed_list(text: str) -> list:
    """An argparse type: '0,1,2' -> [0, 1, 2]."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"--seeds needs at least one non-negative integer, got {text!r}")
    return seeds


def point(text: str) -> tuple:
    """An argparse type: 'w,b' -> (w, b)."""
    try:
        w, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--start takes two comma-separated numbers w,b, got {text!r}") from None
    return (w, b)


def non_negative(text: str) -> float:
    """An argparse type: a float ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def positive(kind: type) -> Callable[[str], float]:
    """An argparse type: ``kind(text)``, refused unless it is > 0."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    return parse


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    defaults = Settings()
    parser.add_argument("--quick", action="store_true", help="6 starts (seeds 0-5) and no picture")
    parser.add_argument("--seeds", type=seed_list, default=None,
                        help="starts to run: 0 is --start itself, s > 0 a point drawn within --jitter of it "
                             "(default 0-29, --quick 0-5)")
    parser.add_argument("--lr", type=positive(float), default=defaults.lr, help="SGD learning rate")
    parser.add_argument("--max-norm", type=positive(float), default=defaults.max_norm,
                        help="clip_grad_norm_'s max_norm")
    parser.add_argument("--iterations", type=positive(int), default=defaults.iterations, help="SGD steps per run")
    parser.add_argument("--time-steps", type=positive(int), default=defaults.time_steps,
                        help="T, the number of recurrent steps")
    parser.add_argument("--start", type=point, default=defaults.start, metavar="W,B",
                        help=f"(w, b) of seed 0 (default {defaults.start[0]},{defaults.start[1]})")
    parser.add_argument("--jitter", type=non_negative, default=defaults.jitter,
                        help="radius of the disk around --start that the other seeds' starts are drawn from")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNG")
    args = parser.parse_args(argv)
    seeds = args.seeds if args.seeds is not None else list(range(6 if args.quick else 30))
    settings = Settings(time_steps=args.time_steps, lr=args.lr, max_norm=args.max_norm, iterations=args.iterations,
                        start=args.start, jitter=args.jitter)

    t0 = time.perf_counter()
    results = [run_start(seed, settings) for seed in seeds]
    elapsed = time.perf_counter() - t0
    print(f"one tanh unit, h_t = tanh(w h_(t-1) + b), h_0 = {H0}, T = {settings.time_steps}, "
          f"L = (h_T - {TARGET})^2; SGD lr = {settings.lr:g}, {settings.iterations} iterations; "
          f"clipped run: clip_grad_norm_(max_norm = {settings.max_norm:g})")
    print(f"starts: seed 0 = (w, b) = {settings.start}, other seeds uniform within {settings.jitter:g} of it")
    print()
    print(per_start_table(results))
    print()
    print(summary(results, settings))
    print(f"time {elapsed:.1f} s for {len(seeds)} starts x 2 runs")
    if not args.quick:
        path = draw(results[0], settings, args.out)
        print(f"wrote {path}" if path is not None else "matplotlib is not installed: no pictures were drawn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
