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

from ..devices import cached_ones
from ..tensor import Tensor, make_tensor
from .function import Function, tape
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
        return [make_tensor(cached_ones(one.shape, one), False, None)]
    grads = []
    for i, out in enumerate(outputs):
        g = None if grad_outputs is None or i >= len(grad_outputs) else grad_outputs[i]
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but output {i} has shape "
                    f"{out.shape}; pass a gradient of that shape, e.g. backward(mg.ones_like(out))"
                )
            g = make_tensor(cached_ones(out._data.shape, out._data), False, None)  # dL/dL = 1
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


def check_saved_values(node: Function) -> None:
    """Refuse to run a node whose saved values are gone: freed by an earlier backward, or changed
    in place after the node was recorded (an in-place change stamps the tensor's version counter
    with the tape position of that moment, so a stamp after the node's ``seq`` means the value the
    node saw is gone)."""
    if node.released:
        node.saved_tensors  # raises the "second backward" error
    counter = node.out_version
    if counter is not None and counter.version != 0:
        raise RuntimeError(
            f"the output of {node.name()} (shape {node.out_data.shape}), which its backward needs, was modified "
            f"by an in-place operation ({counter.last_op}); use the out-of-place op instead, or clone() the output "
            "first."
        )
    for t in node.saved_tensors:
        if isinstance(t, Tensor):
            counter = t._version_counter
            if counter is not None and counter.changed_at > node.seq:
                raise RuntimeError(
                    f"one of the tensors needed by {node.name()} (shape {t.shape}, dtype {t.dtype}) was "
                    f"modified by an in-place operation ({counter.last_op}) after it was saved (it is now at "
                    f"version {counter.version}). Use the out-of-place op instead, or clone() it first."
                )


def release(node: Function) -> None:
    """Free what ``node`` saved for its backward (``retain_graph=False``): a later backward
    through it is an error instead of a wrong result."""
    node.released = node.rare = True
    node.__dict__.pop("saved_tensors", None)  # (reading it now raises)
    if node.saves_output:
        node.out_data = node.out_version = None


