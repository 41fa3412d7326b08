"""Autodiff tutorial, stage 4 of 7: reverse order by sequence number.

New in this stage (the rest is stage 3):

* No global tape list.  Each recorded op is a node that links to where its inputs
  came from (`inputs`: the node that produced each one, or the leaf tensor itself)
  and takes the next tape position `seq` from one counter.  A tensor made by an op
  points to its node (`grad_fn`); a leaf has grad_fn None.
* The walk keeps the nodes that have received a gradient in a max-heap on seq and
  always runs the latest one.  Every consumer of a node's output was recorded after
  it, so it has a larger seq and has already run: the gradient waiting for the node
  is complete, and the node runs exactly once.  Nothing recurses, so a chain of any
  length works, and nodes that do not lead to the output are never visited.
* Gradients wait in a dictionary keyed by node or leaf.  A value used twice gets two
  contributions there, added before its node runs.  Leaves receive the totals in
  .grad, which accumulates over backward() calls; non-leaf tensors keep no .grad.

The stage 1-3 tape had to be cleared by hand between computations, kept every
array alive until then, and its walk visited every record on it.  Now a graph lives
as long as its output does, and two computations never meet.

Run:  python examples/tutorial/stage4_seq_heap.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import heapq
import itertools

import numpy as np

_positions = itertools.count()  # tape positions: each recorded op takes the next one


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
    produced it or the leaf tensor itself; `shapes` the inputs' shapes; `seq` its
    tape position."""

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
    """Run one primitive on the inputs' arrays and record it as a node of the graph."""
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
    node = op_class()
    out = Tensor(node.forward(*(x.data for x in inputs), **options))
    node.inputs = tuple(x.grad_fn or x for x in inputs)  # where each input came from
    node.shapes = tuple(x.shape for x in inputs)
    node.seq = next(_positions)
    out.grad_fn = node
    return out


class Tensor:
    """A float64 array.  grad_fn: the node that made it (None for a leaf).  A leaf's .grad
    (same shape) holds ∂f/∂leaf, summed over the f.backward() calls so far."""

    def __init__(self, data) -> None:
        self.data = np.asarray(data, dtype=np.float64)  # (no copy if data already is one)
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
        start = self.grad_fn or self
        grads = {start: np.ones_like(self.data)}  # node or leaf -> ∂self/∂(its output), summed so far
        heap = [(-start.seq, start)] if isinstance(start, Op) else []  # heapq pops the smallest: -seq
        while heap:
            _, node = heapq.heappop(heap)  # the latest node that has a gradient waiting
            g = grads.pop(node)  # complete: every consumer has a larger seq and has run
            for link, shape, g_in in zip(node.inputs, node.shapes, node.backward(g)):
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
    # 1. A value used twice: h feeds both tanh and exp.  f = Σ (tanh h + e^h), h = 3x.
    x = Tensor([0.2, -0.4])
    h = x * 3
    t, e = h.tanh(), h.exp()
    s = t + e
    f = s.sum()
    order = []

    def watch(node, name):  # (demo only: note when the walk runs this node)
        run = node.backward

        def backward(g):
            order.append(f"{name} (seq {node.seq})")
            return run(g)
        node.backward = backward

    for name, v in (("h = 3x", h), ("tanh h", t), ("e^h", e), ("tanh h + e^h", s), ("f = Σ", f)):
        watch(v.grad_fn, name)
    f.backward()
    print("the walk ran:", " -> ".join(order))
    exact = 3 * (1 - np.tanh(3 * x.data) ** 2 + np.exp(3 * x.data))
    print(f"∂f/∂x = {x.grad}   (3(1 − tanh²3x + e^3x) = {exact})")
    assert len(order) == 5 and order[-1].startswith("h = 3x")
    assert np.allclose(x.grad, exact, rtol=1e-14, atol=0) and h.grad is None

    # 2. .grad accumulates: a second backward adds the same again.
    f.backward()
    print(f"after a second backward: ∂f/∂x = {x.grad}")
    assert np.allclose(x.grad, 2 * exact, rtol=1e-14, atol=0)

    # 3. A chain far longer than Python's recursion limit: y = x · 1.0001^n, ∂y/∂x = 1.0001^n.
    n = 20_000
    x = Tensor(2.0)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    print(f"chain of {n} multiplications: ∂y/∂x = {x.grad:.10f}   (1.0001^{n} = {1.0001 ** n:.10f})")
    assert abs(x.grad - 1.0001 ** n) < 1e-9 * 1.0001 ** n

    # 4. Two computations never meet: backward of one visits only its own nodes.
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    fa = (a * a).sum()
    fb = (b * b * b).sum()  # recorded after fa, yet fa.backward() does not visit it
    fa.backward()
    print(f"after fa.backward(): a.grad = {a.grad}, b.grad = {b.grad}")
    assert np.array_equal(a.grad, [2.0, 4.0]) and b.grad is None

    # 5. Central differences on a broadcasting expression.
    rng = np.random.default_rng(0)
    x, w = Tensor(rng.normal(size=(4, 3))), Tensor(rng.normal(size=(3,)))

    def f():
        return ((x * w).tanh().sum(axis=0) * w).sigmoid().sum() - w.exp().sum()

    f().backward()
    for t in (x, w):
        numeric = np.zeros_like(t.data)
        for i in np.ndindex(t.shape):
            keep = t.data[i]
            t.data[i] = keep + 1e-6
            up = f().data
            t.data[i] = keep - 1e-6
            down = f().data
            t.data[i] = keep
            numeric[i] = (up - down) / 2e-6
        err = np.abs(t.grad - numeric).max()
        print(f"shape {t.shape}: max |gradient − central differences| = {err:.1e}")
        assert err < 1e-8
