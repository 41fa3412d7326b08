"""minigrad in five minutes: gradients of an expression, the tape behind them, and a
line fitted by plain gradient descent.

Run from the repository root:  python examples/basics.py
(after ``pip install -e .``, or with ``PYTHONPATH=.``).  See docs/autograd.md for the
machinery.
"""
import minigrad as mg

# -- 1. Gradients of a small expression -------------------------------------------
x = mg.tensor(2.0, requires_grad=True)
y = mg.tensor(3.0, requires_grad=True)
z = x * y + x.sin()          # every op is recorded on the tape
z.backward()                 # walk the tape backwards from z
print(f"z = {z.item():.6f}")
print(f"dz/dx = {x.grad.item():.6f}   (y + cos x)")
print(f"dz/dy = {y.grad.item():.6f}   (x)")

# -- 2. What was recorded ----------------------------------------------------------
# z.grad_fn is the last node; next_functions links each node to the nodes (or leaf
# tensors) that produced its inputs.  Backward visits the nodes in decreasing tape
# position (seq), which puts every node after all the nodes that consume its output.
nodes, stack = [], [z.grad_fn]
while stack:
    node = stack.pop()
    if node not in nodes:
        nodes.append(node)
        stack.extend(n for n in node.next_functions if n is not None and not isinstance(n, mg.Tensor))
print("tape, in the order backward visits it:")
for node in sorted(nodes, key=lambda n: n.seq, reverse=True):
    inputs = ["leaf" if isinstance(n, mg.Tensor) else n.name() for n in node.next_functions]
    print(f"  {node.name():12s} <- {', '.join(inputs)}")

# -- 3. Gradients accumulate until you reset them -------------------------------------
z2 = x * y + x.sin()
z2.backward()
print(f"after a second backward, x.grad = {x.grad.item():.6f} (twice the first)")
x.grad = None
y.grad = None

# -- 4. Nothing is recorded under no_grad ------------------------------------------------
with mg.no_grad():
    w = x * y
print(f"under no_grad: requires_grad={w.requires_grad}, grad_fn={w.grad_fn}")

# -- 5. Fit y = w·x + b to noisy points of the line y = 2x - 1 ------------------------
mg.manual_seed(0)
xs = mg.linspace(-1.0, 1.0, 64)
ys = 2.0 * xs - 1.0 + 0.05 * mg.randn(64)

w = mg.zeros((), requires_grad=True)
b = mg.zeros((), requires_grad=True)
lr = 0.5


def loss_fn() -> mg.Tensor:
    return ((w * xs + b - ys) ** 2).mean()


print(f"initial loss {loss_fn().item():.6f}")
for step in range(200):
    loss = loss_fn()
    w.grad = None                # reset, or the gradients of all steps would add up
    b.grad = None
    loss.backward()
    with mg.no_grad():           # the update itself must not be recorded
        w -= lr * w.grad
        b -= lr * b.grad
print(f"final loss {loss_fn().item():.6f} after 200 steps")
print(f"fitted w = {w.item():.4f}   (true 2)")
print(f"fitted b = {b.item():.4f}   (true -1)")
