"""Derivatives of functions of tensors: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``
(the semantics of ``torch.autograd.functional``).

Each takes ``func`` (tensors -> a tensor or a tuple of tensors) and ``inputs`` (a tensor or a
tuple of tensors).  The inputs are not modified: ``func`` is called on fresh leaves that share
their memory (or, with ``create_graph=True`` and an input that itself requires grad, on a
recorded copy, so the result can be differentiated back to the original).

* ``vjp(f, x, v)``     = (f(x), vᵀ·J)           one reverse pass
* ``jvp(f, x, v)``     = (f(x), J·v)            two reverse passes (the "double vjp" trick:
  J·v = ∂/∂u [uᵀJ]·v, since uᵀJ is linear in u)
* ``jacobian(f, x)``   J[i][j] of shape out_i.shape + in_j.shape, one reverse pass per output
  element (``strategy="forward-mode"``: one jvp per input element)
* ``hessian(f, x)``    the Jacobian of the gradient of a scalar f
* ``hvp(f, x, v)``     = (f(x), H·v) and ``vhp`` = (f(x), vᵀ·H): reverse-over-reverse,
  ∂/∂x [∇f(x)·v]; equal when f is twice continuously differentiable (H symmetric)

``create_graph=True`` keeps the results on the tape (differentiable again); otherwise they are
detached.  ``strict=True`` raises when an output does not depend on an input (instead of
returning zeros for that block), which also catches functions that are linear where a
second derivative is asked for.
"""
from __future__ import annotations

from typing import Any, Callable

from ..ops.conversion import clone
from ..tensor import Tensor, make_tensor
from .engine import grad as _grad
from .grad_mode import GradMode


def _as_tuple(x: Any, arg: str, fn: str) -> tuple:
    """(tuple of tensors, whether x was a tuple)."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{arg}[{i}]" if is_tuple else arg
            raise TypeError(f"The {where} given to {fn} must be a Tensor (or a tuple of Tensors), "
                            f"got {type(t).__name__}")
    return items, is_tuple


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Leaves that require grad, sharing the inputs' memory (or recorded copies, so that with
    create_graph gradients flow back into inputs that require grad)."""
    out = []
    for x in inputs:
        if create_graph and x._requires_grad:
            prev = GradMode.enabled
            GradMode.enabled = True
            try:
                out.append(clone(x))
            finally:
                GradMode.enabled = prev
        else:
            t = make_tensor(x._data, False, None)
            if x.dtype.kind not in "fc":
                raise TypeError(f"inputs must be floating point to be differentiated, got dtype {x.dtype} "
                                f"(shape {x.shape})")
            t.requires_grad = True
            out.append(t)
    return tuple(out)


def _call(func: Callable, inputs: tuple, fn: str) -> tuple:
    prev = GradMode.enabled
    GradMode.enabled = True
    try:
        res = func(*inputs)
    finally:
        GradMode.enabled = prev
    outs, is_tuple = _as_tuple(res, "value returned by the function", fn)
    return outs, is_tuple


def _zeros_like(t: Tensor) -> Tensor:
    from ..devices import array_module

    return make_tensor(array_module(t._data).zeros(t.shape, dtype=t.dtype), False, None)


