"""GPU timings: MLP training steps on CUDA, minigrad against a hand-written CuPy floor and PyTorch
CUDA (if importable), all three in one process from the same weights and data.

  floor     hand-written forward + backward + update in CuPy (Linear/ReLU layers, softmax
            cross-entropy; SGD in place, or Adam written out as plain CuPy expressions)
  torch     PyTorch CUDA eager: nn.Sequential, F.cross_entropy, backward, optim.SGD / optim.Adam
  minigrad  mg.nn.Sequential on device='cuda', F.cross_entropy, backward, mg.optim.SGD / Adam

Each round times a block of steps per contender (after a few untimed ones, then a
synchronize), rotating the order; medians of ms per step.  With ``--train`` it also times one
epoch of ``mg.train.fit`` over a GPU-resident DataLoader against the floor's own epoch loop
(MNIST's 50,000 training images where MINIGRAD_DATA has them, else random data of that shape).
With ``--cnn`` it times an MNIST epoch of the CNN of docs/results.md (``minigrad train --model
cnn``: conv 1→32 5x5, ReLU, max-pool 2, conv 32→64 5x5, ReLU, max-pool 2, linear 1024→256,
ReLU, dropout 0.5, linear 256→10; Adam) in minigrad against the same net in PyTorch eager
(cuDNN convolutions), batch 128 and 512.

With ``--jit`` it adds minigrad under ``mg.jit`` (a CUDA Graph of the step) and PyTorch's own
``torch.cuda.graph`` capture of the same step (Adam with ``capturable=True`` in both), and with
``--train`` an epoch of ``fit(jit=True)``.

Run:  python benchmarks/bench_gpu.py [--rounds 15] [--repeat 20] [--train] [--cnn] [--jit] [--xp numpy]
(``--xp numpy`` runs the same comparison on the CPU with the floor in NumPy: a quick check of
the floor's arithmetic where no GPU exists, not a GPU figure.)
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable, Dict

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

IN, OUT = 784, 10
LR_SGD, LR_ADAM, BETAS, EPS = 0.01, 1e-3, (0.9, 0.999), 1e-8
CONFIGS = [  # (hidden sizes, batch, optimizer)
    ((100,), 64, "sgd"), ((100,), 256, "sgd"),
    ((1024, 1024), 256, "sgd"), ((1024, 1024), 4096, "sgd"),
    ((1024, 1024), 256, "adam"), ((4096, 4096), 4096, "adam"),
]


def make_weights(hidden: tuple, seed: int = 1) -> list:
    """PyTorch-style uniform init, [w1, b1, w2, b2, ...] with w of shape (out, in)."""
    rng = np.random.default_rng(seed)
    sizes, ws = (IN, *hidden, OUT), []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        ws += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
               rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return ws


def make_data(batch: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, IN)).astype(np.float32), rng.integers(0, OUT, batch)


class Floor:
    """The hand-written step, on whatever array module ``xp`` is (CuPy on the GPU)."""

    def __init__(self, xp: Any, ws: list, optimizer: str) -> None:
        self.xp, self.ws, self.optimizer = xp, [xp.asarray(w) for w in ws], optimizer
        self.m = [xp.zeros_like(w) for w in self.ws]
        self.v = [xp.zeros_like(w) for w in self.ws]
        self.t = 0

    def step(self, x: Any, t: Any, rows: Any) -> Any:
        """One step on batch (x, t); returns the mean loss as a device scalar (no sync)."""
        xp, ws = self.xp, self.ws
        acts, pre = [x], []
        for i in range(0, len(ws), 2):
            z = acts[-1] @ ws[i].T
            z += ws[i + 1]
            if i + 2 < len(ws):
                pre.append(z)
                acts.append(xp.maximum(z, 0))
        zs = z - z.max(axis=1, keepdims=True)
        e = xp.exp(zs)
        s = e.sum(axis=1, keepdims=True)
        loss = (xp.log(s[:, 0]) - zs[rows, t]).mean()
        dz = e / s
        dz[rows, t] -= 1
        dz /= len(x)
        grads = [None] * len(ws)
        for i in range(len(ws) - 2, -1, -2):
            grads[i] = dz.T @ acts[i // 2]
            grads[i + 1] = dz.sum(axis=0)
            if i:
                dz = dz @ ws[i]
                dz *= pre[i // 2 - 1] > 0
        self.update(grads)
        return loss

    def update(self, grads: list) -> None:
        if self.optimizer == "sgd":
            for w, g in zip(self.ws, grads):
                w -= LR_SGD * g
            return
        (b1, b2), self.t = BETAS, self.t + 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for w, g, m, v in zip(self.ws, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w -= (LR_ADAM / c1) * m / (self.xp.sqrt(v / c2) + EPS)


def floor_step(xp: Any, hidden: tuple, batch: int, optimizer: str) -> Callable[[], Any]:
    x, t = make_data(batch)
    floor = Floor(xp, make_weights(hidden), optimizer)
    xd, td, rows = xp.asarray(x), xp.asarray(t), xp.arange(batch)
    return lambda: floor.step(xd, td, rows)


def minigrad_model(hidden: tuple, device: str) -> Any:
    sizes, layers = (IN, *hidden, OUT), []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    model.load_state_dict(dict(zip(model.state_dict(), make_weights(hidden))))
    return model.to(device)


def minigrad_optimizer(model: Any, optimizer: str) -> Any:
    if optimizer == "sgd":
        return mg.optim.SGD(model.parameters(), lr=LR_SGD)
    return mg.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS)


def minigrad_step(device: str, hidden: tuple, batch: int, optimizer: str) -> Callable[[], Any]:
    model = minigrad_model(hidden, device)
    opt = minigrad_optimizer(model, optimizer)
    x, t = make_data(batch)
    xd, td = mg.tensor(x, device=device), mg.tensor(t, device=device)

    def step() -> Any:
        opt.zero_grad()
        loss = F.cross_entropy(model(xd), td)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_step(torch: Any, device: str, hidden: tuple, batch: int, optimizer: str,
               capturable: bool = False) -> Callable[[], Any]:
    sizes, layers = (IN, *hidden, OUT), []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    with torch.no_grad():
        for p, w in zip(model.parameters(), make_weights(hidden)):
            p.copy_(torch.from_numpy(w))
    model = model.to(device)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=LR_SGD)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS, capturable=capturable)
    x, t = make_data(batch)
    xd, td = torch.from_numpy(x).to(device), torch.from_numpy(t).to(device)

    def step() -> Any:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xd), td)
        loss.backward()
        opt.step()
        return loss.detach()

    step.model, step.opt, step.xd, step.td = model, opt, xd, td  # (for torch_graph_step)
    return step


def check_torch_graph(torch: Any, graph_step: Callable[[], Any], hidden: tuple, batch: int, optimizer: str,
                      label: str) -> None:
    """The graph's replays against eager PyTorch steps TORCH_GRAPH_WARM + 1, + 2, + 3."""
    eager = torch_step(torch, "cuda", hidden, batch, optimizer, capturable=True)
    for _ in range(TORCH_GRAPH_WARM):
        eager()
    for k in range(3):
        a, b = to_float(graph_step()), to_float(eager())
        if not abs(a - b) <= 2e-4 * max(1.0, abs(b)):
            raise SystemExit(f"{label}: torch.cuda.graph replay {k}: loss {a} disagrees with eager torch {b}")


