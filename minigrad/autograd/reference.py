"""The backward walk in its plain form: read this first.

Reverse-mode differentiation sends dL/d(result) back through the recorded ops.  Each node
(a :class:`~minigrad.autograd.function.Function`) turns the gradient of its result into one
gradient per input with its ``backward``; an input used by several ops receives the sum of
what they send (the multivariable chain rule: ∂L/∂v = Σᵢ ∂L/∂uᵢ · ∂uᵢ/∂v).  A node may run
only once every op that used its result has sent its share; visiting nodes in decreasing
tape position ``seq`` guarantees that, because a node is always recorded after the nodes that
produced its inputs.

:func:`backward_reference` is that whole walk.  ``Tensor.backward`` and ``mg.grad``
(:mod:`minigrad.autograd.engine`) take the same steps and add what a library needs: a heap
instead of a sort (nodes that receive no gradient are never visited), hooks, ``retain_grad``,
freeing the graph, capturing gradients for ``mg.grad``, adding gradients in place where it is
safe.  The tests check that both give the same gradients.
"""
from __future__ import annotations

from typing import Any, Callable

from ..tensor import Tensor
from .engine import check_saved_values
from .function import Function
from .grad_mode import set_grad_enabled


def nodes_latest_first(output: Tensor) -> list:
    """Every node on a path to ``output``, in decreasing ``seq``."""
    nodes, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.add(node)
            stack.extend(link for link in node.next if isinstance(link, Function))
    return sorted(nodes, key=lambda node: node.seq, reverse=True)


def backward_reference(output: Tensor, gradient: Tensor, create_graph: bool = False,
                       on_step: Callable[[Function, Tensor, tuple], Any] | None = None) -> dict:
    """dL/d(leaf) for every leaf tensor ``output`` depends on, given ``gradient`` = dL/d(output).

    Returns ``{leaf tensor: gradient}``; ``.grad`` is not touched and the graph is not freed.
    With ``create_graph`` the backward formulas are recorded, so the gradients can be
    differentiated again.  ``on_step(node, gradient of its result, gradients it sends)`` is
    called after each node runs (the backward viewer records the walk with it)."""
    grads = {output.grad_fn: gradient}                   # what each node or leaf has received so far
    with set_grad_enabled(create_graph):
        for node in nodes_latest_first(output):
            if node not in grads:                        # on no path from the output's gradient
                continue
            g = grads.pop(node)                          # the sum over all consumers: complete now
            check_saved_values(node)                     # values changed in place would give wrong results
            sends = node.backward(g)
            sends = sends if isinstance(sends, tuple) else (sends,)
            for link, g_input in zip(node.next, sends):  # link: the input's node, or the leaf itself
                if link is not None and g_input is not None:
                    grads[link] = grads[link] + g_input if link in grads else g_input
            if on_step is not None:
                on_step(node, g, sends)
    return grads                                         # only leaves are left
