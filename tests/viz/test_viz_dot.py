"""DOT text of known expressions: exactly the expected vertices, labels and edges."""
import pytest

import minigrad as mg
from minigrad import viz

from viz_helpers import by_label, parse_dot


def diamond():
    """x -> a = 2x -> (exp a, sin a) -> sum of both: a is used twice."""
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with viz.trace():
        a = x * 2
        out = (a.exp() + a.sin()).sum()
    return x, out


def test_diamond_exact_graph():
    x, out = diamond()
    nodes, _, edges, _, clusters = parse_dot(viz.draw_graph(out, names={"x": x}).to_dot())
    assert nodes == {
        "t0": "x\n(3,)", "op0": "Mul", "t1": "(3,)", "op1": "Exp", "t2": "(3,)", "op2": "Sin", "t3": "(3,)",
        "op3": "Add", "t4": "(3,)", "op4": "Sum", "t5": "output\nscalar",
    }
    assert edges == [("t0", "op0"), ("op0", "t1"), ("t1", "op1"), ("op1", "t2"), ("t1", "op2"), ("op2", "t3"),
                     ("t2", "op3"), ("t3", "op3"), ("op3", "t4"), ("t4", "op4"), ("op4", "t5")]
    assert clusters == []


def test_to_dot_is_deterministic():
    """Two runs of the same computation (new objects, new id()s, later tape positions) give the same text."""
    texts = [viz.draw_graph(diamond()[1], show_saved=True, show_dtypes=True).to_dot() for _ in range(3)]
    assert texts[0] == texts[1] == texts[2]
    assert texts[0].startswith("digraph minigrad {\n") and texts[0].endswith("}\n")


def test_without_trace_only_known_results_become_vertices():
    """Untraced, Sin keeps its input (a) and Exp its output; Sin's and Add's results are unknown,
    so those edges go op to op."""
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    a = x * 2
    out = (a.exp() + a.sin()).sum()
    nodes, _, edges, _, _ = parse_dot(viz.draw_graph(out).to_dot())
    ids = by_label(nodes)
    assert sorted(nodes.values()) == sorted(["input\n(3,)", "Mul", "(3,)", "Exp", "(3,)", "Sin", "Add", "Sum",
                                             "output\nscalar"])
    assert (ids["Sin"], ids["Add"]) in edges and (ids["Add"], ids["Sum"]) in edges
    assert edges == [("t0", "op0"), ("op0", "t1"), ("t1", "op1"), ("op1", "t2"), ("t1", "op2"), ("t2", "op3"),
                     ("op2", "op3"), ("op3", "op4"), ("op4", "t3")]


def test_broadcast_add():
    x = mg.randn(3, 4, requires_grad=True)
    b = mg.randn(4, requires_grad=True)
    out = x + b
    nodes, attrs, edges, _, _ = parse_dot(viz.draw_graph(out, params={"b": b}, names={"x": x}).to_dot())
    assert nodes == {"t0": "x\n(3, 4)", "t1": "b\n(4,)", "op0": "Add", "t2": "output\n(3, 4)"}
    assert edges == [("t0", "op0"), ("t1", "op0"), ("op0", "t2")]
    assert 'fillcolor="#d4f4d2"' in attrs["t1"]   # a parameter
    assert 'fillcolor="#cfe8fc"' in attrs["t0"]   # an input that requires grad
    assert 'peripheries="2"' in attrs["t2"]       # the output


def test_matmul_chain_shapes_come_from_saved_tensors():
    """MatMul saves both operands, so the (2, 4) result is known without a trace."""
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4, requires_grad=True)
    c = mg.randn(4, 5, requires_grad=True)
    out = a @ b @ c
    nodes, _, edges, _, _ = parse_dot(viz.draw_graph(out, names={"A": a, "B": b, "C": c}).to_dot())
    assert nodes == {"t0": "A\n(2, 3)", "t1": "B\n(3, 4)", "op0": "MatMul", "t2": "(2, 4)", "t3": "C\n(4, 5)",
                     "op1": "MatMul", "t4": "output\n(2, 5)"}
    assert edges == [("t0", "op0"), ("t1", "op0"), ("op0", "t2"), ("t2", "op1"), ("t3", "op1"), ("op1", "t4")]


def test_show_shapes_false_gives_the_op_graph():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4, requires_grad=True)
    out = (a @ b).relu()
    nodes, _, edges, _, _ = parse_dot(viz.draw_graph(out, show_shapes=False).to_dot())
    assert nodes == {"t0": "input", "t1": "input", "op0": "MatMul", "op1": "ReLU", "t2": "output"}
    assert edges == [("t0", "op0"), ("t1", "op0"), ("op0", "op1"), ("op1", "t2")]


def test_double_backward_graph_of_tanh():
    """d²/dx² tanh x: the graph holds the forward Tanh and the ops its backward recorded."""
    x = mg.tensor(0.5, requires_grad=True)
    with viz.trace():
        y = mg.tanh(x)
        (g1,) = mg.grad(y, x, create_graph=True)
        (g2,) = mg.grad(g1, x, create_graph=True)
    nodes, attrs, edges, _, _ = parse_dot(viz.draw_graph(g2, names={"x": x}).to_dot())
    assert nodes == {"t0": "x\nscalar", "op0": "Tanh", "t1": "scalar", "t2": "input\n= 1", "op1": "Mul",
                     "t3": "scalar", "op2": "Mul", "t4": "scalar", "op3": "TanhGrad", "t5": "output\nscalar"}
    assert edges == [("t0", "op0"), ("op0", "t1"), ("t2", "op1"), ("t1", "op1"), ("op1", "t3"), ("t3", "op2"),
                     ("op2", "t4"), ("t4", "op3"), ("t1", "op3"), ("op3", "t5")]
    assert "dashed" in attrs["t2"]  # the seed gradient is a constant
    # Each derivative's graph contains the previous one's ops and more.
    n_ops = [len([k for k in parse_dot(viz.draw_graph(t).to_dot())[0] if k.startswith("op")]) for t in (y, g1, g2)]
    assert n_ops[0] < n_ops[1] < n_ops[2]
    assert float(g2.item()) == pytest.approx(-2 * float(mg.tanh(x).item()) * (1 - float(mg.tanh(x).item()) ** 2),
                                             rel=1e-5)