def minigrad_jit_step(device: str, hidden: tuple, batch: int, optimizer: str) -> Callable[[], Any]:
    """The minigrad step under ``mg.jit`` (on CUDA: captured into a CUDA Graph; its first calls are
    eager steps, so it agrees with the floor from the first step)."""
    model = minigrad_model(hidden, device)
    opt = (mg.optim.SGD(model.parameters(), lr=LR_SGD) if optimizer == "sgd" else
           mg.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS, capturable=True))
    x, t = make_data(batch)
    xd, td = mg.tensor(x, device=device), mg.tensor(t, device=device)

    @mg.jit
    def step(xb: Any, tb: Any) -> Any:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), tb)
        loss.backward()
        opt.step()
        return loss

    return lambda: step(xd, td)


TORCH_GRAPH_WARM = 3  # eager steps on a side stream before torch.cuda.graph captures (as its docs do)


def torch_graph_step(torch: Any, hidden: tuple, batch: int, optimizer: str) -> Callable[[], Any]:
    """PyTorch's own CUDA-graph capture of the same step (``torch.cuda.graph``, whole-network
    capture with static inputs); each call copies the batch in and replays.  Its first call is
    step TORCH_GRAPH_WARM + 1."""
    eager = torch_step(torch, "cuda", hidden, batch, optimizer, capturable=True)
    model, opt, xd, td = eager.model, eager.opt, eager.xd, eager.td
    static_x, static_t = xd.clone(), td.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(TORCH_GRAPH_WARM):
            eager()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        static_loss = torch.nn.functional.cross_entropy(model(static_x), static_t)
        static_loss.backward()
        opt.step()

    def step() -> Any:
        static_x.copy_(xd)
        static_t.copy_(td)
        graph.replay()
        return static_loss.detach().clone()

    return step


