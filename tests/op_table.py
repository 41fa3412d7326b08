"""The op table: every public op of minigrad, its PyTorch counterpart, how to draw its inputs,
and which checks apply.

Each family of ops keeps its rows in a module ``tests/op_rows_<family>.py``, which calls
:func:`add_row` for every op it lists.  ``tests/test_op_table.py`` runs, for every row:

* **values**: minigrad against PyTorch, in every dtype the row accepts, on broadcast, empty,
  0-d and non-contiguous inputs as the row's input strategy draws them (values, shapes, dtypes);
* **gradients**: ``gradcheck`` in float64 (and ``gradgradcheck`` for smooth ops), and the
  gradient for a random upstream gradient against PyTorch's;
* **zero gradients / no gradient**: ops without a useful derivative follow PyTorch (a zero
  gradient, or an output that does not require grad);
* **CUDA**: values and gradients on the GPU against the CPU (skipped without a GPU).

``test_every_public_op_has_a_row`` fails for a public op without a row, and
``test_ops_md_is_rendered_from_the_table`` for docs/ops.md's op list out of date.  After adding
rows, rewrite that list with::

    python tests/op_table.py --write-docs
"""
from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

HERE = Path(__file__).resolve().parent
OPS_MD = HERE.parent / "docs" / "ops.md"
BEGIN, END = "<!-- op table: begin (python tests/op_table.py --write-docs) -->", "<!-- op table: end -->"

FLOATS = ("float32", "float64")
INTS = ("int64", "int32")
BOOL = ("bool",)
ALL_DTYPES = FLOATS + INTS + BOOL
GRAD_KINDS = ("smooth", "first", "zero", "none")


@dataclass(frozen=True)
class Case:
    """One drawn input: the arrays that become tensors (in order) and keyword options."""
    arrays: list
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OpRow:
    """One public op.

    ``call(L, *tensors, **options)`` computes the op with library ``L`` (minigrad or PyTorch, see
    :class:`Lib`: ``L.exp``, ``L.F.pad``, ``L.linalg.inv``, ``L.nn.LayerNorm``...) and returns a
    tensor or a tuple of tensors.  ``inputs(draw, dtype)`` draws a :class:`Case` whose arrays have
    ``dtype`` (for the float64 gradient checks, ``dtype`` is float64).

    ``grad``: ``"smooth"`` (gradcheck and gradgradcheck), ``"first"`` (gradcheck only: kinks, or
    second derivatives PyTorch does not give either), ``"zero"`` (differentiable with a zero
    gradient, as PyTorch's floor or sign), ``"none"`` (the output never requires grad: integer or
    bool results).  ``grad_inputs`` picks which arrays are differentiable (default: every array
    when the gradient dtype is float).  ``torch`` is PyTorch's name for the op (``None``: PyTorch
    has none, so no oracle).  ``differs`` says in one line where minigrad differs from PyTorch;
    it is printed in docs/ops.md.  ``aliases`` are other public names this row covers (a Tensor
    method ``"Tensor.abs"``, or ``"absolute"``).
    """
    name: str
    family: str
    call: Callable[..., Any]
    inputs: Callable[[Callable, str], Case]
    torch: str | None = ""
    dtypes: tuple = FLOATS
    grad: str = "smooth"
    grad_inputs: tuple | None = None
    differs: str = ""
    aliases: tuple = ()
    cuda: bool = True
    rtol: float | None = None
    atol: float | None = None
    noncontiguous: bool = True

    def torch_name(self) -> str:
        return self.name if self.torch == "" else (self.torch or "")


ROWS: dict = {}
FAMILIES = ("element-wise", "shape", "indexing and sorting", "reductions and scans", "activations",
            "linear algebra", "layers and losses", "convolution and pooling", "conversions")


def add_row(name: str, family: str, call: Callable, inputs: Callable, **kwargs: Any) -> OpRow:
    """Register one op's row (each name once)."""
    if name in ROWS:
        raise ValueError(f"op table: {name!r} has two rows")
    if family not in FAMILIES:
        raise ValueError(f"op table: {name!r}: unknown family {family!r} (one of {FAMILIES})")
    row = OpRow(name, family, call, inputs, **kwargs)
    if row.grad not in GRAD_KINDS:
        raise ValueError(f"op table: {name!r}: grad must be one of {GRAD_KINDS}, got {row.grad!r}")
    ROWS[name] = row
    return row


