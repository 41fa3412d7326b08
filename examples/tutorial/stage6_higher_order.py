"""Autodiff tutorial, stage 6 of 7: higher-order gradients.

New in this stage (the rest is stage 5):

* Backward formulas compute with Tensors, not arrays: forward now receives the input
  tensors (it computes on their .data), saves tensors, and backward(g) gets g as a
  Tensor.  The formulas read as before (g * self.b), but each product is now an op.
* The walk sets grad mode to `create_graph` while it runs.  Normally that is off:
  the formulas' ops are not recorded, as before.  With create_graph=True they are,
  so the gradient it returns has a graph of its own, reaching back through the
  saved tensors to the leaves, and can be differentiated again: second and third
  derivatives, Hessian-vector products, with no second-derivative formula anywhere.
* Everything backward formulas use must therefore be an op with its own backward:
  sum_to (the backward of broadcasting) and broadcast_to (the backward of a sum) are
  ops now, the backward of each one being the other; reshape is an op.
* An op that keeps its output array (exp, tanh, sigmoid) hands it to its formula as
  self.output(): a tensor made by the node itself, so differentiating the formula
  passes through this node again.
* grad(f, inputs) returns the gradients instead of adding them to .grad.

Run:  python examples/tutorial/stage6_higher_order.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import heapq
import itertools
from contextlib import contextmanager
from typing import Sequence

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


class Op:
    """A primitive: forward(*tensors) -> array; backward(g) -> one ∂f/∂input per input,
    each a Tensor of the output's shape (the walk sums them down to the inputs' shapes).

    A recorded call is a node of the graph: `inputs` holds, per input, the node that
    produced it, the leaf tensor itself, or None if that input needs no gradient;
    `shapes` the inputs' shapes; `seq` its tape position."""

    def forward(self, *xs: Tensor) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: Tensor) -> tuple:
        raise NotImplementedError

    def output(self) -> Tensor:
        """The output this node kept in self.out, as a tensor made by this node."""
        t = Tensor(self.out, requires_grad=True)
        t.grad_fn = self
        return t


class Add(Op):  # a + b        ∂/∂a = 1, ∂/∂b = 1
    def forward(self, a, b):
        return a.data + b.data

    def backward(self, g):
        return g, g


class Mul(Op):  # a · b        ∂/∂a = b, ∂/∂b = a
    def forward(self, a, b):
        self.a, self.b = a, b
        return a.data * b.data

    def backward(self, g):
        return g * self.b, g * self.a


class Neg(Op):  # −a           ∂/∂a = −1
    def forward(self, a):
        return -a.data

    def backward(self, g):
        return (-g,)


class Exp(Op):  # eᵃ           ∂/∂a = eᵃ, the output itself
    def forward(self, a):
        self.out = np.exp(a.data)
        return self.out

    def backward(self, g):
        return (g * self.output(),)


class Tanh(Op):  # tanh a      ∂/∂a = 1 − tanh² a = 1 − out²
    def forward(self, a):
        self.out = np.tanh(a.data)
        return self.out

    def backward(self, g):
        y = self.output()
        return (g * (1 - y * y),)


class Sigmoid(Op):  # σ(a) = 1/(1 + e⁻ᵃ)      ∂/∂a = σ(a)(1 − σ(a)) = out(1 − out)
    def forward(self, a):
        e = np.exp(-np.abs(a.data))  # in (0, 1]: never overflows
        self.out = np.where(a.data >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, g):
        y = self.output()
        return (g * (y * (1 - y)),)


class Sum(Op):  # Σ over `axes`      ∂/∂a[i] = 1 for every element that was summed
    def forward(self, a, axes, keepdims):
        self.shape = a.shape
        self.kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))  # keepdims=True's shape
        return a.data.sum(axis=axes, keepdims=keepdims)

    def backward(self, g):
        return (g.reshape(self.kept).broadcast_to(self.shape),)  # one copy of g per summed element


class SumTo(Op):  # sum down to `shape`: the backward of broadcasting
    def forward(self, a, shape):
        self.shape = a.shape
        lead = a.data.ndim - len(shape)  # sum over the leading axes broadcasting added, and over
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        return a.data.sum(axis=axes, keepdims=True).reshape(shape)  # the axes where `shape` has size 1

    def backward(self, g):
        return (g.broadcast_to(self.shape),)


class BroadcastTo(Op):  # copy along new or size-1 axes
    def forward(self, a, shape):
        return np.broadcast_to(a.data, shape).copy()

    def backward(self, g):
        return (g,)  # the walk sums g down to the input's shape


class Reshape(Op):  # the same elements in another shape
    def forward(self, a, shape):
        self.shape = a.shape
        return a.data.reshape(shape).copy()  # (a copy: every op returns a new array)

    def backward(self, g):
        return (g.reshape(self.shape),)


def sum_to(t: Tensor, shape: tuple) -> Tensor:
    """t summed down to `shape` (t itself if it already has that shape)."""
    return t if t.shape == shape else apply(SumTo, t, shape=shape)


