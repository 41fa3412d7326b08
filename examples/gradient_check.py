"""Gradient checking: a hand-written backpropagation with a deliberate bug, caught by central differences.

This is the gradient-checking walkthrough of the UFLDL tutorial ("Gradient checking and advanced
optimization") and the CS231n notes ("Gradient checks"), on a 4-5-3 network:

    z₁ = x W₁ᵀ + b₁,   a₁ = tanh(z₁),   z₂ = a₁ W₂ᵀ + b₂,   p = softmax(z₂),
    L  = −(1/N) Σₙ log p[n, yₙ]                              x (N, 4), y (N,) class indices

1. Forward and backward are written out in NumPy (float64).  Backpropagation, with Y the one-hot labels:

       δ₂ = (p − Y) / N                    dL/dW₂ = δ₂ᵀ a₁,   dL/db₂ = Σₙ δ₂
       δ₁ = (δ₂ W₂) ⊙ (1 − a₁²)            dL/dW₁ = δ₁ᵀ x,    dL/db₁ = Σₙ δ₁

   ``--bug NAME`` swaps in one classic mistake (``none``: the correct code).
2. Every parameter entry θᵢ is nudged both ways and the loss re-evaluated:
   g_num,ᵢ = (L(θ + εeᵢ) − L(θ − εeᵢ)) / 2ε, with ε = 1e-4 (error O(ε²) from the Taylor series,
   plus round-off of about 1e-16·L/ε).
3. For each parameter the relative error ‖g − g_num‖ / ‖g + g_num‖ (UFLDL's measure) is printed,
   for the buggy and for the fixed backward.  What good looks like: about 1e-9 or below in float64
   (the UFLDL exercises expect values below about 1e-9); a bug gives 1e-3 to 1.  A bug in one place
   shows up only in the parameters whose gradient passes through it.  A sweep over ε shows why
   ε ≈ 1e-4 … 1e-6: the truncation error falls as ε², the round-off error grows as 1/ε.
4. The same network is built from minigrad modules (``mg.nn.Linear``, ``mg.tanh``,
   ``F.cross_entropy``); its autograd gradient must equal the hand-written one, and
   ``mg.autograd.gradcheck`` (which compares the whole Jacobian against central differences)
   must pass.

Run from the repository root:
    python examples/gradient_check.py                       # every bug, side by side
    python examples/gradient_check.py --bug tanh-derivative
    python examples/gradient_check.py --bug none --seed 3
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn  # noqa: E402

N_IN, N_HIDDEN, N_OUT = 4, 5, 3
N_SAMPLES = 10
EPS = 1e-4

# One mistake each, all of them seen in real code.  name -> what the buggy backward does
BUGS = {
    "none": "the correct backward",
    "tanh-derivative": "forgets the activation derivative: δ₁ = δ₂ W₂ (no ⊙ (1 − a₁²))",
    "derivative-at-z": "evaluates tanh' at the wrong place: δ₁ = (δ₂ W₂) ⊙ (1 − z₁²)",
    "bias-mean": "averages the hidden bias gradient over the batch: dL/db₁ = mean δ₁ (should be Σ)",
    "loss-mean": "drops the 1/N of the mean loss: δ₂ = p − Y, so every gradient is N times too large",
}

# The parameters, named as in the minigrad model's state dict (so the same dict loads into it).
Params = Dict[str, np.ndarray]


@dataclass
class ForwardCache:
    """What the backward pass needs from the forward pass (N samples, H hidden units, C classes)."""
    x: np.ndarray          # (N, 4) inputs
    onehot: np.ndarray     # (N, C) one-hot labels Y
    z1: np.ndarray         # (N, H) hidden pre-activations
    a1: np.ndarray         # (N, H) hidden activations tanh(z₁)
    probs: np.ndarray      # (N, C) softmax(z₂)
    loss: float


def init_problem(seed: int) -> tuple:
    """(params, x (N, 4), y (N,)): weights and inputs drawn from N(0, 1), labels uniform in {0, 1, 2}.

    Unit-variance weights make the hidden pre-activations of order 1–2, so that tanh is
    visibly non-linear (with tiny weights tanh(z) ≈ z and some bugs would hide)."""
    rng = np.random.default_rng(seed)
    params = {
        "hidden.weight": rng.standard_normal((N_HIDDEN, N_IN)),
        "hidden.bias": rng.standard_normal(N_HIDDEN),
        "output.weight": rng.standard_normal((N_OUT, N_HIDDEN)),
        "output.bias": rng.standard_normal(N_OUT),
    }
    x = rng.standard_normal((N_SAMPLES, N_IN))
    y = rng.integers(0, N_OUT, size=N_SAMPLES)
    return params, x, y


def forward(params: Params, x: np.ndarray, y: np.ndarray) -> ForwardCache:
    """The mean cross-entropy of the 4-5-3 tanh network, and the intermediates backward needs."""
    z1 = x @ params["hidden.weight"].T + params["hidden.bias"]
    a1 = np.tanh(z1)
    z2 = a1 @ params["output.weight"].T + params["output.bias"]
    shifted = z2 - z2.max(axis=1, keepdims=True)          # softmax is unchanged by a shift per row
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(N_OUT)[y]
    loss = float(-(onehot * log_probs).sum() / len(x))
    return ForwardCache(x, onehot, z1, a1, np.exp(log_probs), loss)


def backward(params: Params, cache: ForwardCache, bug: str = "none") -> Params:
    """dL/dθ for every parameter, by backpropagation (with the mistake ``bug`` unless it is 'none')."""
    n = len(cache.x)
    delta2 = cache.probs - cache.onehot                    # (N, C): dL/dz₂ up to the 1/N
    if bug != "loss-mean":
        delta2 = delta2 / n
    back = delta2 @ params["output.weight"]                # (N, H): dL/da₁
    if bug == "tanh-derivative":
        delta1 = back
    elif bug == "derivative-at-z":
        delta1 = back * (1 - cache.z1 ** 2)
    else:
        delta1 = back * (1 - cache.a1 ** 2)                # tanh'(z) = 1 − tanh(z)²
    hidden_bias = delta1.mean(axis=0) if bug == "bias-mean" else delta1.sum(axis=0)
    return {
        "hidden.weight": delta1.T @ cache.x,
        "hidden.bias": hidden_bias,
        "output.weight": delta2.T @ cache.a1,
        "output.bias": delta2.sum(axis=0),
    }


def numerical_gradient(loss_of: Callable[[Params], float], params: Params, eps: float = EPS) -> Params:
    """Central differences (L(θ + εeᵢ) − L(θ − εeᵢ)) / 2ε for every entry of every parameter."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            plus = loss_of(params)
            value[index] = original - eps
            minus = loss_of(params)
            value[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads[name] = grad
    return grads


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖g − g_num‖ / ‖g + g_num‖ (UFLDL's measure; 0 when both are zero)."""
    denominator = np.linalg.norm(analytic + numeric)
    return float(np.linalg.norm(analytic - numeric) / denominator) if denominator > 0 else 0.0


def flat(grads: Params) -> np.ndarray:
    """All entries of all parameters as one vector (in the dict's order)."""
    return np.concatenate([g.ravel() for g in grads.values()])


class TwoLayerNet(nn.Module):
    """The same 4-5-3 tanh network from minigrad modules: logits = output(tanh(hidden(x)))."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(N_IN, N_HIDDEN)
        self.output = nn.Linear(N_HIDDEN, N_OUT)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.output(mg.tanh(self.hidden(x)))


@dataclass
class MinigradCheck:
    loss: float                # the module's loss at the same parameters
    max_grad_difference: float  # max |hand-written gradient − autograd gradient| over all entries
    gradcheck_passed: bool


def check_with_minigrad(params: Params, x: np.ndarray, y: np.ndarray, hand_written: Params) -> MinigradCheck:
    """Load ``params`` into :class:`TwoLayerNet` (float64), compare its autograd gradient with the
    hand-written one, and run ``mg.autograd.gradcheck`` on the loss as a function of the parameters."""
    model = TwoLayerNet().double()
    model.load_state_dict(params)
    inputs = mg.tensor(x, dtype=mg.float64)
    labels = mg.tensor(y)

    def loss_of_parameters(*parameters: mg.Tensor) -> mg.Tensor:
        # gradcheck perturbs the parameter tensors in place, so the model sees every nudge
        return F.cross_entropy(model(inputs), labels)

    loss = loss_of_parameters()
    loss.backward()
    autograd = {name: p.grad.numpy() for name, p in model.named_parameters()}
    difference = max(float(np.abs(autograd[name] - hand_written[name]).max()) for name in hand_written)
    passed = mg.autograd.gradcheck(loss_of_parameters, list(model.parameters()), raise_exception=False)
    return MinigradCheck(loss.item(), difference, passed)


def error_table(params: Params, numeric: Params, cache: ForwardCache, bugs: list) -> str:
    """One row per parameter, one column of relative errors per backward (the buggy ones, then fixed)."""
    columns = {f"buggy ({bug})" if bug != "none" else "as written (none)": backward(params, cache, bug)
               for bug in bugs}
    columns["fixed"] = backward(params, cache, "none")
    width = max(len(c) for c in columns) + 2
    lines = ["parameter".ljust(16) + "shape".ljust(10) + "".join(c.ljust(width) for c in columns)]
    for name, value in params.items():
        cells = "".join(f"{relative_error(g[name], numeric[name]):.2e}".ljust(width) for g in columns.values())
        lines.append(name.ljust(16) + str(value.shape).ljust(10) + cells)
    cells = "".join(f"{relative_error(flat(g), flat(numeric)):.2e}".ljust(width) for g in columns.values())
    lines.append("all".ljust(16) + "".ljust(10) + cells)
    return "\n".join(line.rstrip() for line in lines)


def epsilon_sweep(params: Params, x: np.ndarray, y: np.ndarray, exact: Params) -> str:
    """Relative error of the correct gradient against central differences for ε = 1e-1 … 1e-10:
    the truncation error falls as ε², the round-off error grows as 1/ε."""
    loss_of = lambda p: forward(p, x, y).loss  # noqa: E731
    lines = ["epsilon   relative error (fixed backward)"]
    for exponent in range(1, 11):
        eps = 10.0 ** -exponent
        error = relative_error(flat(exact), flat(numerical_gradient(loss_of, params, eps)))
        lines.append(f"1e-{exponent:<6d}{error:.2e}")
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--bug", choices=[*BUGS, "all"], default="all",
                        help="the mistake put into the hand-written backward ('all': each one, side by side)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, inputs and labels")
    parser.add_argument("--quick", action="store_true",
                        help="accepted for uniformity with the other examples (the full run takes about a second)")
    args = parser.parse_args(argv)

    params, x, y = init_problem(args.seed)
    cache = forward(params, x, y)
    numeric = numerical_gradient(lambda p: forward(p, x, y).loss, params)
    bugs = [b for b in BUGS if b != "none"] if args.bug == "all" else [args.bug]

    print(f"4-5-3 tanh network, softmax cross-entropy, {N_SAMPLES} samples, float64, seed {args.seed}")
    print(f"loss {cache.loss:.6f}")
    for bug in bugs:
        print(f"bug {bug}: {BUGS[bug]}")
    print()
    print(f"relative error ||g - g_num|| / ||g + g_num|| against central differences (eps = {EPS:g})")
    print("good: about 1e-9 (1e-7 at most); a bug: 1e-3 to 1")
    print(error_table(params, numeric, cache, bugs))
    print()
    exact = backward(params, cache, "none")
    print(epsilon_sweep(params, x, y, exact))
    print()
    result = check_with_minigrad(params, x, y, exact)
    print("the same network from minigrad modules (nn.Linear, mg.tanh, F.cross_entropy), float64:")
    print(f"minigrad loss {result.loss:.6f}")
    print(f"max |hand-written gradient - autograd gradient| = {result.max_grad_difference:.2e}")
    print(f"mg.autograd.gradcheck passed: {result.gradcheck_passed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
