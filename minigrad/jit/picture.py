"""A picture of a captured program: each recorded NumPy call as an op box, each array it reads
or writes as a vertex, grouped by the line of the step that made the call (the forward line,
``loss.backward()``, ``opt.step()``...).

Vertices follow the graph drawings' colours: the step's inputs blue, state (parameters,
gradients, optimizer buffers) green, buffers white, returned values orange; a call that writes
into an existing array (``out=``, ``a[i] = v``, ``a += b``) makes a new vertex for the array's
new contents, named after the same buffer.  Views (transposes, reshapes) are drawn as ops
named ``view: ...``: they run once, when the program is built, not at each replay.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..viz import Graph
from ..viz.dot import to_dot
from ..viz.renderers import write_picture
from .program import Program, _refs

_KINDS = {"input": "input", "state": "param", "external": "const"}


def _call_name(fn: Any) -> str:
    owner = getattr(fn, "__self__", None)
    if owner is not None and hasattr(owner, "nin"):  # a ufunc's method: np.add.reduce
        return f"{owner.__name__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return name.replace("ndarray.", "") if name.startswith("ndarray.") else name


def program_graph(program: Program) -> Graph:
    """The program's instructions as a :class:`minigrad.viz.Graph` (drawable with ``to_dot``)."""
    graph = Graph()
    values = program.values
    current: dict = {}  # value number -> id of the vertex holding its latest contents
    outputs = set(program.output_values)

    def vertex(v: int, fresh: bool = False) -> str:
        if v in current and not fresh:
            return current[v]
        value = values[v]
        kind = _KINDS.get(value.origin, "intermediate")
        name = {"input": "input", "state": "state", "external": "scratch"}.get(value.origin, f"buffer {value.storage}")
        item = graph.add(kind, name)
        item.shape, item.dtype, item.device = tuple(value.array.shape), str(value.array.dtype), "cpu"
        current[v] = item.id
        return item.id

    for ins in program.instructions:
        label = ("view: " if ins.kind == "view" else "draw: " if ins.kind == "draw" else "") + _call_name(ins.fn)
        op = graph.add("op", label)
        where = ins.where.split(": ", 1)
        op.modules = (("", where[1] if len(where) == 2 else where[0]),)
        for v in _refs((ins.args, ins.kwargs)):
            graph.connect(vertex(v), op.id)
        for v in {ins.result, ins.writes} - {None}:
            target = vertex(v, fresh=True)
            graph.by_id[target].modules = op.modules
            graph.connect(op.id, target)
    for v in outputs:
        if v in current:
            item = graph.by_id[current[v]]
            item.kind, item.name, item.is_output = "output", "returned", True
    return graph


def draw_program(program: Program, path: str | Path, format: str | None = None) -> Path:
    """Write the picture of ``program`` (svg, png, pdf or dot, from the suffix or ``format``)."""
    return write_picture(to_dot(program_graph(program), show_shapes=True), path, format)
