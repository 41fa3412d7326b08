"""Function.apply's bookkeeping: the unrolled input links equal the general ones, and
``needs_input_grad`` says which inputs get a gradient, in forward and in backward."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.function import Function, input_links, input_links_unrolled


def _make_input(kind: str):
    if kind == "leaf":
        return mg.tensor([1.0, 2.0], requires_grad=True)
    if kind == "node":
        return mg.tensor([1.0, 2.0], requires_grad=True) * 2
    if kind == "constant_tensor":
        return mg.tensor([1.0, 2.0])
    if kind == "number":
        return 3.0
    return None


KINDS = st.sampled_from(["leaf", "node", "constant_tensor", "number", "none"])


@settings(max_examples=200, deadline=None)
@given(st.lists(KINDS, min_size=0, max_size=4))
def test_unrolled_links_equal_the_general_ones(kinds):
    inputs = tuple(_make_input(k) for k in kinds)
    general, unrolled = input_links(inputs), input_links_unrolled(inputs)
    assert (general is None) == (unrolled is None)
    if general is not None:
        assert len(general) == len(unrolled) == len(inputs)
        assert all(a is b for a, b in zip(general, unrolled))
        for x, link in zip(inputs, general):
            wants = isinstance(x, mg.Tensor) and x.requires_grad
            assert (link is not None) == wants
            if wants:
                assert link is (x.grad_fn or x)


class Record(Function):
    """Records what needs_input_grad said in forward and in backward."""
    seen: list = []

    def forward(self, *inputs):
        Record.seen.append(("forward", self.needs_input_grad))
        return np.zeros(2)

    def backward(self, g):
        Record.seen.append(("backward", self.needs_input_grad))
        return tuple(g if need else None for need in self.needs_input_grad)


@settings(max_examples=100, deadline=None)
@given(st.lists(KINDS.filter(lambda k: k != "none"), min_size=1, max_size=5), st.booleans())
def test_needs_input_grad_in_forward_and_backward(kinds, grad_enabled):
    inputs = tuple(_make_input(k) for k in kinds)
    expected = tuple(isinstance(x, mg.Tensor) and x.requires_grad for x in inputs)
    Record.seen = []
    with mg.set_grad_enabled(grad_enabled):
        out = Record.apply(*inputs)
    recorded = grad_enabled and any(expected)
    assert Record.seen == [("forward", expected if recorded else (False,) * len(inputs))]
    assert out.requires_grad == recorded
    if recorded:
        out.sum().backward()
        assert Record.seen[-1] == ("backward", expected)
