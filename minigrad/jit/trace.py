"""Recording a step: every NumPy call made on a traced array, as a list of instructions.

A :class:`TracedArray` is a host array (a view of the real one) that NumPy hands back to us on
every call: ufuncs (``a + b``, ``np.exp(a)``, ``a @ b``, ``a.sum()``) arrive at
``__array_ufunc__``, functions (``np.where``, ``np.broadcast_to``) at ``__array_function__``, and
the methods that reach neither (``reshape``, ``.T``, ``astype``, indexing...) are wrapped below.
Each call runs on the real arrays at once, so the step computes exactly what it computes eagerly,
and is appended to :attr:`Recorder.instructions` with its array arguments replaced by
:class:`Ref` (which value of the trace they were).  The result comes back traced, so whatever
the step does with it next is recorded too.

What is not a traced array is a constant of the trace: Python numbers, cached 0-d scalars,
arrays made from shapes alone (``np.zeros(shape)``).  That is why the state a step reads and
changes (parameters, gradients, optimizer and batch-norm buffers) is traced as well: the
capturing code (``minigrad.jit.capture``) swaps those tensors' arrays for traced views first.

A traced array answers ``__class__`` with ``numpy.ndarray``: the eager code tests
``a.__class__ is HostArray`` on its fast paths, and a traced array is a host array.  Reading a
value back to Python (``float(a)``, ``a.item()``, ``if a.any():``) cannot be replayed, so it
raises :class:`CaptureError` naming the line that asked.
"""
from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy

ndarray = numpy.ndarray
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CaptureError(RuntimeError):
    """A step does something ``mg.jit`` cannot record or replay."""


@dataclass(frozen=True)
class Ref:
    """An argument that was the traced value number ``value`` when it was recorded."""

    value: int


@dataclass
class Instruction:
    """One recorded call: ``fn(*args, **kwargs)`` with :class:`Ref` for traced arrays.

    ``kind`` is how the result relates to the arrays before it: ``"compute"`` (new values, in a
    new storage or, with ``out=``/``__setitem__``, written into an existing one) or ``"view"``
    (the result shares an input's memory: nothing to run at replay, the view is made once when
    the program is built).  ``result`` is the value number of the result (None for calls that
    return nothing); ``writes`` the value whose storage a call changes in place."""

    fn: Callable
    args: tuple
    kwargs: dict
    kind: str
    result: int | None
    writes: int | None = None
    where: str = ""


@dataclass
class Value:
    """A traced value: its real array at trace time and the storage (allocation) it lives in."""

    array: ndarray
    storage: int
    origin: str  # "input", "state", "external", "compute", "view", "draw", "escaped"


@dataclass
class Storage:
    """One allocation of the trace: ``owner`` is the trace-time array that owns the memory."""

    owner: ndarray
    kind: str  # "input", "state", "temp"


