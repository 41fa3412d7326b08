"""``Parameter``: a tensor that a :class:`~minigrad.nn.Module` owns and trains.

Assigning a Parameter to a module attribute registers it, so it shows up in
``parameters()`` and ``state_dict()``.  It is an ordinary leaf tensor otherwise:
ops on it return plain :class:`~minigrad.Tensor` results.
"""
from __future__ import annotations

from typing import Any

from .. import devices
from ..tensor import Tensor, make_tensor

# Every storage slot of Tensor (whatever the core currently declares), so a Parameter
# can take over a tensor's fields without knowing them one by one.
_FIELDS = tuple(s for s in Tensor.__slots__ if s != "__weakref__")


def _is_array(x: Any) -> bool:
    return hasattr(x, "__array_interface__") or devices.is_cuda_array(x)


class Parameter(Tensor):
    """A trainable leaf tensor, ``requires_grad=True`` unless told otherwise.

    ``Parameter(t)`` shares memory with the tensor ``t``; ``Parameter(array)`` wraps a
    NumPy/CuPy array without copying it; anything else (lists, numbers) is copied.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if isinstance(data, Tensor):
            arr = data._data
        elif _is_array(data) and not isinstance(data, (list, tuple)) and getattr(data, "ndim", None) is not None:
            arr = data
        else:
            from ..creation import to_array

            arr = to_array(data, None, None)
        template = make_tensor(arr, False, None)
        for name in _FIELDS:
            object.__setattr__(self, name, getattr(template, name))
        if requires_grad:
            self.requires_grad = True

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
