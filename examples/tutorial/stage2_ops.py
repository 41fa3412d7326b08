"""Autodiff tutorial, stage 2 of 7: each op is a forward and a backward, side by side.

New in this stage (the rest is stage 1):

* An op is a class.  forward(inputs) computes the output; backward(g) receives
  g = ∂f/∂output and returns ∂f/∂input = g · ∂output/∂input for each input.  That
  is the chain rule, applied one op at a time.  Stage 1 stored the number
  ∂output/∂input; a backward method can instead compute g · ∂output/∂input
  directly, which is what arrays need in stage 3 (there the local derivative is a
  matrix that is never built).
* A tape record is (op, output, inputs); the walk calls op.backward(output.grad).
* Only six primitives have a backward.  Subtraction, division, powers, sigmoid and
  tanh are written with primitives and need no derivative of their own: the walk
  differentiates what they are made of.

Run:  python examples/tutorial/stage2_ops.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

import math

TAPE: list = []  # (op, output, inputs) per operation, in the order they ran


class Op:
    """A primitive: forward(*numbers) -> number; backward(g) -> one ∂f/∂input per input."""

    def forward(self, *xs: float) -> float:
        raise NotImplementedError

    def backward(self, g: float) -> tuple:
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
        self.out = math.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Op):  # ln a         ∂/∂a = 1/a
    def forward(self, a):
        self.a = a
        return math.log(a)

    def backward(self, g):
        return (g / self.a,)


class Recip(Op):  # 1/a        ∂/∂a = −1/a² = −out²
    def forward(self, a):
        self.out = 1.0 / a
        return self.out

    def backward(self, g):
        return (-g * self.out * self.out,)


def apply(op_class: type, *inputs: Value | float) -> Value:
    """Run one primitive and write its record on the tape."""
    inputs = tuple(x if isinstance(x, Value) else Value(x) for x in inputs)
    op = op_class()
    out = Value(op.forward(*(x.data for x in inputs)))
    TAPE.append((op, out, inputs))
    return out


class Value:
    """A float, plus ∂f/∂(this value) in .grad once f.backward() has run."""

    def __init__(self, data: float) -> None:
        self.data = float(data)
        self.grad = 0.0

    # primitives: each has a backward
    def __add__(self, other): return apply(Add, self, other)
    def __mul__(self, other): return apply(Mul, self, other)
    def __neg__(self): return apply(Neg, self)
    def exp(self): return apply(Exp, self)
    def log(self): return apply(Log, self)
    def reciprocal(self): return apply(Recip, self)

    __radd__ = __add__
    __rmul__ = __mul__

    # composites: made of primitives, no backward of their own
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __truediv__(self, other): return self * (other.reciprocal() if isinstance(other, Value) else 1.0 / other)
    def __rtruediv__(self, other): return other * self.reciprocal()
    def __pow__(self, p: float): return (self.log() * p).exp()  # aᵖ = e^(p·ln a), for a > 0
    def sigmoid(self): return (1 + (-self).exp()).reciprocal()  # 1 / (1 + e⁻ᵃ)
    def tanh(self): return 2 * (2 * self).sigmoid() - 1  # tanh a = 2σ(2a) − 1

    def backward(self) -> None:
        """Set .grad of every value on the tape to ∂self/∂value."""
        self.grad = 1.0
        for op, out, inputs in reversed(TAPE):
            for x, g in zip(inputs, op.backward(out.grad)):
                x.grad += g

    def __repr__(self) -> str:
        return f"Value({self.data:g}, grad={self.grad:g})"


if __name__ == "__main__":
    def central_difference(f, *args, i=0, h=1e-6):
        """∂f/∂args[i] ≈ (f(.., a + h, ..) − f(.., a − h, ..)) / 2h, evaluated on Values."""
        up = [Value(a + h * (j == i)) for j, a in enumerate(args)]
        down = [Value(a - h * (j == i)) for j, a in enumerate(args)]
        return (f(*up).data - f(*down).data) / (2 * h)

    cases = [
        ("tanh x", lambda x: x.tanh(), [0.7], [1 - math.tanh(0.7) ** 2]),
        ("σ(x)", lambda x: x.sigmoid(), [-1.2], [math.exp(1.2) / (1 + math.exp(1.2)) ** 2]),
        ("x^2.5", lambda x: x ** 2.5, [1.5], [2.5 * 1.5 ** 1.5]),
        ("x / y", lambda x, y: x / y, [3.0, -2.0], [1 / -2.0, -3.0 / 4.0]),
        ("log(1 + eˣ) − x·y", lambda x, y: (1 + x.exp()).log() - x * y, [0.3, 2.0],
         [math.exp(0.3) / (1 + math.exp(0.3)) - 2.0, -0.3]),
    ]
    for name, f, args, exact in cases:
        TAPE.clear()  # one tape per computation: this tape never forgets on its own
        xs = [Value(a) for a in args]
        f(*xs).backward()
        records, ops = len(TAPE), sorted({type(op).__name__ for op, _, _ in TAPE})
        grads = [x.grad for x in xs]
        numeric = [central_difference(f, *args, i=i) for i in range(len(args))]
        print(f"{name:18s} gradient {', '.join(f'{g:+.6f}' for g in grads):22s} "
              f"(tape: {records} records of {', '.join(ops)})")
        for g, n, e in zip(grads, numeric, exact):
            assert abs(g - e) < 1e-12 * max(1.0, abs(e)), (name, g, e)
            assert abs(g - n) < 1e-6, (name, g, n)
    print("all gradients agree with the closed forms and with central differences")
