"""Autodiff tutorial, stage 1 of 7: a scalar tape.

Every operation appends one record to TAPE: its output, and for each input the
local derivative ∂output/∂input, a number known at the moment the op runs.
backward() seeds ∂f/∂f = 1 and walks TAPE from the end, adding
output.grad · ∂output/∂input to each input's grad (the chain rule).

Walking the records in reverse is a reverse topological order: a value is only
ever used by records written after the one that produced it, so when the walk
reaches that record, every use of its output has already added its share.

Run:  python examples/tutorial/stage1_scalar_tape.py     Walk-through: docs/tutorial.md
"""
from __future__ import annotations

TAPE: list = []  # (output, [(input, ∂output/∂input), ...]) per operation, in the order they ran


class Value:
    """A float, plus ∂f/∂(this value) in .grad once f.backward() has run."""

    def __init__(self, data: float) -> None:
        self.data = float(data)
        self.grad = 0.0

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data)
        TAPE.append((out, [(self, 1.0), (other, 1.0)]))  # ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data)
        TAPE.append((out, [(self, other.data), (other, self.data)]))  # ∂(ab)/∂a = b, ∂(ab)/∂b = a
        return out

    __radd__ = __add__  # 3 + x: addition and multiplication commute
    __rmul__ = __mul__

    def backward(self) -> None:
        """Set .grad of every value on the tape to ∂self/∂value."""
        self.grad = 1.0
        for out, inputs in reversed(TAPE):
            for value, local in inputs:
                value.grad += out.grad * local

    def __repr__(self) -> str:
        return f"Value({self.data:g}, grad={self.grad:g})"


if __name__ == "__main__":
    def f(x, y):
        return x * y + 3 * x * x + 1  # x is used three times

    x, y = Value(2.0), Value(-3.0)
    out = f(x, y)
    print("the tape, in the order the operations ran:")
    for i, (o, inputs) in enumerate(TAPE):
        parts = ", ".join(f"{v.data:g} (local derivative {d:g})" for v, d in inputs)
        print(f"  {i}: {o.data:g} <- {parts}")
    out.backward()
    print(f"f = {out.data:g}   ∂f/∂x = {x.grad:g}   ∂f/∂y = {y.grad:g}")

    # by hand: ∂f/∂x = y + 6x = 9, ∂f/∂y = x = 2
    assert out.data == 2 * -3 + 3 * 4 + 1 and x.grad == -3 + 6 * 2 and y.grad == 2
    # central differences, with plain floats (f works on both)
    h = 1e-6
    dx = (f(2 + h, -3.0) - f(2 - h, -3.0)) / (2 * h)
    dy = (f(2.0, -3 + h) - f(2.0, -3 - h)) / (2 * h)
    print(f"central differences: ∂f/∂x ≈ {dx:.6f}   ∂f/∂y ≈ {dy:.6f}")
    assert abs(x.grad - dx) < 1e-6 and abs(y.grad - dy) < 1e-6
