"""From a recorded trace to a flat program on preallocated arrays, and its replay.

Building (:func:`build_program`) turns the :class:`~minigrad.jit.trace.Recorder`'s instructions into
calls whose every argument is a fixed array:

1. **Views cost nothing at replay.**  A call whose result shares memory with its input
   (``a.T``, ``reshape``, basic slicing, ``broadcast_to``) is made once, here, on the array its
   input will occupy; the replay reads and writes through that view.
2. **Every computed value gets a buffer.**  Calls that allocated their result at trace time
   write into a buffer at replay: ufuncs (``+``, ``exp``, ``@``, ``sum``) through ``out=``,
   other calls by copying their result in.
3. **Buffers are shared where liveness allows.**  A storage (one allocation of the trace) is
   live from the instruction that first writes it to the last one that reads or writes it
   (through any of its views).  Walking the program in order, a storage whose life has ended
   hands its buffer to the next storage of the same shape, dtype and layout.  A buffer is only
   handed on *after* its last reader ran, never to the output of that same reader (``matmul``
   must not write into its own input).  Storages that outlive the step stay apart: the inputs'
   static buffers, the state (parameters, gradients, optimizer and batch-norm buffers, changed
   in place), the returned values, and arrays something outside the step still holds (a
   parameter's ``.grad`` made during the step).

The replay (:meth:`Program.run`) copies the new inputs into their static buffers, runs the
calls in order, and copies the returned values out.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy

from ..tensor import Tensor
from .trace import CaptureError, Recorder, Ref

ndarray = numpy.ndarray

#: Calls that take ``out=`` for a result of the shape and dtype they would allocate.
_OUT_FUNCTIONS = {numpy.dot, numpy.take, numpy.clip, numpy.sum, numpy.mean, numpy.prod, numpy.max, numpy.min,
                  numpy.concatenate, numpy.einsum, numpy.cumsum, numpy.argmax, numpy.argmin}
_OUT_BY_NAME = {numpy.maximum, numpy.minimum}  # (a positional out is deprecated for these two)
_OUT_METHODS = {ndarray.argmax, ndarray.argmin, ndarray.take, ndarray.dot}


def _takes_out(fn: Callable) -> bool:
    if isinstance(fn, numpy.ufunc):
        return True
    owner = getattr(fn, "__self__", None)  # a ufunc's method: np.add.reduce, np.maximum.accumulate
    if isinstance(owner, numpy.ufunc) and getattr(fn, "__name__", "") in ("reduce", "accumulate", "reduceat"):
        return True
    return fn in _OUT_FUNCTIONS or fn in _OUT_METHODS


@dataclass
class BufferPlan:
    """Which array each storage of the trace occupies at replay, and why.

    ``buffer_of[s]`` is that array; ``shared_with[s]`` the storage whose buffer ``s`` took over
    (None when it kept its own); ``live[s]`` the (first, last) instruction numbers of its life."""

    buffer_of: dict
    shared_with: dict
    live: dict
    fixed: set  # storages that keep their own array (inputs, state, outputs, held from outside)


def _refs(x: Any) -> list:
    found, stack = [], [x]
    while stack:
        item = stack.pop()
        if isinstance(item, Ref):
            found.append(item.value)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def liveness(recorder: Recorder, keep: set) -> dict:
    """(first, last) instruction touching each storage; storages in ``keep`` live to the end."""
    values, end = recorder.values, len(recorder.instructions)
    live: dict = {}

    def touch(storage: int, i: int) -> None:
        first, last = live.get(storage, (i, i))
        live[storage] = (min(first, i), max(last, i))

    for i, ins in enumerate(recorder.instructions):
        if ins.kind == "view":
            continue  # a view reads nothing; the uses of the view are uses of its storage
        for v in _refs((ins.args, ins.kwargs)):
            touch(values[v].storage, i)
        if ins.result is not None:
            touch(values[ins.result].storage, i)
        if ins.writes is not None:
            touch(values[ins.writes].storage, i)
    for storage in keep:
        first, _ = live.get(storage, (0, end))
        live[storage] = (first, end)
    return live


def copies_to_skip(recorder: Recorder, live: dict, fixed: set) -> dict:
    """Copies that can become renames: ``b = a.copy()`` where this copy is the last use of ``a``'s
    storage, ``b``'s storage starts there, and both have one layout.  Then ``a``'s storage can be
    ``b``'s buffer from the start and the copy is not run (the engine copies each gradient it hands
    to ``.grad``; here the matmul that made it writes straight into ``.grad``'s array).
    Returns {instruction number: (source storage, target storage)}."""
    values, storages = recorder.values, recorder.storages
    skips: dict = {}
    merged_sources: set = set()
    for i, ins in enumerate(recorder.instructions):
        if ins.fn is not ndarray.copy or ins.kind != "compute" or ins.kwargs or len(ins.args) != 1:
            continue
        if not isinstance(ins.args[0], Ref) or ins.result is None:
            continue
        source_value = values[ins.args[0].value]
        source, target = source_value.storage, values[ins.result].storage
        if (source in fixed or source in merged_sources or storages[source].kind != "temp"
                or source_value.array is not storages[source].owner
                or live[source][1] != i or live[target][0] != i
                or _layout(storages[source].owner) != _layout(storages[target].owner)
                or not storages[target].owner.flags.c_contiguous):
            continue
        skips[i] = (source, target)
        merged_sources.add(source)
    return skips


def plan_buffers(recorder: Recorder, fixed: set, skips: dict | None = None, live: dict | None = None) -> BufferPlan:
    """Give each storage its replay array, sharing buffers where lives do not overlap (and the
    sources of ``skips``, see :func:`copies_to_skip`, the buffer of their copy).  ``live``:
    :func:`liveness` of ``recorder`` and ``fixed``, when the caller has it already."""
    live = dict(live) if live is not None else liveness(recorder, fixed)
    storages = recorder.storages
    buffer_of = {s: st.owner for s, st in enumerate(storages)}
    shared_with: dict = {s: None for s in range(len(storages))}
    renamed = {}
    for source, target in (skips or {}).values():
        renamed[source] = target
        live[target] = (min(live[source][0], live[target][0]), live[target][1])
    starts: dict = {}
    ends: dict = {}
    for s, (first, last) in live.items():
        if s in fixed or s in renamed:
            continue
        starts.setdefault(first, []).append(s)
        ends.setdefault(last, []).append(s)
    free: dict = {}  # layout -> [storages whose buffers are free]
    for i in range(len(recorder.instructions)):
        for s in starts.get(i, ()):
            owner = storages[s].owner
            pool = free.get(_layout(owner))
            if pool:
                donor = pool.pop()
                buffer_of[s] = buffer_of[donor]
                shared_with[s] = donor
        for s in ends.get(i, ()):
            free.setdefault(_layout(storages[s].owner), []).append(s)
    for source, target in renamed.items():
        buffer_of[source] = buffer_of[target]
        shared_with[source] = target
    return BufferPlan(buffer_of, shared_with, live, set(fixed))


def _layout(a: ndarray) -> tuple:
    return a.shape, a.dtype.str, a.strides


@dataclass
class Program:
    """A captured step ready to replay: ``calls`` run in order on fixed arrays."""

    input_buffers: list
    calls: list
    outputs: list
    restores: list = field(default_factory=list)  # (array, its value before the step)
    plan: BufferPlan | None = None
    instructions: list = field(default_factory=list)  # the recorded calls, for docs and pictures
    values: list = field(default_factory=list)        # the trace's values those calls refer to
    output_values: list = field(default_factory=list)
    output_structure: Any = None  # how the step returned its outputs (see split_result)

    def run(self, inputs: list) -> list:
        copyto = numpy.copyto
        for buffer, new in zip(self.input_buffers, inputs):
            copyto(buffer, new)
        for array, before in self.restores:
            copyto(array, before)
        for call in self.calls:
            call()
        return [out.copy() for out in self.outputs]


def _same_view(view: ndarray, owner: ndarray, buffer: ndarray) -> ndarray:
    """The view of ``buffer`` that ``view`` is of ``owner`` (same offset, shape, strides, dtype)."""
    if buffer is owner:
        return view
    offset = view.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return ndarray(view.shape, view.dtype, buffer=buffer, offset=offset, strides=view.strides)


def split_result(result: Any) -> tuple:
    """(structure, tensors) of what a step returned: None and [] for nothing, "one" and [t] for one
    tensor, else the tuple or list type and its items; :func:`join_result` undoes it."""
    if result is None:
        return None, []
    if isinstance(result, Tensor):
        return "one", [result]
    return type(result), list(result)


def join_result(structure: Any, items: list) -> Any:
    """The inverse of :func:`split_result`, with ``items`` in place of the tensors."""
    if structure is None:
        return None
    return items[0] if structure == "one" else structure(items)


def _copy_into(buffer: ndarray, fn: Callable, args: tuple, kwargs: dict) -> None:
    numpy.copyto(buffer, fn(*args, **kwargs), casting="unsafe")


def build_program(recorder: Recorder, input_values: list, output_values: list, held: set,
                  restores: list) -> Program:
    """The replayable program of a finished trace.

    ``input_values`` / ``output_values``: value numbers of the step's inputs and returned arrays;
    ``held``: storages that something outside the step still references; ``restores``: (array,
    snapshot) pairs for arrays made inside the step that it reads before it writes them."""
    values, storages = recorder.values, recorder.storages
    fixed = {s for s, st in enumerate(storages) if st.kind in ("input", "state", "external")}
    fixed |= {values[v].storage for v in output_values} | held
    live = liveness(recorder, fixed)
    skips = copies_to_skip(recorder, live, fixed)
    plan = plan_buffers(recorder, fixed, skips, live)

    resolved: dict = {}

    def array_of(v: int) -> ndarray:
        return resolved[v]

    def resolve(x: Any) -> Any:
        if isinstance(x, Ref):
            return array_of(x.value)
        if isinstance(x, tuple):
            return tuple(resolve(i) for i in x)
        if isinstance(x, list):
            return [resolve(i) for i in x]
        if isinstance(x, dict):
            return {k: resolve(i) for k, i in x.items()}
        return x

    # values that exist before any instruction: inputs and state
    for v, value in enumerate(values):
        if value.origin in ("input", "state", "external"):
            resolved[v] = value.array  # (inputs are the trace's private copies: their own static buffers)
        elif value.origin == "escaped":  # a plain view into a storage: the same view of its buffer
            resolved[v] = _same_view(value.array, storages[value.storage].owner, plan.buffer_of[value.storage])

    calls = []
    for i, ins in enumerate(recorder.instructions):
        args, kwargs = resolve(ins.args), resolve(ins.kwargs)
        if i in skips:  # the source already sits in the copy's buffer
            resolved[ins.result] = plan.buffer_of[values[ins.result].storage]
            continue
        if ins.kind == "view":
            resolved[ins.result] = ins.fn(*args, **kwargs)
            continue
        if ins.kind == "draw":
            buffer = plan.buffer_of[values[ins.result].storage]
            resolved[ins.result] = buffer
            calls.append(_draw_call(ins.fn, args, kwargs, buffer))
            continue
        if ins.result is None:  # called for what it writes
            calls.append(functools.partial(ins.fn, *args, **kwargs))
            continue
        if "out" in kwargs:  # wrote into an existing array: the result is that array
            out = kwargs["out"]
            resolved[ins.result] = out[0] if isinstance(out, tuple) else out
            calls.append(functools.partial(ins.fn, *args, **kwargs))
            continue
        buffer = plan.buffer_of[values[ins.result].storage]
        owner = storages[values[ins.result].storage].owner
        if values[ins.result].array is not owner:
            raise CaptureError(f"mg.jit: {ins.where}: a call returned part of a new array, which the trace "
                               "cannot place")
        resolved[ins.result] = buffer
        if isinstance(ins.fn, numpy.ufunc) and not kwargs and len(args) == ins.fn.nin and ins.fn not in _OUT_BY_NAME:
            calls.append(functools.partial(ins.fn, *args, buffer))  # out positional: parsed faster
        elif _takes_out(ins.fn):
            calls.append(functools.partial(ins.fn, *args, **kwargs, out=buffer))
        else:
            calls.append(functools.partial(_copy_into, buffer, ins.fn, args, kwargs))
    program = Program([resolved[v] for v in input_values], calls, [resolved[v] for v in output_values],
                      restores, plan, list(recorder.instructions), list(values), list(output_values))
    return program


def _draw_call(fn: Callable, args: tuple, kwargs: dict, buffer: ndarray) -> Callable:
    """``Generator.random`` fills ``out=`` directly (float32 and float64); other draws are copied in."""
    if getattr(fn, "__name__", "") == "random" and buffer.dtype in (numpy.float32, numpy.float64):
        return functools.partial(fn, out=buffer, dtype=buffer.dtype)
    return functools.partial(_copy_into, buffer, fn, args, kwargs)
