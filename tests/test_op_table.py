"""Runs the checks each row of the op table lists (tests/op_table.py): values against PyTorch in
every dtype the op accepts, gradients by finite differences and against PyTorch, PyTorch's
conventions where an op has no useful derivative, CUDA against the CPU; and checks that every
public op has a row and that docs/ops.md's op list is the table's."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck

import op_table as T

ROWS = T.load_rows()
MG, TORCH = T.minigrad_lib(), T.torch_lib()
NAMES = sorted(ROWS)

#: Examples per row and check; HYPOTHESIS_PROFILE=thorough multiplies them by 10.
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1
FEW = settings(max_examples=6 * SCALE, deadline=None, derandomize=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
needs_torch = pytest.mark.skipif(TORCH is None, reason="torch is not installed (PyTorch is the oracle)")
needs_cuda = pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA not available (needs CuPy and a CUDA GPU)")


def _rows(predicate) -> list:
    return [n for n in NAMES if predicate(ROWS[n])]


def _flat(out) -> list:
    """A result as a list of tensors (tuples, lists and named tuples flattened)."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _is_tensor(L: T.Lib, t) -> bool:
    return isinstance(t, L.Tensor)


def _make(L: T.Lib, case: T.Case, requires_grad=(), noncontiguous: bool = False, device: str = "cpu") -> list:
    """The case's arrays as tensors of library L; ``requires_grad`` lists the indices of leaves
    that require grad.  Non-contiguous: each array of one dim or more becomes every other
    element of a twice-as-wide tensor (a strided view, as the op would see a slice)."""
    out = []
    for i, a in enumerate(case.arrays):
        if noncontiguous and a.ndim >= 1 and i not in requires_grad:
            wide = L.tensor(np.repeat(a, 2, axis=-1), device=device)
            out.append(wide[..., ::2])
        else:
            out.append(L.tensor(a, requires_grad=i in requires_grad, device=device))
    return out