class _Walk:
    """One backward pass: ``grads`` holds, for every node and leaf tensor that has received a
    gradient, the sum received so far (both hash by identity); ``heap`` the nodes waiting to run,
    latest first.  A node leaves ``grads`` when it runs, so the leaves are what remains.

    ``owned`` are the sums this walk allocated itself, which it may add to in place;
    ``handed_out`` the gradients already stored somewhere (``.grad``), which must never alias.
    With ``mg.grad`` (``capture``), ``needed`` are the only nodes worth running."""

    def __init__(self, retain_graph: bool, create_graph: bool) -> None:
        self.retain_graph, self.create_graph = retain_graph, create_graph
        self.grads: dict = {}
        self.heap: list = []
        self.owned: dict = {}
        self.handed_out: set = set()
        self.captured_nodes: dict = {}
        self.capture: Sequence[Tensor] | None = None
        self.needed: set | None = None

    def seed(self, outputs: Sequence[Tensor], seeds: list) -> None:
        """Start from dL/d(output) for each output."""
        for out, g in zip(outputs, seeds):
            if not out._requires_grad:
                raise RuntimeError(
                    f"output of shape {out.shape} does not require grad and has no grad_fn: nothing "
                    "recorded it (is it computed under no_grad, or from tensors without requires_grad?)"
                )
            target = out if out.grad_fn is None else out.grad_fn
            prev = self.grads.get(target)
            if prev is not None:
                self.grads[target] = prev + g
            else:
                self.grads[target] = g
                if target is not out:
                    self.heap.append((-target.seq, target))
        self.handed_out.update(map(id, seeds))
        heapify(self.heap)

    def capture_for_grad(self, capture: Sequence[Tensor]) -> None:
        """``mg.grad``: return the gradients of ``capture`` instead of accumulating into ``.grad``,
        and run only the nodes on a path to one of them."""
        self.capture = capture
        for i, t in enumerate(capture):
            if t.grad_fn is not None:
                self.captured_nodes[t.grad_fn] = i
        self.needed = _needed(_collect([n for _, n in self.heap]), self.captured_nodes,
                              {id(t) for t in capture if t.grad_fn is None})
        self.heap = [item for item in self.heap if item[1] in self.needed]
        heapify(self.heap)

    def run(self) -> None:
        """Pop nodes latest first; each runs once, after every consumer of its output has sent it
        a gradient, and sends one gradient to each of its inputs."""
        heap, grads, owned = self.heap, self.grads, self.owned
        retain_graph, accumulate = self.retain_graph, self.accumulate
        while heap:
            node = heappop(heap)[1]
            g = grads.pop(node)
            if owned:
                owned.pop(id(g), None)  # from here on g may be shared: never modify it in place
            if node.rare or self.captured_nodes:  # hooks, retain_grad, a freed graph, or mg.grad
                g = self.before_node(node, g)
            if node.seq < tape.last_inplace_change:  # something changed in place since it was recorded
                check_saved_values(node)
            input_grads = node.backward(g)
            if input_grads.__class__ is not tuple:
                input_grads = (input_grads,)
            for link, ig in zip(node.next, input_grads):
                if link is not None and ig is not None:
                    if link in grads or self.create_graph:
                        accumulate(link, ig)
                    else:  # the first gradient to reach link: accumulate's first case, inlined
                        grads[link] = ig
                        if link.__class__ is not Tensor and not isinstance(link, Tensor) and (
                                self.needed is None or link in self.needed):
                            heappush(heap, (-link.seq, link))
            if not retain_graph:
                node.released = node.rare = True  # release(node), inlined
                node.__dict__.pop("saved_tensors", None)
                if node.saves_output:
                    node.out_data = node.out_version = None

    def accumulate(self, link: Any, g: Tensor) -> None:
        """Add ``g`` to what ``link`` (a node or a leaf tensor) has received; a node's first
        gradient puts it on the heap."""
        prev = self.grads.get(link)
        if prev is None:
            self.grads[link] = g
            if link.__class__ is not Tensor and not isinstance(link, Tensor) and (
                    self.needed is None or link in self.needed):
                heappush(self.heap, (-link.seq, link))
        elif self.create_graph:
            self.grads[link] = prev + g  # recorded, so the sum is differentiable too
        elif id(prev) in self.owned:  # a sum this walk allocated: add in place
            prev._data += g._data
        else:
            total = prev + g
            self.owned[id(total)] = total  # (the dict also keeps it alive, so ids stay unique)
            self.grads[link] = total

    def before_node(self, node: Function, g: Tensor) -> Tensor:
        """The rare per-node work: the freed-graph error, hooks, capture and retain_grad."""
        if node.released:
            node.saved_tensors  # raises the "second backward" error
        if node.hooks:
            g = _run_hooks(node.hooks, g)
        if node in self.captured_nodes:
            self.grads[self.capture[self.captured_nodes[node]]] = g
        if node.retain is not None and self.capture is None:
            t = node.retain()
            if t is not None:
                t.grad = g if t.grad is None else t.grad + g
                self.handed_out.add(id(g))
        return g

    def deposit_on_leaves(self) -> None:
        """Store what each leaf received in its ``.grad`` (cast to its dtype, hooks run, summed
        with what ``.grad`` held); never two ``.grad`` sharing memory."""
        for leaf, g in self.grads.items():  # only leaf tensors are left
            ga = g._data
            dt = leaf._data.dtype
            if ga.dtype is not dt and ga.dtype != dt:  # e.g. a float32 leaf used with float64 tensors
                g = g.to(dt)
                ga = g._data
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
                ga = g._data
            if self.create_graph:
                leaf.grad = g if leaf.grad is None else leaf.grad + g
                continue
            gid = id(g)
            if gid in self.handed_out or (ga.base is not None and gid not in self.owned):
                g = make_tensor(ga.copy(), False, None)  # own memory: users may modify .grad in place
                gid = id(g)
            self.handed_out.add(gid)
            if leaf.grad is None:
                leaf.grad = g.detach() if g._requires_grad else g
            else:
                leaf.grad = leaf.grad + g

    def captured(self) -> dict:
        """``mg.grad``'s result: the captured tensors' gradients."""
        return _captured(self.grads, self.captured_nodes, self.capture)


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None, retain_graph: bool,
                 create_graph: bool, capture: Sequence[Tensor] | None = None) -> dict | None:
    """The walk (the same steps as :func:`minigrad.autograd.reference.backward_reference`, plus the
    bookkeeping that makes it fast and safe).  With ``capture`` given, gradients of those tensors
    are returned instead of being accumulated into ``.grad`` (that is :func:`minigrad.grad`)."""
    walk = _Walk(retain_graph, create_graph)
    walk.seed(outputs, _initial_grads(outputs, grad_outputs))
    if capture is not None:
        walk.capture_for_grad(capture)
    prev_mode = GradMode.enabled
    GradMode.enabled = create_graph  # backward formulas are recorded only for higher-order gradients
    try:
        walk.run()
        if capture is not None:
            return walk.captured()
        walk.deposit_on_leaves()
    finally:
        GradMode.enabled = prev_mode
    return None


def _run_hooks(hooks: list, g: Tensor) -> Tensor:
    for hook in hooks:
        r = hook(g)
        if r is not None:
            g = r
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
                    g = make_tensor(g._data.copy(), g._requires_grad and create_graph, None) if not create_graph else g
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
