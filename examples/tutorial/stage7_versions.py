"""Autodiff tutorial, stage 7 of 7: in-place changes and version counters.

New in this stage (the rest is stage 6):

* In-place ops: add_, sub_, mul_, and +=, -=, *= through them.  They change a tensor's value
  without making a new tensor object.
* The danger: a node keeps values for its backward.  Exp keeps its output array, Mul
  keeps its input tensors.  If one of those values changes before backward runs, the
  backward formula reads the new value and silently returns a wrong gradient.
* Each array has a VersionCounter; every in-place change adds one to it.  A node
  remembers the version of each tensor it saved (and the counter of its own output
  array, if it kept that), and the walk refuses to run a node whose values changed:
  a RuntimeError instead of a wrong gradient.
* How an in-place op runs:
  - while recording (grad mode on, and the tensor or the operand requires grad) it is
    done out of place: an ordinary recorded op computes the new value into a new
    array, and the tensor object takes that array and that op's node.  The old array
    is left as it was, so a node that kept the array (exp's output) is still right,
    but a node that kept the tensor object (Mul's inputs) would now read the new
    array.  So the tensor gets a new counter, numbered on from the old one: that node
    sees a higher version.  The old counter stays with the old array.
    A leaf that requires grad is refused here: its gradient would lose its meaning.
  - otherwise (under no_grad, or nothing requires grad) it writes into the array
    itself and bumps the array's counter.  That is how parameter updates run.
  Every op returns a new array, so no two tensors share one.  Writing through .data
  (or through the NumPy array a tensor was made from) is not counted: that is the
  escape hatch for code that knows no node needs the old value.

Run:  python examples/tutorial/stage7_versions.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import heapq
import itertools
import operator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Sequence

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


@dataclass
class VersionCounter:
    """How many times an array has been changed in place, and by which op last."""
    version: int = 0
    last_op: str = ""


class Op:
    """A primitive: forward(*tensors) -> array; backward(g) -> one ∂f/∂input per input,
    each a Tensor of the output's shape (the walk sums them down to the inputs' shapes).

    A recorded call is a node of the graph: `inputs` holds, per input, the node that
    produced it, the leaf tensor itself, or None if that input needs no gradient;
    `shapes` the inputs' shapes; `seq` its tape position."""

    saved = ()  # (tensor, its version when saved) for each input tensor backward reads
    out = None  # the output array, for ops whose backward reads it
    out_counter = None  # that array's counter (its version was 0 when the node made it)

    def forward(self, *xs: Tensor) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: Tensor) -> tuple:
        raise NotImplementedError

    def save(self, *tensors: Tensor) -> tuple:
        """Keep input tensors for backward, with their versions now; returns them."""
        self.saved = tuple((t, t.version) for t in tensors)
        return tensors

    def check_saved(self) -> None:
        """Refuse to run backward if a value it reads was changed in place since forward."""
        for t, version in self.saved:
            if t.version != version:
                raise RuntimeError(
                    f"{type(self).__name__}: a tensor it saved for backward (shape {t.shape}) was modified by an "
                    f"in-place operation ({t._counter.last_op}): version {version} when saved, {t.version} now. "
                    "Use the out-of-place op instead")
        if self.out_counter is not None and self.out_counter.version != 0:
            raise RuntimeError(
                f"{type(self).__name__}: its output (shape {self.out.shape}), which its backward reads, was "
                f"modified by an in-place operation ({self.out_counter.last_op}). Use the out-of-place op instead")

    def output(self) -> Tensor:
        """The output this node kept in self.out, as a tensor made by this node."""
        t = Tensor(self.out, requires_grad=True)
        t.grad_fn, t._counter = self, self.out_counter  # the same array, the same counter
        return t


class Add(Op):  # a + b        ∂/∂a = 1, ∂/∂b = 1
    def forward(self, a, b):
        return a.data + b.data

    def backward(self, g):
        return g, g


class Mul(Op):  # a · b        ∂/∂a = b, ∂/∂b = a
    def forward(self, a, b):
        self.a, self.b = self.save(a, b)
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
    if node.out is not None:
        node.out_counter = out._counter  # out.data is node.out: the same array
    return out