def load_rows() -> dict:
    """Every row, from every ``op_rows_*.py`` beside this file (``OP_TABLE_ONLY=elementwise,shape``
    loads only those families' files, to work on one family)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    only = [n.strip() for n in os.environ.get("OP_TABLE_ONLY", "").split(",") if n.strip()]
    for path in sorted(HERE.glob("op_rows_*.py")):
        if not only or path.stem in only or path.stem.removeprefix("op_rows_") in only:
            importlib.import_module(path.stem)
    return ROWS


# -- the two libraries ---------------------------------------------------------------------------

class Lib:
    """One library seen through the names a row uses: ``L.<name>`` from the top module, ``L.F``
    (nn.functional), ``L.nn``, ``L.linalg``, ``L.Tensor``, and ``L.tensor(array)``."""

    def __init__(self, top: Any, name: str) -> None:
        self.top, self.name = top, name
        self.F, self.nn, self.Tensor = top.nn.functional, top.nn, top.Tensor
        self.linalg = getattr(top, "linalg", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.top, name)

    def tensor(self, a: Any, requires_grad: bool = False, device: str = "cpu") -> Any:
        if self.name == "torch":
            t = self.top.from_numpy(np.array(a))
            if device != "cpu":
                t = t.to(device)
            return t.requires_grad_(requires_grad)
        return self.top.tensor(np.array(a), requires_grad=requires_grad, device=device)

    def host(self, t: Any) -> np.ndarray:
        if self.name == "torch":
            return t.detach().cpu().numpy()
        a = t._data
        return a.get() if hasattr(a, "get") else np.asarray(a)

    def dtype_name(self, t: Any) -> str:
        return str(t.dtype).replace("torch.", "")


def minigrad_lib() -> Lib:
    import minigrad

    return Lib(minigrad, "minigrad")


def torch_lib() -> Lib | None:
    try:
        import torch
    except ImportError:
        return None
    return Lib(torch, "torch")


# -- input strategies ----------------------------------------------------------------------------

def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3) -> st.SearchStrategy:
    """Shapes with 0-d and empty dims by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(dtype: str, lo: float = -3.0, hi: float = 3.0, avoid: tuple = (), margin: float = 0.05) -> st.SearchStrategy:
    """Values of ``dtype`` in [lo, hi] (integers rounded inwards; bools either); floats stay
    ``margin`` away from each value in ``avoid`` (kinks, poles: where finite differences fail)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return st.booleans()
    if kind in "iu":
        return st.integers(int(np.ceil(lo)), int(np.floor(hi)))
    values = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=min(64, 8 * np.dtype(dtype).itemsize))
    if avoid:
        values = values.filter(lambda v: all(abs(v - c) >= margin for c in avoid))
    return values


def array(draw: Callable, shape: tuple, dtype: str, values: st.SearchStrategy | None = None,
          unique: bool = False) -> np.ndarray:
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=values if values is not None else elements(dtype),
                           unique=unique))


def unary(lo: float = -3.0, hi: float = 3.0, shape: st.SearchStrategy | None = None,
          options: Callable | None = None, avoid: tuple = ()) -> Callable:
    """One array with values in [lo, hi] (away from ``avoid``); ``options(draw, shape)`` adds
    keyword options."""
    def draw_case(draw: Callable, dtype: str) -> Case:
        s = draw(shape if shape is not None else shapes())
        return Case([array(draw, s, dtype, elements(dtype, lo, hi, avoid))], options(draw, s) if options else {})
    return draw_case


def binary(lo: float = -3.0, hi: float = 3.0, lo2: float | None = None, hi2: float | None = None,
           options: Callable | None = None, avoid: tuple = (), avoid2: tuple = ()) -> Callable:
    """Two arrays of mutually broadcastable shapes (0-d and empty dims included)."""
    def draw_case(draw: Callable, dtype: str) -> Case:
        s1, s2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0,
                                                        max_side=3)).input_shapes
        a = array(draw, s1, dtype, elements(dtype, lo, hi, avoid))
        b = array(draw, s2, dtype, elements(dtype, lo if lo2 is None else lo2, hi if hi2 is None else hi2, avoid2))
        return Case([a, b], options(draw, s1, s2) if options else {})
    return draw_case


@st.composite
def dims(draw: Any, ndim: int, allow_none: bool = False) -> Any:
    """A valid dim (negative too) for an ``ndim``-dim tensor, or None."""
    if ndim == 0 or (allow_none and draw(st.booleans())):
        return None if allow_none or ndim == 0 else 0
    return draw(st.integers(-ndim, ndim - 1))


def away_from(values: tuple, margin: float, lo: float, hi: float) -> st.SearchStrategy:
    """Floats in [lo, hi] at least ``margin`` from each of ``values`` (kinks, integers...)."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).filter(
        lambda v: all(abs(v - c) >= margin for c in values))