def to_float(v: Any) -> float:
    v = getattr(v, "_data", v)
    return float(v.item() if hasattr(v, "item") else v)


def check_agreement(steps: Dict[str, Callable[[], Any]], label: str) -> None:
    """All start from the same weights and data, so their losses must agree step by step."""
    for k in range(3):
        losses = {name: to_float(fn()) for name, fn in steps.items()}
        ref = losses["floor"]
        for name, v in losses.items():
            if not abs(v - ref) <= 2e-4 * max(1.0, abs(ref)):
                raise SystemExit(f"{label}: step {k}: {name} loss {v} disagrees with the floor's {ref}")


def timed(steps: Dict[str, Callable[[], Any]], sync: Callable[[], None], rounds: int, repeat: int,
          warm: int = 3) -> Dict[str, float]:
    """Median seconds per step of each contender; the order rotates each round."""
    times: Dict[str, list] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = steps[name]
            for _ in range(warm):
                fn()
            sync()
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            sync()
            times[name].append((time.perf_counter() - t0) / repeat)
    return {name: statistics.median(v) for name, v in times.items()}


def load_train(n: int) -> tuple:
    try:
        x, y = mg.data.MNIST(split="train").arrays
        return np.ascontiguousarray(x[:n], dtype=np.float32), np.asarray(y[:n], dtype=np.int64), "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((n, IN), dtype=np.float32), rng.integers(0, OUT, n).astype(np.int64), "random"


