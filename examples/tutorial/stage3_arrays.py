"""Autodiff tutorial, stage 3 of 7: arrays and broadcasting.

New in this stage (the rest is stage 2, with numbers replaced by NumPy arrays):

* Tensor holds a float64 array; ops compute on whole arrays.  backward(g) gets
  g = ∂f/∂output, an array of the output's shape, and returns ∂f/∂input for each
  input.  For an elementwise op that is g times the local derivative, element by
  element: the Jacobian is diagonal, so it is never built.
* Broadcasting.  a + b with a of shape (4, 3) and b of shape (3,) uses each b[j]
  four times, so ∂f/∂b[j] is the sum of four gradients.  The walk reduces every
  gradient to its input's shape with sum_to, so no op has to think about it.
* A reduction, sum over axes: its backward copies g back along the summed axes.
* tanh and sigmoid are primitives now.  Composites are short, but they inherit the
  weak points of their parts: stage 2's sigmoid computes e⁻ᵃ, which overflows for
  a < −709.  As primitives they use a stable formula and a one-line derivative.
  (Log, reciprocal and powers are left out to keep the file short.)

Run:  python examples/tutorial/stage3_arrays.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import numpy as np

TAPE: list = []  # (op, output, inputs) per operation, in the order they ran


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g down to `shape`, undoing broadcasting: over the leading axes that broadcasting
    added, and over the axes where `shape` has size 1 but g does not."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g


class Op:
    """A primitive: forward(*arrays) -> array; backward(g) -> one ∂f/∂input per input,
    each of the output's shape (the walk sums them down to the inputs' shapes)."""

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: np.ndarray) -> tuple:
        raise NotImplementedError


class Add(Op):  # a + b        ∂/∂a = 1, ∂/∂b = 1
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Mul(Op):  # a · b        ∂/∂a = b, ∂/∂b = a
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, g * self.a


class Neg(Op):  # −a           ∂/∂a = −1
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Exp(Op):  # eᵃ           ∂/∂a = eᵃ, the output itself
    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Tanh(Op):  # tanh a      ∂/∂a = 1 − tanh² a = 1 − out²
    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, g):
        return (g * (1 - self.out * self.out),)


class Sigmoid(Op):  # σ(a) = 1/(1 + e⁻ᵃ)      ∂/∂a = σ(a)(1 − σ(a)) = out(1 − out)
    def forward(self, a):
        e = np.exp(-np.abs(a))  # in (0, 1]: never overflows
        self.out = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, g):
        return (g * (self.out * (1 - self.out)),)


class Sum(Op):  # Σ over `axes`      ∂/∂a[i] = 1 for every element that was summed
    def forward(self, a, axes, keepdims):
        self.shape = a.shape
        self.kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))  # keepdims=True's shape
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, g):
        return (np.broadcast_to(g.reshape(self.kept), self.shape),)  # one copy of g per summed element


def apply(op_class: type, *inputs: Tensor | float, **options) -> Tensor:
    """Run one primitive on the inputs' arrays and write its record on the tape."""
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
    op = op_class()
    out = Tensor(op.forward(*(x.data for x in inputs), **options))
    TAPE.append((op, out, inputs))
    return out


class Tensor:
    """A float64 array, plus ∂f/∂(this tensor) in .grad (same shape) once f.backward() has run."""

    def __init__(self, data) -> None:
        self.data = np.asarray(data, dtype=np.float64)  # (no copy if data already is one)
        self.grad = np.zeros_like(self.data)

    __array_ufunc__ = None  # array + tensor: NumPy hands over to Tensor.__radd__ instead of looping

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def __add__(self, other): return apply(Add, self, other)
    def __mul__(self, other): return apply(Mul, self, other)
    def __neg__(self): return apply(Neg, self)
    def exp(self): return apply(Exp, self)
    def tanh(self): return apply(Tanh, self)
    def sigmoid(self): return apply(Sigmoid, self)

    def sum(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (an int, a tuple of ints, or None for all axes)."""
        n = self.data.ndim
        axes = range(n) if axis is None else (axis,) if isinstance(axis, int) else axis
        if any(not -n <= a < n for a in axes):
            raise ValueError(f"sum: axis {axis} is out of range for a tensor with {n} dimensions")
        return apply(Sum, self, axes=tuple(a % n for a in axes), keepdims=keepdims)

    __radd__ = __add__
    __rmul__ = __mul__

    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)

    def backward(self) -> None:
        """Set .grad of every tensor on the tape to ∂self/∂tensor (self must have one element)."""
        if self.data.size != 1:
            raise RuntimeError(f"backward() needs a one-element output to start from; this one has shape {self.shape}")
        self.grad = np.ones_like(self.data)
        for op, out, inputs in reversed(TAPE):
            for x, g in zip(inputs, op.backward(out.grad)):
                x.grad = x.grad + sum_to(g, x.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r})"


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)))
    w = Tensor(rng.normal(size=(3,)))  # broadcast over x's 4 rows
    b = Tensor(0.5)  # broadcast over everything

    def f():
        """f = Σᵢ σ(Σⱼ tanh(xᵢⱼ wⱼ + b)) − Σ e^w."""
        return (x * w + b).tanh().sum(axis=1).sigmoid().sum() - w.exp().sum()

    def central_differences(t: Tensor, h: float = 1e-6) -> np.ndarray:
        grad = np.zeros_like(t.data)
        for i in np.ndindex(t.shape):
            keep = t.data[i]
            t.data[i] = keep + h
            up = f().data
            t.data[i] = keep - h
            down = f().data
            t.data[i] = keep
            grad[i] = (up - down) / (2 * h)
        return grad

    out = f()
    out.backward()
    print(f"f = {out.data:.6f}   tape: {len(TAPE)} records")
    for name, t in (("x", x), ("w", w), ("b", b)):
        print(f"∂f/∂{name}: shape {t.grad.shape}, like {name}'s shape {t.shape}")
    grads = {name: t.grad.copy() for name, t in (("x", x), ("w", w), ("b", b))}
    for name, t in (("x", x), ("w", w), ("b", b)):
        numeric = central_differences(t)
        err = np.abs(grads[name] - numeric).max()
        print(f"  max |∂f/∂{name} − central differences| = {err:.1e}")
        assert err < 1e-8, name
    print("sum_to of a (2, 4, 3) gradient to shape (4, 1):", sum_to(np.ones((2, 4, 3)), (4, 1)).ravel())
    assert (sum_to(np.ones((2, 4, 3)), (4, 1)) == 6).all()
    print("stage 2's sigmoid at −800 would overflow in e⁸⁰⁰; this one:", Tensor(-800.0).sigmoid().data)
