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
gets two forward hooks: a pre-hook that pushes its dotted name on a stack and a
forward hook (``always_call=True``, so it also runs when ``forward`` raises) that
pops it.  Both are undone on exit, also when an exception escapes.  Nested ``trace``
blocks are fine.  The recording is process-wide: ops run by other threads during the
block are recorded too.
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


# ids of the modules that carry a trace's hooks now (an enclosing trace's mark is not repeated)
_marked: set = set()


def _mark(module: Any, path: str) -> tuple:
    """Hook ``module`` so that ops recorded during its calls carry ``(path, class name)``;
    returns the two hook handles."""
    entry = (path, type(module).__name__)

    def enter(module: Any, args: tuple) -> None:
        _module_stack.append(entry)

    def leave(module: Any, args: tuple, output: Any) -> None:
        # ``enter`` may not have run if an earlier pre-hook raised: pop only our own entry.
        if _module_stack and _module_stack[-1] is entry:
            _module_stack.pop()

    if not (hasattr(module, "register_forward_pre_hook") and hasattr(module, "register_forward_hook")):
        raise TypeError(f"trace(model): module {path or '(root)'!r} ({type(module).__name__}) has no "
                        "register_forward_pre_hook/register_forward_hook (an mg.nn.Module has them)")
    return (module.register_forward_pre_hook(enter, prepend=True),
            module.register_forward_hook(leave, always_call=True))


class trace:
    """Context manager: record shapes, constant inputs and (given ``model``) module calls.

    ``model`` is anything with ``named_modules()`` yielding ``(dotted name, module)``
    pairs whose modules take forward hooks as ``mg.nn.Module`` does
    (``register_forward_pre_hook(hook, prepend=...)``, ``register_forward_hook(hook,
    always_call=...)``).  The root module is named by its class, the others by their
    dotted paths ("0", "encoder.1").

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
        self._handles: list = []
        self._marked_here: list = []
        self._stack_size = 0

    def __enter__(self) -> "trace":
        global _depth
        if _depth == 0:
            Function.apply = classmethod(_recording_apply)
        _depth += 1
        self._stack_size = len(_module_stack)
        try:
            if self.model is not None:
                for path, m in self._modules():
                    if id(m) not in _marked:  # (a module marked by an enclosing trace keeps that one mark)
                        _marked.add(id(m))
                        self._marked_here.append(id(m))
                        self._handles.extend(_mark(m, path))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _modules(self) -> Iterator[tuple]:
        seen = set()
        for path, m in self.model.named_modules():
            if id(m) not in seen:  # a module reachable by two paths is marked once
                seen.add(id(m))
                yield path, m

    def __exit__(self, *exc: Any) -> None:
        global _depth
        while self._handles:
            self._handles.pop().remove()
        while self._marked_here:
            _marked.discard(self._marked_here.pop())
        del _module_stack[self._stack_size:]  # entries left by an interrupt (KeyboardInterrupt skips the hooks)
        _depth -= 1
        if _depth == 0:
            Function.apply = _original_apply
