"""Module clusters from viz.trace, folding them (collapse / max_depth), and trace's clean-up."""
from collections import OrderedDict

import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.autograd.function import Function
from minigrad.nn import functional as F

from viz_helpers import parse_dot


def mlp_loss():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = mg.randn(5, 4)
    y = mg.tensor([0, 1, 0, 1, 1])
    with viz.trace(model):
        loss = F.cross_entropy(model(x), y)
    return model, loss


def test_mlp_with_named_parameters():
    model, loss = mlp_loss()
    text = viz.draw_graph(loss, params=dict(model.named_parameters())).to_dot()
    nodes, attrs, edges, _, clusters = parse_dot(text)
    assert nodes == {
        "t0": "input\n(5, 4)", "t1": "0.weight\n(3, 4)", "t2": "0.bias\n(3,)", "op0": "Linear", "t3": "(5, 3)",
        "op1": "ReLU", "t4": "(5, 3)", "t5": "2.weight\n(2, 3)", "t6": "2.bias\n(2,)", "op2": "Linear",
        "t7": "(5, 2)", "op3": "CrossEntropyIndices", "t8": "output\nscalar",
    }
    assert edges == [("t0", "op0"), ("t1", "op0"), ("t2", "op0"), ("op0", "t3"), ("t3", "op1"), ("op1", "t4"),
                     ("t4", "op2"), ("t5", "op2"), ("t6", "op2"), ("op2", "t7"), ("t7", "op3"), ("op3", "t8")]
    assert clusters == ["Sequential", "0: Linear", "1: ReLU", "2: Linear"]
    assert all('fillcolor="#d4f4d2"' in attrs[t] for t in ("t1", "t2", "t5", "t6"))
    assert "dashed" in attrs["t0"]
    # Passing the module itself names the parameters the same way.
    assert viz.draw_graph(loss, params=model).to_dot() == text


def _cluster_of(text, node):
    """Labels of the clusters enclosing ``node``'s line, outermost first."""
    stack = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            stack.append(None)
        elif s.startswith("graph [label="):
            stack[-1] = s.split('"')[1]
        elif s == "}" and stack:
            stack.pop()
        elif s.startswith(f"{node} [id="):
            return list(stack)
    raise AssertionError(f"{node} not found")


def test_parameters_and_ops_sit_in_their_module_cluster():
    model, loss = mlp_loss()
    text = viz.draw_graph(loss, params=model).to_dot()
    assert _cluster_of(text, "t1") == ["Sequential", "0: Linear"]
    assert _cluster_of(text, "op1") == ["Sequential", "1: ReLU"]
    assert _cluster_of(text, "op3") == []  # the loss is computed outside the model
    assert _cluster_of(text, "t0") == []


def test_collapse_folds_each_layer():
    model, loss = mlp_loss()
    nodes, _, edges, labels, clusters = parse_dot(viz.draw_graph(loss, params=model, collapse=True).to_dot())
    assert nodes == {"t0": "input\n(5, 4)", "op3": "CrossEntropyIndices", "t8": "output\nscalar",
                     "m0": "0: Linear\n1 op · 2 params", "m1": "1: ReLU\n1 op", "m2": "2: Linear\n1 op · 2 params"}
    assert edges == [("t0", "m0"), ("m0", "m1"), ("m1", "m2"), ("m2", "op3"), ("op3", "t8")]
    assert labels == {("m0", "m1"): "(5, 3)", ("m1", "m2"): "(5, 3)", ("m2", "op3"): "(5, 2)"}
    assert clusters == ["Sequential"]
    nodes0, _, edges0, _, clusters0 = parse_dot(viz.draw_graph(loss, params=model, max_depth=0).to_dot())
    assert nodes0 == {"t0": "input\n(5, 4)", "op3": "CrossEntropyIndices", "t8": "output\nscalar",
                      "m0": "Sequential\n3 ops · 4 params"}
    assert edges0 == [("t0", "m0"), ("m0", "op3"), ("op3", "t8")] and clusters0 == []