@dataclass
class Recorder:
    """The trace being recorded."""

    values: list = field(default_factory=list)
    storages: list = field(default_factory=list)
    instructions: list = field(default_factory=list)
    storage_of_owner: dict = field(default_factory=dict)  # id(owner array) -> storage number
    restores: list = field(default_factory=list)  # (array, its value before the step), see external()
    generator_states: dict = field(default_factory=dict)  # id -> (generator, its state before the first draw)
    active: bool = True

    # -- values --------------------------------------------------------------------------
    def new_storage(self, owner: ndarray, kind: str) -> int:
        self.storages.append(Storage(owner, kind))
        number = len(self.storages) - 1
        self.storage_of_owner[id(owner)] = number
        return number

    def storage_for(self, array: ndarray) -> int | None:
        """The storage ``array`` lives in, if it is one of the trace's."""
        return self.storage_of_owner.get(id(_owner(array)))

    def add_value(self, array: ndarray, storage: int, origin: str) -> "TracedArray":
        self.values.append(Value(array, storage, origin))
        traced = array.view(TracedArray)
        traced._recorder = self
        traced._value = len(self.values) - 1
        return traced

    def trace_state(self, array: ndarray, kind: str) -> "TracedArray":
        """A traced view of an array that exists before the step: an input or a piece of state."""
        storage = self.storage_for(array)
        if storage is None:
            storage = self.new_storage(_owner(array), kind)
        return self.add_value(array, storage, kind)

    # -- recording -------------------------------------------------------------------------
    def record(self, fn: Callable, args: tuple, kwargs: dict, writes: Any = None) -> Any:
        """Run ``fn`` on the real arrays and record it; returns the result traced."""
        real_args, ref_args = _unwrap(args, self)
        real_kwargs, ref_kwargs = _unwrap(kwargs, self)
        out = real_kwargs.get("out")
        out_array = out[0] if isinstance(out, tuple) else out
        written = None
        if writes is not None:
            written = _value_of(writes, self)
            if written is None:  # an array made in the step (or a scratch buffer) written by a traced call
                written = self.external(writes, reads_first=fn is not numpy.copyto)._value
        elif isinstance(out_array, ndarray) and self.storage_for(out_array) is None:
            self.external(out_array, reads_first=_shares_input(out_array, real_args, {}))
        result = fn(*real_args, **real_kwargs)
        where = _user_line()
        if result is None:  # a call made for what it writes (copyto, __setitem__, ufunc.at)
            if written is None:
                raise CaptureError(f"mg.jit: {_name(fn)} changes an array the trace does not know (made inside "
                                   f"the step without an array argument), at {where}")
            self.instructions.append(Instruction(fn, ref_args, ref_kwargs, "compute", None, written, where))
            return None
        if isinstance(result, tuple) and any(isinstance(r, ndarray) for r in result):
            raise CaptureError(f"mg.jit: {_name(fn)} returns several arrays, which the trace does not record, "
                               f"at {where}")
        if not isinstance(result, (ndarray, numpy.generic)):
            return result  # a shape, a dtype, a Python number from array metadata: no values read
        if not isinstance(result, ndarray):
            result = numpy.asarray(result)  # a NumPy scalar from a full reduction: a 0-d array
        if out_array is not None:
            # ``a += b`` rebinds ``a`` to what this returns: hand back the very object passed as out=
            given = kwargs["out"][0] if isinstance(kwargs["out"], tuple) else kwargs["out"]
            value = _value_of(given, self)
            if value is None:  # a plain array (a scratch buffer): by reference
                value = self.add_value(out_array, self.storage_for(out_array), "external")._value
            self.instructions.append(Instruction(fn, ref_args, ref_kwargs, "compute", value, value, where))
            return given
        storage = self.storage_for(result)
        if storage is not None:  # a view of an input, or the input itself (astype(copy=False))
            traced = self.add_value(result, storage, "view")
            self.instructions.append(Instruction(fn, ref_args, ref_kwargs, "view", traced._value, None, where))
            return traced
        traced = self.add_value(result, self.new_storage(_owner(result), "temp"), "compute")
        self.instructions.append(Instruction(fn, ref_args, ref_kwargs, "compute", traced._value, written, where))
        return traced

    def external(self, array: ndarray, reads_first: bool) -> "TracedArray":
        """An array the step did not get from the trace but writes into: a scratch buffer, or one
        made inside the step from a shape alone.  It keeps its memory at replay; when the step
        reads it before writing it, its value before the step is restored at every replay."""
        owner = _owner(array)
        storage = self.new_storage(owner, "external")
        if reads_first:
            self.restores.append((owner, owner.copy()))
        return self.add_value(array, storage, "external")

    def record_draw(self, draw: Callable, args: tuple, kwargs: dict) -> "TracedArray":
        """A random draw (``gen.random(shape, dtype)``): new numbers at every replay."""
        result = draw(*args, **kwargs)
        traced = self.add_value(result, self.new_storage(_owner(result), "temp"), "draw")
        self.instructions.append(Instruction(draw, args, dict(kwargs), "draw", traced._value, None, _user_line()))
        return traced


def _owner(array: ndarray) -> ndarray:
    """The array that owns ``array``'s memory (itself, or the end of its ``base`` chain)."""
    while isinstance(array.base, ndarray):
        array = array.base
    return array


def _shares_input(result: ndarray, args: Any, kwargs: Any) -> bool:
    owner = id(_owner(result))
    stack = [args, kwargs]
    while stack:
        item = stack.pop()
        if isinstance(item, ndarray):
            if id(_owner(item)) == owner:
                return True
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _value_of(x: Any, recorder: Recorder) -> int | None:
    if type(x) is TracedArray and x._recorder is recorder:
        return x._value
    return None


