"""What ops save for backward, seen through the in-place rule.

* An op saves (``save_for_backward``) every tensor its backward reads, so changing one in place
  between forward and backward is an error, for every op family: the input itself, a bound, a
  condition, an index tensor, or an op's output.
* An op saves nothing its backward does not read, so changing such a tensor is valid, and the
  gradient is the one PyTorch gives: ``x * c`` with a constant c keeps c but not x.

Each change is made both ways a program can make it: under ``no_grad`` (as an optimizer step
does) and as a recorded in-place op on a tensor that is not a leaf.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

MODES = ["no_grad", "recorded"]

X = np.array([0.75, 1.5, 1.25])
O = np.array([1.25, 0.5, 2.0])


def _float_input(values, mode: str, requires_grad: bool = True) -> tuple:
    """(leaf, the tensor an op uses): the leaf itself under ``no_grad``; for ``recorded``, a
    result computed from the leaf (a leaf that requires grad may not be changed while recording)."""
    t = mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)
    if mode == "recorded" and requires_grad:
        return t, t * 1.0
    return t, t


def _change(t: mg.Tensor, mode: str) -> None:
    """An in-place change of ``t`` that alters its values."""
    if t.dtype == mg.bool_:
        t.fill_(True)
    elif t.dtype.kind in "iu":
        t.fill_(0)
    elif mode == "no_grad":
        with mg.no_grad():
            t.add_(0.5)
    else:
        t.add_(0.5)  # recorded: t takes a new value and a new history


# Each case: (x, o) -> (result, the tensor its backward reads that is then changed).
# x and o are float64 tensors that require grad, with positive values.
READ_INPUTS = {
    "mul x": lambda x, o: (x * o, x),
    "mul o": lambda x, o: (x * o, o),
    "div x": lambda x, o: (x / o, x),
    "div o": lambda x, o: (x / o, o),
    "rdiv": lambda x, o: (2.0 / x, x),
    "pow scalar": lambda x, o: (x ** 3, x),
    "pow base": lambda x, o: (x ** o, x),
    "pow exponent": lambda x, o: (x ** o, o),
    "rpow": lambda x, o: (2.0 ** x, x),
    "log": lambda x, o: (x.log(), x),
    "log1p": lambda x, o: (mg.log1p(x), x),
    "abs": lambda x, o: (x.abs(), x),
    "sin": lambda x, o: (x.sin(), x),
    "cos": lambda x, o: (x.cos(), x),
    "clamp": lambda x, o: (x.clamp(0.8, 1.3), x),
    "clamp tensor bound": lambda x, o: (x.clamp(min=o), o),
    "maximum": lambda x, o: (mg.maximum(x, o), x),
    "minimum": lambda x, o: (mg.minimum(x, o), o),
    "matmul": lambda x, o: (mg.matmul(x, o), x),
    "matmul other": lambda x, o: (mg.matmul(x, o), o),
    "softplus": lambda x, o: (mg.softplus(x), x),
    "gelu": lambda x, o: (mg.gelu(x), x),
    "gelu tanh": lambda x, o: (mg.gelu(x, approximate="tanh"), x),
    "prod": lambda x, o: (x.prod(), x),
    "amax": lambda x, o: (x.amax(), x),
    "logsumexp": lambda x, o: (x.logsumexp(0), x),
    "var": lambda x, o: (x.var(), x),
    "std": lambda x, o: (x.std(), x),
    "norm 2": lambda x, o: (x.norm(), x),
    "norm 3": lambda x, o: (x.norm(3), x),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(READ_INPUTS))
def test_changing_a_saved_input_is_an_error(case, mode):
    _, x = _float_input(X, mode)
    _, o = _float_input(O, mode)
    y, victim = READ_INPUTS[case](x, o)
    _change(victim, mode)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def _index_cases(x: mg.Tensor) -> dict:
    """Ops whose backward reads a bool or integer tensor: (result, that tensor)."""
    cond = mg.tensor([True, False, True])
    index = mg.tensor([2, 0])
    index_2d = mg.tensor([[1, 1, 0]])
    mask = mg.tensor([False, True, True])
    return {
        "where condition": (mg.where(cond, x, 0.0), cond),
        "index tensor": (x[index], index),
        "bool mask": (x[mask], mask),
        "index_put index": (mg.index_put(x, index, mg.tensor(5.0, dtype=mg.float64)), index),
        "gather index": (mg.gather(x.reshape(1, 3), 1, index_2d), index_2d),
        "masked_fill mask": (mg.masked_fill(x, mask, 0.0), mask),
    }


@pytest.mark.parametrize("case", ["where condition", "index tensor", "bool mask", "index_put index", "gather index",
                                  "masked_fill mask"])
def test_changing_a_saved_condition_or_index_is_an_error(case):
    """The gradient would go to the wrong elements: PyTorch refuses too."""
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    y, victim = _index_cases(x)[case]
    _change(victim, "no_grad")
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


OUTPUT_READERS = {
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: x.sqrt(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax": lambda x: mg.softmax(x, dim=0),
    "log_softmax": lambda x: mg.log_softmax(x, dim=0),
    "pow": lambda x: x ** mg.tensor(O, dtype=mg.float64),
}


@pytest.mark.parametrize("case", sorted(OUTPUT_READERS))
def test_changing_a_saved_output_is_an_error(case):
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    y = OUTPUT_READERS[case](x)
    with mg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        (y * mg.tensor(O, dtype=mg.float64)).sum().backward()


# -- what is not read is not saved ----------------------------------------------------------------

def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


#: (op, which operand requires grad) -> expected gradient of sum(op(x, c)) for that operand,
#: computed from the values *before* the change (the change touches the operand not read).
UNREAD = {
    "x * c, change x": (lambda x, c: x * c, "x", lambda: O),
    "c * x, change x": (lambda x, c: c * x, "x", lambda: O),
    "x / c, change x": (lambda x, c: x / c, "x", lambda: 1 / O),
    "c @ x, change x": (lambda x, c: mg.matmul(c, x), "x", lambda: O),
    "x.relu(), change x": (lambda x, c: x.relu() * c, "x", lambda: O),
    "x - c, change x": (lambda x, c: (x - c) * c, "x", lambda: O),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(UNREAD))
def test_changing_an_input_no_backward_reads_is_valid(case, mode):
    op, _, expected = UNREAD[case]
    leaf, x = _float_input(X, mode)
    c = mg.tensor(O, dtype=mg.float64)
    y = op(x, c)
    _change(x, mode)
    y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), expected(), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_changing_the_weight_of_a_constant_times_weight_product(mode):
    """x @ w with a constant x: dw = xᵀ dy reads x only, so w may change (an optimizer step
    before backward); x is still checked."""
    x = mg.tensor(np.arange(6.0).reshape(2, 3), dtype=mg.float64)
    leaf, w = _float_input(np.ones((3, 2)), mode)
    y = x @ w
    _change(w, mode)
    y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), x.numpy().T @ np.ones((2, 2)))

    leaf, w = _float_input(np.ones((3, 2)), mode)
    y = x @ w
    x.add_(1.0)  # a constant: changed in place outside any recording
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_the_same_programs_run_in_pytorch():
    """The valid programs above are valid PyTorch too, with the same gradients."""
    torch = _torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    for op_text in ("x * c", "c * x", "x / c"):
        xl = torch.tensor(X, requires_grad=True)
        x = xl * 1.0
        c = torch.tensor(O)
        y = eval(op_text, {"x": x, "c": c})
        x.add_(0.5)
        y.sum().backward()
        ml = mg.tensor(X, dtype=mg.float64, requires_grad=True)
        m = ml * 1.0
        my = eval(op_text, {"x": m, "c": mg.tensor(O, dtype=mg.float64)})
        m.add_(0.5)
        my.sum().backward()
        np.testing.assert_allclose(ml.grad.numpy(), xl.grad.numpy(), rtol=1e-12, err_msg=op_text)


# -- regressions found while making every op save through save_for_backward ------------------------

def test_where_gives_exact_zeros_where_the_other_branch_is_picked():
    """The branch not picked gets 0 even where dz is infinite (0 · inf would be NaN)."""
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    z = mg.where(mg.tensor([True, False]), x, 5.0)
    (z * mg.tensor([1.0, float("inf")], dtype=mg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


@pytest.mark.parametrize("exponent, expected", [
    (True, [1.0, 1.0]),
    (False, [0.0, 0.0]),
    (np.array([2.0, 3.0]), [2.0, 12.0]),
    ([2.0, 3.0], [2.0, 12.0]),
])
def test_pow_with_a_constant_exponent_that_is_not_a_number(exponent, expected):
    """x ** True, x ** array: the exponent is a constant (no gradient), as a number is."""
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    (x ** exponent).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected)