def test_nested_autoencoder_depths():
    mg.manual_seed(1)
    model = nn.Sequential(OrderedDict([
        ("encoder", nn.Sequential(nn.Linear(6, 3), nn.Tanh())),
        ("decoder", nn.Sequential(nn.Linear(3, 6), nn.Sigmoid())),
    ]))
    x = mg.rand(4, 6)
    with viz.trace(model):
        loss = F.mse_loss(model(x), x)
    _, _, _, _, clusters = parse_dot(viz.draw_graph(loss, params=model).to_dot())
    assert clusters == ["Sequential", "encoder: Sequential", "encoder.0: Linear", "encoder.1: Tanh",
                        "decoder: Sequential", "decoder.0: Linear", "decoder.1: Sigmoid"]
    nodes, _, edges, _, clusters = parse_dot(viz.draw_graph(loss, params=model, collapse=True).to_dot())
    assert clusters == ["Sequential"]
    folded = {k: v for k, v in nodes.items() if k.startswith("m")}
    assert folded == {"m0": "encoder: Sequential\n2 ops · 2 params", "m1": "decoder: Sequential\n2 ops · 2 params"}
    assert ("m0", "m1") in edges
    nodes, _, _, _, clusters = parse_dot(viz.draw_graph(loss, params=model, max_depth=2).to_dot())
    assert clusters == ["Sequential", "encoder: Sequential", "decoder: Sequential"]
    assert sum(k.startswith("m") for k in nodes) == 4


class _ListHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        self.hooks.remove(self.hook)


class HandMade:
    """A module by duck typing only: named_modules() and the two hook registrations trace uses,
    with a __call__ that runs the hooks around forward."""

    def __init__(self, children=()):
        self.children = list(children)
        self.w = mg.tensor([[1.0, -1.0], [0.5, 2.0]], requires_grad=True)
        self.pre_hooks, self.hooks = [], []

    def named_modules(self):
        yield "", self
        for i, c in enumerate(self.children):
            yield str(i), c

    def register_forward_pre_hook(self, hook, *, prepend=False):
        self.pre_hooks.insert(0 if prepend else len(self.pre_hooks), hook)
        return _ListHandle(self.pre_hooks, hook)

    def register_forward_hook(self, hook, *, always_call=False):
        self.hooks.append(hook)  # (__call__ runs every forward hook, also when forward raises)
        return _ListHandle(self.hooks, hook)

    def __call__(self, x):
        for hook in list(self.pre_hooks):
            hook(self, (x,))
        try:
            return self.forward(x)
        finally:
            for hook in list(self.hooks):
                hook(self, (x,), None)

    def forward(self, x):
        h = (x @ self.w).relu()
        for c in self.children:
            h = c(h)
        return h


def test_duck_typed_module_and_clean_up():
    inner = HandMade()
    outer = HandMade([inner])
    original_apply = Function.__dict__["apply"]
    x = mg.tensor([[1.0, 2.0]])
    with viz.trace(outer):
        assert len(outer.pre_hooks) == len(outer.hooks) == len(inner.pre_hooks) == len(inner.hooks) == 1
        out = outer(x).sum()
    assert outer.pre_hooks == outer.hooks == inner.pre_hooks == inner.hooks == []
    assert Function.__dict__["apply"] is original_apply
    text = viz.draw_graph(out, params={"outer.w": outer.w, "inner.w": inner.w}).to_dot()
    nodes, _, _, _, clusters = parse_dot(text)
    assert clusters == ["HandMade", "0: HandMade"]
    assert nodes["t1"] == "outer.w\n(2, 2)" and _cluster_of(text, "t1") == ["HandMade"]
    inner_w = [k for k, v in nodes.items() if v == "inner.w\n(2, 2)"]
    assert len(inner_w) == 1 and _cluster_of(text, inner_w[0]) == ["HandMade", "0: HandMade"]


