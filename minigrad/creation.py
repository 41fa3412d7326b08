"""Making tensors: ``tensor``, ``zeros``, ``randn``, ... (``device=`` and ``dtype=`` everywhere).

dtype rules follow PyTorch: Python floats become float32 (the default float
dtype), Python ints int64, bools bool; an existing array keeps its dtype.
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy

from . import devices
from . import dtypes as _dtypes
from . import random as _random
from .ops.helpers import parse_size
from .tensor import Tensor, make_tensor


def to_array(data: Any, dtype: Any, device: Any) -> Any:
    dev = None if device is None else devices.device(device)
    dt = None if dtype is None else _dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._data
    if devices.is_cuda_array(data) or isinstance(data, numpy.ndarray) or isinstance(data, numpy.generic):
        arr = data
        if dt is not None and arr.dtype != dt:
            arr = arr.astype(dt)
        if dev is not None:
            arr = devices.move(arr, dev)
        return devices.array_module(arr).array(arr, copy=True) if arr is data else arr
    if hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
        return to_array(from_dlpack(data)._data, dtype, device)
    try:
        arr = numpy.asarray(data, dtype=dt)
    except (ValueError, TypeError) as e:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {e}") from None
    if dt is None and arr.dtype.kind == "f" and not isinstance(_first_leaf(data), numpy.generic):
        arr = arr.astype(_dtypes.get_default_dtype(), copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"cannot make a tensor of dtype {arr.dtype} (from {type(data).__name__})")
    return arr if dev is None else devices.from_host(arr, dev)


def _first_leaf(data: Any) -> Any:
    """First scalar of a nested list (NumPy scalars keep their dtype, as in PyTorch)."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (nested lists, numbers, arrays, tensors)."""
    t = make_tensor(to_array(data, dtype, device), False, None)
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like :func:`tensor`, but shares memory with ``data`` where it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, numpy.ndarray) and dtype is None and device in (None, "cpu"):
        return make_tensor(data, False, None)
    return tensor(data, dtype, device)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``array`` (dtype kept)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return make_tensor(array, False, None)


def from_dlpack(obj: Any) -> Tensor:
    """Zero-copy import from any DLPack producer (NumPy, CuPy, PyTorch...)."""
    dev_type, _ = obj.__dlpack_device__()
    if int(dev_type) == 1:  # kDLCPU
        return make_tensor(numpy.from_dlpack(obj), False, None)
    return make_tensor(devices.cupy_module().from_dlpack(obj), False, None)


