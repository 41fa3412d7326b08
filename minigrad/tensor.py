"""The :class:`Tensor`: an array (NumPy on CPU, CuPy on CUDA) plus its place on the tape.

A tensor produced by a recorded op has ``grad_fn`` set to that op's node; a
tensor made by the user is a *leaf* (``grad_fn is None``), and leaves with
``requires_grad=True`` receive gradients in ``.grad`` after ``backward()``.

Operators and math methods (``+``, ``@``, ``.sum()``, ``.relu()`` ...) are attached
by :mod:`minigrad.ops.methods`, next to the ops themselves.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy

from . import devices
from . import dtypes as _dtypes
from .errors import ShapeError

_ndarray = numpy.ndarray
_new = object.__new__
_engine_backward = _run_backward = None


class VersionCounter:
    """How a tensor's memory has been changed in place, shared by every tensor that views it.

    Ops that save a tensor for their backward need it unchanged when the backward runs; in-place
    ops (``add_``, ``t[i] = v``...) record their change here, and the backward walk refuses a
    node whose saved values were changed after it was recorded (see docs/autograd.md).

    Fields: ``version`` counts the in-place changes; ``last_op`` names the latest (for the error
    message); ``sharers`` is how many tensors share the memory (views, detached copies), which
    decides whether an in-place change may be recorded; ``changed_at`` is the tape position of the
    latest change: a node recorded before it (a smaller ``seq``) saw the old values.
    """

    __slots__ = ("version", "last_op", "sharers", "changed_at")

    def __init__(self) -> None:
        self.version = 0
        self.last_op: str | None = None
        self.sharers = 1
        self.changed_at = -1

    def __repr__(self) -> str:
        return (f"VersionCounter(version={self.version}, last_op={self.last_op!r}, sharers={self.sharers}, "
                f"changed_at={self.changed_at})")


class Tensor:
    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_version_counter", "_hooks", "__weakref__")

    # Make NumPy hand ``ndarray <op> Tensor`` back to the Tensor's reflected operator.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, *, dtype: Any = None, device: Any = None) -> None:
        from .creation import to_array

        self._data = to_array(data, dtype, device)
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._version_counter = None  # made on the first in-place change or view (most tensors never need one)
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    # -- basic properties ---------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    def size(self, dim: int | None = None) -> Any:
        """Shape (PyTorch's ``size()``), or the length of one dim."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> numpy.dtype:
        return self._data.dtype

    @property
    def device(self) -> devices.Device:
        return devices.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return devices.is_cuda_array(self._data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients, but this tensor has dtype "
                f"{self._data.dtype} (shape {self.shape}); convert it with .float() or .double() first"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be turned off on leaf tensors; use .detach() for a non-leaf tensor"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def _version(self) -> int:
        """How many in-place modifications this tensor's memory has seen."""
        return 0 if self._version_counter is None else self._version_counter.version

    @property
    def data(self) -> "Tensor":
        """A detached tensor sharing this one's memory (PyTorch's ``.data``; not tracked)."""
        return make_tensor(self._data, False, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        new = value._data if isinstance(value, Tensor) else devices.from_host(numpy.asarray(value), self.device)
        self._data = new

    # -- conversion -----------------------------------------------------------
    def numpy(self) -> numpy.ndarray:
        """The host array (shares memory).  Errors for CUDA or grad-requiring tensors, as in PyTorch."""
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        if self.is_cuda:
            raise TypeError(f"can't convert {self.device} tensor to numpy; copy it to the host with .cpu() first")
        return self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise ShapeError(f"item() needs a tensor with exactly one element, got shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> numpy.ndarray:
        if self.is_cuda:
            raise TypeError(f"can't convert {self.device} tensor to a NumPy array implicitly; use .cpu() first")
        a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()

    def detach(self) -> "Tensor":
        """Same memory (and version counter), no history, no grad."""
        t = make_tensor(self._data, False, None)
        share_version(t, self)
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    # -- autograd -----------------------------------------------------------
    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see docs/autograd.md)."""
        global _engine_backward, _run_backward
        if _engine_backward is None:  # imported on first use: the engine imports this module
            from .autograd.engine import backward as _engine_backward, run_backward as _run_backward
        if inputs is None:
            _run_backward((self,), None if gradient is None else (gradient,),
                          create_graph if retain_graph is None else retain_graph, create_graph)
        else:
            _engine_backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> "_RemovableHandle":
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
                self.grad_fn.rare = True
            hooks = self.grad_fn.hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that doesn't require grad")
        if self.grad_fn is not None:
            import weakref

            self.grad_fn.retain = weakref.ref(self)
            self.grad_fn.rare = True

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self.grad_fn.retain is not None and self.grad_fn.retain() is self

    # -- devices and dtypes ----------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``; differentiable."""
        dev, dtype = parse_to_args(args, kwargs, "to()")
        from .ops.conversion import cast, to_device

        out = self
        if dev is not None:
            out = to_device(out, devices.device(dev))
        if dtype is not None:
            out = cast(out, _dtypes.as_dtype(dtype))
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Tensor":
        return self.to(device if device is not None else "cuda")

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(_dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(_dtypes.float64)

    def half(self) -> "Tensor":
        return self.to(_dtypes.float16)

    def long(self) -> "Tensor":
        return self.to(_dtypes.int64)

    def int(self) -> "Tensor":
        return self.to(_dtypes.int32)

    def bool(self) -> "Tensor":
        return self.to(_dtypes.bool_)

    _TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
                   "int8": "CharTensor", "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor",
                   "int64": "LongTensor", "bool": "BoolTensor"}

    def type(self, dtype: Any = None) -> Any:
        """``type()``: this tensor's type name, PyTorch's with ``minigrad`` for ``torch``
        (``'minigrad.FloatTensor'``, ``'minigrad.cuda.LongTensor'``).  ``type(dtype)``: a copy
        converted to ``dtype`` (a dtype or such a name), as ``to(dtype)``."""
        if dtype is None:
            name = Tensor._TYPE_NAMES.get(str(self._data.dtype), f"{self._data.dtype}Tensor")
            return f"minigrad.{'cuda.' if self.device.type == 'cuda' else ''}{name}"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            by_name = {v: k for k, v in Tensor._TYPE_NAMES.items()}
            short = dtype.rsplit(".", 1)[-1]
            if short not in by_name:
                raise ValueError(f"type(): unknown tensor type {dtype!r}")
            dtype = by_name[short]
        return self.to(_dtypes.as_dtype(dtype))

    # -- Python protocol ------------------------------------------------------
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements (shape {self.shape}) is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        a = self._data
        host = a.get() if devices.is_cuda_array(a) else a
        body = numpy.array2string(host, separator=", ", prefix="tensor(", precision=4, threshold=1000)
        extras = []
        if self.is_cuda:
            extras.append(f"device='{self.device}'")
        default_kind = {"f": _dtypes.get_default_dtype(), "i": _dtypes.int64, "b": _dtypes.bool_}
        if a.dtype != default_kind.get(a.dtype.kind) or a.size == 0:
            extras.append(f"dtype={a.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def parse_to_args(args: tuple, kwargs: dict, name: str) -> tuple:
    """(device or None, dtype or None) from PyTorch's ``to(...)`` spellings: a device, a dtype,
    both, another tensor, or ``device=`` / ``dtype=`` keywords."""
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"{name} got unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif isinstance(a, (str, devices.Device)):
            dev = a
        else:
            dtype = a
    return dev, dtype


def version_counter(t: Tensor) -> VersionCounter:
    """``t``'s :class:`VersionCounter` (made on first use)."""
    if t._version_counter is None:
        t._version_counter = VersionCounter()
    return t._version_counter


def share_version(view: Tensor, base: Tensor) -> None:
    """Record that ``view`` shares ``base``'s memory: one version counter for both, so an in-place
    change through either is seen by both."""
    counter = version_counter(base)
    counter.sharers += 1
    view._version_counter = counter


def make_tensor(data: Any, requires_grad: bool, grad_fn: Any) -> Tensor:
    """Fast internal constructor: wrap an array (no copies, no checks)."""
    if data.__class__ is not _ndarray and not devices.is_cuda_array(data):
        data = numpy.asarray(data)  # a NumPy scalar (what full reductions return) or a Python number
    t = _new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._version_counter = None
    t._hooks = None
    return t


class _RemovableHandle:
    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