def _finish(t: Tensor, create_graph: bool) -> Tensor:
    return t if create_graph else (t.detach() if t._requires_grad else t)


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool, retain_graph: bool,
           strict: bool, fn: str, what: str = "input") -> list:
    """Σ_k ∂(grad_outputs[k]·outputs[k])/∂inputs, zeros (or an error with strict) where independent."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if not live:
        if strict:
            raise RuntimeError(f"{fn}: the output of the user-provided function does not require gradients; "
                               "it is independent of every input. This is not allowed in strict mode.")
        return [_zeros_like(x) for x in inputs]
    prev = GradMode.enabled
    GradMode.enabled = True
    try:
        gs = _grad([o for o, _ in live], list(inputs), [g for _, g in live], retain_graph=retain_graph,
                   create_graph=create_graph, allow_unused=True)
    finally:
        GradMode.enabled = prev
    result = []
    for i, (x, g) in enumerate(zip(inputs, gs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: the output of the user-provided function is independent of {what} {i}. "
                                   "This is not allowed in strict mode.")
            g = _zeros_like(x)
        result.append(g)
    return result


def _check_v(v: Any, like: tuple, fn: str, what: str) -> tuple:
    vs, _ = _as_tuple(v, "v", fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: v has {len(vs)} tensors but the {what} has {len(like)}")
    for i, (a, b) in enumerate(zip(vs, like)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: v[{i}] has shape {tuple(a.shape)} but {what} {i} has shape {tuple(b.shape)}")
        if a.device != b.device:
            raise RuntimeError(f"{fn}: v[{i}] is on {a.device} but {what} {i} is on {b.device}")
    return vs


def _pack(items: list, is_tuple: bool) -> Any:
    return tuple(items) if is_tuple else items[0]


def _single_element(outs: tuple, is_tuple: bool, fn: str) -> Tensor:
    if is_tuple and len(outs) != 1:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor, got a tuple of {len(outs)}")
    if outs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element, "
                           f"but it has shape {tuple(outs[0].shape)}")
    return outs[0]


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product, shaped like ``inputs``.

    ``v`` is shaped like the output(s); it may be omitted when the output has one element."""
    xs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    outs, out_tuple = _call(func, xs, "vjp")
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               f"Tensor with a single element; it returned shapes {[tuple(o.shape) for o in outs]}")
        vs = (_ones_like(outs[0]),)
    else:
        vs = _check_v(v, outs, "vjp", "output")
    res = _grads(outs, xs, vs, create_graph, create_graph, strict, "vjp")
    return (_pack([_finish(o, create_graph) for o in outs], out_tuple),
            _pack([_finish(r, create_graph) for r in res], in_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), J·v)``: the Jacobian-vector product, shaped like the output(s).

    ``v`` is shaped like ``inputs``; it may be omitted when there is one single-element input.
    Computed with two reverse passes: g(u) = uᵀJ is linear in u, and J·v = ∂(g(u)·v)/∂u."""
    xs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element")
        vs = (_ones_like(xs[0]),)
    else:
        vs = _check_v(v, xs, "jvp", "input")
    xs = _prepare(xs, create_graph)
    outs, out_tuple = _call(func, xs, "jvp")
    us = []
    for o in outs:
        u = _zeros_like(o)
        u.requires_grad = True
        us.append(u)
    first = _grads(outs, xs, tuple(us), True, True, strict, "jvp")
    res = []
    for k, (o, u) in enumerate(zip(outs, us)):
        pieces = [(g, w) for g, w in zip(first, vs) if g._requires_grad]
        if not pieces:
            if strict:
                raise RuntimeError(f"jvp: output {k} of the user-provided function is independent of the inputs. "
                                   "This is not allowed in strict mode.")
            res.append(_zeros_like(o))
            continue
        prev = GradMode.enabled
        GradMode.enabled = True
        try:
            (r,) = _grad([g for g, _ in pieces], [u], [w for _, w in pieces], retain_graph=True,
                         create_graph=create_graph, allow_unused=True)
        finally:
            GradMode.enabled = prev
        if r is None:
            if strict:
                raise RuntimeError(f"jvp: output {k} of the user-provided function is independent of the inputs. "
                                   "This is not allowed in strict mode.")
            r = _zeros_like(o)
        res.append(r)
    return (_pack([_finish(o, create_graph) for o in outs], out_tuple),
            _pack([_finish(r, create_graph) for r in res], out_tuple))


def _onehot(t: Tensor, j: int) -> Tensor:
    from ..devices import array_module

    e = array_module(t._data).zeros(t.numel(), dtype=t.dtype)
    e[j] = 1
    return make_tensor(e.reshape(t.shape), False, None)


def _ones_like(t: Tensor) -> Tensor:
    from ..devices import array_module

    return make_tensor(array_module(t._data).ones(t.shape, dtype=t.dtype), False, None)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``.

    Shape: for one input x and one output y, a tensor of shape ``y.shape + x.shape``; with a tuple
    of inputs a tuple over inputs; with a tuple of outputs a tuple over outputs (of tuples over
    inputs when both are tuples).  ``strategy="reverse-mode"`` uses one backward pass per output
    element, ``"forward-mode"`` one Jacobian-vector product per input element (cheaper when there
    are fewer inputs than outputs).  ``vectorize`` is accepted for compatibility; it changes nothing.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}')
    xs_in, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs_in, create_graph)
    outs, out_tuple = _call(func, xs, "jacobian")

    # blocks[i][j]: rows of d out_i / d in_j, each row shaped like in_j (reverse) ...
    if strategy == "reverse-mode":
        blocks = [[[] for _ in xs] for _ in outs]
        for i, o in enumerate(outs):
            for e in range(o.numel()):
                if not o._requires_grad:
                    if strict:
                        raise RuntimeError(f"jacobian: output {i} of the user-provided function does not require "
                                           "gradients; it is independent of the inputs. This is not allowed in "
                                           "strict mode.")
                    gs = [_zeros_like(x) for x in xs]
                else:
                    gs = _grads((o,), xs, (_onehot(o, e),), create_graph, True, strict, "jacobian")
                for j, g in enumerate(gs):
                    blocks[i][j].append(g)
        result = [[_block(blocks[i][j], o, x, False, create_graph) for j, x in enumerate(xs)]
                  for i, o in enumerate(outs)]
    else:
        # ... or columns of d out_i / d in_j, each shaped like out_i (forward): one jvp per input element
        cols = [[[] for _ in xs] for _ in outs]
        for j, x in enumerate(xs):
            for e in range(x.numel()):
                vs = tuple(_onehot(x, e) if k == j else _zeros_like(q) for k, q in enumerate(xs))
                _, jv = jvp(func, tuple(xs_in) if in_tuple else xs_in[0], vs if in_tuple else vs[0],
                            create_graph=create_graph, strict=strict)
                jv = jv if out_tuple else (jv,)
                for i, c in enumerate(jv):
                    cols[i][j].append(c)
        result = [[_block(cols[i][j], o, x, True, create_graph) for j, x in enumerate(xs)]
                  for i, o in enumerate(outs)]
    if out_tuple:
        return tuple(_pack(row, in_tuple) for row in result)
    return _pack(result[0], in_tuple)


def _block(parts: list, o: Tensor, x: Tensor, columns: bool, create_graph: bool) -> Tensor:
    """The Jacobian block d o / d x, shape o.shape + x.shape, from its pieces: the rows (one
    gradient shaped like x per element of o, reverse mode) or the columns (one jvp shaped like o
    per element of x, forward mode).  With no pieces (an empty o or x) it is an empty array of the
    dtype the pieces would have had: x's for rows, o's for columns."""
    from ..ops.shape import reshape, stack

    shape = tuple(o.shape) + tuple(x.shape)
    if not parts:
        src = o if columns else x
        J = make_tensor(src._data.reshape(-1)[:0].reshape(shape), False, None)
    elif columns:
        # stack gives (in elements, *out.shape): move the input axis last, then unflatten
        J = reshape(reshape(stack(parts), (x.numel(), o.numel())).T, shape)
    else:
        J = reshape(stack(parts), shape)
    return _finish(J, create_graph)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar ``func`` at ``inputs``: for one input of shape s, a tensor of shape
    s + s; for a tuple of inputs, a tuple of tuples H[i][j] of shape sᵢ + sⱼ."""
    xs, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> Any:
        outs, is_tuple = _call(func, args, "hessian")
        out = _single_element(outs, is_tuple, "hessian")
        gs = _grads((out,), args, (_ones_like(out),), True, True, strict, "hessian")
        return _pack(gs, in_tuple)

    return jacobian(gradient, _pack(list(xs), in_tuple), create_graph=create_graph, strict=strict,
                    strategy=outer_jacobian_strategy)


