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
_new = object.__new__


class Function:
    __slots__ = ("next", "needs", "saved", "versions", "seq", "output", "hooks", "retain", "released",
                 "__dict__", "__weakref__")

    #: True for ops whose backward reads ``self.output`` (e.g. exp, tanh).
    saves_output = False

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        data = fn.forward(*inputs, **options)
        if GradMode.enabled:
            links = []
            any_grad = False
            for x in inputs:
                if isinstance(x, Tensor) and x._requires_grad:
                    any_grad = True
                    links.append(x if x.grad_fn is None else x.grad_fn)
                else:
                    links.append(None)
            if any_grad:
                fn.next = links
                fn.seq = next(_tape_position)
                fn.hooks = None
                fn.retain = None
                fn.released = False
                saved = fn.saved
                if saved:
                    fn.versions = [(t._vc[0] if t._vc is not None else 0) if isinstance(t, Tensor) else None
                                   for t in saved]
                out = _make(data, True, fn)
                if cls.saves_output:
                    fn.output = out
                return out
        return _make(data, False, None)

    # -- helpers for op authors ---------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors (or constants) for backward; tensors are checked for in-place changes."""
        self.saved = values

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
