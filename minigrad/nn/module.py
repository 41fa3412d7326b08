"""``Module``: the base class of layers and models.

A module owns three kinds of named state, registered by attribute assignment:

* parameters (:class:`Parameter`): trained, returned by ``parameters()``;
* buffers (tensors given to ``register_buffer``): saved in ``state_dict`` but not
  trained, e.g. BatchNorm's running statistics;
* sub-modules: assigning a Module nests it, and every recursive method
  (``parameters``, ``state_dict``, ``train``, ``to``...) walks into it.

Registered values also live in the instance ``__dict__``, so reading ``self.weight``
in ``forward`` is a plain attribute lookup: Module defines no ``__getattr__``, which keeps
the interpreter's fast path for attribute reads on modules.
State-dict keys are dotted paths (``"0.weight"``, ``"encoder.bn.running_mean"``),
the same names PyTorch uses for the same architecture.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from .. import _device
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

    Calling the module (``m(x)``) runs ``forward(x)``.
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()

    # -- computing -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); subclasses of Module must define it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # Calling a module is calling its forward.  A subclass that defines ``forward`` (and
    # inherits a ``__call__`` that only dispatches to forward) gets ``__call__ = forward`` itself,
    # so ``m(x)`` costs one Python call instead of two -- in a small MLP the wrapper cost as much
    # as an op.  A hand-written ``__call__`` anywhere above it is kept.
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__ or "forward" not in cls.__dict__:
            return
        parent = super(cls, cls)
        if parent.__call__ is Module.__call__ or parent.__call__ is parent.forward:
            cls.__call__ = cls.__dict__["forward"]

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
            if name == "forward" and type(self).__call__ is type(self).forward:
                # m(x) must now find the instance's forward: switch to a subclass that looks it up.
                object.__setattr__(self, "__class__", _instance_forward_class(type(self)))
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
            target = _device.device(dev)
            self._convert(lambda arr: _device.move(arr, target))
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


_instance_forward_classes: dict = {}


def _instance_forward_class(cls: type) -> type:
    """``cls`` with a ``__call__`` that reads ``self.forward`` (for a forward assigned on an instance)."""
    sub = _instance_forward_classes.get(cls)
    if sub is None:
        def __call__(self: Module, *args: Any, **kwargs: Any) -> Any:
            return self.forward(*args, **kwargs)

        sub = type(cls.__name__, (cls,), {"__call__": __call__, "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        _instance_forward_classes[cls] = sub
    return sub