def apply(op_class: type, *inputs: Tensor | float, **options) -> Tensor:
    """Run one primitive; record it if grad mode is on and an input requires grad."""
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
    node = op_class()
    out = Tensor(node.forward(*inputs, **options))
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

    def reshape(self, shape: tuple) -> Tensor: return apply(Reshape, self, shape=tuple(shape))
    def broadcast_to(self, shape: tuple) -> Tensor: return apply(BroadcastTo, self, shape=tuple(shape))

    __radd__ = __add__
    __rmul__ = __mul__

    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)

    def backward(self, create_graph: bool = False) -> None:
        """Add ∂self/∂leaf to .grad of every leaf that self depends on (self must have one element).
        With create_graph=True the backward pass is recorded, so .grad can be differentiated."""
        for leaf, g in backward_walk(self, create_graph).items():
            if leaf.grad is None:
                leaf.grad = g if create_graph else Tensor(g.data.copy())  # (a copy: g may be shared)
            else:
                leaf.grad = leaf.grad + g

    def __repr__(self) -> str:
        return f"Tensor({self.data!r})"


def backward_walk(output: Tensor, create_graph: bool) -> dict:
    """Run the backward pass from a one-element `output`; return {leaf: ∂output/∂leaf}.
    Grad mode is `create_graph` during the walk: on, the backward formulas are recorded."""
    if output.data.size != 1:
        raise RuntimeError(f"backward needs a one-element output to start from; this one has shape {output.shape}")
    if not output.requires_grad:
        raise RuntimeError("backward: the output does not require grad; nothing recorded it "
                           "(was it computed under no_grad, or from tensors without requires_grad?)")
    start = output.grad_fn or output
    grads = {start: Tensor(np.ones_like(output.data))}  # node or leaf -> ∂output/∂(its output)
    heap = [(-start.seq, start)] if isinstance(start, Op) else []  # heapq pops the smallest: -seq
    previous, GradMode.enabled = GradMode.enabled, create_graph
    try:
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
    finally:
        GradMode.enabled = previous
    return grads  # the nodes have all run: only leaves are left


def grad(output: Tensor, inputs: Sequence[Tensor], create_graph: bool = False) -> tuple:
    """∂output/∂x for each leaf x in `inputs`, returned (not added to .grad); None for an
    input that `output` does not depend on.  With create_graph=True the results have a
    graph of their own and can be differentiated again."""
    for i, x in enumerate(inputs):
        if x.grad_fn is not None or not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) must be a leaf that requires grad")
    grads = backward_walk(output, create_graph)
    return tuple(grads.get(x) for x in inputs)


if __name__ == "__main__":
    # 1. Derivatives of x³ at x = 2, each one the gradient of the one before.
    x = Tensor(2.0, requires_grad=True)
    y = x * x * x
    (d1,) = grad(y, [x], create_graph=True)  # 3x² = 12, with a graph of its own
    (d2,) = grad(d1, [x], create_graph=True)  # 6x = 12
    (d3,) = grad(d2, [x])  # 6
    print(f"x³ at 2:  d/dx = {d1.data:g}   d²/dx² = {d2.data:g}   d³/dx³ = {d3.data:g}")
    assert (d1.data, d2.data, d3.data) == (12, 12, 6)
    (plain,) = grad(x * x * x, [x])
    print(f"without create_graph the gradient is a plain tensor: requires_grad {plain.requires_grad}")
    assert not plain.requires_grad and plain.grad_fn is None

    # 2. tanh, three times: y′ = 1 − y², y″ = −2y(1 − y²), y‴ = −2(1 − y²)(1 − 3y²).
    x = Tensor(0.5, requires_grad=True)
    (d1,) = grad(x.tanh(), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    t = np.tanh(0.5)
    exact = (1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t))
    print("tanh at 0.5:", "  ".join(f"{d.data:+.10f}" for d in (d1, d2, d3)))
    print("closed form:", "  ".join(f"{e:+.10f}" for e in exact))
    assert np.allclose([d1.data, d2.data, d3.data], exact, rtol=1e-13, atol=0)

    # 3. A Hessian-vector product: Hv = ∇(∇f · v), two backward passes and no Hessian.
    #    f(x) = Σ xᵢ³ + (Σ xᵢ)²:  ∇f = 3x² + 2Σx,  H = diag(6x) + 2·11ᵀ,  Hv = 6x·v + 2Σv.
    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    v = Tensor([0.3, 1.0, -2.0])
    s = x.sum()
    (g,) = grad((x * x * x).sum() + s * s, [x], create_graph=True)
    (hv,) = grad((g * v).sum(), [x])
    exact = 6 * x.data * v.data + 2 * v.data.sum()
    print(f"Hv = {hv.data}   closed form {exact}")
    assert np.allclose(hv.data, exact, rtol=1e-14, atol=0)

    # 4. The same with broadcasting and sums, against central differences of the gradient:
    #    Hv ≈ (∇f(x + εv) − ∇f(x − εv)) / 2ε.
    rng = np.random.default_rng(0)
    a = Tensor(rng.normal(size=(4, 3)))
    x = Tensor(rng.normal(size=(3,)) * 0.5, requires_grad=True)
    v = rng.normal(size=(3,))

    def f(x):
        return ((a * x).tanh().sum(axis=1, keepdims=True) * x).sigmoid().sum() - (x * x).exp().sum()

    def gradient_at(point):
        p = Tensor(point, requires_grad=True)
        return grad(f(p), [p])[0].data

    (g,) = grad(f(x), [x], create_graph=True)
    (hv,) = grad((g * v).sum(), [x])
    eps = 1e-6
    numeric = (gradient_at(x.data + eps * v) - gradient_at(x.data - eps * v)) / (2 * eps)
    err = np.abs(hv.data - numeric).max() / np.abs(hv.data).max()
    print(f"Hv = {hv.data}   relative error against central differences of ∇f: {err:.1e}")
    assert err < 1e-7
