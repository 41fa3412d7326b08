"""``mg.jit``: capture a whole training step once, replay it fast.

    step = mg.jit(train_step)        # train_step(x, y) runs forward, backward(), opt.step(), zero_grad()
    for x, y in loader:
        loss = step(x, y)            # call 1: eager; call 2: eager while recording; then replays

How it works (docs/jit.md has the whole story):

* **Warm-up.**  The first call for a new input signature runs eagerly and notes which modules
  ran (a global forward pre-hook) and which optimizers stepped (a global step pre-hook).  After
  it, the optimizers have their state (momentum buffers...), so the next call does what every
  later call will do.
* **Trace.**  The second call runs eagerly too, with the inputs and every piece of state
  (parameters, gradients, module buffers, optimizer state) seen as
  :class:`~minigrad.jit.trace.TracedArray` views: each NumPy call is recorded.
* **Program.**  :func:`~minigrad.jit.program.build_program` turns the record into calls on fixed
  arrays, sharing buffers where liveness allows; later calls copy the inputs in, run the calls,
  and copy the returned values out (so a value you keep is never overwritten by a later step).
* **Guards.**  Before each replay: the inputs' shapes, dtypes and devices pick the program (up to
  ``max_programs`` of them: a last partial batch or ``eval()`` gets its own); the modules'
  ``training`` flags, grad mode, each optimizer's hyper-parameters (a scheduler's new ``lr``) and
  parameter lists, and the identity of every state array must be what the trace saw, or the step
  is traced again (after a new eager warm-up where parameters or state arrays changed).
* **CUDA.**  On CUDA arrays the eager step itself is captured into a CUDA Graph
  (:mod:`minigrad.jit.cuda_graph`) and launched with one call.
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy

from .. import random as _random
from ..autograd.grad_mode import GradMode
from ..devices import is_cuda_array
from ..nn.module import Module, register_module_forward_pre_hook
from ..optim.optimizer import Optimizer, register_optimizer_step_pre_hook, thread_scratch
from ..tensor import Tensor, make_tensor
from .program import Program, build_program, join_result, split_result
from .trace import CaptureError, DrawRecorder, Recorder, TracedArray

__all__ = ["CaptureError", "JitFunction", "cuda_graphs_available", "jit"]


@dataclass
class StepParts:
    """What a step touches besides its inputs, learned from its eager warm-up call."""

    modules: list = field(default_factory=list)
    optimizers: list = field(default_factory=list)

    def state_tensors(self) -> list:
        """Every tensor whose array the step may read or change in place, each once."""
        seen: dict = {}

        def add(t: Any) -> None:
            if isinstance(t, Tensor) and id(t) not in seen:
                seen[id(t)] = t

        for module in self.modules:
            for t in module.parameters(recurse=False):
                add(t)
                add(t.grad)
            for t in module.buffers(recurse=False):
                add(t)
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    add(p)
                    add(p.grad)
            for state in opt.state.values():
                for v in state.values():
                    add(v)
        return list(seen.values())


@dataclass
class Guard:
    """What a program assumed besides its input signature; ``broken()`` checks it cheaply."""

    modes: list  # (module, training)
    hyper: list  # (group dict, {name: value} without params, tuple of param ids)
    arrays: list  # (tensor, the array it held)
    grad_enabled: bool
    group_counts: list = field(default_factory=list)  # (optimizer, its number of parameter groups)

    @classmethod
    def of(cls, parts: StepParts) -> "Guard":
        return cls([(m, m.training) for m in parts.modules],
                   [(g, _hyper(g), tuple(id(p) for p in g["params"])) for o in parts.optimizers for g in o.param_groups],
                   [(t, t._data) for t in parts.state_tensors()], GradMode.enabled,
                   [(o, len(o.param_groups)) for o in parts.optimizers])

    def broken(self) -> str | None:
        """None while everything holds; else "settings" (a mode, grad mode or hyper-parameter
        changed: the step itself is the same, a new trace suffices) or "state" (arrays or
        parameters changed: new state may have to be made by an eager step first)."""
        for t, a in self.arrays:
            if t._data is not a:
                return "state"
        for o, n in self.group_counts:
            if len(o.param_groups) != n:
                return "state"
        settings = GradMode.enabled != self.grad_enabled
        for m, training in self.modes:
            settings = settings or m.training != training
        for group, hyper, ids in self.hyper:
            if tuple(id(p) for p in group["params"]) != ids:
                return "state"
            settings = settings or _hyper(group) != hyper
        return "settings" if settings else None


def _hyper(group: dict) -> dict:
    return {k: v for k, v in group.items() if k != "params"}


@dataclass
class Entry:
    """One input signature's state: warm-up done, and its program with its guard."""

    parts: StepParts | None = None
    program: Program | None = None
    guard: Guard | None = None
    eager_calls: int = 0
    replays: int = 0
    cuda: Any = None  # a CudaGraphStep between its warm-up and its capture