def test_saved_dtypes_grads_labels():
    w = mg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    x = mg.tensor([[1.0, 2.0]])
    with viz.trace():
        out = ((x @ w).tanh()).sum()
    out.backward(retain_graph=True)
    text = viz.draw_graph(out, params={"w": w}, show_saved=True, show_dtypes=True, show_grads=True).to_dot()
    nodes, _, _, _, _ = parse_dot(text)
    assert nodes["t1"].startswith("w\n(2, 2)\nfloat32 · cpu\ngrad ‖·‖=")
    assert nodes["t0"] == "input\n(1, 2)\nfloat32 · cpu"  # the constant x, known from the trace
    assert nodes["op0"] == "MatMul\nsaved: (1, 2)"  # only x: w needs it for its gradient, x needs none
    assert nodes["op1"].startswith("Tanh\nsaved: output (1, 2)")
    out.backward()  # frees the saved tensors
    nodes, _, _, _, _ = parse_dot(viz.draw_graph(out, show_saved=True).to_dot())
    assert "saved: freed by backward" in nodes["op0"]


def test_retained_gradient_of_a_result_is_shown():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    h = x.exp()  # exp keeps its output too: the retained tensor itself must win
    h.retain_grad()
    out = (h * 3).sum()
    out.backward()
    nodes, _, _, _, _ = parse_dot(viz.draw_graph(out, names={"h": h}, show_grads=True).to_dot())
    assert "h\n(2,)\ngrad [3, 3]" in nodes.values()


def test_nonfinite_values_and_grads_are_red():
    x = mg.tensor([1.0, float("nan")], requires_grad=True)
    ok = mg.tensor([1.0, 2.0], requires_grad=True)
    out = (x * ok).sum()
    nodes, attrs, _, _, _ = parse_dot(viz.draw_graph(out, names={"x": x, "ok": ok}).to_dot())
    ids = by_label(nodes)
    assert nodes[ids["x\n(2,)\nNaN in value"]] and 'fillcolor="#ff8a80"' in attrs[ids["x\n(2,)\nNaN in value"]]
    assert "#ff8a80" not in attrs[ids["ok\n(2,)"]]
    assert "NaN in value" in nodes[ids["output\nscalar\nNaN in value"]]
    out.backward()  # ok.grad = x holds NaN; x.grad = ok is finite
    nodes, attrs, _, _, _ = parse_dot(viz.draw_graph(out, names={"x": x, "ok": ok}).to_dot())
    ok_id = by_label(nodes)["ok\n(2,)\nNaN in grad"]
    assert 'color="#d50000"' in attrs[ok_id]
    inf = mg.tensor([1.0, float("inf")], requires_grad=True)
    nodes, _, _, _, _ = parse_dot(viz.draw_graph((inf * 2).sum()).to_dot())
    assert "input\n(2,)\ninf in value" in nodes.values()


def test_multiple_outputs_and_shared_nodes():
    x = mg.randn(2, requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * h).sum()
    nodes, _, edges, _, _ = parse_dot(viz.draw_graph(a, b, h, names={"h": h}).to_dot())
    ids = by_label(nodes)
    assert {"output 0\nscalar", "output 1\nscalar", "h\n(2,)"} <= set(nodes.values())
    assert (ids["h\n(2,)"], ids["Mul"]) in edges
    assert sum(1 for e in edges if e[0] == ids["h\n(2,)"]) == 2  # Mul (h used twice: one edge) and Sum
    assert sum(1 for v in nodes.values() if v == "Exp") == 1


def test_leaf_output_and_rankdir():
    x = mg.randn(3, requires_grad=True)
    text = viz.draw_graph(x, rankdir="LR").to_dot()
    nodes, attrs, edges, _, _ = parse_dot(text)
    assert nodes == {"t0": "input\n(3,)"} and edges == [] and 'peripheries="2"' in attrs["t0"]
    assert "rankdir=LR" in text


def test_bad_arguments():
    x = mg.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="output 0 is a list"):
        viz.draw_graph([x])
    with pytest.raises(ValueError, match="at least one output"):
        viz.draw_graph()
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.draw_graph(x, rankdir="sideways")
    with pytest.raises(ValueError, match="max_depth must be None or an int"):
        viz.draw_graph(x, max_depth=-1)
    with pytest.raises(TypeError, match=r"params\['w'\] is a float"):
        viz.draw_graph(x, params={"w": 1.0})


def test_ten_thousand_op_chain_is_linear_time():
    """Smoke test of a long chain (no timing asserted: see benchmarks/bench_viz.py)."""
    x = mg.randn(2, requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.001
    text = viz.draw_graph(y.sum()).to_dot()
    nodes, _, edges, _, _ = parse_dot(text)
    assert sum(k.startswith("op") for k in nodes) == 2001