class Tensor:
    """A float64 array.  grad_fn: the node that made it (None for a leaf).  A leaf that
    requires grad gets ∂f/∂leaf in .grad (same shape), summed over the f.backward() calls."""

    def __init__(self, data, requires_grad: bool = False) -> None:
        self.data = np.asarray(data, dtype=np.float64)  # (no copy if data already is one)
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None
        self._counter = VersionCounter()

    __array_ufunc__ = None  # array + tensor: NumPy hands over to Tensor.__radd__ instead of looping

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def version(self) -> int:
        """How many in-place changes this tensor's value has had."""
        return self._counter.version

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

    def add_(self, other) -> Tensor: return self._in_place("add_", operator.add, other)
    def sub_(self, other) -> Tensor: return self._in_place("sub_", operator.sub, other)
    def mul_(self, other) -> Tensor: return self._in_place("mul_", operator.mul, other)

    __iadd__ = add_  # t += u
    __isub__ = sub_
    __imul__ = mul_

    def _in_place(self, name: str, op: Callable, other) -> Tensor:
        """self = op(self, other), keeping the tensor object (other broadcasts to self's shape)."""
        other = other if isinstance(other, Tensor) else Tensor(other)
        try:
            fits = np.broadcast_shapes(self.shape, other.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"{name}: a value of shape {other.shape} can't be applied in place to shape {self.shape}")
        if GradMode.enabled and (self.requires_grad or other.requires_grad):
            if self.grad_fn is None and self.requires_grad:
                raise RuntimeError(f"{name}: a leaf tensor that requires grad (shape {self.shape}) can't be changed in "
                                   "place while ops are recorded; do it under no_grad(), or use the out-of-place op")
            before = Tensor(self.data, self.requires_grad)  # the old value: its array, history, counter
            before.grad_fn, before._counter = self.grad_fn, self._counter
            new = op(before, other)  # recorded: a new array and a new node
            self.data, self.grad_fn, self.requires_grad = new.data, new.grad_fn, True
            self._counter = VersionCounter(before.version + 1, name)  # a new array, a new counter
        else:
            self.data[...] = op(self.data, other.data)  # into the array itself
            self._counter.version += 1
            self._counter.last_op = name
        return self

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
            node.check_saved()
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
    def refused(f) -> str:
        """Run f; return the message of the RuntimeError it raises ("" if none)."""
        try:
            f()
        except RuntimeError as err:
            return str(err)
        return ""

    # 1. exp keeps its output array; writing into it changes what its backward reads.
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    with no_grad():
        y += 1  # into the array exp kept: y.version 0 -> 1
    message = refused(lambda: y.sum().backward())
    print(f"y.version = {y.version};  backward: RuntimeError: {message}")
    assert "Exp: its output" in message and x.grad is None
    # With the check switched off for this node, the walk would return eˣ + 1, silently:
    y.grad_fn.check_saved = lambda: None
    y.sum().backward()
    print(f"  unchecked, ∂Σy/∂x would be {x.grad.data}, but eˣ = {np.exp(x.data)}")
    assert np.allclose(x.grad.data, np.exp(x.data) + 1)

    # 2. The same += while recording: a new array and a new node for y; exp's array is untouched.
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    y += 1
    y.sum().backward()
    print(f"recorded y += 1: y.grad_fn = {type(y.grad_fn).__name__}, ∂Σy/∂x = {x.grad.data}")
    assert np.array_equal(x.grad.data, np.exp(x.data)) and np.array_equal(y.data, np.exp(x.data) + 1)

    # 3. Mul keeps its input tensors; y now holds a new array, and Mul would read it.
    x = Tensor([0.5, -1.0], requires_grad=True)
    h = x * 2
    y = h * h  # Mul saves h at version 0
    h += 1  # recorded: h takes a new array (and counter) at version 1
    message = refused(lambda: y.sum().backward())
    print(f"h.version = {h.version};  backward: RuntimeError: {message}")
    assert "Mul: a tensor it saved" in message and "version 0 when saved, 1 now" in message

    # 4. A leaf that requires grad can't change in place while recording; under no_grad it can,
    #    which is how an optimizer steps: after backward, when no node needs the old value.
    w = Tensor([1.0, 2.0], requires_grad=True)
    print("leaf, recording:  RuntimeError:", refused(lambda: w.add_(1)))
    assert "leaf tensor that requires grad" in refused(lambda: w.add_(1))
    for step in range(3):
        loss = (w * w).sum()
        loss.backward()
        with no_grad():
            w -= 0.25 * w.grad.data  # fine: this step's graph is done with w
            w.grad = None
    print(f"three steps of w ← w − ¼·∂Σw²/∂w: w = {w.data} (version {w.version})")
    assert np.array_equal(w.data, [0.125, 0.25]) and w.version == 3
    loss = (w * w).sum()  # Mul saves w ...
    with no_grad():
        w -= 0.25 * w.data  # ... and the update comes before backward
    message = refused(loss.backward)
    print("update before backward:  RuntimeError:", message)
    assert "version 3 when saved, 4 now" in message

    # 5. Recorded in-place ops differentiate like their out-of-place versions: central differences.
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    v = Tensor(rng.normal(size=(2,)), requires_grad=True)

    def f():
        h = x * v
        h *= 2  # recorded
        h += x.sigmoid()
        return h.tanh().sum()

    f().backward()
    for t in (x, v):
        numeric = np.zeros_like(t.data)
        with no_grad():
            for i in np.ndindex(t.shape):
                keep = t.data[i]
                t.data[i] = keep + 1e-6
                up = f().data
                t.data[i] = keep - 1e-6
                down = f().data
                t.data[i] = keep
                numeric[i] = (up - down) / 2e-6
        err = np.abs(t.grad.data - numeric).max()
        print(f"shape {t.shape}: max |gradient − central differences| = {err:.1e}")
        assert err < 1e-8