def _second_order(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool, fn: str) -> tuple:
    xs, in_tuple = _as_tuple(inputs, "inputs", fn)
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element")
        vs = (_ones_like(xs[0]),)
    else:
        vs = _check_v(v, xs, fn, "input")
    xs = _prepare(xs, create_graph)
    outs, out_tuple = _call(func, xs, fn)
    out = _single_element(outs, out_tuple, fn)
    one = _ones_like(out)
    gs = _grads((out,), xs, (one,), True, True, strict, fn)
    live = [(g, w) for g, w in zip(gs, vs) if g._requires_grad]
    if not live:
        if strict:
            raise RuntimeError(f"{fn}: the gradient of the user-provided function is independent of the inputs "
                               "(it is at most linear). This is not allowed in strict mode.")
        res = [_zeros_like(x) for x in xs]
    else:
        res = _grads(tuple(g for g, _ in live), xs, tuple(w for _, w in live), create_graph, create_graph, strict,
                     fn)
    return _finish(out, create_graph), _pack([_finish(r, create_graph) for r in res], in_tuple)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·H)`` for a scalar ``func``, shaped like ``inputs``."""
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), H·v)`` for a scalar ``func``, shaped like ``inputs``.

    Computed as ∂/∂x [∇f(x)·v] = vᵀH, which is H·v because the Hessian of a twice continuously
    differentiable function is symmetric."""
    return _second_order(func, inputs, v, create_graph, strict, "hvp")