def _hook_count(model):
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


def test_a_module_without_hooks_is_refused_and_nothing_stays_hooked():
    class Mixed:
        def __init__(self):
            self.lin = nn.Linear(2, 2)

        def named_modules(self):
            yield "lin", self.lin
            yield "plain", object()

    model = Mixed()
    original_apply = Function.__dict__["apply"]
    with pytest.raises(TypeError, match=r"module 'plain' \(object\) has no register_forward_pre_hook"):
        with viz.trace(model):
            pass
    assert _hook_count(model.lin) == 0 and Function.__dict__["apply"] is original_apply


def test_trace_undoes_itself_on_errors_and_nests():
    model = nn.Sequential(nn.Linear(2, 2))
    original_apply = Function.__dict__["apply"]
    with pytest.raises(ValueError, match="linear: input of shape"):
        with viz.trace(model):
            model(mg.randn(3, 5))
    assert Function.__dict__["apply"] is original_apply and _hook_count(model) == 0
    with viz.trace():
        with viz.trace(model):
            a = model(mg.randn(1, 2))
        b = a.exp()  # still recorded: the outer block is open
        assert Function.__dict__["apply"] is not original_apply
    assert Function.__dict__["apply"] is original_apply
    assert viz.trace.__module__ == "minigrad.viz.trace"
    from minigrad.viz.trace import record_of
    assert record_of(a.grad_fn).modules == (("", "Sequential"), ("0", "Linear"))
    assert record_of(b.grad_fn).modules == () and record_of(b.grad_fn).shape == (1, 2)
    with pytest.raises(TypeError, match="named_modules"):
        viz.trace(42)


def test_records_do_not_keep_the_graph_alive():
    import gc
    import weakref

    x = mg.randn(3, requires_grad=True)
    with viz.trace():
        y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_nested_traces_of_one_model_mark_each_module_once():
    model = nn.Sequential(nn.Linear(2, 2))
    with viz.trace(model):
        assert _hook_count(model) == 4  # a pre-hook and a forward hook on each module
        with viz.trace(model):
            assert _hook_count(model) == 4
            out = model(mg.randn(1, 2))
        assert _hook_count(model) == 4  # the outer block's marks stay until it exits
    assert _hook_count(model) == 0
    from minigrad.viz.trace import record_of
    assert record_of(out.grad_fn).modules == (("", "Sequential"), ("0", "Linear"))


def test_a_call_that_raises_leaves_no_module_on_the_stack():
    from minigrad.viz.trace import record_of
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with viz.trace(model):
        with pytest.raises(ValueError, match="linear: input of shape"):
            model(mg.randn(3, 5))
        after = mg.randn(2, requires_grad=True).exp()  # recorded outside every module
        inside = model(mg.randn(1, 2))
    assert record_of(after.grad_fn).modules == ()
    assert record_of(inside.grad_fn).modules == (("", "Sequential"), ("1", "ReLU"))


def test_trace_keeps_the_users_hooks_and_sees_an_instance_forward():
    from minigrad.viz.trace import record_of

    class Block(nn.Module):  # calls its children itself, not through Sequential
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.act = nn.Tanh()

        def forward(self, x):
            return self.act(self.fc(x))

    model = Block()
    seen = []
    handle = model.fc.register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape)))
    model.act.forward = lambda x: x.sigmoid()  # a forward assigned on the instance is the one traced
    with viz.trace(model):
        out = model(mg.randn(3, 2))
    assert seen == [(3, 2)] and len(model.fc._forward_hooks) == 1 and _hook_count(model) == 1
    assert out.grad_fn.name() == "SigmoidBackward"
    assert record_of(out.grad_fn).modules == (("", "Block"), ("act", "Tanh"))
    assert record_of(out.grad_fn.next_functions[0]).modules == (("", "Block"), ("fc", "Linear"))
    handle.remove()
    assert _hook_count(model) == 0
