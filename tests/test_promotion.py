"""Type promotion of every binary op, as PyTorch's ``torch.result_type``: one table of ops and
one of operands (a tensor of each dtype, dimensioned and 0-d; Python and NumPy numbers of each
kind), every pair in both orders.

The expected dtype comes from a small reference implementation of PyTorch's documented rule
written here, independent of minigrad's (``reference_result_type``); where torch is installed,
that reference is itself checked against ``torch.result_type``, and every op's outcome (dtype,
values, or raising) against torch's, so the suite catches regressions with or without torch.
Values are checked too: against NumPy computed in the expected dtype, and against torch.
"""
import operator
import warnings

import numpy as np
import pytest

import minigrad as mg

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < float
COND = np.array([True, False, True])  # where()'s condition


def _values(dtype: str, dim: bool) -> np.ndarray:
    v = [True, False, True] if dtype == "bool" else [1, 2, 3]
    return np.array(v if dim else v[1], dtype=dtype)


#: (name, value): a value is an ndarray (the operand is a tensor made from it) or a number.
TENSORS = [(f"{d}{'[3]' if dim else '[]'} tensor", _values(d, dim)) for d in DTYPES for dim in (True, False)]
NUMBERS = ([("int 2", 2), ("float 1.5", 1.5), ("bool True", True)]
           + [(f"np.{d} scalar", np.dtype(d).type(True if d == "bool" else 2)) for d in DTYPES])
PAIRS = ([(a, b) for a in TENSORS for b in TENSORS]
         + [(t, n) for t in TENSORS for n in NUMBERS] + [(n, t) for t in TENSORS for n in NUMBERS])


# -- the reference rule ----------------------------------------------------------------------------


def reference_promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: a higher category wins; within one, NumPy's table agrees with torch's
    for these dtypes (uint8 with int8 gives int16)."""
    if CATEGORY[a.kind] != CATEGORY[b.kind]:
        return a if CATEGORY[a.kind] > CATEGORY[b.kind] else b
    return np.promote_types(a, b)


def reference_result_type(x, y, default: np.dtype) -> np.dtype:
    """PyTorch's documented rule.  Each operand has a dtype and a priority: dimensioned tensor
    (2) > 0-d tensor (1) > number (0), where a number's dtype is bool, int64 or the default float
    dtype by kind.  The result is the promoted dtype of the highest-priority operands, unless an
    operand of lower priority is of a higher category: then (highest such category first) that
    operand's dtype, or the default dtype for a float number."""
    operands = []
    for v in (x, y):
        if isinstance(v, np.ndarray):
            operands.append((2 if v.ndim else 1, v.dtype))
        else:
            kind = np.asarray(v).dtype.kind
            operands.append((0, {"b": np.dtype(bool), "u": np.dtype("int64"), "i": np.dtype("int64"),
                                 "f": default}[kind]))
    # The highest category present decides; among its operands, the highest priority; among
    # those, the promoted dtype.
    top = max(CATEGORY[d.kind] for _, d in operands)
    in_top = [(p, d) for p, d in operands if CATEGORY[d.kind] == top]
    best = max(p for p, _ in in_top)
    chosen = [d for p, d in in_top if p == best]
    out = chosen[0]
    for d in chosen[1:]:
        out = reference_promote(out, d)
    return out


def is_bool(v) -> bool:
    return np.asarray(v).dtype == bool


# -- the ops ---------------------------------------------------------------------------------------

ARITHMETIC, COMPARISON, LOGICAL, BITWISE = "arithmetic", "comparison", "logical", "bitwise"


def _np_pow(a, b):
    if a.dtype == bool and b.dtype == bool:  # bool ** bool stays bool: x ** True = x, x ** False = 1
        return a | ~b
    return np.power(a, b)


#: name -> (minigrad op, NumPy op on operands already in the computation dtype, family)
OPS = {
    "add": (operator.add, np.add, ARITHMETIC),
    "sub": (operator.sub, np.subtract, ARITHMETIC),
    "mul": (operator.mul, np.multiply, ARITHMETIC),
    "div": (operator.truediv, np.true_divide, ARITHMETIC),
    "pow": (operator.pow, _np_pow, ARITHMETIC),
    "maximum": (mg.maximum, np.maximum, ARITHMETIC),
    "minimum": (mg.minimum, np.minimum, ARITHMETIC),
    "where": (lambda x, y: mg.where(mg.tensor(COND), x, y), lambda a, b: np.where(COND, a, b), ARITHMETIC),
    "eq": (operator.eq, np.equal, COMPARISON),
    "ne": (operator.ne, np.not_equal, COMPARISON),
    "lt": (operator.lt, np.less, COMPARISON),
    "le": (operator.le, np.less_equal, COMPARISON),
    "gt": (operator.gt, np.greater, COMPARISON),
    "ge": (operator.ge, np.greater_equal, COMPARISON),
    "logical_and": (mg.logical_and, np.logical_and, LOGICAL),
    "logical_or": (mg.logical_or, np.logical_or, LOGICAL),
    "logical_xor": (mg.logical_xor, np.logical_xor, LOGICAL),
    "&": (operator.and_, np.bitwise_and, BITWISE),
    "|": (operator.or_, np.bitwise_or, BITWISE),
    "^": (operator.xor, np.bitwise_xor, BITWISE),
    "bitwise_and": (mg.bitwise_and, np.bitwise_and, BITWISE),
    "bitwise_or": (mg.bitwise_or, np.bitwise_or, BITWISE),
    "bitwise_xor": (mg.bitwise_xor, np.bitwise_xor, BITWISE),
}


