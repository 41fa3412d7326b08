"""``linear``: y = x Wᵀ + b as one tape node (one matrix product each way)."""
from __future__ import annotations

from typing import Any

from ..._device import cached_ones
from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...errors import ShapeError
from ...ops.matmul import matmul
from ...ops.reduction import sum as _sum
from ...ops.shape import reshape, transpose
from ...tensor import Tensor, _make


class LinearFunction(Function):
    """y = x Wᵀ + b for x of shape (*, in), W (out, in), b (out,).

    dx = dy W,   dW = Σ dyᵀ x  (over all leading dims),   db = Σ dy = 1ᵀ dY (dY: dy with its leading dims flattened).

    The backward works on arrays when no graph of the backward is wanted (the common
    case: no per-op bookkeeping at all), and with Tensor ops under ``create_graph=True``
    so higher derivatives stay exact.
    """

    def forward(self, x: Tensor, w: Tensor, b: Any) -> Any:
        a, wa = x._data, w._data
        out = a @ wa.T
        if b is not None:
            out += b._data
        self.saved = (x, w)
        return out

    def backward(self, g: Tensor) -> tuple:
        x, w = self.saved
        nxt = self.next
        if GradMode.enabled:
            return self._backward_graph(g, x, w)
        ga, a, wa = g._data, x._data, w._data
        gx = gw = gb = None
        if ga.ndim != 2:
            ga2 = ga.reshape(-1, ga.shape[-1])
            a2 = a.reshape(-1, a.shape[-1])
        else:
            ga2, a2 = ga, a
        if nxt[0] is not None:
            gx = _make(ga @ wa, False, None)
        if nxt[1] is not None:
            gw = _make(ga2.T @ a2, False, None)
        if nxt[2] is not None:
            gb = _make(cached_ones((len(ga2),), ga2) @ ga2, False, None)  # Σ_n dy_n = 1ᵀ dY
        return gx, gw, gb

    def _backward_graph(self, g: Tensor, x: Tensor, w: Tensor) -> tuple:
        nxt = self.next
        out_f, in_f = w.shape
        g2 = reshape(g, (-1, out_f))
        gx = gw = gb = None
        if nxt[0] is not None:
            gx = matmul(g, w)
        if nxt[1] is not None:
            gw = matmul(transpose(g2, 0, 1), reshape(x, (-1, in_f)))
        if nxt[2] is not None:
            gb = _sum(g2, 0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weightᵀ + bias.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> output (*, out_features).
    """
    # Only the checks NumPy would not do itself are made here (dtypes, which it would promote,
    # and the bias, which it would broadcast); a shape or device mismatch makes the matrix
    # product raise, and either way the error is rewritten below to name what is wrong.
    # (This function runs for every layer of every step: each check costs time.)
    try:
        xa, wa = input._data, weight._data
        dt = wa.dtype
        if wa.ndim == 2 and (xa.dtype is dt or xa.dtype == dt):
            if bias is None:
                return LinearFunction.apply(input, weight, None)
            ba = bias._data
            if ba.ndim == 1 and len(ba) == len(wa) and (ba.dtype is dt or ba.dtype == dt):
                return LinearFunction.apply(input, weight, bias)
    except (AttributeError, ValueError, TypeError) as e:
        raise (_linear_error(input, weight, bias) or e) from None
    raise _linear_error(input, weight, bias) or RuntimeError("linear: invalid arguments")


def _linear_error(input: Any, weight: Any, bias: Any) -> Exception | None:
    """The specific complaint about arguments that linear() cannot use (None: nothing found)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or not (bias is None or isinstance(bias, Tensor)):
        return TypeError(f"linear: expected tensors, got input {type(input).__name__}, weight {type(weight).__name__}"
                         f" and bias {type(bias).__name__}")
    ws, xs = tuple(weight.shape), tuple(input.shape)
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        return ShapeError(f"linear: input of shape {xs} does not fit a weight of shape {ws} "
                          f"(expected input shape (*, {ws[1] if len(ws) == 2 else '?'}) and a 2-D weight)")
    if bias is not None and tuple(bias.shape) != ws[:1]:
        return ShapeError(f"linear: bias must have shape ({ws[0]},), got {tuple(bias.shape)}")
    dtypes = [input.dtype, weight.dtype] + ([bias.dtype] if bias is not None else [])
    if len(set(dtypes)) > 1:
        return TypeError(f"linear: dtypes differ: input {input.dtype}, weight {weight.dtype}"
                         + (f", bias {bias.dtype}" if bias is not None else "")
                         + "; convert the input (x.to(weight.dtype)) or the layer (.to(dtype))")
    devices = {input.device, weight.device} | ({bias.device} if bias is not None else set())
    if len(devices) > 1:
        return RuntimeError(f"linear: input is on {input.device} but weight is on {weight.device}"
                            + (f" and bias on {bias.device}" if bias is not None else ""))
    return None
