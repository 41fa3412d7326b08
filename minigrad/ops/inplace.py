"""In-place ops (``add_``, ``t[idx] = v`` ...) and the version counter that keeps them safe.

Every in-place op bumps the tensor's version and stamps its counter with the tape position of
that moment (:func:`bump_version`).  A node whose saved tensor was stamped after the node was
recorded saw a value that is gone: backward raises instead of computing a wrong gradient
(PyTorch's rule).

* Outside recording (``no_grad``, or nothing requires grad) the array is modified
  in place: the optimizer path, no copies.
* While recording, the op is applied out of place and the tensor takes the result
  and its history (the old value stays alive for the ops that saved it).
  A leaf that requires grad cannot be modified this way, as in PyTorch.
"""
from __future__ import annotations

from typing import Any, Callable

from ..devices import array_module, is_read_only
from ..autograd.function import tape
from ..autograd.grad_mode import GradMode
from ..tensor import Tensor, make_tensor, version_counter
from .helpers import data_of


def bump_versions(ts: Any, op: str) -> None:
    """Record that ``op`` changed the tensors ``ts`` in place: each one's version goes up, and all
    are stamped with the tape position of this moment (nodes recorded before saw the old values)."""
    stamp = tape.last_inplace_change = next(tape.positions)
    for t in ts:
        counter = version_counter(t)
        counter.version += 1
        counter.last_op = op
        counter.changed_at = stamp


def bump_version(t: Tensor, op: str) -> None:
    """:func:`bump_versions` for one tensor."""
    bump_versions((t,), op)


def _apply_inplace(t: Tensor, op: str, out_of_place: Callable[[Tensor], Tensor],
                   in_place: Callable[[Any], None], operand: Any = None) -> Tensor:
    recording = GradMode.enabled and (t._requires_grad or (isinstance(operand, Tensor) and operand._requires_grad))
    counter = t._version_counter
    if recording:
        if t.grad_fn is None and t._requires_grad:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {t.shape}) is being used in an in-place "
                "operation; do it under mg.no_grad(), or use the out-of-place op"
            )
        if counter is not None and counter.sharers > 1:
            raise RuntimeError(
                f"{op}: this tensor (shape {t.shape}) shares memory with another tensor (it is a view, or has "
                "views or detached copies); changing it in place while gradients are recorded is not supported, "
                "because the other tensor's history would not follow. Use the out-of-place op, or clone() first."
            )
        old = make_tensor(t._data, t._requires_grad, t.grad_fn)  # the value before, with its history
        if counter is not None and t.grad_fn is not None and t.grad_fn.out_version is counter:
            t.grad_fn.out_version = None  # its node keeps the old array, which stays unchanged
        new = out_of_place(old)
        if new._data.dtype != t._data.dtype:
            raise RuntimeError(f"{op}: the result has dtype {new.dtype}, which can't be stored in place in a "
                               f"tensor of dtype {t.dtype}")
        # No other tensor shares t's memory, so taking the new array is the same as writing into the old one.
        t._data, t.grad_fn, t._requires_grad = new._data, new.grad_fn, new._requires_grad
    else:
        if isinstance(operand, Tensor) and operand._data.__class__ is not t._data.__class__:
            raise RuntimeError(f"{op}: tensors on different devices: {t.device} and {operand.device}")
        if is_read_only(t._data):
            raise RuntimeError(f"{op}: this tensor (shape {t.shape}) is a read-only broadcast view; clone() it first")
        try:
            in_place(t._data)
        except TypeError as e:  # NumPy's casting errors, e.g. float into an int tensor
            other = f" and {operand.dtype}" if isinstance(operand, Tensor) else ""
            raise RuntimeError(f"{op}: can't store the result in place in a tensor of dtype {t.dtype}{other}: {e}") \
                from None
    bump_version(t, op)
    return t


def _check_shape(t: Tensor, other: Any, op: str) -> None:
    if isinstance(other, Tensor):
        try:
            shape = array_module(t._data).broadcast_shapes(t.shape, other.shape)
        except ValueError:
            shape = None
        if shape != t.shape:
            raise RuntimeError(f"{op}: a value of shape {other.shape} can't be applied in place to shape {t.shape}")


def add_(t: Tensor, other: Any, alpha: float = 1, _name: str = "add_") -> Tensor:
    _check_shape(t, other, _name)
    o = data_of(other)

    def inplace(a: Any) -> None:
        a += o if alpha == 1 else o * alpha

    return _apply_inplace(t, _name, lambda old: old + (other if alpha == 1 else other * alpha), inplace, other)


def sub_(t: Tensor, other: Any, alpha: float = 1) -> Tensor:
    return add_(t, other, -alpha, _name="sub_")


def mul_(t: Tensor, other: Any) -> Tensor:
    _check_shape(t, other, "mul_")
    o = data_of(other)

    def inplace(a: Any) -> None:
        a *= o

    return _apply_inplace(t, "mul_", lambda old: old * other, inplace, other)


def div_(t: Tensor, other: Any) -> Tensor:
    _check_shape(t, other, "div_")
    o = data_of(other)

    def inplace(a: Any) -> None:
        a /= o

    return _apply_inplace(t, "div_", lambda old: old / other, inplace, other)


def fill_(t: Tensor, value: Any) -> Tensor:
    v = data_of(value)

    def inplace(a: Any) -> None:
        a[...] = v

    return _apply_inplace(t, "fill_", lambda old: old * 0 + value, inplace, value)


def zero_(t: Tensor) -> Tensor:
    return fill_(t, 0)


def copy_(t: Tensor, src: Any) -> Tensor:
    """Copy ``src``'s values into ``t`` (broadcasting; dtype and device of ``t`` kept)."""
    from .conversion import cast, to_device

    if isinstance(src, Tensor):
        _check_shape(t, src, "copy_")
        src = cast(to_device(src, t.device), t.dtype)
    v = data_of(src)

    def inplace(a: Any) -> None:
        a[...] = v

    return _apply_inplace(t, "copy_", lambda old: old * 0 + src, inplace, src)


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:
    from .elementwise import clamp

    def inplace(a: Any) -> None:
        array_module(a).clip(a, min, max, out=a)

    return _apply_inplace(t, "clamp_", lambda old: clamp(old, min, max), inplace)


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``, with PyTorch's indexing rules (see :func:`minigrad.ops.indexing.to_numpy_index`)."""
    from .indexing import _show, index_put, to_numpy_index

    def inplace(a: Any) -> None:
        try:
            a[to_numpy_index(t, index)] = data_of(value)
        except (IndexError, ValueError) as e:
            shape = value.shape if isinstance(value, Tensor) else tuple(getattr(value, "shape", ()))
            raise type(e)(f"cannot assign a value of shape {shape} into a tensor of shape {t.shape} "
                          f"at {_show(index)}: {e}") from None

    if isinstance(value, Tensor) and value._data.__class__ is not t._data.__class__:
        raise RuntimeError(f"setitem: value is on {value.device} but the tensor is on {t.device}")
    _apply_inplace(t, "setitem", lambda old: index_put(old, index, value), inplace, value)
