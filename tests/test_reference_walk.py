"""The plain reference walk (minigrad/autograd/reference.py) and the engine give the same
gradients, first and second order, on random graphs built from minigrad's ops."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import backward_reference

SHAPES = [(3, 4), (4,), (1, 4), (3, 1), ()]

# Each op: (name, arity, function); inputs are float64 tensors of the shapes above (broadcasting).
UNARY = [
    ("exp", lambda a: (a * 0.3).exp()), ("tanh", mg.tanh), ("sigmoid", mg.sigmoid), ("relu", mg.relu),
    ("neg", lambda a: -a), ("square", lambda a: a * a), ("sum0", lambda a: a.sum(0, keepdim=True) if a.ndim else a),
    ("mean", lambda a: a.mean()), ("softplus", F.softplus), ("abs_smooth", lambda a: (a * a + 1.0).sqrt()),
    ("getitem", lambda a: a[..., :1] if a.ndim else a), ("logsumexp", lambda a: a.logsumexp(-1, keepdim=True) if a.ndim else a),
]
BINARY = [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
          ("div", lambda a, b: a / (b * b + 1.0)), ("maximum", mg.maximum),
          ("where", lambda a, b: mg.where(a > b, a, b * 2.0))]


@st.composite
def graphs(draw):
    """(leaf arrays, a list of steps (op index, operand indices)) building an expression DAG whose
    intermediate values may be reused."""
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    arrays = [rng.standard_normal(s) for s in leaves]
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        n_values = n_leaves + len(steps)
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)), (draw(st.integers(0, n_values - 1)),)))
        else:
            steps.append(("b", draw(st.integers(0, len(BINARY) - 1)),
                          (draw(st.integers(0, n_values - 1)), draw(st.integers(0, n_values - 1)))))
    return arrays, steps


def build(arrays, steps):
    leaves = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    values = list(leaves)
    for kind, op, operands in steps:
        fn = UNARY[op][1] if kind == "u" else BINARY[op][1]
        values.append(fn(*(values[i] for i in operands)))
    out = sum((v * (i + 1.0)).sum() for i, v in enumerate(values[len(leaves):]))  # every step matters
    return leaves, out


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_reference_walk_equals_the_engine(graph):
    leaves, out = build(*graph)
    ref = backward_reference(out, mg.ones_like(out))
    out.backward()
    for leaf in leaves:
        if leaf in ref:
            _close(ref[leaf], leaf.grad)
        else:  # no path from the output to this leaf
            assert leaf.grad is None or not leaf.grad.numpy().any()


@settings(max_examples=40, deadline=None)
@given(graphs(), st.integers(0, 2 ** 32 - 1))
def test_reference_walk_with_create_graph_gives_the_engines_second_derivatives(graph, seed):
    leaves, out = build(*graph)
    ref = backward_reference(out, mg.ones_like(out), create_graph=True)
    eng = mg.grad(out, leaves, create_graph=True, allow_unused=True)
    v = [mg.tensor(np.random.default_rng(seed + i).standard_normal(x.shape)) for i, x in enumerate(leaves)]
    pairs = [(ref[x], g, w) for x, g, w in zip(leaves, eng, v) if x in ref and g is not None and g.requires_grad]
    if not pairs:
        return
    hv_ref = mg.grad(sum((r * w).sum() for r, _, w in pairs), leaves, allow_unused=True, retain_graph=True)
    hv_eng = mg.grad(sum((g * w).sum() for _, g, w in pairs), leaves, allow_unused=True)
    for a, b in zip(hv_ref, hv_eng):
        if a is None or b is None:
            assert a is None and b is None
        else:
            _close(a, b)


def test_reference_walk_refuses_a_changed_saved_value_and_a_freed_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with mg.no_grad():
        y.add_(1.0)  # exp's backward reads its output
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        backward_reference(y.sum(), mg.tensor(1.0))
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        backward_reference(z, mg.tensor(1.0))


def test_reference_walk_reports_each_step_latest_first():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3.0).tanh().sum()
    seen = []
    backward_reference(y, mg.tensor(1.0), on_step=lambda node, g, sends: seen.append((node.seq, node.name())))
    assert [s for s, _ in seen] == sorted((s for s, _ in seen), reverse=True)
    assert [n for _, n in seen] == ["SumBackward", "TanhBackward", "MulBackward"]
