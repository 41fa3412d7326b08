"""``linear``: y = x Wᵀ + b.

``linear_reference`` is the layer written out from differentiable ops (a matrix product, a
transpose and an addition); ``linear`` is the same map as one tape node, ``LinearFunction``, whose
backward is the three matrix formulas below.  The tests check that the two agree: values, first
and second derivatives.
"""
from __future__ import annotations

import math
from typing import Any

from ...devices import cached_ones
from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...errors import ShapeError
from ...ops.matmul import matmul
from ...ops.reduction import sum as _sum
from ...ops.shape import reshape, transpose
from ...tensor import Tensor, make_tensor
from ._common import dtype_device_mismatch


def linear_reference(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b from recorded ops: the plain form of :func:`linear`.

    Shapes: x (*, in), W (out, in), b (out,) -> y (*, out).  Its gradients come from
    matmul's, transpose's and add's backward:  dx = dy W,  dW = Σ dyᵀ x,  db = Σ dy
    (the sums over every leading dim of x).
    """
    out = matmul(input, transpose(weight, 0, 1))
    return out if bias is None else out + bias


class LinearFunction(Function):
    """y = x Wᵀ + b for x of shape (*, in), W (out, in), b (out,), as one node.

    With X (n, in) and dY (n, out) the input and the incoming gradient, their leading dims
    flattened into n rows:

        dx = dy W,   dW = dYᵀ X,   db = 1ᵀ dY   (Σ over the n rows).
    """

    def forward(self, x: Tensor, w: Tensor, b: Any) -> Any:
        self.save_for_backward(x, w)
        out = x._data @ w._data.T
        if b is not None:
            out += b._data
        return out

    def backward(self, g: Tensor) -> tuple:
        if not GradMode.enabled:  # no graph of the backward wanted: the same formulas on arrays, no per-op tape work
            return _linear_backward_arrays(self, g)
        x, w = self.saved_tensors
        out_f, in_f = w.shape
        rows = math.prod(x.shape[:-1])  # (not -1: a size-0 dim leaves -1 undetermined)
        dY, X = reshape(g, (rows, out_f)), reshape(x, (rows, in_f))
        gx = matmul(g, w) if self.needs_input_grad[0] else None
        gw = matmul(transpose(dY, 0, 1), X) if self.needs_input_grad[1] else None
        gb = _sum(dY, 0) if self.needs_input_grad[2] else None
        return gx, gw, gb


def _linear_backward_arrays(node: LinearFunction, g: Tensor) -> tuple:
    """LinearFunction's backward on the arrays: dx = dy W, dW = dYᵀ X, db = 1ᵀ dY (not
    differentiable again; used when the backward is not recorded)."""
    (x, w), needs = node.saved_tensors, node.needs_input_grad
    ga, a, wa = g._data, x._data, w._data
    if ga.ndim == 2:
        dY, X = ga, a
    else:
        rows = math.prod(a.shape[:-1])
        dY, X = ga.reshape(rows, ga.shape[-1]), a.reshape(rows, a.shape[-1])
    gx = make_tensor(ga @ wa, False, None) if needs[0] else None
    gw = make_tensor(dY.T @ X, False, None) if needs[1] else None
    # (Σ over the rows as a product with a cached vector of ones: cheaper than dY.sum(0).)
    gb = make_tensor(cached_ones((len(dY),), dY) @ dY, False, None) if needs[2] else None
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
    return dtype_device_mismatch("linear", input, weight, bias)