def off_integers(lo: float = -3.0, hi: float = 3.0, margin: float = 0.05) -> st.SearchStrategy:
    """Floats at least ``margin`` from every integer and half-integer (floor, round...)."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).filter(
        lambda v: abs(v * 2 - round(v * 2)) >= 2 * margin)


# -- what is public ------------------------------------------------------------------------------

#: Public callables that are not ops on tensors' values (creation, modes, devices, random
#: state, saving, dtype queries, classes, utilities): they are tested elsewhere.
NOT_OPS = {
    # top level
    "Device", "Generator", "ShapeError", "Tensor", "arange", "as_tensor", "cast", "device", "empty", "enable_grad",
    "eye", "from_dlpack", "from_numpy", "full", "full_like", "get_array_module", "get_default_dtype", "grad",
    "inference_mode", "initial_seed", "is_grad_enabled", "is_inference_mode_enabled", "is_tensor", "linspace",
    "load", "manual_seed", "no_grad", "ones", "ones_like", "promote_types", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "result_type", "save", "set_default_dtype", "set_grad_enabled", "tensor", "zeros",
    "zeros_like", "to_device", "get_rng_state", "set_rng_state", "seed", "can_cast", "is_floating_point",
    "finfo", "iinfo", "set_printoptions", "numel", "default_generator", "compile", "jit",
    # Tensor methods that are bookkeeping, not ops
    "Tensor.backward", "Tensor.register_hook", "Tensor.retain_grad", "Tensor.requires_grad_", "Tensor.detach",
    "Tensor.detach_", "Tensor.item", "Tensor.tolist", "Tensor.numpy", "Tensor.size", "Tensor.dim", "Tensor.numel",
    "Tensor.is_contiguous", "Tensor.cpu", "Tensor.cuda", "Tensor.to", "Tensor.new_empty", "Tensor.new_full",
    "Tensor.new_ones", "Tensor.new_tensor", "Tensor.new_zeros", "Tensor.zero_", "Tensor.fill_", "Tensor.copy_",
    "Tensor.add_", "Tensor.sub_", "Tensor.mul_", "Tensor.div_", "Tensor.clamp_", "Tensor.contiguous",
    "Tensor.element_size", "Tensor.nelement", "Tensor.is_floating_point", "Tensor.data_ptr", "Tensor.get_device",
    "Tensor.share_memory_", "Tensor.pin_memory", "Tensor.apply_", "Tensor.uniform_", "Tensor.normal_",
    "Tensor.random_", "Tensor.bernoulli_", "Tensor.exponential_", "Tensor.geometric_", "Tensor.log_normal_",
    "Tensor.cauchy_", "Tensor.masked_fill_", "Tensor.index_put_", "Tensor.scatter_", "Tensor.scatter_add_",
    "Tensor.index_add_", "Tensor.copysign_", "Tensor.clip_", "Tensor.lerp_", "Tensor.nan_to_num_",
    # nn.functional helpers that are not ops
    "F.one_hot_reference",
}

#: nn classes that are not layers computing on values (containers are checked with the layers).
NOT_LAYERS = {"Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
              "Identity"}


def public_ops() -> set:
    """Every public op name: top-level functions, ``Tensor.<method>``, ``F.<function>``,
    ``linalg.<function>`` and ``nn.<Layer>``, less :data:`NOT_OPS` and the ``*_reference`` forms
    (the plain forms of fused ops, tested against them elsewhere)."""
    import types

    import minigrad as mg
    import minigrad.nn.functional as F

    found = set()
    for name in dir(mg):
        obj = getattr(mg, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, (types.ModuleType, type)):
            found.add(name)
    for name in dir(mg.Tensor):
        if not name.startswith("_") and callable(getattr(mg.Tensor, name)) and \
                not isinstance(getattr(mg.Tensor, name), property):
            found.add(f"Tensor.{name}")
    for name in dir(F):
        obj = getattr(F, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, (types.ModuleType, type)) and \
                getattr(obj, "__module__", "").startswith("minigrad"):
            found.add(f"F.{name}")
    linalg = getattr(mg, "linalg", None)
    if linalg is not None:
        for name in dir(linalg):
            obj = getattr(linalg, name)
            if not name.startswith("_") and callable(obj) and not isinstance(obj, types.ModuleType) and \
                    getattr(obj, "__module__", "").startswith("minigrad"):
                found.add(f"linalg.{name}")
    for name in dir(mg.nn):
        obj = getattr(mg.nn, name)
        if isinstance(obj, type) and issubclass(obj, mg.nn.Module) and name not in NOT_LAYERS:
            found.add(f"nn.{name}")
    return {n for n in found if n not in NOT_OPS and not n.endswith("_reference")}


def covered_names(rows: dict) -> set:
    """The public names the rows cover: each row's name and aliases; a Tensor method of the same
    name as a covered function is covered too (``x.exp()`` is ``exp(x)``)."""
    names = set()
    for row in rows.values():
        for n in (row.name,) + tuple(row.aliases):
            names.add(n)
            if "." not in n:
                names.add(f"Tensor.{n}")
    return names


# -- docs/ops.md ---------------------------------------------------------------------------------

def _checks(row: OpRow) -> str:
    parts = ["values"]
    if row.grad == "smooth":
        parts.append("grad, grad²")
    elif row.grad == "first":
        parts.append("grad")
    elif row.grad == "zero":
        parts.append("zero grad")
    else:
        parts.append("no grad")
    if row.torch is not None:
        parts.append("PyTorch")
    if row.cuda:
        parts.append("CUDA")
    return ", ".join(parts)


def _dtypes(row: OpRow) -> str:
    d = set(row.dtypes)
    if d == set(ALL_DTYPES):
        return "all"
    words = []
    if set(FLOATS) <= d:
        words.append("float")
        d -= set(FLOATS)
    if set(INTS) <= d:
        words.append("int")
        d -= set(INTS)
    return ", ".join(words + sorted(d))


def render_markdown(rows: dict) -> str:
    """docs/ops.md's op list: one table per family, the rows sorted by name."""
    out = [BEGIN, ""]
    for family in FAMILIES:
        members = sorted((r for r in rows.values() if r.family == family), key=lambda r: r.name.lower())
        if not members:
            continue
        out += [f"### {family[0].upper() + family[1:]}", "", "| op | PyTorch | dtypes | checked | differs |",
                "|---|---|---|---|---|"]
        for r in members:
            names = ", ".join(f"`{n}`" for n in (r.name,) + tuple(a for a in r.aliases if not a.startswith("Tensor.")))
            torch_name = f"`{r.torch_name()}`" if r.torch is not None else "—"
            out.append(f"| {names} | {torch_name} | {_dtypes(r)} | {_checks(r)} | {r.differs or ''} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def ops_md_section(text: str) -> str | None:
    m = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), text, flags=re.S)
    return m.group(0) if m else None


def write_docs() -> None:
    text = OPS_MD.read_text()
    section = render_markdown(load_rows())
    current = ops_md_section(text)
    if current is None:
        text = text.rstrip("\n") + "\n\n## Every op\n\nGenerated from the op table (tests/op_table.py); " \
               "tests/test_op_table.py runs the checks each row lists.\n\n" + section + "\n"
    else:
        text = text.replace(current, section)
    OPS_MD.write_text(text)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        # The row files register into the module ``op_table``, not into this script's ``__main__``.
        sys.path.insert(0, str(HERE))
        importlib.import_module("op_table").write_docs()
        print(f"wrote the op table into {OPS_MD}")
    else:
        print(__doc__)
