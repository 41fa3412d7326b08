"""Autodiff tutorial, stage 5 of 7: no_grad, and recording only what needs it.

New in this stage (the rest is stage 4):

* A tensor asks for gradients with requires_grad=True (parameters, inputs you
  differentiate by).  An op is recorded only if grad mode is on and at least one
  input requires grad; its output then requires grad too.  Otherwise the op runs,
  returns a plain tensor, and its node is dropped at once, with whatever it saved.
  A link is None for an input that needs no gradient, and the walk skips it.
* `with no_grad():` turns grad mode off for a block.  Use it
  - for inference: nothing is recorded, so no node keeps arrays alive for a
    backward pass that will never run;
  - for parameter updates: p − lr·∂L/∂p must not become part of the graph.  If it
    were recorded, the new p would not be a leaf (it would get no .grad), and the
    next backward would pass through every earlier update back to the first p.

Run:  python examples/tutorial/stage5_no_grad.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import heapq
import itertools
from contextlib import contextmanager

import numpy as np

_positions = itertools.count()  # tape positions: each recorded op takes the next one


class GradMode:
    enabled = True  # record ops (for inputs that require grad)?


@contextmanager
def no_grad():
    """Within the block, ops are not recorded."""
    previous, GradMode.enabled = GradMode.enabled, False
    try:
        yield
    finally:
        GradMode.enabled = previous


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g down to `shape`, undoing broadcasting: over the leading axes that broadcasting
    added, and over the axes where `shape` has size 1 but g does not."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g


class Op:
    """A primitive: forward(*arrays) -> array; backward(g) -> one ∂f/∂input per input,
    each of the output's shape (the walk sums them down to the inputs' shapes).

    A recorded call is a node of the graph: `inputs` holds, per input, the node that
    produced it, the leaf tensor itself, or None if that input needs no gradient;
    `shapes` the inputs' shapes; `seq` its tape position."""

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
    """Run one primitive on the inputs' arrays; record it if grad mode is on and an input
    requires grad."""
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
    node = op_class()
    out = Tensor(node.forward(*(x.data for x in inputs), **options))
    if not (GradMode.enabled and any(x.requires_grad for x in inputs)):
        return out  # a plain tensor; the node and what it saved are dropped
    node.inputs = tuple((x.grad_fn or x) if x.requires_grad else None for x in inputs)
    node.shapes = tuple(x.shape for x in inputs)
    node.seq = next(_positions)
    out.grad_fn, out.requires_grad = node, True
    return out


class Tensor:
    """A float64 array.  grad_fn: the node that made it (None for a leaf).  A leaf that
    requires grad gets ∂f/∂leaf in .grad (same shape), summed over the f.backward() calls."""

    def __init__(self, data, requires_grad: bool = False) -> None:
        self.data = np.asarray(data, dtype=np.float64)  # (no copy if data already is one)
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None

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
        """Add ∂self/∂leaf to .grad of every leaf that self depends on (self must have one element)."""
        if self.data.size != 1:
            raise RuntimeError(f"backward() needs a one-element output to start from; this one has shape {self.shape}")
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad; nothing recorded it "
                               "(was it computed under no_grad, or from tensors without requires_grad?)")
        start = self.grad_fn or self
        grads = {start: np.ones_like(self.data)}  # node or leaf -> ∂self/∂(its output), summed so far
        heap = [(-start.seq, start)] if isinstance(start, Op) else []  # heapq pops the smallest: -seq
        while heap:
            _, node = heapq.heappop(heap)  # the latest node that has a gradient waiting
            g = grads.pop(node)  # complete: every consumer has a larger seq and has run
            for link, shape, g_in in zip(node.inputs, node.shapes, node.backward(g)):
                if link is None:
                    continue  # an input that needs no gradient
                g_in = sum_to(g_in, shape)
                if link in grads:
                    grads[link] = grads[link] + g_in  # the same value, used again
                else:
                    grads[link] = g_in
                    if isinstance(link, Op):
                        heapq.heappush(heap, (-link.seq, link))
        for leaf, g in grads.items():  # the nodes have all run: only leaves are left
            leaf.grad = g.copy() if leaf.grad is None else leaf.grad + g  # (copy: g may be shared)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r})"