def expected(op: str, x, y, default: np.dtype):
    """(computation dtype, result dtype), or None where PyTorch raises."""
    family = OPS[op][2]
    dt = reference_result_type(x, y, default)
    if op == "sub" and (is_bool(x) or is_bool(y)):
        return None  # PyTorch: "Subtraction, the `-` operator, with a bool tensor is not supported"
    if op == "pow" and dt == bool and isinstance(y, np.ndarray):
        return None  # no bool ** bool-tensor kernel
    if family == BITWISE and dt.kind == "f":
        return None
    if op == "div" and dt.kind in "biu":
        dt = default  # true division
    return dt, (np.dtype(bool) if family in (COMPARISON, LOGICAL) else dt)


def mg_operand(v):
    return mg.tensor(v) if isinstance(v, np.ndarray) else v


def run_mg(op: str, x, y):
    """The op's result as (dtype, host values), or the exception it raised."""
    try:
        out = OPS[op][0](mg_operand(x), mg_operand(y))
    except (TypeError, RuntimeError, ValueError) as e:
        return e
    return out.dtype, out.numpy()


def _in(v, dt: np.dtype) -> np.ndarray:
    return np.asarray(v).astype(dt)


def check_op(op: str, default: np.dtype) -> list:
    """Every pair through ``op``: a list of the mismatches (empty when all agree)."""
    bad = []
    for (nx, x), (ny, y) in PAIRS:
        want = expected(op, x, y, default)
        with np.errstate(all="ignore"):  # (x / 0 on the bool False)
            got = run_mg(op, x, y)
        where = f"{nx} {op} {ny}"
        if want is None:
            if not isinstance(got, Exception):
                bad.append(f"{where}: PyTorch raises, minigrad gave {got[0]}")
            elif "\n" in str(got).strip():
                bad.append(f"{where}: the error is not one line: {got!r}")
            continue
        if isinstance(got, Exception):
            bad.append(f"{where}: raised {got!r}, expected {want[1]}")
            continue
        if got[0] != want[1]:
            bad.append(f"{where}: dtype {got[0]}, expected {want[1]}")
            continue
        with np.errstate(all="ignore"):
            ref = np.asarray(OPS[op][1](_in(x, want[0]), _in(y, want[0])))
        if not np.array_equal(got[1], ref.astype(want[1]), equal_nan=True):
            bad.append(f"{where}: values {got[1]}, expected {ref}")
    return bad


@pytest.fixture(params=["float32", "float64"])
def default_dtype(request):
    """Each test runs with both default float dtypes (they decide int ⊕ float results)."""
    before = mg.get_default_dtype()
    mg.set_default_dtype(getattr(mg, request.param))
    yield np.dtype(request.param)
    mg.set_default_dtype(before)


@pytest.mark.parametrize("op", list(OPS))
def test_promotion_against_the_reference_rule(op, default_dtype):
    bad = check_op(op, default_dtype)
    assert not bad, f"{len(bad)} mismatches, e.g.:\n" + "\n".join(bad[:20])


def test_result_type_is_the_reference_rule(default_dtype):
    for (nx, x), (ny, y) in PAIRS:
        want = reference_result_type(x, y, default_dtype)
        assert mg.result_type(mg_operand(x), mg_operand(y)) == want, f"result_type({nx}, {ny})"


def test_promote_types_table():
    for a in DTYPES:
        for b in DTYPES:
            assert mg.promote_types(a, b) == reference_promote(np.dtype(a), np.dtype(b)), (a, b)
    assert mg.promote_types(mg.int64, mg.float16) == mg.float16  # NumPy would say float64
    assert mg.promote_types(mg.uint8, mg.int8) == mg.int16


