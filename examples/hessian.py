"""Second derivatives from create_graph=True: the Hessian of the Rosenbrock function,
checked against its closed form, a Hessian-vector product, and Newton's method.

    f(x) = Σᵢ b·(xᵢ₊₁ - xᵢ²)² + (a - xᵢ)²,   i = 0 .. n-2,   a = 1, b = 100

Its gradient is computed with ``create_graph=True``, so the gradient is itself a
recorded tensor; differentiating each of its entries once more gives one row of the
Hessian.  The closed form is tridiagonal:

    H[i, i]   = [i < n-1]·(2 + 12b·xᵢ² - 4b·xᵢ₊₁) + [i > 0]·2b
    H[i, i+1] = H[i+1, i] = -4b·xᵢ

Run from the repository root:  python examples/hessian.py
"""
import numpy as np

import minigrad as mg

A, B = 1.0, 100.0


def rosenbrock(x: mg.Tensor) -> mg.Tensor:
    """f(x) for a 1-D tensor x of length n >= 2; a 0-d tensor."""
    return (B * (x[1:] - x[:-1] ** 2) ** 2 + (A - x[:-1]) ** 2).sum()


def hessian_autodiff(x: np.ndarray) -> tuple:
    """(gradient, Hessian) at x by reverse-over-reverse differentiation: n + 1 passes."""
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(rosenbrock(xt), xt, create_graph=True)   # g is on the tape
    rows = []
    for i in range(len(x)):
        # retain_graph: the same recorded gradient is differentiated once per row
        (row,) = mg.grad(g[i], xt, retain_graph=True)
        rows.append(row.numpy())
    return g.detach().numpy(), np.stack(rows)


def hessian_closed_form(x: np.ndarray) -> np.ndarray:
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        if i < n - 1:
            h[i, i] += 2 + 12 * B * x[i] ** 2 - 4 * B * x[i + 1]
            h[i, i + 1] = h[i + 1, i] = -4 * B * x[i]
        if i > 0:
            h[i, i] += 2 * B
    return h


def hessian_vector_product(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H(x)·v without forming H: the gradient of ∇f(x)·v."""
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(rosenbrock(xt), xt, create_graph=True)
    (hv,) = mg.grad((g * mg.tensor(v, dtype=mg.float64)).sum(), xt)
    return hv.numpy()


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=6)
    _, h = hessian_autodiff(x)
    exact = hessian_closed_form(x)
    print(f"Rosenbrock in {len(x)} dimensions at x = {np.round(x, 3)}")
    print("Hessian (autodiff), rounded:")
    print(np.round(h, 1))
    print(f"max |H_autodiff - H_closed_form| = {np.abs(h - exact).max():.3e}")
    print(f"symmetric: {np.allclose(h, h.T)}")

    v = rng.standard_normal(len(x))
    hv = hessian_vector_product(x, v)
    print(f"max |Hv - H @ v| = {np.abs(hv - exact @ v).max():.3e}")

    # Newton's method on the classic 2-D problem, from the classic start (-1.2, 1):
    # each step solves H·d = -∇f with the autodiff Hessian.
    p = np.array([-1.2, 1.0])
    for step in range(1, 51):
        g, h = hessian_autodiff(p)
        p = p - np.linalg.solve(h, g)
        if np.linalg.norm(g) < 1e-10:
            break
    value = rosenbrock(mg.tensor(p, dtype=mg.float64)).item()
    print(f"Newton: {step} steps, x = {p}, f(x) = {value:.3e}")
    print(f"Newton distance to (1, 1): {np.abs(p - 1).max():.3e}")
    if np.abs(p - 1).max() < 1e-8:
        print("minimum found at (1, 1)")


if __name__ == "__main__":
    main()