if __name__ == "__main__":
    def graph_size(t: Tensor) -> int:
        """How many nodes the walk from t could reach."""
        seen, stack = set(), [t.grad_fn] if t.grad_fn else []
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(link for link in node.inputs if isinstance(link, Op))
        return len(seen)

    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, size=20)
    ys = np.tanh(2 * xs - 0.5)  # fit y = tanh(w·x + b): the answer is w = 2, b = −0.5

    def loss(w, b):
        e = (w * xs + b).tanh() - ys
        return (e * e).sum() * (1 / len(xs))  # mean squared error

    # 1. Inference: nothing recorded.
    w, b = Tensor(0.5, requires_grad=True), Tensor(0.0, requires_grad=True)
    recorded = loss(w, b)
    with no_grad():
        not_recorded = loss(w, b)
    print(f"recorded:    grad_fn {type(recorded.grad_fn).__name__}, graph of {graph_size(recorded)} nodes")
    print(f"no_grad:     grad_fn {not_recorded.grad_fn}, requires_grad {not_recorded.requires_grad}")
    assert graph_size(recorded) == 7 and not_recorded.grad_fn is None and not not_recorded.requires_grad
    assert recorded.data == not_recorded.data
    constant = Tensor(xs) * 3  # nothing requires grad: not recorded either
    assert constant.grad_fn is None

    # 2. Updates under no_grad: w and b stay leaves, and every step's graph is as small as the first.
    w, b = Tensor(0.5, requires_grad=True), Tensor(0.0, requires_grad=True)
    for step in range(400):
        f = loss(w, b)
        f.backward()
        with no_grad():
            w, b = w - 1.0 * w.grad, b - 1.0 * b.grad
        w.requires_grad = b.requires_grad = True  # fresh leaves for the next step
    print(f"400 steps, updates under no_grad: w = {w.data:.6f}, b = {b.data:.6f} (want 2, −0.5); "
          f"the last graph had {graph_size(f)} nodes")
    assert abs(w.data - 2) < 1e-4 and abs(b.data + 0.5) < 1e-4 and graph_size(f) == 7

    # The same update, recorded: w1 is made by a node, so it is not a leaf and gets no .grad,
    # and the next loss's graph runs through the update back to the first w.
    w, b = Tensor(0.5, requires_grad=True), Tensor(0.0, requires_grad=True)
    loss(w, b).backward()
    w1, b1 = w - 1.0 * w.grad, b - 1.0 * b.grad
    f = loss(w1, b1)
    f.backward()
    print(f"a recorded update: w1.grad_fn = {type(w1.grad_fn).__name__}, w1.grad = {w1.grad}, "
          f"the next graph has {graph_size(f)} nodes")
    assert w1.grad is None and graph_size(f) == 9

    # 3. Central differences, with a constant input that is not recorded.
    x = Tensor(rng.normal(size=(4, 3)))
    v = Tensor(rng.normal(size=(3,)), requires_grad=True)

    def f():
        return ((x * v).tanh().sum(axis=0) * v).sigmoid().sum() - v.exp().sum()

    f().backward()
    numeric = np.zeros(3)
    with no_grad():
        for i in range(3):
            keep = v.data[i]
            v.data[i] = keep + 1e-6
            up = f().data
            v.data[i] = keep - 1e-6
            down = f().data
            v.data[i] = keep
            numeric[i] = (up - down) / 2e-6
    err = np.abs(v.grad - numeric).max()
    print(f"max |∂f/∂v − central differences| = {err:.1e};  x (no requires_grad) has .grad {x.grad}")
    assert err < 1e-8 and x.grad is None
