"""``mg.viz.trace()``: note down, while code runs, what the tape itself does not keep.

A tape node holds only what its backward needs: links to its inputs, the tensors it
saved.  It does not know its output's shape, the constant tensors it read (a data
batch, class labels), or which ``nn.Module`` was running when it was recorded.
Inside ``with trace(model):`` every node recorded gets a :class:`NodeRecord` with
those facts, kept in a weak table (it goes away with the node), and
:func:`minigrad.viz.draw_graph` uses it for full shapes, input nodes and module
clusters.

How, without touching the core: for the duration of the block, ``Function.apply``
is wrapped (one extra dictionary insert per op), and each sub-module of ``model``
gets an instance-level ``forward`` that pushes its dotted name on a stack around
the real ``forward``.  Both are undone on exit, also when an exception escapes.
Nested ``trace`` blocks are fine.  The recording is process-wide: ops run by other
threads during the block are recorded too.
"""
from __future__ import annotations

import weakref
from typing import Any, Iterator

from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["NodeRecord", "trace", "record_of"]


class NodeRecord:
    """What :func:`trace` noted about one tape node.

    ``output``: a weak reference to the node's output tensor (dead once the tensor is);
    ``shape``/``dtype``/``device``: the output's, kept after it dies;
    ``consts``: ``(position, tensor)`` for tensor inputs not on the tape (no grad);
    ``modules``: ``((path, class name), ...)``, outermost module first.
    """

    __slots__ = ("output", "shape", "dtype", "device", "consts", "modules")

    def __init__(self, out: Tensor, consts: tuple, modules: tuple) -> None:
        self.output = weakref.ref(out)
        self.shape = tuple(out.shape)
        self.dtype = out.dtype
        self.device = out.device
        self.consts = consts
        self.modules = modules


# node -> NodeRecord; entries vanish with their node.  A record must not refer to its node
# (that would keep it alive forever): the output is held weakly for that reason.
_records: "weakref.WeakKeyDictionary[Function, NodeRecord]" = weakref.WeakKeyDictionary()
_module_stack: list = []
_depth = 0
_original_apply = Function.__dict__["apply"]


def record_of(node: Function) -> NodeRecord | None:
    """The record made for ``node`` inside a :func:`trace` block, or None."""
    return _records.get(node)


def _recording_apply(cls: type, *inputs: Any, **options: Any) -> Tensor:
    out = _original_apply.__func__(cls, *inputs, **options)
    node = out.grad_fn
    if node is not None:
        consts = tuple((i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and not x._requires_grad)
        _records[node] = NodeRecord(out, consts, tuple(_module_stack))
    return out


def _wrap_forward(module: Any, path: str) -> tuple:
    """Give ``module`` an instance ``forward`` that marks its calls; returns how to undo it."""
    d = module.__dict__
    had_own = "forward" in d
    previous = d.get("forward")
    inner = module.forward
    entry = (path, type(module).__name__)

    def forward(*args: Any, **kwargs: Any) -> Any:
        _module_stack.append(entry)
        try:
            return inner(*args, **kwargs)
        finally:
            _module_stack.pop()

    forward._minigrad_viz_wrapper = True  # type: ignore[attr-defined]
    cls = type(module)
    setattr(module, "forward", forward)  # (a Module then switches to a class whose __call__ reads it)
    return module, had_own, previous, cls


def _unwrap_forward(module: Any, had_own: bool, previous: Any, cls: type) -> None:
    d = module.__dict__
    if had_own:
        d["forward"] = previous
    else:
        d.pop("forward", None)
    if type(module) is not cls:
        module.__class__ = cls


class trace:
    """Context manager: record shapes, constant inputs and (given ``model``) module calls.

    ``model`` is anything with ``named_modules()`` yielding ``(dotted name, module)``
    pairs whose calls go through ``module.forward`` (every ``mg.nn.Module``).  The root
    module is named by its class, the others by their dotted paths ("0", "encoder.1").

    Example::

        with mg.viz.trace(model):
            loss = F.cross_entropy(model(x), y)
        mg.viz.draw_graph(loss, params=model).render("mlp.svg")
    """

    def __init__(self, model: Any = None) -> None:
        if model is not None and not hasattr(model, "named_modules"):
            raise TypeError(f"trace(model): expected a module with named_modules() (an mg.nn.Module), "
                            f"got {type(model).__name__}")
        self.model = model
        self._undo: list = []

    def __enter__(self) -> "trace":
        global _depth
        if _depth == 0:
            Function.apply = classmethod(_recording_apply)
        _depth += 1
        try:
            if self.model is not None:
                for path, m in self._modules():
                    if not getattr(m.__dict__.get("forward"), "_minigrad_viz_wrapper", False):
                        # (a module already marked by an enclosing trace keeps that one mark)
                        self._undo.append(_wrap_forward(m, path))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _modules(self) -> Iterator[tuple]:
        seen = set()
        for path, m in self.model.named_modules():
            if id(m) not in seen:  # a module reachable by two paths is wrapped once
                seen.add(id(m))
                yield path, m

    def __exit__(self, *exc: Any) -> None:
        global _depth
        while self._undo:
            _unwrap_forward(*self._undo.pop())
        _depth -= 1
        if _depth == 0:
            Function.apply = _original_apply
