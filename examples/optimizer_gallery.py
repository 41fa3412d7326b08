"""Optimizer gallery: every optimizer in mg.optim from the same start on three 2-D surfaces.

* Rosenbrock  f = (1 − x)² + 100·(y − x²)²         minimum (1, 1), a curved narrow valley
* Beale       f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²    minimum (3, 0.5)
* saddle      f = x² − y²                           a saddle point at (0, 0), no minimum

Each optimizer runs on the real autograd graph (two scalar parameters x, y) for at most
``--steps`` steps (one L-BFGS iteration or one Newton step counts as a step).  The script
draws the paths over contour plots (one PNG per surface), an animated GIF of all three,
and prints a table of the steps each optimizer needed to get within ``--tol`` of the
minimum (for the saddle: to escape it, f < −1), with the final loss.

Run from the repository root:
    python examples/optimizer_gallery.py                 # writes docs/img/optimizer_gallery_*.png and .gif
    python examples/optimizer_gallery.py --out /tmp/g --steps 300 --frames 20
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
from minigrad import optim  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# -- the surfaces (written once, evaluated on minigrad scalars and on NumPy grids) -----------------
def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def saddle(x, y):
    return x * x - y * y


PROBLEMS = {
    # name: (function, start, minimum or None, x range, y range, log-spaced contours)
    "Rosenbrock": (rosenbrock, (-1.2, 1.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0), True),
    "Beale": (beale, (1.0, 1.4), (3.0, 0.5), (-1.0, 4.5), (-1.5, 2.0), True),
    "saddle": (saddle, (-1.0, 1e-3), None, (-1.5, 1.5), (-1.5, 1.5), False),
}

# name: (factory(params, problem) -> optimizer, style); learning rates chosen per surface
LR = {
    "SGD": {"Rosenbrock": 1e-3, "Beale": 1e-2, "saddle": 0.1},
    "Momentum": {"Rosenbrock": 1e-3, "Beale": 5e-3, "saddle": 0.1},
    "Nesterov": {"Rosenbrock": 1e-3, "Beale": 5e-3, "saddle": 0.1},
    "Adagrad": {"Rosenbrock": 0.5, "Beale": 0.5, "saddle": 0.5},
    "Adadelta": {"Rosenbrock": 1.0, "Beale": 1.0, "saddle": 1.0},
    "RMSprop": {"Rosenbrock": 3e-3, "Beale": 3e-3, "saddle": 3e-2},
    "Adam": {"Rosenbrock": 0.05, "Beale": 0.05, "saddle": 0.05},
    "AdamW": {"Rosenbrock": 0.05, "Beale": 0.05, "saddle": 0.05},
    "Adamax": {"Rosenbrock": 0.1, "Beale": 0.1, "saddle": 0.1},
    "NAdam": {"Rosenbrock": 0.02, "Beale": 0.02, "saddle": 0.05},
}


def make_optimizer(name: str, params: list, problem: str):
    lr = LR.get(name, {}).get(problem)
    if name == "SGD":
        return optim.SGD(params, lr=lr)
    if name == "Momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "Nesterov":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    if name == "AdamW":
        return optim.AdamW(params, lr=lr, weight_decay=1e-4)
    if name == "L-BFGS":
        # one iteration per step() call, so every iteration shows on the path
        return optim.LBFGS(params, lr=1, max_iter=1, max_eval=25, line_search_fn="strong_wolfe",
                           tolerance_grad=1e-12, tolerance_change=1e-15)
    if name == "Newton":
        return optim.Newton(params)
    if name == "NewtonCG":
        return optim.NewtonCG(params)
    return getattr(optim, name)(params, lr=lr)


OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam",
              "L-BFGS", "Newton", "NewtonCG"]
SECOND_ORDER = {"Newton", "NewtonCG"}  # closures return the loss without backward()


def reached(problem: str, xy: tuple, tol: float) -> bool:
    f, _, minimum, *_ = PROBLEMS[problem]
    if minimum is None:
        return f(*xy) < -1.0  # escaped the saddle
    return math.hypot(xy[0] - minimum[0], xy[1] - minimum[1]) < tol


def run(name: str, problem: str, steps: int, tol: float) -> dict:
    """The path (one point per step), the first step within tolerance, and the evaluations used."""
    f, start, *_ = PROBLEMS[problem]
    x = mg.tensor(start[0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor(start[1], dtype=mg.float64, requires_grad=True)
    opt = make_optimizer(name, [x, y], problem)
    evals = [0]

    def closure():
        evals[0] += 1
        loss = f(x, y)
        if name not in SECOND_ORDER:
            opt.zero_grad()
            loss.backward()
        return loss

    path = [start]
    hit = None
    for k in range(1, steps + 1):
        if name in SECOND_ORDER or name == "L-BFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
        xy = (x.item(), y.item())
        path.append(xy)
        if hit is None and reached(problem, xy, tol):
            hit = k
        if hit is not None and (problem == "saddle" or k >= 20):
            break  # (a few steps after convergence stay in the picture)
        if not all(math.isfinite(v) for v in xy) or max(abs(v) for v in xy) > 1e6:
            break  # diverged
    return {"path": np.array(path), "hit": hit, "evals": evals[0], "final": f(*path[-1])}


# -- drawing -------------------------------------------------------------------------------------
def _contour(ax, problem: str) -> None:
    from matplotlib.colors import LogNorm

    f, start, minimum, (x0, x1), (y0, y1), log = PROBLEMS[problem]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    z = f(gx, gy)
    if log:
        levels = np.logspace(-1.0, math.log10(z.max()), 25)
        ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6, norm=LogNorm())
    else:
        ax.contour(gx, gy, z, levels=25, cmap="Greys", linewidths=0.6)
    ax.plot(*start, "ko", ms=5)
    if minimum is not None:
        ax.plot(*minimum, "k*", ms=12)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(problem)
    ax.set_xticks([])
    ax.set_yticks([])


def _colors() -> dict:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab20")
    # the saturated half of tab20 first, then the light half: neighbours in the list differ
    return {name: cmap.colors[(2 * i) % 20 + (2 * i >= 20)] for i, name in enumerate(OPTIMIZERS)}


def draw_png(problem: str, results: dict, out: Path) -> Path:
    import matplotlib.pyplot as plt

    colors = _colors()
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=90)
    _contour(ax, problem)
    for name, r in results.items():
        p = r["path"]
        style = dict(marker=".", ms=4) if name in SECOND_ORDER or name == "L-BFGS" else {}
        ax.plot(p[:, 0], p[:, 1], "-", color=colors[name], lw=1.4, label=name, alpha=0.9, **style)
    ax.legend(loc="upper left", fontsize=7, ncol=2, framealpha=0.85)
    fig.tight_layout()
    path = out / f"optimizer_gallery_{problem.lower()}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def draw_gif(all_results: dict, out: Path, frames: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    colors = _colors()
    problems = list(all_results)
    fig, axes = plt.subplots(1, len(problems), figsize=(4.0 * len(problems), 3.8), dpi=75)
    lines = {}
    for ax, problem in zip(axes, problems):
        _contour(ax, problem)
        for name in all_results[problem]:
            (lines[problem, name],) = ax.plot([], [], "-", color=colors[name], lw=1.6, label=name)
    axes[0].legend(loc="upper left", fontsize=6, ncol=2, framealpha=0.85)
    longest = max(len(r["path"]) for res in all_results.values() for r in res.values())
    # steps shown per frame grow geometrically: early steps matter most, and paths run to thousands
    shown = np.unique(np.geomspace(1, longest, frames).astype(int))
    title = fig.suptitle("")
    fig.tight_layout()

    def update(i):
        n = shown[i]
        for (problem, name), line in lines.items():
            p = all_results[problem][name]["path"][:n + 1]
            line.set_data(p[:, 0], p[:, 1])
        title.set_text(f"step {n}")
        return list(lines.values()) + [title]

    anim = FuncAnimation(fig, update, frames=len(shown), blit=False)
    path = out / "optimizer_gallery.gif"
    anim.save(path, writer=PillowWriter(fps=8))
    plt.close(fig)
    return path


def table(all_results: dict, steps: int, tol: float) -> str:
    problems = list(all_results)
    head = "| optimizer | " + " | ".join(f"{p}: steps (evals), final f" for p in problems) + " |"
    lines = [head, "|" + "---|" * (len(problems) + 1)]
    for name in OPTIMIZERS:
        cells = []
        for p in problems:
            r = all_results[p][name]
            hit = f"{r['hit']}" if r["hit"] is not None else f"> {steps}"
            cells.append(f"{hit} ({r['evals']}), {r['final']:.2e}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs and the GIF")
    parser.add_argument("--steps", type=int, default=3000, help="most steps per optimizer and surface")
    parser.add_argument("--tol", type=float, default=1e-3, help="distance to the minimum that counts as reached")
    parser.add_argument("--frames", type=int, default=48, help="frames in the GIF (0: no GIF)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")

    t0 = time.perf_counter()
    all_results = {p: {name: run(name, p, args.steps, args.tol) for name in OPTIMIZERS} for p in PROBLEMS}
    elapsed = time.perf_counter() - t0
    files = [draw_png(p, res, args.out) for p, res in all_results.items()]
    if args.frames:
        files.append(draw_gif(all_results, args.out, args.frames))
    print(f"steps to within {args.tol:g} of the minimum (saddle: to f < -1), at most {args.steps} steps; "
          "(function evaluations); loss at the end")
    print(table(all_results, args.steps, args.tol))
    print(f"optimization time {elapsed:.1f} s")
    for f in files:
        print(f"wrote {f} ({f.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
