"""Forward + backward of a LeNet-style CNN, batch 64, float32, one thread.

The net: conv 1→8 5x5, ReLU, max-pool 2, conv 8→16 5x5, ReLU, max-pool 2, flatten, linear
256→10, softmax cross-entropy, on 28x28 one-channel images.  One call computes the loss and the
gradient of every parameter.  Compared in one process, interleaved, medians of per-call time:
  numpy     hand-written im2col forward and backward in plain NumPy (the floor)
  torch     PyTorch CPU eager (oneDNN convolutions; skipped if not installed)
  minigrad  mg.nn.Sequential of Conv2d, ReLU, MaxPool2d, Flatten, Linear and F.cross_entropy

"mg/np paired" is the median of the per-round ratios (see _common.paired_ratio).  ``--memory``
instead reports what the tape holds after the forward of a batch-256 step, against the sum of
the layers' output sizes.

Run:  python benchmarks/bench_conv.py [--batch 64] [--rounds 21] [--repeat 10] [--no-torch] [--memory] [--profile]
"""
from __future__ import annotations

import argparse
import statistics

from _common import interleaved_times, paired_ratio, try_torch

import numpy as np
from numpy.lib.stride_tricks import as_strided

C1, C2, K, SIDE, OUT = 8, 16, 5, 28, 10
FLAT = C2 * 4 * 4


def make_data(batch: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, 1, SIDE, SIDE)).astype(np.float32), rng.integers(0, OUT, batch)


def make_weights(seed: int = 1) -> list:
    """[conv1 W, b, conv2 W, b, linear W, b] with PyTorch's default U(±1/√fan_in) draws."""
    rng = np.random.default_rng(seed)
    shapes = [((C1, 1, K, K), K * K), ((C2, C1, K, K), C1 * K * K), ((OUT, FLAT), FLAT)]
    out = []
    for shape, fan_in in shapes:
        bound = 1 / np.sqrt(fan_in)
        out += [rng.uniform(-bound, bound, shape).astype(np.float32),
                rng.uniform(-bound, bound, shape[0]).astype(np.float32)]
    return out


# -- the NumPy floor -----------------------------------------------------------------------------

def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C·k·k, L) columns of every k x k window (stride 1, no padding)."""
    n, c, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    s = x.strides
    windows = as_strided(x, (n, c, k, k, ho, wo), (s[0], s[1], s[2], s[3], s[2], s[3]))
    return windows.reshape(n, c * k * k, ho * wo)


def col2im(cols: np.ndarray, shape: tuple, k: int) -> np.ndarray:
    n, c, h, w = shape
    ho, wo = h - k + 1, w - k + 1
    blocks = cols.reshape(n, c, k, k, ho, wo)
    out = np.zeros(shape, cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i:i + ho, j:j + wo] += blocks[:, :, i, j]
    return out


def pool_forward(x: np.ndarray) -> tuple:
    """2x2 max-pool with stride 2: (output, mask of the maxima).  The maximum of the four strided
    quarter-images (NumPy's max over the two size-2 axes of a 6-D view is ~20x slower)."""
    n, c, h, w = x.shape
    out = np.maximum(np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
                     np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]))
    mask = x.reshape(n, c, h // 2, 2, w // 2, 2) == out[:, :, :, None, :, None]
    return out, mask


def pool_backward(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n, c, h, w = g.shape
    return (mask * g[:, :, :, None, :, None]).reshape(n, c, 2 * h, 2 * w)


def numpy_gradients(x: np.ndarray, t: np.ndarray, ws: list) -> tuple:
    """Loss and [dW1, db1, dW2, db2, dW3, db3] of the LeNet above, in NumPy."""
    w1, b1, w2, b2, w3, b3 = ws
    n = len(x)
    cols1 = im2col(x, K)                                            # (N, 25, 576)
    z1 = (w1.reshape(C1, -1) @ cols1).reshape(n, C1, 24, 24) + b1[:, None, None]
    a1 = np.maximum(z1, 0)
    p1, m1 = pool_forward(a1)                                       # (N, 8, 12, 12)
    cols2 = im2col(p1, K)                                           # (N, 200, 64)
    z2 = (w2.reshape(C2, -1) @ cols2).reshape(n, C2, 8, 8) + b2[:, None, None]
    a2 = np.maximum(z2, 0)
    p2, m2 = pool_forward(a2)                                       # (N, 16, 4, 4)
    f = p2.reshape(n, FLAT)
    z = f @ w3.T + b3
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), t]))
    dz = e / s
    dz[np.arange(n), t] -= 1
    dz /= n
    dw3, db3 = dz.T @ f, dz.sum(0)
    dp2 = (dz @ w3).reshape(n, C2, 4, 4)
    dz2 = pool_backward(dp2, m2) * (z2 > 0)
    g2 = dz2.reshape(n, C2, 64)
    dw2 = (g2 @ cols2.transpose(0, 2, 1)).sum(0).reshape(w2.shape)
    db2 = g2.sum((0, 2))
    dp1 = col2im(w2.reshape(C2, -1).T @ g2, p1.shape, K)
    dz1 = pool_backward(dp1, m1) * (z1 > 0)
    g1 = dz1.reshape(n, C1, 576)
    dw1 = (g1 @ cols1.transpose(0, 2, 1)).sum(0).reshape(w1.shape)
    db1 = g1.sum((0, 2))
    return loss, [dw1, db1, dw2, db2, dw3, db3]


def make_numpy(batch: int):
    x, t = make_data(batch)
    ws = make_weights()
    return lambda: numpy_gradients(x, t, ws)