class JitFunction:
    """A step function under ``mg.jit`` (see the module text); call it as the function itself."""

    def __init__(self, fn: Callable, max_programs: int = 8, warmup: int = 1) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.max_programs = max_programs
        self.warmup = warmup
        self.entries: OrderedDict = OrderedDict()
        self.traces = 0  # how many times a step was traced (re-traces included)

    def __call__(self, *args: Any) -> Any:
        key = _signature(args, self.fn)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = Entry()
            while len(self.entries) > self.max_programs:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(key)
        if entry.program is not None:
            broken = entry.guard.broken()
            if broken is None:
                entry.replays += 1
                outputs = entry.program.run([a._data for a in args])
                return _outputs_as_tensors(entry.program.output_structure, outputs)
            entry.program = None  # something the trace assumed changed: trace again
            if broken == "state":
                entry.eager_calls = 0  # warm up first: new parameters need their optimizer state
        if entry.eager_calls < self.warmup:
            entry.eager_calls += 1
            entry.parts, result = self._warm_up(args)
            return _detached(result)
        if key and key[0][2] is not numpy.ndarray:  # CUDA arrays: a CUDA Graph of the eager step
            return self._capture_cuda_graph(entry, args)
        entry.program, result = self._trace(args, entry.parts)
        entry.guard = Guard.of(entry.parts)
        self.traces += 1
        return result

    def _capture_cuda_graph(self, entry: Entry, args: tuple) -> Any:
        from .cuda_graph import CudaGraphStep
        if entry.cuda is None:  # one eager step on the graph's own pool and stream, then capture
            entry.cuda = CudaGraphStep(args)
            return _detached(entry.cuda.warm(self.fn, args))
        graph, entry.cuda = entry.cuda, None
        outputs = graph.capture(self.fn, args)
        entry.program, entry.guard = graph, Guard.of(entry.parts)
        self.traces += 1
        return _outputs_as_tensors(graph.output_structure, outputs)

    def draw(self, path: Any, format: str | None = None) -> Any:
        """Picture of the most recently used CPU program (svg, png, pdf or dot; see
        :mod:`minigrad.jit.picture`); returns the path written."""
        from .picture import draw_program
        for entry in reversed(self.entries.values()):
            if isinstance(entry.program, Program):
                return draw_program(entry.program, path, format)
        raise RuntimeError("mg.jit: nothing captured on the CPU yet to draw (a step is captured on its second call)")

    # -- the eager calls ---------------------------------------------------------------------
    def _warm_up(self, args: tuple) -> tuple:
        parts = StepParts()
        seen_modules: set = set()
        seen_optimizers: set = set()

        def saw_module(module: Module, inputs: tuple) -> None:
            if id(module) not in seen_modules:
                seen_modules.add(id(module))
                parts.modules.append(module)

        def saw_optimizer(opt: Optimizer, a: tuple, k: dict) -> None:
            if id(opt) not in seen_optimizers:
                seen_optimizers.add(id(opt))
                parts.optimizers.append(opt)

        with register_module_forward_pre_hook(saw_module), register_optimizer_step_pre_hook(saw_optimizer):
            result = self.fn(*args)
        return parts, result

    def _trace(self, args: tuple, parts: StepParts) -> tuple:
        if any(is_cuda_array(t._data) for t in parts.state_tensors()):
            raise CaptureError("mg.jit: the step's inputs are on the CPU but its model or optimizer state is on "
                               "CUDA; move the inputs with .to('cuda')")
        recorder = Recorder()
        state = parts.state_tensors()
        numbers_before = _state_numbers(parts)
        before = [t._data.copy() for t in state]  # to check the program against this very step
        swapped = []
        for t in state:
            traced = recorder.trace_state(t._data, "state")
            swapped.append((t, t._data, traced))
            t._data = traced
        scratch = thread_scratch()  # the fast optimizer forms' work arrays: traced like state
        scratch_before = (scratch.flat, scratch.shaped)
        scratch.flat = {dt: [recorder.trace_state(f, "external") for f in flats] for dt, flats in scratch.flat.items()}
        scratch.shaped = {k: tuple(recorder.trace_state(v, "external") for v in views)
                          for k, views in scratch.shaped.items()}
        traced_args, input_values = [], []
        for a in args:
            if not isinstance(a, Tensor):
                raise TypeError(f"mg.jit: the step's arguments must be tensors, got {type(a).__name__}")
            private = numpy.array(a._data, copy=True, order="K")  # the input's static buffer
            traced = recorder.trace_state(private, "input")
            input_values.append(traced._value)
            traced_args.append(make_tensor(traced, a._requires_grad, None))
        previous = _random.set_draw_wrapper(lambda gen: DrawRecorder(gen, recorder))
        try:
            result = self.fn(*traced_args)
        finally:
            _random.set_draw_wrapper(previous)
            recorder.active = False
            scratch.flat, scratch.shaped = scratch_before
            for t, original, traced in swapped:
                if t._data is not traced:
                    raise CaptureError(f"mg.jit: the step replaced the array of a tensor of shape {tuple(original.shape)} "
                                       "instead of changing it in place; a replay could not follow")
                t._data = original
        changed = [(name, before, after) for name, before, after in zip(*numbers_before, _state_numbers(parts)[1])
                   if before != after]
        if changed:
            name, before, after = changed[0]
            raise CaptureError(f"mg.jit: {name} changed from {before!r} to {after!r} during the step; it is a "
                               "Python number, which a replay would not change (and the numbers computed from it "
                               "would stay those of the captured step). Adam and AdamW take capturable=True, "
                               "which keeps the step count in an array; SGD has no step count")
        held = set()
        for t in state:  # a gradient made during the step: the tensor keeps the array, now a plain one
            if t.grad is not None and type(t.grad._data) is TracedArray:
                value = recorder.values[t.grad._data._value]
                held.add(value.storage)
                t.grad._data = value.array
        structure, output_values, outputs = _flatten_outputs(result, recorder)
        program = build_program(recorder, input_values, output_values, held, recorder.restores)
        program.output_structure = structure
        outputs = [o.copy() for o in outputs]
        _check_program(program, state, before, [a._data for a in args], outputs, recorder)
        return program, _outputs_as_tensors(structure, outputs)