def train_epochs(xp: Any, device: str, sync: Callable[[], None], batch: int, rounds: int, jit: bool = False) -> None:
    """One epoch of fit() over a device DataLoader vs the floor's own shuffled epoch on the device."""
    x, y, source = load_train(50000)
    floor = Floor(xp, make_weights((100,)), "sgd")
    xd, yd = xp.asarray(x), xp.asarray(y)
    rows = xp.arange(batch)

    def floor_epoch() -> None:
        order = xp.random.permutation(len(x))
        loss_sum = 0
        for i in range(0, len(x) - batch + 1, batch):  # whole batches only, as the loader below
            idx = order[i:i + batch]
            loss_sum = loss_sum + floor.step(xd[idx], yd[idx], rows)
        float(loss_sum)  # the epoch's one read-back, as fit's monitor

    model = minigrad_model((100,), device)
    opt = minigrad_optimizer(model, "sgd")
    loader = mg.data.DataLoader(mg.data.TensorDataset(x, y), batch_size=batch, shuffle=True, drop_last=True,
                                seed=0, device=device)

    def minigrad_epoch() -> None:
        mg.train.fit(model, F.cross_entropy, opt, loader, epochs=1, quiet=True)

    contenders = {"floor": floor_epoch, "minigrad fit": minigrad_epoch}
    if jit:
        jit_model = minigrad_model((100,), device)
        jit_opt = minigrad_optimizer(jit_model, "sgd")
        contenders["fit(jit=True)"] = lambda: mg.train.fit(jit_model, F.cross_entropy, jit_opt, loader, epochs=1,
                                                           quiet=True, jit=True)
    med = timed(contenders, sync, rounds, 1, warm=1)
    print(f"\n{source}, 50,000 images per epoch, batch {batch}, 784-100-10 SGD: medians of {rounds} epochs")
    for name, t in med.items():
        print(f"  {name:13s} {50000 / t:12,.0f} samples/s   {t * 1e3:8.1f} ms/epoch")
    print(f"  time ratio minigrad fit / floor = {med['minigrad fit'] / med['floor']:.2f}")
    if jit:
        print(f"  time ratio fit(jit=True) / floor = {med['fit(jit=True)'] / med['floor']:.2f}")


CNN_RECIPE = dict(dataset="mnist", model="cnn", channels="32,64", conv_padding="valid", hidden="256", dropout=0.5)