# -- PyTorch and minigrad ------------------------------------------------------------------------

def lenet(nn) -> object:
    return nn.Sequential(nn.Conv2d(1, C1, K), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(C1, C2, K), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(FLAT, OUT))


def make_torch(torch, batch: int):
    x, t = make_data(batch)
    model = lenet(torch.nn)
    with torch.no_grad():
        for p, w in zip(model.parameters(), make_weights()):
            p.copy_(torch.from_numpy(w))
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    params = list(model.parameters())

    def step() -> tuple:
        for p in params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(model(xt), tt)
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return step


def make_minigrad(batch: int, x: np.ndarray | None = None, t: np.ndarray | None = None):
    import minigrad as mg

    if x is None:
        x, t = make_data(batch)
    model = lenet(mg.nn)
    model.load_state_dict({k: w for k, w in zip(model.state_dict(), make_weights())})
    xt, tt = mg.tensor(x), mg.tensor(t)
    params = list(model.parameters())

    def step() -> tuple:
        for p in params:
            p.grad = None
        loss = mg.nn.functional.cross_entropy(model(xt), tt)
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return step


def check_agreement(batch: int, torch) -> None:
    """The contenders start from the same weights: their losses and gradients must agree."""
    loss, grads = make_numpy(batch)()
    others = {"minigrad": make_minigrad(batch)()}
    if torch is not None:
        others["torch"] = make_torch(torch, batch)()
    for name, (other_loss, other_grads) in others.items():
        assert abs(other_loss - loss) < 1e-4, f"{name} loss {other_loss} vs numpy {loss}"
        for a, b in zip(grads, other_grads):
            assert np.allclose(a, b, rtol=1e-3, atol=1e-5), f"{name} gradients differ from numpy's"


def tape_memory(batch: int = 256) -> None:
    """Bytes the tape holds after a forward (the saved values of every node), against the sum of
    the layers' output sizes and the im2col columns a column-keeping implementation would add."""
    import minigrad as mg

    x, t = make_data(batch)
    model = lenet(mg.nn)
    loss = mg.nn.functional.cross_entropy(model(mg.tensor(x)), mg.tensor(t))
    seen: set = set()
    held = 0
    stack, nodes = [loss.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes += 1
        # every array the node keeps: saved tensors, a saved output, and attributes (ReLU's mask)
        kept = list(getattr(node, "saved_tensors", ()) or ()) + [node.out_data] + list(vars(node).values())
        for value in kept:
            data = getattr(value, "_data", value)
            if hasattr(data, "nbytes") and hasattr(data, "shape") and id(data) not in seen:
                seen.add(id(data))
                held += data.nbytes
        stack.extend(n for n in node.next_functions if n is not None and not hasattr(n, "_data"))
    activations = 0
    h = mg.tensor(x)
    with mg.no_grad():
        for layer in model:
            h = layer(h)
            activations += h._data.nbytes
    cols = 4 * batch * (K * K * 24 * 24 + C1 * K * K * 8 * 8)
    print(f"batch {batch}: the tape holds {held / 2 ** 20:.2f} MiB in {nodes} nodes; the layers' outputs sum to "
          f"{activations / 2 ** 20:.2f} MiB (input {x.nbytes / 2 ** 20:.2f} MiB); keeping the im2col columns "
          f"would add {cols / 2 ** 20:.2f} MiB")


def profile(batch: int, steps: int = 200) -> None:
    import cProfile
    import pstats

    step = make_minigrad(batch)
    cProfile.runctx("for _ in range(steps): step()", {"step": step, "steps": steps}, {}, "/tmp/bench_conv.prof")
    pstats.Stats("/tmp/bench_conv.prof").sort_stats("tottime").print_stats(18)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warm", type=int, default=2, help="untimed calls before each timed block")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--memory", action="store_true", help="report the tape's memory at batch 256 instead")
    ap.add_argument("--profile", action="store_true", help="cProfile minigrad's step instead of timing")
    args = ap.parse_args()
    if args.memory:
        tape_memory()
        return
    if args.profile:
        profile(args.batch)
        return
    torch = None if args.no_torch else try_torch()
    check_agreement(args.batch, torch)
    contenders = {"numpy": make_numpy(args.batch), "minigrad": make_minigrad(args.batch)}
    if torch is not None:
        contenders["torch"] = make_torch(torch, args.batch)
    times = interleaved_times(contenders, args.rounds, args.repeat, args.warm)
    r = {name: statistics.median(v) for name, v in times.items()}
    print(f"LeNet forward + backward, batch {args.batch}, float32, single thread, median of {args.rounds} rounds x "
          f"{args.repeat} calls (order rotating)")
    print(f"{'numpy us':>10} {'torch us':>10} {'minigrad us':>12} {'torch/np':>9} {'mg/np':>7} {'mg/torch':>9} "
          f"{'mg/np paired':>13} {'mg/torch paired':>16}")
    th = r.get("torch")
    print(f"{r['numpy'] * 1e6:10.0f} " + (f"{th * 1e6:10.0f} " if th else f"{'-':>10} ")
          + f"{r['minigrad'] * 1e6:12.0f} " + (f"{th / r['numpy']:8.2f}x " if th else f"{'-':>9} ")
          + f"{r['minigrad'] / r['numpy']:6.2f}x " + (f"{r['minigrad'] / th:8.2f}x " if th else f"{'-':>9} ")
          + f"{paired_ratio(times, 'minigrad', 'numpy'):12.2f}x "
          + (f"{paired_ratio(times, 'minigrad', 'torch'):15.2f}x" if th else f"{'-':>16}"))


if __name__ == "__main__":
    main()