def _filled(size: tuple, fill: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    dt = _dtypes.as_dtype(dtype)
    dev = devices.device(device)
    xp = numpy if dev.type == "cpu" else devices.cupy_module()
    if dev.type == "cpu":
        arr = numpy.full(size, fill, dtype=dt)
    else:
        with devices.cuda_device(dev):
            arr = xp.full(size, fill, dtype=dt)
    t = make_tensor(arr, False, None)
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(parse_size(size), 0, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(parse_size(size), 1, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = (_dtypes.bool_ if isinstance(fill_value, bool) else
                 _dtypes.int64 if isinstance(fill_value, int) else None)
    return _filled(parse_size((size,) if isinstance(size, int) else tuple(size)), fill_value, dtype, device,
                   requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple:
    return t.shape, (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt, dev = _like(t, dtype, device)
    return zeros(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt, dev = _like(t, dtype, device)
    return ones(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dt, dev = _like(t, dtype, device)
    return full(shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values start, start+step, ... below end.  int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = _dtypes.int64 if ints else _dtypes.get_default_dtype()
    arr = numpy.arange(start, end, step, dtype=_dtypes.as_dtype(dtype))
    return tensor(arr, device=device, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included), shape (steps,);
    the default float dtype unless ``dtype`` is given.

    An integer dtype follows PyTorch: ``start`` and ``end`` are first truncated toward zero to
    integers a and b, then value i is a + i·s (first half) or b - (steps-1-i)·s (second half),
    s = (b - a)/(steps - 1) in float64, truncated toward zero (so linspace(-1, 1, 4) is
    [-1, 0, 0, 1]).  bool is refused, as in PyTorch."""
    dt = _dtypes.as_dtype(dtype)
    n = int(steps)
    if n < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    if dt.kind == "b":
        raise NotImplementedError("linspace: dtype bool is not supported (as in PyTorch); make an integer or "
                                  "float linspace and compare it")
    if dt.kind not in "iu":
        return tensor(numpy.linspace(start, end, n, dtype=dt), device=device, requires_grad=requires_grad)
    a, b = int(start), int(end)  # int() truncates toward zero
    info = numpy.iinfo(dt)
    if not (info.min <= a <= info.max and info.min <= b <= info.max):
        raise RuntimeError(f"linspace: start {start} and end {end} must fit dtype {dt} "
                           f"(range [{info.min}, {info.max}])")
    if n <= 1:
        return tensor(numpy.full(n, a, dtype=dt), device=device, requires_grad=requires_grad)
    i = numpy.arange(n, dtype=numpy.float64)
    s = (float(b) - float(a)) / (n - 1)
    values = numpy.where(i < n // 2, a + s * i, b - s * (n - 1 - i))
    # float64 has no room for every int64: keep rounded values inside the dtype, and the ends exact.
    values = numpy.clip(values, float(info.min), numpy.nextafter(float(info.max) + 1, 0))
    arr = numpy.trunc(values).astype(dt)
    arr[0], arr[-1] = a, b
    return tensor(arr, device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    arr = numpy.eye(n, m, dtype=_dtypes.as_dtype(dtype))
    return tensor(arr, device=device, requires_grad=requires_grad)


def _random_tensor(draw: str, size: tuple, dtype: Any, device: Any, requires_grad: bool, generator: Any = None,
                   **kw: Any) -> Tensor:
    dev = devices.device(device if device is not None else getattr(generator, "device", None))
    dt = _dtypes.as_dtype(dtype)
    if draw != "int" and dt.kind != "f":
        raise TypeError(f"{'rand' if draw == 'uniform' else 'randn'} needs a floating point dtype, got {dt}")
    with contextlib.nullcontext() if dev.type == "cpu" else devices.cuda_device(dev):  # CuPy draws on the current GPU
        arr = _draw(_random.engine_of(generator, dev), draw, size, dt, **kw)
    t = make_tensor(arr, False, None)
    if requires_grad:
        t.requires_grad = True
    return t


def _draw(gen: Any, draw: str, size: tuple, dt: Any, **kw: Any) -> Any:
    if draw == "uniform":
        return gen.random(size, dtype=dt) if dt.itemsize >= 4 else gen.random(size).astype(dt)
    if draw == "normal":
        return gen.standard_normal(size, dtype=dt) if dt.itemsize >= 4 else gen.standard_normal(size).astype(dt)
    return gen.integers(kw["low"], kw["high"], size=size, dtype=dt)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1); drawn from ``generator`` (a :class:`minigrad.Generator`) if given, else
    from the device's global stream."""
    return _random_tensor("uniform", parse_size(size), dtype, device, requires_grad, generator)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal; drawn from ``generator`` if given, else from the device's global stream."""
    return _random_tensor("normal", parse_size(size), dtype, device, requires_grad, generator)


def randint(low: int, high: int | None = None, size: Any = (), *, generator: Any = None, dtype: Any = None,
            device: Any = None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size=...)`` also works); int64 by default."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be larger than low ({low})")
    dt = _dtypes.int64 if dtype is None else dtype
    return _random_tensor("int", parse_size((size,) if isinstance(size, int) else tuple(size)), dt, device, False,
                          generator, low=low, high=high)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None) -> Tensor:
    shape, dt, dev = _like(t, dtype, device)
    return rand(shape, dtype=dt, device=dev)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None) -> Tensor:
    shape, dt, dev = _like(t, dtype, device)
    return randn(shape, dtype=dt, device=dev)


def randperm(n: int, *, generator: Any = None, device: Any = None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    dev = devices.device(device if device is not None else getattr(generator, "device", None))
    if dev.type == "cpu":
        return make_tensor(_random.engine_of(generator, dev).permutation(n).astype("int64"), False, None)
    with devices.cuda_device(dev):
        # CuPy's Generator has no permutation(): the order that sorts n uniform draws is a
        # uniformly random permutation (ties among float64 draws are vanishingly rare).
        return make_tensor(_random.engine_of(generator, dev).random(n).argsort().astype("int64"), False, None)