def _check_program(program: Program, state: list, before: list, inputs: list, outputs: list,
                   recorder: Recorder) -> None:
    """Run the new program once from the state the traced step started from and demand the same
    state and outputs, bit for bit.  This catches what the trace cannot see: an array changed by
    NumPy calls that involve no traced array (those run once, at trace time, and never again).
    Afterwards the state is the traced step's, as if it had run once."""
    after = [t._data.copy() for t in state]
    for t, b in zip(state, before):
        numpy.copyto(t._data, b)
    for generator, generator_state in recorder.generator_states.values():
        generator.bit_generator.state = generator_state
    replayed = program.run(inputs)
    bad = [t for t, a in zip(state, after) if not numpy.array_equal(t._data, a, equal_nan=True)]
    bad_outputs = [i for i, (r, o) in enumerate(zip(replayed, outputs)) if not numpy.array_equal(r, o, equal_nan=True)]
    if bad or bad_outputs:
        for t, a in zip(state, after):
            numpy.copyto(t._data, a)
        what = (f"a tensor of shape {tuple(bad[0].shape)} ({len(bad)} of the step's state tensors)" if bad
                else f"returned value {bad_outputs[0]}")
        raise CaptureError(f"mg.jit: the captured program does not reproduce the step: {what} came out "
                           "different. Some array was changed by NumPy calls on arrays the trace does not see "
                           "(made inside the step from shapes alone, or held outside the model and optimizers); "
                           "run this step without mg.jit")


def _state_numbers(parts: StepParts) -> tuple:
    names, numbers = [], []
    for opt in parts.optimizers:
        for i, state in enumerate(opt.state.values()):
            for k, v in state.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    names.append(f"{type(opt).__name__}.state[{i}][{k!r}]")
                    numbers.append(v)
    return names, numbers


def _signature(args: tuple, fn: Callable) -> tuple:
    key = []
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            key.append((d.shape, d.dtype, d.__class__, a._requires_grad))
        else:
            raise TypeError(f"mg.jit({getattr(fn, '__name__', 'fn')}): the step's arguments must be tensors, got "
                            f"{type(a).__name__}")
    return tuple(key)


def _flatten_outputs(result: Any, recorder: Recorder) -> tuple:
    """(structure, value numbers, trace-time arrays) of what the step returned: a tensor, a tuple or
    list of tensors, or None."""
    structure, items = split_result(result)
    for item in items:
        if not isinstance(item, Tensor) or type(item._data) is not TracedArray:
            raise CaptureError("mg.jit: a step must return tensors it computed (or nothing), got "
                               f"{type(item).__name__}")
    return structure, [t._data._value for t in items], [recorder.values[t._data._value].array for t in items]


def _detached(result: Any) -> Any:
    """What an eager call returned, as a replay returns it: detached copies."""
    structure, items = split_result(result)
    return join_result(structure, [make_tensor(t._data.copy(), False, None) for t in items])


def _outputs_as_tensors(structure: Any, arrays: list) -> Any:
    return join_result(structure, [make_tensor(a, False, None) for a in arrays])


def jit(fn: Callable | None = None, *, max_programs: int = 8, warmup: int = 1) -> Any:
    """Capture ``fn`` (a whole training step on tensors) and replay it; usable as ``@mg.jit``.

    ``fn(*tensors)`` may run forward, ``backward()``, ``opt.step()`` and ``zero_grad()`` and return
    tensors (or nothing).  The returned tensors are detached fresh copies at every call (so one
    you keep is never overwritten by a later step).  ``max_programs``
    bounds the programs kept (one per input signature); ``warmup`` is the number of eager calls
    before the trace (at least 1: the optimizers create their state there)."""
    if warmup < 1:
        raise ValueError(f"mg.jit: warmup must be at least 1 (the optimizers make their state in it), got {warmup}")
    if fn is None:
        return lambda f: JitFunction(f, max_programs, warmup)
    return JitFunction(fn, max_programs, warmup)


def cuda_graphs_available() -> bool:
    """True when CuPy with stream capture (CUDA Graphs) is importable and a GPU is present."""
    from .cuda_graph import available
    return available()
