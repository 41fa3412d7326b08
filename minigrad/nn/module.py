"""``Module``: the base class of layers and models.

A module owns three kinds of named state, registered by attribute assignment:

* parameters (:class:`Parameter`): trained, returned by ``parameters()``;
* buffers (tensors given to ``register_buffer``): saved in ``state_dict`` but not
  trained, e.g. BatchNorm's running statistics;
* sub-modules: assigning a Module nests it, and every recursive method
  (``parameters``, ``state_dict``, ``train``, ``to``...) walks into it.

Calling a module, ``m(x)``, runs ``m.forward(x)`` between its forward hooks, if it has any
(``register_forward_pre_hook``, ``register_forward_hook``): functions that see, and may
replace, the arguments going in and the output coming out, as PyTorch's do.

Registered values also live in the instance ``__dict__``, so reading ``self.weight``
in ``forward`` is a plain attribute lookup: Module defines no ``__getattr__``, which keeps
the interpreter's fast path for attribute reads on modules.
State-dict keys are dotted paths (``"0.weight"``, ``"encoder.bn.running_mean"``),
the same names PyTorch uses for the same architecture.
"""
from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from .. import devices
from .. import dtypes as _dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, parse_to_args
from .parameter import Parameter


# Bumped by every change to any module's parameters, buffers or sub-modules: a module's cached
# list of descendants (``_walk``) is valid while this has not moved.
_structure_version = [0]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class: subclass it, create layers in ``__init__``, compute in ``forward``.

    Calling the module (``m(x)``) runs ``forward(x)``, with the module's forward hooks
    around it.
    """

    training: bool
    # Empty, read-only hook tables for an instance whose __init__ skipped Module.__init__
    # (which gives each module its own); registering a hook on it is then a clear error.
    _forward_pre_hooks: Mapping = MappingProxyType({})
    _forward_hooks: Mapping = MappingProxyType({})

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()  # handle id -> _Hook, in calling order
        d["_forward_hooks"] = OrderedDict()

    # -- computing -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); subclasses of Module must define it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``m(x)``: run the forward pre-hooks, ``forward``, then the forward hooks.

        A module without hooks (the usual case) just calls ``self.forward(*args, **kwargs)``,
        so a ``forward`` assigned on an instance is the one that runs."""
        if self._forward_pre_hooks or self._forward_hooks or _global_forward_pre_hooks or _global_forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """``__call__`` with hooks, in PyTorch's order: hooks registered for every module
        (``register_module_forward_*hook``) before this module's own, each group in
        registration order (``prepend=True`` puts a hook first in its group).

        A pre-hook may return new positional arguments (a non-tuple is taken as the only
        one), or with ``with_kwargs`` a pair ``(args, kwargs)``; a forward hook may return a
        new output, which the next hook sees.  An exception from a hook or from ``forward``
        propagates; on its way out, forward hooks registered with ``always_call=True`` that
        have not run yet are called with the output so far (None if ``forward`` did not
        return), and an exception they raise then becomes a warning."""
        output = None
        done = set()  # ids of always_call hooks that have run
        try:
            for hook in (*_global_forward_pre_hooks.values(), *self._forward_pre_hooks.values()):
                args, kwargs = hook.run_before(self, args, kwargs)
            output = self.forward(*args, **kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if hook.always_call:
                    done.add(hook_id)
                output = hook.run_after(self, args, kwargs, output)
            return output
        except Exception:
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if hook.always_call and hook_id not in done:
                    try:
                        output = hook.run_after(self, args, kwargs, output)
                    except Exception as e:
                        warnings.warn(f"a forward hook of {type(self).__name__} registered with always_call=True "
                                      f"raised {type(e).__name__}: {e} while another error was propagating; "
                                      "it is ignored", stacklevel=3)
            raise

    # -- hooks -----------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> "RemovableHandle":
        """Call ``hook(module, args)`` before each ``forward`` (``hook(module, args, kwargs)`` with
        ``with_kwargs``).  Returning None keeps the arguments; returning a value replaces them
        (see ``_call_with_hooks``).  ``prepend`` runs it before this module's other pre-hooks.
        Returns a handle whose ``remove()`` unregisters it.  Hooks are not part of ``state_dict``."""
        table = self._hook_table("_forward_pre_hooks", "register_forward_pre_hook")
        return _add_hook(table, hook, prepend, with_kwargs, False, "register_forward_pre_hook")

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> "RemovableHandle":
        """Call ``hook(module, args, output)`` after each ``forward`` (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); ``args`` are the ones ``forward`` received, after the
        pre-hooks.  Returning None keeps the output; returning a value replaces it.  ``prepend``
        runs it before this module's other forward hooks; ``always_call`` runs it also when a
        hook or ``forward`` raises.  Returns a handle whose ``remove()`` unregisters it."""
        table = self._hook_table("_forward_hooks", "register_forward_hook")
        return _add_hook(table, hook, prepend, with_kwargs, always_call, "register_forward_hook")

    def _hook_table(self, name: str, where: str) -> OrderedDict:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"{where}: {type(self).__name__} has no hook tables because Module.__init__() "
                                 f"was not called; call super().__init__() first in {type(self).__name__}.__init__"
                                 ) from None

    # -- registration ------------------------------------------------------------
    def _registries(self, name: str) -> dict:
        try:
            return self.__dict__["_parameters"]
        except KeyError:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() was called; call super().__init__() first "
                f"in {type(self).__name__}.__init__"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" in d and (isinstance(value, (Parameter, Module)) or name in d["_parameters"]
                                   or name in d["_modules"] or name in d["_buffers"]):
            _structure_version[0] += 1
        if isinstance(value, Parameter):
            self._registries(name)
            if name not in d["_parameters"]:  # replacing keeps the position (and state-dict order)
                self._forget(name)
            d["_parameters"][name] = value
            d[name] = value
        elif isinstance(value, Module):
            self._registries(name)
            if name not in d["_modules"]:
                self._forget(name)
            d["_modules"][name] = value
            d[name] = value
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter {name!r} of {type(self).__name__} "
                    "(a Parameter or None is expected); wrap it: nn.Parameter(value)"
                )
            d["_parameters"][name] = None
            d[name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to sub-module {name!r} of {type(self).__name__} "
                    "(a Module or None is expected)"
                )
            d["_modules"][name] = None
            d[name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to buffer {name!r} of {type(self).__name__} "
                    "(a Tensor or None is expected)"
                )
            d["_buffers"][name] = value
            d[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        _structure_version[0] += 1
        d = self.__dict__
        d.pop(name, None)
        d["_parameters"].pop(name, None)
        d["_buffers"].pop(name, None)
        d["_modules"].pop(name, None)
        d["_non_persistent"].discard(name)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d.get("_parameters", ()) or name in d.get("_buffers", ()) or name in d.get("_modules", ()):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _check_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name {name!r} must be non-empty and contain no '.'")
        d = self.__dict__
        if name in d and name not in d["_parameters"] and name not in d["_buffers"] and name not in d["_modules"]:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        if hasattr(type(self), name):
            raise KeyError(f"{name!r} is a method or class attribute of {type(self).__name__}; pick another name")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder, e.g. a disabled bias)."""
        self._registries(name)
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, got {type(param).__name__}")
        self._forget(name)
        self.__dict__["_parameters"][name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is saved (when ``persistent``) and moved by ``to()``, not trained."""
        self._registries(name)
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self.__dict__["_buffers"][name] = tensor
        self.__dict__[name] = tensor
        if not persistent:
            self.__dict__["_non_persistent"].add(name)

    def register_module(self, name: str, module: "Module | None") -> None:
        self._registries(name)
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"register_module({name!r}): expected a Module or None, got {type(module).__name__}")
        self._forget(name)
        self.__dict__["_modules"][name] = module
        self.__dict__[name] = module

    add_module = register_module

    # -- walking the tree ------------------------------------------------------
    def named_modules(self, prefix: str = "", memo: set | None = None) -> Iterator[tuple]:
        """(dotted name, module) for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(prefix + ("." if prefix else "") + name, memo)

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, each once, in the order of ``named_modules``."""
        return iter(list(self._walk()))

    def _walk(self) -> list:
        """This module and its descendants (pre-order, each once), cached until the structure of
        any module changes: parameters() and zero_grad() run every training step."""
        cached = self.__dict__.get("_walk_cache")
        if cached is not None and cached[0] == _structure_version[0]:
            return cached[1]
        out = []
        seen = set()
        stack = [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            subs = m._modules
            if subs:
                stack.extend(c for c in reversed(subs.values()) if c is not None)
        self.__dict__["_walk_cache"] = (_structure_version[0], out)
        return out

    def named_children(self) -> Iterator[tuple]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        seen = set()
        walk = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in walk:
            for name, v in m.__dict__[registry].items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, parameter) pairs; a parameter shared by two modules appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order."""
        seen = set()
        for m in self._walk() if recurse else (self,):
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every sub-module (children first), then on this module; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes -------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, batch statistics) for this module and all descendants."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for m in self._walk():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: drop it (default) or fill it with zeros."""
        for m in self._walk():
            for p in m._parameters.values():
                if p is None or p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None or p.grad._requires_grad:
                        p.grad = p.grad.detach()
                    with no_grad():
                        p.grad.zero_()

    # -- devices and dtypes --------------------------------------------------------
    def _convert(self, fn: Callable[[Any], Any]) -> "Module":
        """Replace the array of every parameter, gradient and buffer by ``fn(array)``, in place."""
        done = set()
        for m in self.modules():
            for registry in ("_parameters", "_buffers"):
                for t in m.__dict__[registry].values():
                    if t is None or id(t) in done:
                        continue
                    done.add(id(t))
                    t._data = fn(t._data)
                    if t.grad is not None:
                        t.grad._data = fn(t.grad._data)
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``: moves/casts parameters and buffers
        in place (the Parameter objects stay the same, so optimizers keep working) and returns self.
        A dtype applies to floating-point tensors only (integer buffers such as counters keep theirs).
        """
        dev, dtype = parse_to_args(args, kwargs, "Module.to()")
        if dev is not None:
            target = devices.device(dev)
            self._convert(lambda arr: devices.move(arr, target))
        if dtype is not None:
            dt = _dtypes.as_dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Module.to() only accepts floating point dtypes, got {dt}")
            self._convert(lambda arr: arr.astype(dt) if arr.dtype.kind == "f" and arr.dtype != dt else arr)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Module":
        return self.to("cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))

    def float(self) -> "Module":
        return self.to(_dtypes.float32)

    def double(self) -> "Module":
        return self.to(_dtypes.float64)

    def half(self) -> "Module":
        return self.to(_dtypes.float16)

    # -- state dicts ---------------------------------------------------------------
    def _state_items(self, prefix: str = "") -> Iterator[tuple]:
        """(key, tensor) of every parameter and persistent buffer, in registration order.

        Like PyTorch, a module or parameter reachable by two paths appears under both keys."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield prefix + name, b
        for name, m in self._modules.items():
            if m is not None:
                yield from m._state_items(prefix + name + ".")

    def state_dict(self, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict":
        """Every parameter and persistent buffer by dotted name.

        Values are detached tensors sharing memory with the module's (``keep_vars=True`` gives
        the Parameter objects themselves).  Keys and shapes match PyTorch's for the same layers.
        """
        out = OrderedDict() if destination is None else destination
        for key, t in self._state_items(prefix):
            out[key] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Values may be minigrad tensors, NumPy arrays or anything ``mg.tensor`` accepts (a PyTorch
        tensor too); they are cast to each destination's dtype and device.  With ``strict`` every key
        must match; a shape mismatch is always an error.  Nothing is modified when an error is raised.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to tensors, got {type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        sources = {}
        for key, dest in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            if not isinstance(src, Tensor):
                try:
                    src = Tensor(src)
                except TypeError as e:
                    raise TypeError(f"load_state_dict: value for {key!r} is not a tensor ({e})") from None
            if tuple(src.shape) != tuple(dest.shape):
                mismatched.append(f"{key}: checkpoint has shape {tuple(src.shape)}, the module has "
                                  f"{tuple(dest.shape)}")
            sources[key] = src
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(f"error loading state dict into {type(self).__name__}: " + "; ".join(problems))
        with no_grad():
            for key, src in sources.items():
                own[key].copy_(src)
        return IncompatibleKeys(missing, unexpected)

    # -- printing -------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (layers override it with their settings)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


class _Hook(NamedTuple):
    """A registered forward (pre-)hook and how to call it."""

    fn: Callable[..., Any]
    with_kwargs: bool
    always_call: bool

    def run_before(self, module: Module, args: tuple, kwargs: dict) -> tuple:
        """Call a pre-hook; returns the (args, kwargs) that ``forward`` will receive."""
        if self.with_kwargs:
            result = self.fn(module, args, kwargs)
            if result is None:
                return args, kwargs
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"a forward pre-hook registered with_kwargs=True must return None or a tuple "
                                   f"(new_args, new_kwargs), got {type(result).__name__}")
            return result
        result = self.fn(module, args)
        if result is None:
            return args, kwargs
        return (result if isinstance(result, tuple) else (result,)), kwargs

    def run_after(self, module: Module, args: tuple, kwargs: dict, output: Any) -> Any:
        """Call a forward hook; returns the output, replaced if the hook returned a value."""
        result = self.fn(module, args, kwargs, output) if self.with_kwargs else self.fn(module, args, output)
        return output if result is None else result


class RemovableHandle:
    """What ``register_forward_pre_hook`` and ``register_forward_hook`` return:
    ``handle.remove()`` unregisters the hook (again is harmless), and ``with handle:``
    removes it when the block ends.  ``handle.id`` is the hook's key in its table."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self._hooks = weakref.ref(hooks)  # a handle does not keep its module's hook table alive

    def remove(self) -> None:
        hooks = self._hooks()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add_hook(table: OrderedDict, hook: Any, prepend: bool, with_kwargs: bool, always_call: bool,
              where: str) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"{where}: the hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(table)
    table[handle.id] = _Hook(hook, bool(with_kwargs), bool(always_call))
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


# Hooks that run on every module's call, before the module's own.
_global_forward_pre_hooks: "OrderedDict[int, _Hook]" = OrderedDict()
_global_forward_hooks: "OrderedDict[int, _Hook]" = OrderedDict()


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call ``hook(module, args)`` before the ``forward`` of every module (as
    ``Module.register_forward_pre_hook``, ahead of each module's own pre-hooks)."""
    return _add_hook(_global_forward_pre_hooks, hook, False, False, False, "register_module_forward_pre_hook")


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Call ``hook(module, args, output)`` after the ``forward`` of every module (as
    ``Module.register_forward_hook``, ahead of each module's own forward hooks)."""
    return _add_hook(_global_forward_hooks, hook, False, with_kwargs, always_call, "register_module_forward_hook")
