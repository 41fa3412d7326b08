"""The :class:`Optimizer` base class: parameter groups, state, ``step``/``zero_grad``,
``state_dict``/``load_state_dict`` (PyTorch's semantics), and the one place where an update
rule's form is chosen.

Each optimizer module starts with its update rule as one plain function on arrays, written as
the paper writes it (``sgd_update``, ``adam_update``, ...): keyword hyper-parameters, one
parameter and its state arrays, changed in place.  Beside it are two fast forms of the same
rule, tested equal to it: ``*_chunked`` (host arrays: ``out=`` into reused scratch buffers,
large parameters in cache-sized pieces) and ``*_cuda_fused`` (CUDA arrays: the whole update as
one kernel).  A subclass lists the three in ``update_forms`` and supplies
``_update(p, g, state, group)``, which reads the state and hyper-parameters and calls the form
that :meth:`Optimizer._update_form` picks.  The base class runs the updates
under ``no_grad`` for every parameter that has a gradient and then bumps the parameter's version
counter, so a graph recorded before the step (and saving the old value) refuses to backward
instead of giving a wrong gradient.

``state_dict()`` numbers the parameters 0, 1, 2 ... across groups in order; ``state`` maps
those numbers to each parameter's state (Tensors and Python numbers), ``param_groups``
lists each group's hyper-parameters with ``params`` as those numbers.  That is all
:func:`minigrad.save` needs to store it, and loading it into a fresh optimizer over the same
parameters continues bit for bit.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .. import devices
from ..devices import array_module, is_cuda_array
from ..autograd.grad_mode import GradMode
from ..ops.cuda_kernels import elementwise_kernel
from ..ops.inplace import bump_versions
from ..tensor import Tensor, make_tensor

ParamsT = Iterable[Tensor] | Iterable[dict]

# The chunked forms cut parameters larger than _WHOLE_BYTES into pieces of _CHUNK_BYTES: the
# handful of arrays an update touches, cut that small, stay in the CPU cache between its passes;
# smaller parameters fit in the cache whole, where pieces would only add calls.  (Measurements:
# docs/performance.md, "Optimizer step".)
_CHUNK_BYTES = 1 << 18
_WHOLE_BYTES = 1 << 21


class UpdateForms(NamedTuple):
    """One update rule in its three forms.  All take the same arguments, change the parameter and
    its state arrays in place, and compute the same step: the fast forms are tested equal to
    ``plain``."""

    #: the rule as the paper writes it: whole arrays, temporaries, any device
    plain: Callable[..., Any]
    #: host arrays: ``out=`` into reused scratch buffers, large parameters in cache-sized pieces
    chunked: Callable[..., Any]
    #: CUDA arrays: the whole update as one element-wise kernel
    cuda_fused: Callable[..., Any]


# Hooks that run before every optimizer's step (register_optimizer_step_pre_hook).
_global_step_pre_hooks: dict = {}


class _StepHookHandle:
    """Removes a hook added by :func:`register_optimizer_step_pre_hook`."""

    def __init__(self, key: int) -> None:
        self.id = key

    def remove(self) -> None:
        _global_step_pre_hooks.pop(self.id, None)

    def __enter__(self) -> "_StepHookHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> _StepHookHandle:
    """Call ``hook(optimizer, args, kwargs)`` before the ``step`` of every optimizer (PyTorch's
    ``torch.optim.optimizer.register_optimizer_step_pre_hook``); returns a handle whose
    ``remove()`` takes it away.  ``mg.jit`` uses it to learn which optimizers a step drives."""
    if not callable(hook):
        raise TypeError(f"register_optimizer_step_pre_hook: the hook must be callable, got {type(hook).__name__}")
    handle = _StepHookHandle(id(hook) ^ len(_global_step_pre_hooks) << 48)
    while handle.id in _global_step_pre_hooks:
        handle.id += 1
    _global_step_pre_hooks[handle.id] = hook
    return handle


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
    #: The subclass's update rule in its three forms (see :meth:`_update_form`).
    update_forms: UpdateForms
    #: ``"fast"`` (default): each parameter's update runs in the fast form for its device;
    #: ``"plain"``: every update runs the rule as written in the paper (to read or step through
    #: it, or to compare).  Not part of the state dict.
    update_form: str = "fast"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._step_name = cls.__name__ + ".step"

    def __init__(self, params: ParamsT, defaults: dict) -> None:
        self.defaults = dict(defaults)
        # parameter tensor -> its state dict (tensors hash by identity); {} for one not seen yet
        self.state: dict = defaultdict(dict)
        self.param_groups: list = []
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
                        g = p.grad = make_tensor(g._data, False, None)
                    g._data[...] = 0

    # -- stepping ----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss (or None).

        ``closure`` (optional for first-order methods) re-evaluates the model and returns the
        loss; it runs with gradient recording on, before the update."""
        if _global_step_pre_hooks:
            for hook in list(_global_step_pre_hooks.values()):
                hook(self, (), {})
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
        bump_versions(params, step_name)

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
        """Update one parameter ``p`` from its gradient array ``g``: read ``state`` and the
        group's hyper-parameters and call the update rule in the form :meth:`_update_form` picks."""
        raise NotImplementedError

    def _update_form(self, param: Any) -> Callable[..., Any]:
        """The form of the update rule (from ``update_forms``) to run on the array ``param``;
        the one place the form is chosen:

        * ``plain`` when ``update_form == "plain"``;
        * ``cuda_fused`` for a CUDA array: one kernel launch instead of one per array operation;
        * ``chunked`` for a host array: no temporaries, and large arrays in cache-sized pieces."""
        form = self.update_form
        if form == "fast":
            return self.update_forms.cuda_fused if is_cuda_array(param) else self.update_forms.chunked
        if form == "plain":
            return self.update_forms.plain
        raise ValueError(f"{type(self).__name__}.update_form must be 'fast' or 'plain', got {form!r}")

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
        arr = devices.move(value._data, p.device)
        xp = devices.array_module(arr)
        if key != "step" and arr.dtype.kind == "f" and arr.dtype != p.dtype:
            arr = arr.astype(p.dtype)
        return make_tensor(xp.array(arr, copy=True), False, None)
    if isinstance(value, list):
        return [_cast_state(p, key, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_cast_state(p, key, v) for v in value)
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    return value


def new_state_tensor(a: Any, fill: float = 0.0) -> Tensor:
    """A state buffer shaped like the array ``a``, on its device, filled with ``fill``."""
    xp = devices.array_module(a)
    return make_tensor(xp.full(a.shape, fill, dtype=a.dtype), False, None)


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


# -- shared by the fast forms -------------------------------------------------------------------
class Scratch:
    """Reusable arrays for the chunked update forms: flat buffers per dtype, shared by all
    parameters and grown to the largest request, and views of them shaped like a parameter.
    A chunked form uses the scratch it is given, else its thread's (:func:`thread_scratch`):
    the buffers are temporaries, never part of an optimizer's state."""

    def __init__(self) -> None:
        self.flat: dict = {}  # dtype -> [flat buffer, ...]
        self.shaped: dict = {}  # (shape, dtype, n) -> (view of a flat buffer shaped like a parameter, ...)

    def buffers(self, xp: Any, dtype: Any, size: int, n: int) -> list:
        """``n`` (or more) flat arrays of ``dtype`` with at least ``size`` elements each."""
        flat = self.flat.get(dtype)
        if flat is None or len(flat) < n or len(flat[0]) < size:
            size = max(size, len(flat[0]) if flat else 0)
            n = max(n, len(flat or ()))
            flat = self.flat[dtype] = [xp.empty(size, dtype=dtype) for _ in range(n)]
            self.shaped = {k: v for k, v in self.shaped.items() if k[1] != dtype}  # views of the old buffers
        return flat

    def shaped_like(self, a: Any, n: int) -> tuple:
        """``n`` scratch arrays of ``a``'s shape and dtype."""
        key = (a.shape, a.dtype, n)
        views = self.shaped.get(key)
        if views is None:
            flat = self.buffers(array_module(a), a.dtype, a.size, n)
            views = self.shaped[key] = tuple(w[:a.size].reshape(a.shape) for w in flat[:n])
        return views

    def chunks(self, arrays: tuple, n_work: int) -> Iterator[tuple]:
        """``arrays`` cut into flat pieces of ``_CHUNK_BYTES``, each followed by ``n_work``
        scratch arrays of its size."""
        a = arrays[0]
        size = max(1024, _CHUNK_BYTES // a.dtype.itemsize)
        work = [w[:size] for w in self.buffers(array_module(a), a.dtype, size, n_work)[:n_work]]
        flats = [None if x is None else x.reshape(-1) for x in arrays]
        for i in range(0, a.size, size):
            j = min(i + size, a.size)
            yield (*[None if f is None else f[i:j] for f in flats], *[w[:j - i] for w in work])


_THREAD = threading.local()


def thread_scratch() -> Scratch:
    """The calling thread's :class:`Scratch`, shared by every chunked update the thread runs."""
    try:
        return _THREAD.scratch
    except AttributeError:
        scratch = _THREAD.scratch = Scratch()
        return scratch


def pieces_with_scratch(arrays: tuple, n_work: int, scratch: Scratch | None = None) -> Iterable[tuple]:
    """``arrays`` (a parameter, its gradient and its state arrays, all of one shape; None entries
    pass through) followed by ``n_work`` arrays from ``scratch`` (default: the thread's), as one
    tuple per piece.

    A parameter up to ``_WHOLE_BYTES`` (or one that is not contiguous, which cannot be cut without
    copies) is one piece; a larger one comes as flat pieces of ``_CHUNK_BYTES``."""
    if scratch is None:
        scratch = thread_scratch()
    a = arrays[0]
    if a.nbytes <= _WHOLE_BYTES or not all(x is None or x.flags.c_contiguous for x in arrays):
        return (arrays + (scratch.shaped.get((a.shape, a.dtype, n_work)) or scratch.shaped_like(a, n_work)),)
    return scratch.chunks(arrays, n_work)


def effective_grad_into(xp: Any, param: Any, grad: Any, *, weight_decay: float, maximize: bool, out: Any) -> Any:
    """The gradient an update follows, ``d = (−grad if maximize else grad) + weight_decay·param``,
    computed into ``out`` when it differs from ``grad`` (``grad`` itself is never changed).
    Bitwise what the plain forms compute."""
    if weight_decay == 0:
        if not maximize:
            return grad
        return xp.negative(grad, out=out)
    xp.multiply(param, weight_decay, out=out)
    if maximize:
        return xp.subtract(out, grad, out=out)
    return xp.add(out, grad, out=out)


def cuda_kernel(name: str, in_params: str, out_params: str, body: str) -> Any:
    """The CuPy ``ElementwiseKernel`` of a fused update (built on first use, then cached)."""
    return elementwise_kernel("optim_" + name, in_params, out_params, body)


def cuda_effective_grad(maximize: bool, decoupled_weight_decay: bool = False) -> str:
    """Kernel text that starts a fused update: ``double d``, the gradient the update follows, and
    ``double theta``, the parameter (shrunk by ``1 − lr·wd`` first when the weight decay is
    decoupled, else ``wd·theta`` joins d).  The kernel's inputs are named ``g``, ``wd`` (and
    ``lr``), its output parameter ``p``."""
    decay = "theta *= 1.0 - lr * wd;" if decoupled_weight_decay else "d += wd * theta;"
    return f"""
double d = (double)g;
if ({cuda_flag(maximize)}) d = -d;
double theta = (double)p;
if (wd != 0.0) {{ {decay} }}
"""


def cuda_flag(x: bool) -> str:
    """A Python bool as C++ text (options that change the code are compiled into the kernel)."""
    return "true" if x else "false"
