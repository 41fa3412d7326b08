"""The :class:`Optimizer` base class: parameter groups, state, ``step``/``zero_grad``,
``state_dict``/``load_state_dict`` (PyTorch's semantics).

A subclass supplies the update of one parameter, ``_update(p, g, state, group)``: it
changes ``p._data`` in place with ``xp`` ops (NumPy on CPU, CuPy on CUDA), so the
parameter never leaves its device.  The base class runs it under ``no_grad`` for every
parameter that has a gradient and then bumps the parameter's version counter, so a graph
recorded before the step (and saving the old value) refuses to backward instead of
giving a wrong gradient.

``state_dict()`` numbers the parameters 0, 1, 2 ... across groups in order; ``state`` maps
those numbers to each parameter's state (Tensors and Python numbers), ``param_groups``
lists each group's hyper-parameters with ``params`` as those numbers.  That is all
:func:`minigrad.save` needs to store it, and loading it into a fresh optimizer over the same
parameters continues bit for bit.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

from .. import _device
from ..autograd.grad_mode import GradMode
from ..ops.inplace import _bump_all
from ..tensor import Tensor, _make

ParamsT = Iterable[Tensor] | Iterable[dict]

# Chunk size of the CPU update loops: the handful of arrays an update touches, cut to this
# size, stay in the CPU cache between its passes (measured: 128 KiB - 512 KiB work best).
_CHUNK_BYTES = 1 << 18
# Parameters up to this size are updated whole: the arrays of their update fit in the
# last-level cache anyway, and the calls per chunk only add time.  Measured on Adam (float32,
# 2-core EPYC, 32 MiB L3; `python benchmarks/bench_adam.py --shapes 100x784 --whole-bytes 0`
# and so on): whole takes 0.87x the chunked time at 306 KiB and 1 MiB, 0.90-0.95x at 2 MiB,
# 1.01-1.09x at 4 MiB, 1.22x at 8 MiB and 1.64x at 32 MiB.
_WHOLE_BYTES = 1 << 21


class _Required:
    """Marks a hyper-parameter that has no default (``lr`` of SGD in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _describe(p: Tensor) -> str:
    return f"shape {tuple(p.shape)}, dtype {p.dtype}, device {p.device}"


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each with a
    ``"params"`` entry and any hyper-parameters that override ``defaults`` for that group,
    e.g. ``[{"params": weights}, {"params": biases, "weight_decay": 0}]``.
    """

    #: How in-place changes made by :meth:`step` are named in errors ("SGD.step").
    _step_name = "Optimizer.step"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._step_name = cls.__name__ + ".step"

    def __init__(self, params: ParamsT, defaults: dict) -> None:
        self.defaults = dict(defaults)
        # parameter tensor -> its state dict (tensors hash by identity); {} for one not seen yet
        self.state: dict = defaultdict(dict)
        self.param_groups: list = []
        # CPU scratch arrays (not part of the state): dtype -> flat buffers shared by all parameters,
        # and (shape, dtype, count) -> views of them shaped like a parameter (see _work)
        self._flat_scratch: dict = {}
        self._scratch_views: dict = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got a single Tensor ({_describe(params)}); wrap it in a list")
        if isinstance(params, dict):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a dict; wrap the parameter group in a list")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own hyper-parameters) to optimize from now on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets changes between runs; use a list")
        else:
            params = list(params)
        seen: set = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the group is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i}: {_describe(p)}); "
                                 "optimize the leaf it was computed from, or detach() it")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer parameters must be floating point; parameter {i} has {_describe(p)}")
            if id(p) in seen:
                raise ValueError(f"parameter {i} ({_describe(p)}) appears twice in the same parameter group; "
                                 "it would be updated twice per step")
            seen.add(id(p))
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & seen:
            raise ValueError("some parameters appear in more than one parameter group")
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Validate one group's hyper-parameters (subclasses raise ValueError on bad values)."""

    # -- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default), or fill them with zeros in place."""
        if set_to_none:
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad = None
            return
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if g.grad_fn is not None or g._requires_grad:
                        g = p.grad = _make(g._data, False, None)
                    g._data[...] = 0

    # -- stepping ----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss (or None).

        ``closure`` (optional for first-order methods) re-evaluates the model and returns the
        loss; it runs with gradient recording on, before the update."""
        loss = None
        if closure is not None:
            loss = _call_closure(closure)
        prev = GradMode.enabled
        GradMode.enabled = False
        step_name = self._step_name
        try:
            for gi, group in enumerate(self.param_groups):
                self._step_group(gi, group, step_name)
        finally:
            GradMode.enabled = prev
        return loss

    def _step_group(self, gi: int, group: dict, step_name: str) -> None:
        """Update every parameter of one group that has a gradient (a subclass may handle
        common cases with a leaner loop over :meth:`_with_grads`)."""
        params, grads = self._with_grads(gi, group)
        for p, g in zip(params, grads):
            state = self.state.get(p)
            if not state:
                state = self.state[p] = self._init_state(p, group)
            self._update(p, g, state, group)
        _bump_all(params, step_name)

    def _with_grads(self, gi: int, group: dict) -> tuple[list, list]:
        """The parameters of group ``gi`` that have a gradient, and their gradient arrays,
        checked to match them in shape and device."""
        params, grads = [], []
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad._data
            a = p._data
            if g.__class__ is not a.__class__ or g.shape != a.shape:
                raise self._grad_mismatch(gi, group, p)
            params.append(p)
            grads.append(g)
        return params, grads

    def _grad_mismatch(self, gi: int, group: dict, p: Tensor) -> RuntimeError:
        pi = next(i for i, q in enumerate(group["params"]) if q is p)
        return RuntimeError(f"{type(self).__name__}: parameter {pi} of group {gi} ({_describe(p)}) has a gradient "
                            f"of shape {tuple(p.grad.shape)} on {p.grad.device}; they must match")

    def _init_state(self, p: Tensor, group: dict) -> dict:
        """The state of a parameter before its first update."""
        return {}

    def _update(self, p: Tensor, g: Any, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _flat_work(self, xp: Any, dtype: Any, size: int, n: int) -> list:
        """``n`` flat scratch arrays of ``dtype`` with at least ``size`` elements, shared by all
        parameters (grown to the largest request, kept across steps)."""
        flat = self._flat_scratch.get(dtype)
        if flat is None or len(flat) < n or len(flat[0]) < size:
            size = max(size, len(flat[0]) if flat else 0)
            count = max(n, len(flat or ()))
            flat = self._flat_scratch[dtype] = [xp.empty(size, dtype=dtype) for _ in range(count)]
            # drop the views of the old buffers
            self._scratch_views = {k: v for k, v in self._scratch_views.items() if k[1] != dtype}
        return flat

    def _work(self, a: Any, n: int) -> list:
        """``n`` scratch arrays shaped like ``a`` (views into :meth:`_flat_work`'s buffers)."""
        key = (a.shape, a.dtype, n)
        views = self._scratch_views.get(key)
        if views is None:
            flat = self._flat_work(_device.array_module(a), a.dtype, a.size, n)
            views = self._scratch_views[key] = [w[:a.size].reshape(a.shape) for w in flat[:n]]
        return views

    def _run_cpu(self, kernel: Callable, arrays: tuple, n_work: int, *scalars: Any) -> None:
        """``kernel(xp, *arrays, *work, *scalars)``, with ``n_work`` scratch arrays, for host arrays.

        ``arrays`` (the parameter, its gradient and state buffers, all of one shape; None
        entries pass through) larger than ``_WHOLE_BYTES`` are cut into flat chunks of
        ``_CHUNK_BYTES``, so the several passes an update makes over each chunk hit the CPU
        cache instead of main memory; smaller ones (and non-contiguous ones, which cannot be
        cut into flat pieces without copies) are updated whole."""
        a = arrays[0]
        xp = _device.array_module(a)
        n = a.size
        if n * a.dtype.itemsize <= _WHOLE_BYTES or not all(x is None or x.flags.c_contiguous for x in arrays):
            kernel(xp, *arrays, *self._work(a, n_work), *scalars)
            return
        size = max(1024, _CHUNK_BYTES // a.dtype.itemsize)
        work = [w[:size] for w in self._flat_work(xp, a.dtype, size, n_work)[:n_work]]
        flats = [None if x is None else x.reshape(-1) for x in arrays]
        for i in range(0, n, size):
            j = i + size
            if j > n:
                j = n
                work = [w[:j - i] for w in work]
            kernel(xp, *[None if f is None else f[i:j] for f in flats], *work, *scalars)

    # -- state dict ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Like PyTorch, the state's tensors are the live ones (not copies): save it (``mg.save``)
        or deep-copy it before stepping on if you need a snapshot."""
        index: dict = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = self.state[p]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take hyper-parameters and state from ``state_dict`` (copied, and put on each parameter's
        device and float dtype).  The optimizer must have the same group sizes as the saved one."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("expected a dict with 'state' and 'param_groups', as returned by state_dict()")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has {len(saved['params'])} parameters, "
                                 f"but the optimizer's has {len(mine['params'])}")
        by_index = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for idx, p in zip(saved["params"], mine["params"]):
                by_index[idx] = p
        new_state: dict = defaultdict(dict)
        for idx, value in state_dict["state"].items():
            key = int(idx) if isinstance(idx, str) and idx.isdigit() else idx
            p = by_index.get(key)
            if p is None:
                continue
            new_state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            g = {k: (tuple(v) if isinstance(v, list) and k == "betas" else v) for k, v in saved.items()
                 if k != "params"}
            g["params"] = mine["params"]
            new_groups.append(g)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


def _call_closure(closure: Callable[[], Any]) -> Any:
    """Run the closure with recording on (an optimizer's step itself runs under no_grad)."""
    prev = GradMode.enabled
    GradMode.enabled = True
    try:
        return closure()
    finally:
        GradMode.enabled = prev


def _cast_state(p: Tensor, key: Any, value: Any) -> Any:
    """A copy of a state value on ``p``'s device; float tensors take ``p``'s dtype ('step' keeps its own)."""
    if isinstance(value, Tensor):
        arr = _device.move(value._data, p.device)
        xp = _device.array_module(arr)
        if key != "step" and arr.dtype.kind == "f" and arr.dtype != p.dtype:
            arr = arr.astype(p.dtype)
        return _make(xp.array(arr, copy=True), False, None)
    if isinstance(value, list):
        return [_cast_state(p, key, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_cast_state(p, key, v) for v in value)
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    return value


def new_state_tensor(a: Any, fill: float = 0.0) -> Tensor:
    """A state buffer shaped like the array ``a``, on its device, filled with ``fill``."""
    xp = _device.array_module(a)
    return _make(xp.full(a.shape, fill, dtype=a.dtype), False, None)


def check_adam_group(group: dict) -> None:
    """The hyper-parameters the Adam family shares: lr ≥ 0, eps ≥ 0, two betas in [0, 1),
    weight_decay ≥ 0 (PyTorch's messages)."""
    check_number("learning rate", group["lr"])
    check_number("epsilon value", group["eps"])
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas} (expected two numbers)")
    check_number("beta parameter at index 0", betas[0], 0.0, 1.0, high_open=True)
    check_number("beta parameter at index 1", betas[1], 0.0, 1.0, high_open=True)
    check_number("weight_decay value", group["weight_decay"])


def check_number(name: str, value: Any, low: float = 0.0, high: float | None = None,
                 high_open: bool = False) -> None:
    """Raise ``ValueError("Invalid <name>: <value>")`` unless low <= value (<= or <) high."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number)") from None
    ok = v >= low
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        bound = f"in [{low}, {high}{')' if high_open else ']'}" if high is not None else f">= {low}"
        raise ValueError(f"Invalid {name}: {value} (must be {bound})")


def effective_grad(xp: Any, a: Any, g: Any, weight_decay: float, maximize: bool, out: Any) -> Any:
    """The gradient an update uses: ``(-g if maximize else g) + weight_decay·p`` (L2 penalty),
    written into ``out`` when it differs from ``g`` (``g`` itself is never modified)."""
    if weight_decay == 0:
        if not maximize:
            return g
        return xp.negative(g, out=out)
    xp.multiply(a, weight_decay, out=out)
    if maximize:
        return xp.subtract(out, g, out=out)
    return xp.add(out, g, out=out)


def adam_moments_(xp: Any, a: Any, g: Any, m: Any, v: Any, w1: Any, w2: Any, lr: float, beta1: float,
                  beta2: float, wd: float, decoupled: bool, maximize: bool) -> Any:
    """The Adam-family first steps, shared by Adam/AdamW and NAdam: weight decay (decoupled:
    p ← p·(1 − lr·wd); else the L2 term joins d), then m ← lerp(m, d, 1 − β₁) and
    v ← β₂·v + (1 − β₂)·d².  Returns d (``g`` itself or ``w1``); ``w2`` is scratch."""
    if decoupled:
        if wd != 0:
            a *= 1 - lr * wd
        d = effective_grad(xp, a, g, 0, maximize, w1)
    else:
        d = effective_grad(xp, a, g, wd, maximize, w1)
    lerp_(xp, m, d, 1 - beta1, w2)
    add_square_(xp, v, d, beta2, w2)
    return d


def lerp_(xp: Any, m: Any, d: Any, weight: float, tmp: Any) -> None:
    """m ← m + weight·(d − m) in place, evaluated the way PyTorch's ``lerp_`` does (for
    weight ≥ ½ it is d − (1 − weight)·(d − m), which rounds better near d)."""
    xp.subtract(d, m, out=tmp)
    if weight < 0.5:
        tmp *= weight
        m += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(d, tmp, out=m)


def add_square_(xp: Any, v: Any, d: Any, decay: float, tmp: Any) -> None:
    """v ← decay·v + (1 − decay)·d² in place (the running average of squared gradients)."""
    v *= decay
    xp.multiply(d, d, out=tmp)
    tmp *= 1 - decay
    v += tmp
