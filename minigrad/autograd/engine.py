"""Reverse-mode differentiation: walk the tape backwards.

A node is always recorded after the nodes that produced its inputs, so visiting
nodes in decreasing tape position ``seq`` visits each one only after every
consumer of its output has sent it a gradient.  The walk keeps the nodes that
have received a gradient in a max-heap on ``seq`` (no recursion, so chains of
any length work, and nodes that receive no gradient are never visited):

1. take the latest node; its gradient is the sum of what its consumers sent;
2. hooks -> ``node.backward`` -> send one gradient to each input: a node (added
   to the heap on its first gradient) or a leaf tensor, where gradients are summed
   and finally stored in ``.grad``.
"""
from __future__ import annotations

import operator
from heapq import heapify, heappop, heappush
from typing import Any, Iterable, Sequence

from .._device import cached_ones
from ..tensor import Tensor, _make
from .function import Function, last_inplace_change
from .grad_mode import GradMode


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _initial_grads(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None) -> list:
    """The seed gradient of each output: the one given, checked and cast, or dL/dL = 1."""
    if grad_outputs is None and len(outputs) == 1 and outputs[0]._data.size == 1:
        one = outputs[0]._data  # loss.backward(): no loop, no checks to make
        return [_make(cached_ones(one.shape, one), False, None)]
    grads = []
    for i, out in enumerate(outputs):
        g = None if grad_outputs is None or i >= len(grad_outputs) else grad_outputs[i]
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but output {i} has shape "
                    f"{out.shape}; pass a gradient of that shape, e.g. backward(mg.ones_like(out))"
                )
            g = _make(cached_ones(out._data.shape, out._data), False, None)  # dL/dL = 1
        else:
            if not isinstance(g, Tensor):
                g = Tensor(g, dtype=out.dtype, device=out.device)
            if g.shape != out.shape:
                raise RuntimeError(f"gradient has shape {g.shape} but output {i} has shape {out.shape}")
            if g.device != out.device:
                raise RuntimeError(f"gradient is on {g.device} but output {i} is on {out.device}")
            if g.dtype != out.dtype:
                g = g.to(out.dtype)
        grads.append(g)
    return grads


def _collect(roots: Iterable[Function]) -> list:
    """All nodes reachable from ``roots``, latest first."""
    seen = set(roots)
    stack = list(seen)
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        for link in node.next:
            # links are nodes, leaf tensors (where the walk stops) or None
            if link is not None and link not in seen and link.__class__ is not Tensor and not isinstance(link, Tensor):
                seen.add(link)
                stack.append(link)
    nodes.sort(key=_by_seq, reverse=True)
    return nodes


def _needed(nodes: list, targets: dict, leaf_ids: set) -> set:
    """Only the nodes on a path to a captured tensor (``mg.grad`` computes nothing else
    and frees nothing else).  A captured non-leaf's own node runs only if it leads on to
    another captured tensor."""
    needed = set()
    for node in reversed(nodes):  # increasing seq: inputs before their consumers
        if any(
            link is not None and ((link in needed or link in targets) if isinstance(link, Function)
                                  else id(link) in leaf_ids)
            for link in node.next
        ):
            needed.add(node)
    return needed


_by_seq = operator.attrgetter("seq")


