"""The tape record: one :class:`Function` node per differentiable op call.

An op is a subclass with two methods side by side:

* ``forward(self, *inputs)`` computes the output *array* from the inputs
  (tensors or constants) and may ``save_for_backward`` what the backward needs;
* ``backward(self, grad)`` gets dL/d(output) as a Tensor and returns one
  gradient per positional input (``None`` for constants or inputs that need none).

Backward formulas use Tensor ops, so when ``create_graph=True`` the backward pass
is itself recorded, which is all higher-order gradients need.

``Function.apply`` runs ``forward`` and, if grad mode is on and some input requires
grad, links the node into the graph: ``next`` holds, for each input, the node that
produced it (or the leaf tensor itself, where gradients accumulate).  ``seq`` is
the node's position on the tape; walking nodes by decreasing ``seq`` is a valid
reverse topological order.
"""
from __future__ import annotations

import itertools
from typing import Any

from ..tensor import Tensor, _make
from .grad_mode import GradMode

_tape_position = itertools.count()
#: Tape position of the latest in-place change to any tensor (see ops/inplace.py): a node
#: recorded after it cannot have had its saved tensors changed, so the engine skips the check.
last_inplace_change = [-1]
_new = object.__new__


def _share_version(out: Tensor, base: Tensor) -> None:
    if out._data.base is not None:  # a view (NumPy/CuPy set .base only for views of other memory)
        out._share_memory_with(base)


class Function:
    # ``next`` and ``seq`` are set on every recorded node; the rest default to the
    # class attributes below and are set per instance only when used (keeps apply cheap).
    __slots__ = ("next", "seq", "__dict__", "__weakref__")

    saved: tuple = ()          # what forward kept for backward (tensors or constants)
    out_data: Any = None       # the output's array, for ops with ``saves_output``
    out_version: Any = None    # the output's version counter (in-place changes are detected)
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
        fn = _new(cls)
        n = len(inputs)
        # (Spelled out by arity: a call with unpacked arguments is a slower kind of call.)
        if options:
            data = fn.forward(*inputs, **options)
        elif n == 2:
            data = fn.forward(inputs[0], inputs[1])
        elif n == 1:
            data = fn.forward(inputs[0])
        elif n == 3:
            data = fn.forward(inputs[0], inputs[1], inputs[2])
        else:
            data = fn.forward(*inputs)
        if GradMode.enabled:
            # One link per input: the node that made it, the leaf itself, or None.
            if n == 2:  # the common cases, unrolled
                x, y = inputs
                lx = (x.grad_fn or x) if isinstance(x, Tensor) and x._requires_grad else None
                ly = (y.grad_fn or y) if isinstance(y, Tensor) and y._requires_grad else None
                links = [lx, ly] if lx is not None or ly is not None else None
            elif n == 1:
                x = inputs[0]
                links = [x.grad_fn or x] if isinstance(x, Tensor) and x._requires_grad else None
            elif n == 3:
                x, y, z = inputs
                lx = (x.grad_fn or x) if isinstance(x, Tensor) and x._requires_grad else None
                ly = (y.grad_fn or y) if isinstance(y, Tensor) and y._requires_grad else None
                lz = (z.grad_fn or z) if isinstance(z, Tensor) and z._requires_grad else None
                links = [lx, ly, lz] if lx is not None or ly is not None or lz is not None else None
            else:
                links = None
                for i, x in enumerate(inputs):
                    if isinstance(x, Tensor) and x._requires_grad:
                        if links is None:
                            links = [None] * n
                        links[i] = x.grad_fn or x
            if links is not None:
                fn.next = links
                fn.seq = next(_tape_position)
                out = _make(data, True, fn)
                if cls.saves_output:
                    # Keep the array, not the tensor: no reference cycle tensor <-> node.
                    fn.out_data = data
                    fn.out_version = out._vc = [0, None, 1, 0]
                if cls.is_view:
                    _share_version(out, inputs[0])
                return out
        out = _make(data, False, None)
        if cls.is_view:
            _share_version(out, inputs[0])
        return out

    # -- helpers for op authors ---------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors (or constants) for backward; tensors are checked for in-place changes
        (an in-place change stamps the tensor with the tape position ``seq`` of that moment, so
        a stamp later than this node's ``seq`` means the saved value is gone)."""
        self.saved = values

    @property
    def output(self) -> Tensor | None:
        """The op's output as a tensor on the tape (so backward formulas that use it
        stay differentiable)."""
        if self.out_data is None:
            return None
        return _make(self.out_data, True, self)

    @property
    def saved_tensors(self) -> tuple:
        if self.released:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time; its saved "
                "tensors were freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to run backward twice."
            )
        return self.saved

    def needs_grad(self, i: int) -> bool:
        """Does input ``i`` need a gradient?  Lets backward skip work."""
        return self.next[i] is not None

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
        return tuple(self.next)
