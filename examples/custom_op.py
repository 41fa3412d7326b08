"""A custom differentiable op: swish with a trainable β, checked with gradcheck and
gradgradcheck.

    y = x · σ(βx),   σ(t) = 1 / (1 + e⁻ᵗ)

With s = σ(βx) and s' = s(1 - s):

    ∂y/∂x = s + βx·s'        ∂y/∂β = x²·s'

β may be a scalar (or any shape that broadcasts against x); its gradient is then
summed back to β's shape with ``sum_to``.  ``backward`` is written with Tensor ops,
so second derivatives (create_graph=True, gradgradcheck) work with no extra code.

Run from the repository root:  python examples/custom_op.py
"""
from typing import Any

import numpy as np

import minigrad as mg
from minigrad.devices import array_module
from minigrad.autograd import Function, gradcheck, gradgradcheck


class Swish(Function):
    """y = x·σ(βx) for tensors x and β (broadcast together)."""

    def forward(self, x: mg.Tensor, beta: mg.Tensor) -> Any:
        a, b = x._data, beta._data
        xp = array_module(a)
        t = a * b
        # σ(t) from e^{-|t|} ∈ (0, 1]: no overflow for any t, and full precision for both signs.
        e = xp.exp(-xp.abs(t))
        s = xp.where(t >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(x, beta)
        return (a * s).astype(xp.result_type(a, b), copy=False)

    def backward(self, g: mg.Tensor) -> tuple:
        x, beta = self.saved_tensors
        s = mg.sigmoid(beta * x)
        ds = s * (1 - s)
        gx = gb = None
        if self.needs_input_grad[0]:
            gx = mg.sum_to(g * (s + beta * x * ds), x.shape)
        if self.needs_input_grad[1]:
            gb = mg.sum_to(g * x * x * ds, beta.shape)
        return gx, gb


def swish(x: mg.Tensor, beta: Any = 1.0) -> mg.Tensor:
    """x·σ(βx); a number β becomes a constant tensor of x's dtype."""
    if not isinstance(beta, mg.Tensor):
        beta = mg.tensor(beta, dtype=x.dtype, device=x.device)
    return Swish.apply(x, beta)


class SwishWrongBeta(Swish):
    """The same op with a typical slip in ∂y/∂β (x·s' instead of x²·s')."""

    def backward(self, g: mg.Tensor) -> tuple:
        gx, _ = super().backward(g)
        x, beta = self.saved_tensors
        s = mg.sigmoid(beta * x)
        return gx, mg.sum_to(g * x * s * (1 - s), beta.shape)


def main() -> None:
    mg.manual_seed(0)
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    beta = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)

    # 1. Same values and gradients as the op composed from built-in ops.
    ours = swish(x, beta)
    composed = x * mg.sigmoid(beta * x)
    print(f"max |swish - x*sigmoid(beta*x)| = {np.abs(ours.detach().numpy() - composed.detach().numpy()).max():.3e}")
    g1 = mg.grad(ours.sum(), [x, beta])
    g2 = mg.grad(composed.sum(), [x, beta])
    diff = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(g1, g2))
    print(f"max |grad difference| = {diff:.3e}")

    # 2. Analytic Jacobians against central differences, first and second order.
    print(f"gradcheck: {gradcheck(swish, [x, beta])}")
    print(f"gradgradcheck: {gradgradcheck(swish, [x, beta])}")

    # 3. gradcheck notices a wrong formula and says where.
    try:
        gradcheck(SwishWrongBeta.apply, [x, beta])
        print("buggy backward NOT caught")
    except AssertionError as err:
        print(f"buggy backward caught: {err}")

    # 4. Extreme inputs in float32: finite values and gradients.
    big = mg.tensor([-1e4, -30.0, 0.0, 30.0, 1e4], requires_grad=True)
    y = swish(big, 1.0)
    y.sum().backward()
    finite = bool(np.isfinite(y.detach().numpy()).all() and np.isfinite(big.grad.numpy()).all())
    print(f"float32 swish at {big.detach().numpy()}: {y.detach().numpy()}")
    print(f"finite at +-1e4 in float32: {finite}")


if __name__ == "__main__":
    main()