def cnn_epochs(device: str, sync: Callable[[], None], torch: Any, batch: int, rounds: int, n: int) -> None:
    """Epoch time of the recipe's CNN (training only: forward, backward, Adam step per batch),
    minigrad against PyTorch, from the same weights and on the same shuffled device-resident data."""
    from minigrad.train import recipe as R

    x, y, source = load_train(n)
    model = R.build_model(R.resolve(CNN_RECIPE)).to(device)
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    loader = mg.data.DataLoader(mg.data.TensorDataset(x, y), batch_size=batch, shuffle=True, drop_last=True,
                                seed=0, device=device)
    epochs = {"minigrad": lambda: mg.train.fit(model, F.cross_entropy, opt, loader, epochs=1, quiet=True)}
    if torch is not None:
        tn = torch.nn
        tmodel = tn.Sequential(tn.Unflatten(1, (1, 28, 28)), tn.Conv2d(1, 32, 5), tn.ReLU(), tn.MaxPool2d(2),
                               tn.Conv2d(32, 64, 5), tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(),
                               tn.Linear(1024, 256), tn.ReLU(), tn.Dropout(0.5), tn.Linear(256, 10)).to(device)
        with torch.no_grad():
            for p, q in zip(tmodel.parameters(), model.parameters()):
                p.copy_(torch.from_numpy(np.asarray(q.detach().cpu().numpy())))
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
        tx, ty = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        generator = torch.Generator(device=device).manual_seed(0)

        def torch_epoch() -> None:
            order = torch.randperm(len(tx), device=device, generator=generator)
            for i in range(0, len(tx) - batch + 1, batch):
                idx = order[i:i + batch]
                topt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(tmodel(tx[idx]), ty[idx]).backward()
                topt.step()
            if device == "cuda":
                torch.cuda.synchronize()

        epochs["torch"] = torch_epoch
    med = timed(epochs, sync, rounds, 1, warm=1)
    print(f"\nCNN of docs/results.md, {source}, {n:,} images per epoch, batch {batch}, Adam: medians of {rounds} epochs"
          + (" (convolutions: im2col + cuBLAS through CuPy; PyTorch: cuDNN)" if device == "cuda" else ""))
    for name, t in med.items():
        print(f"  {name:9s} {t:8.2f} s/epoch  {n / t:10,.0f} samples/s")
    if "torch" in med:
        print(f"  time ratio minigrad / torch = {med['minigrad'] / med['torch']:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--train", action="store_true", help="also time one epoch of fit() on the device")
    p.add_argument("--cnn", action="store_true", help="also time MNIST epochs of the recipe's CNN, batch 128 and 512")
    p.add_argument("--cnn-images", type=int, default=50000, help="training images per CNN epoch (default 50,000)")
    p.add_argument("--xp", choices=("cupy", "numpy"), default="cupy")
    p.add_argument("--jit", action="store_true", help="also time minigrad under mg.jit and PyTorch under "
                   "torch.cuda.graph (and, with --train, an epoch of fit(jit=True))")
    args = p.parse_args()
    if args.xp == "cupy":
        if not mg.cuda.is_available():
            print("no CUDA GPU: nothing to measure (try --xp numpy for a CPU check of the floor)")
            return
        import cupy as xp

        device, sync = "cuda", mg.cuda.synchronize
        xp.random.seed(0)
    else:
        xp, device, sync = np, "cpu", lambda: None
    try:
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            torch = None
        if torch is not None:
            torch.backends.cuda.matmul.allow_tf32 = False  # the same float32 arithmetic as the others
    except ImportError:
        torch = None
    if device == "cuda":
        import cupy

        print(f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}; CuPy {cupy.__version__}"
              + (f"; torch {torch.__version__}" if torch is not None else ""))
    print(f"training step, medians of {args.rounds} rounds x {args.repeat} steps; ms/step and ratios")
    jit_header = f" {'mg.jit':>8s} {'torch gr':>8s} {'jit/flr':>8s} {'jit/tgr':>8s} {'mg/jit':>7s}" if args.jit else ""
    print(f"{'MLP':>22s} {'batch':>5s} {'opt':>4s} {'floor':>8s} {'torch':>8s} {'minigrad':>8s}"
          f" {'mg/floor':>8s} {'mg/torch':>8s}{jit_header}")
    for hidden, batch, optimizer in CONFIGS:
        if device == "cpu" and (batch > 256 or max(hidden) > 1024):
            continue  # a CPU check of the arithmetic, not a race: the big ones would take minutes
        label = "-".join(map(str, (IN, *hidden, OUT)))
        steps = {"floor": floor_step(xp, hidden, batch, optimizer)}
        if torch is not None:
            steps["torch"] = torch_step(torch, device, hidden, batch, optimizer)
        steps["minigrad"] = minigrad_step(device, hidden, batch, optimizer)
        if args.jit:
            steps["mg.jit"] = minigrad_jit_step(device, hidden, batch, optimizer)
        check_agreement(steps, f"{label} batch {batch} {optimizer}")
        if args.jit and torch is not None and device == "cuda":
            steps["torch graph"] = torch_graph_step(torch, hidden, batch, optimizer)
            check_torch_graph(torch, steps["torch graph"], hidden, batch, optimizer, f"{label} batch {batch}")
        med = timed(steps, sync, args.rounds, args.repeat)
        tt = med.get("torch", float("nan"))
        jit_cells = ""
        if args.jit:
            jt, tg = med["mg.jit"], med.get("torch graph", float("nan"))
            jit_cells = (f" {jt * 1e3:8.3f} {tg * 1e3:8.3f} {jt / med['floor']:8.2f} {jt / tg:8.2f}"
                         f" {med['minigrad'] / jt:7.2f}")
        print(f"{label:>22s} {batch:5d} {optimizer:>4s} {med['floor'] * 1e3:8.3f} {tt * 1e3:8.3f}"
              f" {med['minigrad'] * 1e3:8.3f} {med['minigrad'] / med['floor']:8.2f} {med['minigrad'] / tt:8.2f}"
              f"{jit_cells}", flush=True)
    if args.train:
        for batch in (64, 256):
            train_epochs(xp, device, sync, batch, max(3, args.rounds // 3), args.jit)
    if args.cnn:
        for batch in (128, 512):
            cnn_epochs(device, sync, torch, batch, 3, args.cnn_images)


if __name__ == "__main__":
    main()