def _unwrap(x: Any, recorder: Recorder) -> tuple:
    """(the structure with real arrays, the structure with :class:`Ref` for traced arrays)."""
    if type(x) is TracedArray:
        if x._recorder is not recorder:
            raise CaptureError("mg.jit: an array traced by another capture reached this one")
        real = recorder.values[x._value].array
        return real, Ref(x._value)
    if type(x) is ndarray and recorder.active:
        storage = recorder.storage_for(x)
        if storage is not None:  # an untraced view of a traced value (np.asarray drops the subclass)
            return x, Ref(recorder.add_value(x, storage, "escaped")._value)
        return x, x
    if isinstance(x, tuple):
        pairs = [_unwrap(i, recorder) for i in x]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(x, list):
        pairs = [_unwrap(i, recorder) for i in x]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(x, dict):
        pairs = {k: _unwrap(v, recorder) for k, v in x.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    return x, x


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _user_line() -> str:
    """file:line of the innermost frame outside minigrad and NumPy, with its source text."""
    frame = sys._getframe(1)
    inner = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and "numpy" not in filename:
            text = linecache.getline(filename, frame.f_lineno).strip()
            return f"{filename}:{frame.f_lineno}" + (f": {text}" if text else "")
        if inner is None:
            inner = f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return inner or "?"


def _host_read(what: str) -> CaptureError:
    return CaptureError(
        f"mg.jit: {what} reads a value back to Python while the step is being captured, at "
        f"{_user_line()}; a replay cannot repeat Python code that depends on array values. Return the "
        "tensor from the step and read it outside, or run this step without mg.jit")


# -- the traced array -------------------------------------------------------------------------------------
def _method(name: str, while_recording: Callable) -> Callable:
    """ndarray's method ``name`` for a traced array: ``while_recording(self, real_method, args,
    kwargs)`` during the trace; the plain method on the real array once the trace is over."""
    real_method = getattr(ndarray, name)

    def method(self: "TracedArray", *args: Any, **kwargs: Any) -> Any:
        recorder = self._recorder
        if not recorder.active:
            return real_method(recorder.values[self._value].array, *args, **kwargs)
        return while_recording(self, real_method, args, kwargs)

    method.__name__ = name
    return method


def _passthrough(name: str) -> Callable:
    """A method that reaches neither __array_ufunc__ nor __array_function__, recorded."""
    return _method(name, lambda self, real, args, kwargs: self._recorder.record(real, (self,) + args, kwargs))


def _host_reader(name: str) -> Callable:
    """A method that hands a value to Python: refused during the trace."""
    def refuse(self: "TracedArray", real: Callable, args: tuple, kwargs: dict) -> Any:
        raise _host_read(f"`{name}` on an array of shape {tuple(self.shape)}")

    return _method(name, refuse)


class TracedArray(ndarray):
    """A host array whose NumPy calls are recorded by a :class:`Recorder` (see the module text)."""

    _recorder: Recorder
    _value: int

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - the eager code's ``a.__class__ is HostArray`` sees a host array
        return ndarray

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        recorder = _recorder_of(inputs, kwargs)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        if not recorder.active:
            return fn(*_unwrap(inputs, recorder)[0], **_unwrap(kwargs, recorder)[0])
        writes = inputs[0] if method == "at" else None
        return recorder.record(fn, inputs, kwargs, writes)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        recorder = _recorder_of(args, kwargs)
        if not recorder.active:
            return func(*_unwrap(args, recorder)[0], **_unwrap(kwargs, recorder)[0])
        if func is numpy.copyto:
            return recorder.record(func, args, kwargs, writes=args[0])
        return recorder.record(func, args, kwargs)

    def __setitem__(self, index: Any, value: Any) -> None:
        recorder = self._recorder
        if not recorder.active:
            real, _ = _unwrap((index, value), recorder)
            ndarray.__setitem__(recorder.values[self._value].array, *real)
            return
        recorder.record(ndarray.__setitem__, (self, index, value), {}, writes=self)

    @property
    def T(self) -> Any:  # noqa: N802
        return self.transpose()

    __getitem__ = _passthrough("__getitem__")
    reshape = _passthrough("reshape")
    transpose = _passthrough("transpose")
    swapaxes = _passthrough("swapaxes")
    ravel = _passthrough("ravel")
    flatten = _passthrough("flatten")
    squeeze = _passthrough("squeeze")
    astype = _passthrough("astype")
    copy = _passthrough("copy")
    view = _passthrough("view")
    argmax = _passthrough("argmax")
    argmin = _passthrough("argmin")
    take = _passthrough("take")
    repeat = _passthrough("repeat")
    fill = _passthrough("fill")
    dot = _passthrough("dot")
    nonzero = _passthrough("nonzero")
    __float__ = _host_reader("__float__")
    __int__ = _host_reader("__int__")
    __index__ = _host_reader("__index__")
    __bool__ = _host_reader("__bool__")
    __complex__ = _host_reader("__complex__")
    item = _host_reader("item")
    tolist = _host_reader("tolist")
    tobytes = _host_reader("tobytes")
    __repr__ = _host_reader("__repr__")
    __str__ = _host_reader("__str__")
    __format__ = _host_reader("__format__")


def _recorder_of(inputs: Any, kwargs: dict) -> Recorder:
    stack = [inputs, kwargs.get("out")]
    while stack:
        item = stack.pop()
        if type(item) is TracedArray:
            return item._recorder
        if isinstance(item, (tuple, list)):
            stack.extend(item)
    raise CaptureError("mg.jit: internal error, a traced call without a traced array")


class DrawRecorder:
    """Stands for a random generator while a step is captured: draws are recorded (and fresh at
    every replay); the generator's other methods pass through."""

    def __init__(self, generator: Any, recorder: Recorder) -> None:
        self._generator = generator
        self._recorder = recorder
        if id(generator) not in recorder.generator_states and hasattr(generator, "bit_generator"):
            recorder.generator_states[id(generator)] = (generator, generator.bit_generator.state)

    def random(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder.record_draw(self._generator.random, args, kwargs)

    def standard_normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder.record_draw(self._generator.standard_normal, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._generator, name)
        if callable(attribute):
            raise CaptureError(f"mg.jit: random draws by `{name}` cannot be captured yet (only `random` and "
                               f"`standard_normal`), at {_user_line()}")
        return attribute