def _call(L: T.Lib, row: T.OpRow, tensors: list, case: T.Case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return row.call(L, *tensors, **case.options)


def _tolerance(row: T.OpRow, dtype: str) -> dict:
    rtol = row.rtol if row.rtol is not None else (2e-5 if dtype in ("float32", "float16") else 1e-9)
    atol = row.atol if row.atol is not None else (2e-5 if dtype in ("float32", "float16") else 1e-10)
    return {"rtol": rtol, "atol": atol}


def _compare(row: T.OpRow, ours: list, theirs: list, tol: dict, what: str) -> None:
    assert len(ours) == len(theirs), f"{row.name}: {len(ours)} outputs, PyTorch gives {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if not _is_tensor(MG, a):  # a Python value (allclose, equal...)
            assert a == (b.item() if hasattr(b, "item") else b), f"{row.name} output {k}: {a} != {b}"
            continue
        ha, hb = MG.host(a), TORCH.host(b)
        assert ha.shape == hb.shape, f"{row.name} output {k}: shape {ha.shape}, PyTorch {hb.shape} ({what})"
        assert MG.dtype_name(a) == TORCH.dtype_name(b), \
            f"{row.name} output {k}: dtype {MG.dtype_name(a)}, PyTorch {TORCH.dtype_name(b)} ({what})"
        if ha.dtype.kind in "biu":
            np.testing.assert_array_equal(ha, hb, err_msg=f"{row.name} output {k} ({what})")
        else:
            np.testing.assert_allclose(ha, hb, equal_nan=True, err_msg=f"{row.name} output {k} ({what})", **tol)


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", _rows(lambda r: r.torch is not None))
@FEW
@given(data=st.data())
def test_values_match_pytorch(name, data):
    row = ROWS[name]
    dtype = data.draw(st.sampled_from(row.dtypes), label="dtype")
    case = row.inputs(data.draw, dtype)
    noncontiguous = row.noncontiguous and data.draw(st.booleans(), label="non-contiguous")
    what = f"dtype {dtype}, shapes {[a.shape for a in case.arrays]}, options {case.options}" + \
        (", non-contiguous" if noncontiguous else "")
    try:
        theirs = _flat(_call(TORCH, row, _make(TORCH, case, noncontiguous=noncontiguous), case))
    except Exception as e:  # PyTorch refuses this input: minigrad must refuse it too
        with pytest.raises(Exception):
            _call(MG, row, _make(MG, case, noncontiguous=noncontiguous), case)
        return
    ours = _flat(_call(MG, row, _make(MG, case, noncontiguous=noncontiguous), case))
    _compare(row, ours, theirs, _tolerance(row, dtype), what)


def _grad_indices(row: T.OpRow, case: T.Case) -> tuple:
    if row.grad_inputs is not None:
        return tuple(row.grad_inputs)
    return tuple(i for i, a in enumerate(case.arrays) if a.dtype.kind == "f")


def _float_outputs(L: T.Lib, out) -> list:
    return [t for t in _flat(out) if _is_tensor(L, t) and str(t.dtype).replace("torch.", "").startswith("float")]


@pytest.mark.parametrize("name", _rows(lambda r: r.grad in ("smooth", "first")))
@FEW
@given(data=st.data())
def test_gradcheck(name, data):
    row = ROWS[name]
    case = row.inputs(data.draw, "float64")
    idx = _grad_indices(row, case)
    tensors = _make(MG, case, requires_grad=idx)
    leaves = [t for i, t in enumerate(tensors) if i in idx]
    if not leaves:
        return

    def fn(*args):
        full = list(tensors)
        for i, t in zip(idx, args):
            full[i] = t
        return tuple(_float_outputs(MG, _call(MG, row, full, case)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, leaves, atol=1e-5, rtol=1e-3)
        if row.grad == "smooth":
            assert gradgradcheck(fn, leaves, atol=1e-5, rtol=1e-3)


def _backward(L: T.Lib, row: T.OpRow, case: T.Case, idx: tuple, upstream_seed: int, device: str = "cpu") -> list:
    """Each differentiable input's gradient of Σ out·u for a random u per float output."""
    tensors = _make(L, case, requires_grad=idx, device=device)
    outs = _float_outputs(L, _call(L, row, tensors, case))
    rng = np.random.default_rng(upstream_seed)
    total = None
    for o in outs:
        if not o.requires_grad:
            continue
        u = L.tensor(rng.standard_normal(tuple(o.shape)), device=device)
        term = (o * u).sum()
        total = term if total is None else total + term
    if total is None:
        return [None for _ in idx]
    total.backward()
    return [tensors[i].grad for i in idx]


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", _rows(lambda r: r.torch is not None and r.grad in ("smooth", "first", "zero")))
@FEW
@given(data=st.data())
def test_gradients_match_pytorch(name, data):
    row = ROWS[name]
    case = row.inputs(data.draw, "float64")
    idx = _grad_indices(row, case)
    if not idx:
        return
    seed = data.draw(st.integers(0, 2**31), label="upstream seed")
    try:
        theirs = _backward(TORCH, row, case, idx, seed)
    except Exception:
        with pytest.raises(Exception):
            _backward(MG, row, case, idx, seed)
        return
    ours = _backward(MG, row, case, idx, seed)
    for i, g_ours, g_theirs in zip(idx, ours, theirs):
        shape = case.arrays[i].shape
        a = np.zeros(shape) if g_ours is None else MG.host(g_ours)
        b = np.zeros(shape) if g_theirs is None else TORCH.host(g_theirs)
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True,
                                   err_msg=f"{name}: gradient of input {i}, options {case.options}")


@pytest.mark.parametrize("name", _rows(lambda r: r.grad in ("zero", "none")))
@FEW
@given(data=st.data())
def test_ops_without_a_useful_gradient_follow_pytorch(name, data):
    """``zero``: the gradient is 0 everywhere; ``none``: the result does not require grad."""
    row = ROWS[name]
    dtype = "float64" if "float64" in row.dtypes else row.dtypes[0]
    case = row.inputs(data.draw, dtype)
    idx = _grad_indices(row, case)
    tensors = _make(MG, case, requires_grad=idx)
    outs = [t for t in _flat(_call(MG, row, tensors, case)) if _is_tensor(MG, t)]
    if row.grad == "none":
        assert not any(o.requires_grad for o in outs), f"{name}: its result requires grad; PyTorch's does not"
        return
    grads = _backward(MG, row, case, idx, 0)
    for i, g in zip(idx, grads):
        assert g is None or not MG.host(g).any(), f"{name}: the gradient of input {i} is not zero"


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", _rows(lambda r: r.cuda))
@FEW
@given(data=st.data())
def test_cuda_matches_cpu(name, data):
    row = ROWS[name]
    dtype = data.draw(st.sampled_from(row.dtypes), label="dtype")
    case = row.inputs(data.draw, dtype)
    try:
        cpu = _flat(_call(MG, row, _make(MG, case), case))
    except Exception:
        with pytest.raises(Exception):
            _call(MG, row, _make(MG, case, device="cuda"), case)
        return
    gpu = _flat(_call(MG, row, _make(MG, case, device="cuda"), case))
    tol = _tolerance(row, dtype)
    for a, b in zip(cpu, gpu):
        if _is_tensor(MG, a):
            np.testing.assert_allclose(MG.host(b), MG.host(a), equal_nan=True, **{k: max(v, 1e-6) for k, v in tol.items()})
    if row.grad in ("smooth", "first"):
        c64 = row.inputs(data.draw, "float64")
        idx = _grad_indices(row, c64)
        for g_cpu, g_gpu in zip(_backward(MG, row, c64, idx, 1), _backward(MG, row, c64, idx, 1, device="cuda")):
            if g_cpu is not None:
                np.testing.assert_allclose(MG.host(g_gpu), MG.host(g_cpu), rtol=1e-9, atol=1e-10)


ONLY = os.environ.get("OP_TABLE_ONLY")
whole_table = pytest.mark.skipif(bool(ONLY), reason="OP_TABLE_ONLY loads part of the table")


@whole_table
def test_every_public_op_has_a_row():
    missing = sorted(T.public_ops() - T.covered_names(ROWS))
    assert not missing, f"public ops without a row in the op table (tests/op_rows_*.py): {missing}"


def test_every_row_names_a_public_op():
    public = T.public_ops()
    stale = sorted(n for r in ROWS.values() for n in (r.name,) + tuple(r.aliases)
                   if n not in public and f"Tensor.{n}" not in public)
    assert not stale, f"rows for names that are not public ops: {stale}"


@whole_table
def test_ops_md_is_rendered_from_the_table():
    section = T.ops_md_section(T.OPS_MD.read_text())
    assert section is not None, "docs/ops.md has no op table: run python tests/op_table.py --write-docs"
    assert section == T.render_markdown(ROWS), \
        "docs/ops.md's op table is out of date: run python tests/op_table.py --write-docs"


def test_the_runner_catches_a_wrong_gradient_and_a_wrong_value():
    """The checks themselves: a row whose minigrad op is wrong fails them."""
    from minigrad.autograd.function import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x._data ** 2

        def backward(self, g):
            (x,) = self.saved_tensors
            return g * x  # should be 2·g·x

    x = mg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(Exception, match="(?i)jacobian|mismatch|gradcheck"):
        gradcheck(lambda t: WrongSquare.apply(t), [x])
    if TORCH is not None:
        row = T.OpRow("square", "element-wise", lambda L, t: L.square(t) + (0.1 if L is MG else 0.0),
                      T.unary(), dtypes=("float64",))
        case = T.Case([np.array([1.0, 2.0])])
        ours = _flat(_call(MG, row, _make(MG, case), case))
        theirs = _flat(_call(TORCH, row, _make(TORCH, case), case))
        with pytest.raises(AssertionError):
            _compare(row, ours, theirs, _tolerance(row, "float64"), "self-check")
