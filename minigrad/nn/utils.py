"""Gradient clipping and flat-vector views of parameters."""
from __future__ import annotations

from typing import Iterable

from ..devices import array_module
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, make_tensor


from .clip import clip_grad_norm_, clip_grad_value_  # noqa: E402,F401  (device-side, no host sync)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy, no graph)."""
    arrays = [p._data.reshape(-1) for p in parameters]
    if not arrays:
        raise ValueError("parameters_to_vector: no parameters given")
    return make_tensor(array_module(arrays[0]).concatenate(arrays), False, None)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if not isinstance(vec, Tensor) or vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D tensor of {total} elements, got "
                         f"{getattr(vec, 'shape', type(vec).__name__)}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(make_tensor(vec._data[start:start + n].reshape(p.shape), False, None))
            start += n