def test_default_dtype_decides_int_with_float():
    t = mg.tensor([1, 2, 3], dtype=mg.int32)
    assert (t * 0.5).dtype == (0.7 ** t).dtype == (t / t).dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert (t * 0.5).dtype == (0.7 ** t).dtype == (t ** 0.5).dtype == (t / t).dtype == mg.float64
        assert (t * np.float32(0.5)).dtype == mg.float64  # a NumPy float is a float number
        assert (mg.ones(3, dtype=mg.float32) * 0.5).dtype == mg.float32  # within a category: no change
    finally:
        mg.set_default_dtype(mg.float32)


def test_comparisons_run_in_the_promoted_dtype():
    # 2**24 + 1 is not a float32: compared in float32 (PyTorch), it equals 2**24.
    big = mg.tensor([2 ** 24 + 1])
    assert bool((big == 16777216.0).all())
    assert not bool((mg.tensor([2], dtype=mg.int8) == 2.5).any())  # 2.5 is not truncated to 2


# -- against torch -------------------------------------------------------------------------------


def _torch_operand(torch, v):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v.copy())
    # torch's argument parser reads a NumPy bool as a float number (torch.add(bool tensor,
    # np.bool_(True)) is float32 2.0); minigrad takes it as the bool it is, as torch takes NumPy
    # ints and floats by their kind, so torch is asked about the Python bool.
    return bool(v) if isinstance(v, np.bool_) else v


_REFLECTED = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__", "div": "__rtruediv__",
              "pow": "__rpow__", "eq": "__eq__", "ne": "__ne__", "lt": "__gt__", "le": "__ge__",
              "gt": "__lt__", "ge": "__le__", "&": "__rand__", "|": "__ror__", "^": "__rxor__"}


def run_torch(torch, op: str, x, y):
    tx, ty = _torch_operand(torch, x), _torch_operand(torch, y)
    try:
        if op in ("maximum", "minimum", "logical_and", "logical_or", "logical_xor"):
            # torch takes tensors only; a number becomes a 0-d tensor of the dtype torch's
            # promotion gives it with the other operand, which leaves the result dtype as it was.
            rt = torch.result_type(tx, ty)
            tx = tx if isinstance(tx, torch.Tensor) else torch.tensor(tx, dtype=rt)
            ty = ty if isinstance(ty, torch.Tensor) else torch.tensor(ty, dtype=rt)
            out = getattr(torch, op)(tx, ty)
        elif op == "where":
            out = torch.where(torch.from_numpy(COND), tx, ty)
        elif op.startswith("bitwise_"):
            out = getattr(torch, op)(tx, ty)
        elif not isinstance(tx, torch.Tensor):  # a number on the left: the tensor's reflected op
            out = getattr(ty, _REFLECTED[op])(tx)
        else:
            out = OPS[op][0](tx, ty)
    except (TypeError, RuntimeError) as e:  # (NotImplementedError is a RuntimeError)
        return e
    return np.dtype(str(out.dtype).replace("torch.", "")), out.numpy()


@pytest.fixture(params=["float32", "float64"])
def torch_default_dtype(request):
    torch = pytest.importorskip("torch")
    before_mg, before_torch = mg.get_default_dtype(), torch.get_default_dtype()
    mg.set_default_dtype(getattr(mg, request.param))
    torch.set_default_dtype(getattr(torch, request.param))
    yield torch, np.dtype(request.param)
    mg.set_default_dtype(before_mg)
    torch.set_default_dtype(before_torch)


def test_reference_rule_is_torch_result_type(torch_default_dtype):
    torch, default = torch_default_dtype
    for (nx, x), (ny, y) in PAIRS:
        got = torch.result_type(_torch_operand(torch, x), _torch_operand(torch, y))
        assert np.dtype(str(got).replace("torch.", "")) == reference_result_type(x, y, default), (nx, ny)


@pytest.mark.parametrize("op", list(OPS))
def test_promotion_against_torch(op, torch_default_dtype):
    torch, default = torch_default_dtype
    bad = []
    with np.errstate(all="ignore"), warnings.catch_warnings():  # (x / 0 on the bool False)
        warnings.simplefilter("ignore")
        for (nx, x), (ny, y) in PAIRS:
            want, got = run_torch(torch, op, x, y), run_mg(op, x, y)
            where = f"{nx} {op} {ny}"
            if isinstance(want, Exception) or isinstance(got, Exception):
                if isinstance(want, Exception) != isinstance(got, Exception):
                    bad.append(f"{where}: torch {want!r}, minigrad {got!r}")
                continue
            if got[0] != want[0]:
                bad.append(f"{where}: dtype {got[0]}, torch {want[0]}")
                continue
            tol = 1e-3 if got[0] == np.float16 else 1e-6
            if not np.allclose(got[1].astype(np.float64), want[1].astype(np.float64), rtol=tol, atol=0,
                               equal_nan=True):
                bad.append(f"{where}: values {got[1]}, torch {want[1]}")
    assert not bad, f"{len(bad)} mismatches, e.g.:\n" + "\n".join(bad[:20])
