"""Read the tape behind some output tensors into a plain, drawable graph.

Two kinds of vertices:

* **op** items, one per tape node (:class:`~minigrad.autograd.function.Function`),
  numbered ``op0, op1, ...`` in tape order (increasing ``seq``);
* **tensor** items, numbered ``t0, t1, ...`` in the order the tape first meets them:
  leaves that require grad (``param`` when named in ``params`` or an ``nn.Parameter``,
  else ``input``), constant inputs (``const``: tensors without grad, known only for
  nodes recorded under :func:`minigrad.viz.trace`), op results (``intermediate``) and
  the tensors asked for (``output``).

Edges follow the data: input tensor -> op -> result tensor -> next op.  Numbering by
tape position (never by ``id()``) makes the graph, and the DOT text made from it, the
same on every run.

An op's result is drawn as its own vertex only when something is known about it (its
shape, or a live tensor): the tape does not keep op outputs, so the shapes come from the
outputs asked for, tensors saved by later ops, ``retain_grad()``, ops that keep their
output, and, complete, from a :func:`~minigrad.viz.trace` record.  Otherwise the edge runs
from op to op directly.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Any, Iterable, Iterator, Mapping

from ..autograd.function import Function
from ..tensor import Tensor
from .summary import describe, dtype_text, format_number, nonfinite, shape_text
from .trace import record_of

__all__ = ["Item", "Graph", "build_graph", "paused_gc"]

# Function fields that are the tape's bookkeeping, not state saved by the op.
_TAPE_FIELDS = frozenset({"next", "seq", "saved", "output", "out_data", "out_version", "hooks",
                          "retain", "released"})


class Item:
    """One vertex: an op or a tensor, with everything the label and style need."""

    __slots__ = ("id", "kind", "name", "shape", "dtype", "device", "requires_grad", "bad", "grad_bad",
                 "grad_text", "value_text", "saved", "modules", "seq", "is_output", "order")

    def __init__(self, id: str, kind: str, name: str, order: int) -> None:
        self.id = id
        self.kind = kind
        self.name = name
        self.order = order            # creation rank: a topological order of the graph
        self.shape: tuple | None = None
        self.dtype: str | None = None
        self.device: str | None = None
        self.requires_grad = False
        self.bad: str | None = None        # "NaN", "inf" or "NaN/inf" in the value
        self.grad_bad: str | None = None   # the same for the gradient
        self.grad_text: str | None = None  # short gradient summary (show_grads)
        self.value_text: str | None = None  # the value of a one-element constant ("1", "-2")
        self.saved: list | None = None     # op: what it saved, as text (show_saved)
        self.modules: tuple = ()           # ((path, class name), ...) outermost first
        self.seq: int | None = None        # op: tape position
        self.is_output = False

    @property
    def is_op(self) -> bool:
        return self.kind == "op"

    def __repr__(self) -> str:
        return f"Item({self.id}, {self.kind}, {self.name!r}, shape={self.shape})"


class Graph:
    """Items in creation order (a topological order), data-flow edges, and the tape links
    needed to map tape objects back to items (``node_ids``, ``output_ids``, ``tensor_ids``)."""

    def __init__(self) -> None:
        self.items: list = []
        self.by_id: dict = {}
        self.edges: list = []
        self._edge_set: set = set()
        self.node_ids: dict = {}    # Function -> op item id
        self.output_ids: dict = {}  # Function -> id of the item drawn for its result (if drawn)
        self.tensor_ids: dict = {}  # id(leaf or const tensor) -> item id
        self._keep: list = []       # tensors whose id() is a key above: keep them alive while linked
        self._counts = {"op": 0, "t": 0}

    def add(self, kind: str, name: str) -> Item:
        """A new vertex, id ``op<n>`` or ``t<n>`` counting ops and tensors separately."""
        prefix = "op" if kind == "op" else "t"
        item = Item(f"{prefix}{self._counts[prefix]}", kind, name, len(self.items))
        self._counts[prefix] += 1
        self.items.append(item)
        self.by_id[item.id] = item
        return item

    def connect(self, src: str, dst: str) -> None:
        if (src, dst) not in self._edge_set:
            self._edge_set.add((src, dst))
            self.edges.append((src, dst))

    def forget_tape(self) -> None:
        """Drop the references to tape objects (so a kept drawing does not keep the graph alive)."""
        self.node_ids, self.output_ids, self.tensor_ids, self._keep = {}, {}, {}, []

    @property
    def ops(self) -> list:
        return [it for it in self.items if it.kind == "op"]

    def __repr__(self) -> str:
        return f"Graph({len(self.ops)} ops, {len(self.items) - len(self.ops)} tensors, {len(self.edges)} edges)"


def _parameter_class() -> type | None:
    try:
        from ..nn.parameter import Parameter
    except ImportError:  # nn is optional for drawing
        return None
    return Parameter


def _name_table(params: Any, names: Mapping | None) -> tuple:
    """id(tensor) -> name for parameters (``params``: a module, a mapping or (name, tensor) pairs)
    and for other tensors (``names``)."""
    param_names: dict = {}
    if params is not None:
        if hasattr(params, "named_parameters"):
            pairs: Iterable = params.named_parameters()
        elif isinstance(params, Mapping):
            pairs = params.items()
        else:
            pairs = params
        for name, t in pairs:
            if not isinstance(t, Tensor):
                raise TypeError(f"draw_graph: params[{name!r}] is a {type(t).__name__}, expected a Tensor")
            param_names.setdefault(id(t), str(name))
    other: dict = {}
    for name, t in (names or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: names[{name!r}] is a {type(t).__name__}, expected a Tensor")
        other.setdefault(id(t), str(name))
    return param_names, other


def _collect(outputs: list) -> list:
    """Every node reachable from the outputs, in tape order (no recursion: any depth works)."""
    seen: set = set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    nodes = []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for link in node.next:
            if link is not None and not isinstance(link, Tensor) and link not in seen:
                stack.append(link)
    nodes.sort(key=lambda n: n.seq)
    return nodes


def _op_name(node: Function) -> str:
    name = type(node).__name__
    return name[: -len("Function")] if name.endswith("Function") and name != "Function" else name


def _saved_text(node: Function, value: Any) -> str:
    if isinstance(value, Tensor):
        return shape_text(value.shape)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return "array " + shape_text(value.shape)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    text = repr(value)
    return text if len(text) <= 16 else text[:15] + "…"


def _grad_text(g: Tensor) -> str:
    if g.numel() <= 3:
        d = describe(g, max_values=3)
        return "grad " + (d["values"][0] if g.ndim == 0 else "[" + ", ".join(d["values"]) + "]")
    return "grad ‖·‖=" + describe(g, max_values=0)["norm"]


def _checks(t: Tensor | None) -> tuple:
    """(NaN/inf in the value, the gradient tensor or None, NaN/inf in the gradient)."""
    if t is None:
        return None, None, None
    g = t.grad if isinstance(t.grad, Tensor) else None
    return nonfinite(t), g, (nonfinite(g) if g is not None else None)


def _fill_tensor(item: Item, t: Tensor | None, meta: tuple | None, show_grads: bool,
                 checks: tuple | None = None) -> None:
    """Shape, dtype, device, NaN/inf flags (and gradient summary) from a live tensor or a record."""
    if t is not None:
        item.shape, item.dtype, item.device = tuple(t.shape), dtype_text(t.dtype), dtype_text(t.device)
        item.requires_grad = t._requires_grad
        item.bad, g, item.grad_bad = checks if checks is not None else _checks(t)
        if show_grads and g is not None:
            item.grad_text = _grad_text(g)
    elif meta is not None:
        item.shape, item.dtype, item.device = tuple(meta[0]), dtype_text(meta[1]), dtype_text(meta[2])
        item.requires_grad = True


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: drawing a large graph creates many short-lived acyclic
    objects, and each automatic collection they trigger would walk the whole tape again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_graph(outputs: Iterable[Tensor], params: Any = None, names: Mapping | None = None, *,
                show_shapes: bool = True, show_dtypes: bool = False, show_saved: bool = False,
                show_grads: bool = False, extra_meta: Mapping | None = None) -> Graph:
    """The graph of everything recorded on the way to ``outputs``.

    ``params``: a module (its ``named_parameters()``), a mapping name -> tensor, or pairs;
    ``names``: labels for other tensors (inputs, results, outputs);
    ``extra_meta``: node -> (shape, dtype, device) of its result, from elsewhere (the viewer
    learns them from the gradients).
    """
    with paused_gc():
        return _build(list(outputs), params, names, show_shapes, show_dtypes, show_saved, show_grads, extra_meta)


def _build(outputs: list, params: Any, names: Mapping | None, show_shapes: bool, show_dtypes: bool,
           show_saved: bool, show_grads: bool, extra_meta: Mapping | None) -> Graph:
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output {i} is a {type(t).__name__}, expected a Tensor")
    if not outputs:
        raise ValueError("draw_graph: give at least one output tensor to draw the graph of")
    param_names, other_names = _name_table(params, names)
    parameter_cls = _parameter_class()
    nodes = _collect(outputs)
    g = Graph()

    # What is known about each node's result: a live tensor and/or (shape, dtype, device).
    live: dict = {}
    meta: dict = {}
    for t in outputs:
        if t.grad_fn is not None:
            live.setdefault(t.grad_fn, t)
    # The user's own tensor objects first (they may hold a retained .grad), then copies.
    records = {}
    for node in nodes:
        if node.retain is not None:
            out = node.retain()
            if out is not None and out.grad_fn is node:
                live.setdefault(node, out)
        rec = records[node] = record_of(node)
        if rec is not None:
            meta[node] = (rec.shape, rec.dtype, rec.device)
            out = rec.output()
            if out is not None and out.grad_fn is node:
                live.setdefault(node, out)
    for node in nodes:
        for s in node.saved_tensors if not node.released else ():  # an input a later op saved is its producer's result
            if isinstance(s, Tensor) and s.grad_fn is not None and s.grad_fn not in live:
                live[s.grad_fn] = s
    for node in nodes:
        if node not in live and node.saves_output:
            out = node.output  # ops that keep their result (exp, tanh...)
            if isinstance(out, Tensor) and out.grad_fn is node:
                live[node] = out
    for node, m in (extra_meta or {}).items():
        meta.setdefault(node, m)

    output_nodes = {}
    for k, t in enumerate(outputs):
        if t.grad_fn is not None:
            output_nodes.setdefault(t.grad_fn, k)
    single = len(outputs) == 1

    def output_name(k: int, t: Tensor) -> str:
        return other_names.get(id(t)) or ("output" if single else f"output {k}")

    def leaf_item(t: Tensor, modules: tuple) -> str:
        key = id(t)
        if key in g.tensor_ids:
            return g.tensor_ids[key]
        if not t._requires_grad:
            kind, name = "const", other_names.get(key) or param_names.get(key) or "input"
        elif key in param_names or (parameter_cls is not None and isinstance(t, parameter_cls)):
            kind, name = "param", param_names.get(key) or other_names.get(key) or "parameter"
        else:
            kind, name = "input", other_names.get(key) or "input"
        item = g.add(kind, name)
        _fill_tensor(item, t, None, show_grads)
        if kind == "const" and t.numel() == 1:  # e.g. the seed gradient 1 of a double backward
            item.value_text = describe(t, max_values=1)["values"][0]
        if kind == "param":
            item.modules = modules  # drawn inside the module of its first user
        g.tensor_ids[key] = item.id
        g._keep.append(t)
        return item.id

    for node in nodes:
        rec = records[node]
        modules = rec.modules if rec is not None else ()
        consts = dict(rec.consts) if rec is not None else {}
        sources = []
        for i, link in enumerate(node.next):
            if link is None:
                c = consts.get(i)
                if c is not None:
                    sources.append(leaf_item(c, modules))
            elif isinstance(link, Tensor):
                sources.append(leaf_item(link, modules))
            else:
                sources.append(g.output_ids.get(link) or g.node_ids[link])
        op = g.add("op", _op_name(node))
        op.seq, op.modules = node.seq, modules
        if show_saved:
            if node.released:
                op.saved = ["freed by backward"]
            else:
                op.saved = [_saved_text(node, s) for s in node.saved_tensors if s is not None]  # None: not needed
                if node.saves_output and isinstance(node.output, Tensor):
                    op.saved.append("output " + shape_text(node.output.shape))
                # Arrays an op keeps as attributes (a ReLU mask, softmax rows...) are saved state too.
                for key, value in vars(node).items():
                    if key not in _TAPE_FIELDS and hasattr(value, "shape") and hasattr(value, "dtype") \
                            and not isinstance(value, Tensor):
                        op.saved.append(f"{key} {shape_text(value.shape)}")
        g.node_ids[node] = op.id
        for src in sources:
            g.connect(src, op.id)

        t = live.get(node)
        m = meta.get(node)
        is_out = node in output_nodes
        checks = _checks(t)
        wanted = is_out or checks[0] or checks[2] or (show_grads and checks[1] is not None) or \
            ((show_shapes or show_dtypes) and (t is not None or m is not None))
        if wanted:
            if is_out:
                k = output_nodes[node]
                res = g.add("output", output_name(k, outputs[k]))
                res.is_output = True
            else:
                res = g.add("intermediate", other_names.get(id(t), "") if t is not None else "")
                res.modules = modules
            _fill_tensor(res, t, m, show_grads, checks)
            g.output_ids[node] = res.id
            g.connect(op.id, res.id)

    for k, t in enumerate(outputs):  # outputs that are not results of an op: leaves or constants
        if t.grad_fn is None:
            iid = leaf_item(t, ())
            item = g.by_id[iid]
            item.is_output = True
            if id(t) in other_names:
                item.name = other_names[id(t)]
    return g