def _check_versions(node: Function) -> None:
    """Refuse to run a node whose saved values were changed in place after it was recorded."""
    vc = node.out_version
    if vc is not None and vc[0] != 0:
        raise RuntimeError(
            f"the output of {node.name()} (shape {node.out_data.shape}), which its backward needs, was modified "
            f"by an in-place operation ({vc[1]}); use the out-of-place op instead, or clone() the output first."
        )
    seq = node.seq
    for t in node.saved:
        if isinstance(t, Tensor):
            vc = t._vc
            if vc is not None and vc[3] > seq:
                raise RuntimeError(
                    f"one of the tensors needed by {node.name()} (shape {t.shape}, dtype {t.dtype}) was "
                    f"modified by an in-place operation ({vc[1]}) after it was saved (it is now at version "
                    f"{vc[0]}). Use the out-of-place op instead, or clone() it first."
                )


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None, retain_graph: bool,
                 create_graph: bool, capture: Sequence[Tensor] | None = None) -> dict | None:
    """The walk.  With ``capture`` given, gradients of those tensors are returned instead of
    being accumulated into ``.grad`` (that is :func:`minigrad.grad`)."""
    grads0 = _initial_grads(outputs, grad_outputs)
    # One table for everything that receives a gradient: nodes and leaf tensors (both hash by
    # identity).  Nodes leave it when the walk reaches them, so leaves are what remains.
    grads: dict = {}
    heap: list = []  # (-seq, node) for nodes holding a gradient not yet propagated
    for out, g in zip(outputs, grads0):
        if not out._requires_grad:
            raise RuntimeError(
                f"output of shape {out.shape} does not require grad and has no grad_fn: nothing "
                "recorded it (is it computed under no_grad, or from tensors without requires_grad?)"
            )
        target = out if out.grad_fn is None else out.grad_fn
        prev = grads.get(target)
        if prev is not None:
            grads[target] = prev + g
        else:
            grads[target] = g
            if target is not out:
                heap.append((-target.seq, target))

    captured_nodes: dict = {}
    needed = None  # with capture: the only nodes worth running
    if capture is not None:
        for i, t in enumerate(capture):
            if t.grad_fn is not None:
                captured_nodes[t.grad_fn] = i
        needed = _needed(_collect([n for _, n in heap]), captured_nodes,
                         {id(t) for t in capture if t.grad_fn is None})
        heap = [item for item in heap if item[1] in needed]
    heapify(heap)

    handed_out = set(map(id, grads0))  # grads stored in .grad must not alias each other
    owned: dict = {}  # id -> gradient sums allocated by this walk (safe to update in place)
    pop = grads.pop
    last_change = last_inplace_change
    prev_mode = GradMode.enabled
    GradMode.enabled = create_graph
    try:
        while heap:
            node = heappop(heap)[1]
            g = pop(node)
            if owned:
                owned.pop(id(g), None)  # from here on g may be shared: never modify it in place
            if node.rare or captured_nodes:  # hooks, retain_grad, a freed graph, or mg.grad
                g = _before_node(node, g, captured_nodes, capture, grads, handed_out)
            if node.seq < last_change[0]:  # something changed in place since this node was recorded
                _check_versions(node)
            in_grads = node.backward(g)
            if in_grads.__class__ is not tuple:
                in_grads = (in_grads,)
            for link, ig in zip(node.next, in_grads):
                if link is None or ig is None:
                    continue
                prev = grads.get(link)
                if prev is None:
                    grads[link] = ig
                    if not isinstance(link, Tensor) and (needed is None or link in needed):
                        heappush(heap, (-link.seq, link))
                elif create_graph:
                    grads[link] = prev + ig
                elif id(prev) in owned:  # a sum this walk allocated: add in place
                    prev._data += ig._data
                else:
                    total = prev + ig
                    owned[id(total)] = total  # (the dict also keeps it alive, so ids stay unique)
                    grads[link] = total
            if not retain_graph:
                node.released = node.rare = True
                if node.saved:
                    node.saved = ()
                if node.saves_output:
                    node.out_data = node.out_version = None

        if capture is not None:
            return _captured(grads, captured_nodes, capture)
        for leaf, g in grads.items():  # only leaf tensors are left
            ga = g._data
            dt = leaf._data.dtype
            if ga.dtype is not dt and ga.dtype != dt:  # e.g. a float32 leaf used with float64 tensors
                g = g.to(dt)
                ga = g._data
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
                ga = g._data
            if create_graph:
                leaf.grad = g if leaf.grad is None else leaf.grad + g
                continue
            gid = id(g)
            if gid in handed_out or (ga.base is not None and gid not in owned):
                g = _make(ga.copy(), False, None)  # own memory: users may modify .grad in place
                gid = id(g)
            handed_out.add(gid)
            if leaf.grad is None:
                leaf.grad = g.detach() if g._requires_grad else g
            else:
                leaf.grad = leaf.grad + g
    finally:
        GradMode.enabled = prev_mode
    return None


def _run_hooks(hooks: list, g: Tensor) -> Tensor:
    for hook in hooks:
        r = hook(g)
        if r is not None:
            g = r
    return g


def _before_node(node: Function, g: Tensor, captured_nodes: dict, capture: Any, grads: dict,
                 handed_out: set) -> Tensor:
    """The rare per-node work: the freed-graph error, hooks, capture and retain_grad."""
    if node.released:
        node.saved_tensors  # raises the "second backward" error
    if node.hooks:
        g = _run_hooks(node.hooks, g)
    if node in captured_nodes:
        grads[capture[captured_nodes[node]]] = g
    if node.retain is not None and capture is None:
        t = node.retain()
        if t is not None:
            t.grad = g if t.grad is None else t.grad + g
            handed_out.add(id(g))
    return g


def _captured(grads: dict, captured_nodes: dict, capture: Sequence[Tensor]) -> dict:
    """``mg.grad``'s result: the captured tensors' gradients (leaf dtype casts and hooks applied)."""
    result = {}
    wanted = {id(t) for t in capture}
    for t, g in grads.items():
        if isinstance(t, Tensor) and id(t) in wanted:
            if t.grad_fn is None:
                if g._data.dtype != t._data.dtype:
                    g = g.to(t._data.dtype)
                if t._hooks:
                    g = _run_hooks(t._hooks, g)
            result[t] = g
    for node, i in captured_nodes.items():  # captured outputs whose node the walk never reached
        t = capture[i]
        if t not in result and node in grads:
            result[t] = _run_hooks(node.hooks or (), grads[node])
    return result


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """``minigrad.autograd.backward``: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    tensors = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        grads = run_backward(tensors, _as_tuple(grad_tensors) or None, retain_graph, create_graph, capture=inputs)
        seen: set = set()
        for t in inputs:
            g = grads.get(t)
            if g is not None:
                if id(g) in seen or g._data.base is not None:
                    g = _make(g._data.copy(), g._requires_grad and create_graph, None) if not create_graph else g
                seen.add(id(g))
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, _as_tuple(grad_tensors) or None, retain_graph, create_graph)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    With ``create_graph=True`` the returned gradients are themselves on the tape, so
    they can be differentiated again (Hessian-vector products, Hessians).
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs[{i}] is a {type(t).__name__}, expected a Tensor")
        if not t._requires_grad:
            raise RuntimeError(f"inputs[{i}] (shape {t.shape}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, _as_tuple(grad_outputs) or None, retain_graph, create_graph, capture=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = grads.get(t)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"inputs[{i}] (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
