"""The tape record: one :class:`Function` node per differentiable op call.

An op is a subclass with two methods side by side:

* ``forward(self, *inputs)`` computes the output *array* from the inputs
  (tensors or constants) and keeps what the backward will read with
  ``save_for_backward`` (``needs_input_grad[i]`` says whether input ``i`` wants a
  gradient, so an op saves only what it will use);
* ``backward(self, grad)`` gets dL/d(output) as a Tensor and returns one
  gradient per positional input (``None`` for constants or inputs that need none).

Backward formulas use Tensor ops, so when ``create_graph=True`` the backward pass
is itself recorded, which is all higher-order gradients need.

``Function.apply`` links the node into the graph when grad mode is on and some input
requires grad: ``next`` holds, for each input, the node that produced it (or the leaf
tensor itself, where gradients accumulate).  ``seq`` is the node's position on the tape;
walking nodes by decreasing ``seq`` is a valid reverse topological order.
"""
from __future__ import annotations

import itertools
from typing import Any

from ..tensor import Tensor, VersionCounter, make_tensor, share_version
from .grad_mode import GradMode


class Tape:
    """Positions on the tape: every recorded node and every in-place change takes the next one
    (``next(tape.positions)``).

    ``last_inplace_change`` is the position of the latest in-place change to any tensor: a node
    recorded after it cannot have had its saved values changed, so the walk skips their check."""

    def __init__(self) -> None:
        self.positions = itertools.count()
        self.last_inplace_change = -1


#: The one tape every recorded op and in-place change is placed on.
tape = Tape()


def input_links(inputs: tuple) -> list | None:
    """What each input's gradient flows on to: the node that made it, the leaf tensor itself,
    or None (a constant, or a tensor that does not require grad).  None when no input needs a
    gradient: then there is nothing to record."""
    links = None
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._requires_grad:
            if links is None:
                links = [None] * len(inputs)
            links[i] = x.grad_fn or x
    return links


def input_links_unrolled(inputs: tuple) -> list | None:
    """:func:`input_links` written out for one and two inputs, the common cases (a loop over two
    items costs more than the op's own bookkeeping); tested equal to it."""
    n = len(inputs)
    if n == 2:
        x, y = inputs
        lx = (x.grad_fn or x) if isinstance(x, Tensor) and x._requires_grad else None
        ly = (y.grad_fn or y) if isinstance(y, Tensor) and y._requires_grad else None
        return [lx, ly] if lx is not None or ly is not None else None
    if n == 1:
        x = inputs[0]
        return [x.grad_fn or x] if isinstance(x, Tensor) and x._requires_grad else None
    return input_links(inputs)


#: ``needs_input_grad`` of a node that is not recorded, by number of inputs.
_NO_INPUT_NEEDS_GRAD = tuple((False,) * n for n in range(8))


class _NothingSaved:
    """``Function.saved_tensors`` where the node keeps nothing: () before anything was saved, an
    error once backward has freed what was.  ``save_for_backward`` stores the values on the node
    itself, which takes precedence over this class attribute, so reading them is a plain
    attribute read."""

    def __get__(self, node: Any, owner: type) -> Any:
        if node is None:
            return self
        if node.released:
            raise RuntimeError(
                f"{node.name()}: trying to backward through the graph a second time; its saved "
                "tensors were freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to run backward twice."
            )
        return ()


class Function:
    # ``next`` and ``needs_input_grad`` are set on every node; ``seq`` on recorded ones; the rest default to the class
    # attributes below and are set per instance only when used (keeps apply cheap).
    __slots__ = ("next", "needs_input_grad", "seq", "__dict__", "__weakref__")

    saved_tensors = _NothingSaved()  # what forward kept for backward (tensors or constants)
    out_data: Any = None       # the output's array, for ops with ``saves_output``
    out_version: Any = None    # the output's VersionCounter (in-place changes are detected)
    hooks: Any = None          # gradient hooks registered on the output tensor
    retain: Any = None         # weakref to the output tensor if it called retain_grad()
    released = False           # True once backward freed the saved values
    rare = False               # True once any of the three above is set: the walk's one test

    #: True for ops whose backward reads ``self.output`` (e.g. exp, tanh).
    saves_output = False
    #: True for ops whose output may share memory with input 0 (reshape, slicing...):
    #: the output then shares input 0's version counter, so in-place changes through
    #: either are seen by both.
    is_view = False

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run ``forward`` and, when recording, put the node on the tape."""
        node = object.__new__(cls)  # (Function has no __init__)
        node.next = links = input_links_unrolled(inputs) if GradMode.enabled else None
        if links is None:
            n = len(inputs)
            node.needs_input_grad = _NO_INPUT_NEEDS_GRAD[n] if n < 8 else (False,) * n
        elif len(links) == 2:  # (the common case, spelled out)
            node.needs_input_grad = (links[0] is not None, links[1] is not None)
        else:
            node.needs_input_grad = tuple([link is not None for link in links])
        data = node.forward(*inputs, **options) if options else node.forward(*inputs)
        if node.next is None:
            out = make_tensor(data, False, None)
        else:
            node.seq = next(tape.positions)
            out = make_tensor(data, True, node)
            if cls.saves_output:  # keep the array, not the tensor: no reference cycle tensor <-> node
                node.out_data = data
                node.out_version = out._version_counter = VersionCounter()
        if cls.is_view and out._data.base is not None:  # NumPy/CuPy set .base only for views
            share_version(out, inputs[0])
        return out

    # -- helpers for op authors ---------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors (or constants) for backward.

        Why not just ``self.x = x``?  Saved tensors are what in-place changes can spoil: the walk
        checks each node's saved tensors against their version counters before running its
        backward, and frees them afterwards (``retain_graph=False``).  Both need to know which
        values a node keeps, so ops keep them here and read them back with ``saved_tensors``."""
        self.saved_tensors = values

    @property
    def output(self) -> Tensor | None:
        """The op's output as a tensor on the tape (so backward formulas that use it
        stay differentiable)."""
        if self.out_data is None:
            return None
        return make_tensor(self.out_data, True, self)

    @classmethod
    def name(cls) -> str:
        return cls.__name__ + "Backward"

    def forward(self, *inputs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: Tensor) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """(node or leaf tensor or None) per input, as recorded on the tape."""
        return tuple(self.next or ())
