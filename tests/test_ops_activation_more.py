"""Activations beyond what the op table checks: the derivative at kinks and at NaN (PyTorch's
choices), extreme inputs, integer inputs, option and shape validation, the modules (PReLU's
parameter) and where each name is exported."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the checks against PyTorch skip
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (PyTorch is the oracle)")

NAN = float("nan")
#: Kinks and NaN, where the derivative is a convention: these must follow PyTorch's.
SPECIAL = [-6.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0, NAN, 1e4, -1e4, math.inf, -math.inf]

#: name -> (minigrad function, PyTorch function)
UNARY = {
    "relu": (mg.relu, lambda x: torch.relu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, lambda x: TF.elu(x)),
    "selu": (mg.selu, lambda x: torch.selu(x)),
    "celu": (lambda x: mg.celu(x, 1.5), lambda x: torch.celu(x, 1.5)),
    "hardtanh": (lambda x: F.hardtanh(x, -1.5, 3.0), lambda x: TF.hardtanh(x, -1.5, 3.0)),
    "relu6": (F.relu6, lambda x: TF.relu6(x)),
    "hardsigmoid": (F.hardsigmoid, lambda x: TF.hardsigmoid(x)),
    "hardswish": (F.hardswish, lambda x: TF.hardswish(x)),
    "silu": (F.silu, lambda x: TF.silu(x)),
    "mish": (F.mish, lambda x: TF.mish(x)),
    "softsign": (F.softsign, lambda x: TF.softsign(x)),
    "logsigmoid": (F.logsigmoid, lambda x: TF.logsigmoid(x)),
    "tanhshrink": (F.tanhshrink, lambda x: TF.tanhshrink(x)),
    "softshrink": (lambda x: F.softshrink(x, 1.5), lambda x: TF.softshrink(x, 1.5)),
    "hardshrink": (lambda x: mg.hardshrink(x, 1.5), lambda x: torch.hardshrink(x, 1.5)),
    "threshold": (lambda x: mg.threshold(x, 1.0, -7.0), lambda x: TF.threshold(x, 1.0, -7.0)),
    "prelu": (lambda x: mg.prelu(x, mg.tensor([0.25], dtype=x.dtype)),
              lambda x: TF.prelu(x, torch.tensor([0.25], dtype=x.dtype))),
}


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_and_gradients_at_kinks_nan_and_extremes_match_pytorch(name, dtype):
    ours_fn, theirs_fn = UNARY[name]
    a = np.array(SPECIAL, dtype=dtype)
    x = mg.tensor(a, requires_grad=True)
    y = ours_fn(x)
    y.sum().backward()
    t = torch.tensor(a, requires_grad=True)
    ty = theirs_fn(t)
    ty.sum().backward()
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
    # (1e-7 in float64: PyTorch's hardsigmoid multiplies by 1/6 rounded to float32)
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-7, "atol": 1e-12}
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), equal_nan=True, err_msg=f"{name} values", **tol)
    # (at NaN, PyTorch's gradient depends on whether its vectorised loop or its scalar tail sees
    # the element: not a convention to follow)
    real = ~np.isnan(a)
    np.testing.assert_allclose(x.grad.numpy()[real], t.grad.numpy()[real], equal_nan=True,
                               err_msg=f"{name} gradient", **tol)


@pytest.mark.parametrize("fn", [F.silu, F.mish, F.logsigmoid, F.softsign, mg.selu, mg.celu, F.hardswish,
                                F.tanhshrink], ids=lambda f: f.__name__)
def test_extreme_inputs_give_finite_values_and_gradients(fn):
    x = mg.tensor([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=mg.float32, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert np.isfinite(y.detach().numpy()).all(), y
    assert np.isfinite(x.grad.numpy()).all(), x.grad


def test_logsigmoid_is_accurate_in_both_tails():
    x = mg.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=mg.float64)
    want = [-1e4, -50.0 - math.exp(-50.0), -math.log(2.0), -math.exp(-50.0), 0.0]
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), want, rtol=1e-15, atol=0)


def test_nan_in_gives_nan_out():
    x = mg.tensor([NAN, 1.0])
    for name, (fn, _) in UNARY.items():
        assert np.isnan(fn(x).numpy()[0]), name
    assert np.isnan(F.glu(mg.tensor([NAN, 1.0])).numpy()[0])
    assert np.isnan(F.softmin(x, dim=0).numpy()).all()


# -- integer and bool inputs ---------------------------------------------------------------------

FLOAT_ONLY = {
    "leaky_relu": F.leaky_relu, "elu": F.elu, "gelu": F.gelu, "softplus": F.softplus, "selu": mg.selu,
    "celu": mg.celu, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "silu": F.silu, "mish": F.mish,
    "logsigmoid": F.logsigmoid, "softshrink": F.softshrink, "hardshrink": mg.hardshrink, "glu": F.glu,
    "softmin": F.softmin, "prelu": lambda x: mg.prelu(x, mg.tensor([0.25])),
}


@pytest.mark.parametrize("name", sorted(FLOAT_ONLY))
def test_float_only_activations_refuse_integer_tensors(name):
    with pytest.raises(TypeError, match=f"{name}: expected a floating-point tensor, got dtype int64"):
        FLOAT_ONLY[name](mg.tensor([1, -2]))


def test_integer_inputs_where_pytorch_takes_them():
    i = mg.tensor([-3, -1, 0, 2, 7])
    assert mg.sigmoid(i).dtype == mg.float32  # the default float dtype, as PyTorch
    assert F.softsign(i).dtype == mg.float32 and F.tanhshrink(i).dtype == mg.float32
    np.testing.assert_array_equal(F.relu6(i).numpy(), [0, 0, 0, 2, 6])
    assert F.relu6(i).dtype == mg.int64
    # bounds and threshold truncate to integers, as PyTorch converts them
    np.testing.assert_array_equal(F.hardtanh(i, -1.5, 2.5).numpy(), [-1, -1, 0, 2, 2])
    np.testing.assert_array_equal(mg.threshold(i, -1.5, 4.9).numpy(), [4, 4, 0, 2, 7])
    for fn in (F.relu6, F.hardtanh, lambda t: mg.threshold(t, 0, 0), F.softsign, F.tanhshrink):
        with pytest.raises(TypeError, match="bool"):
            fn(mg.tensor([True, False]))


# -- options and shapes --------------------------------------------------------------------------

def test_option_validation():
    x = mg.tensor([1.0, -2.0])
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        mg.celu(x, 0.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="max_val must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)
    assert F.hardtanh(x, 0.5, 0.5).tolist() == [0.5, 0.5]  # equal bounds are fine for the function
    with pytest.raises(ValueError, match="softshrink: lambd must be >= 0"):
        F.softshrink(x, -0.5)
    assert mg.hardshrink(x, -1.0).tolist() == [1.0, -2.0]  # a negative lambd keeps everything


def test_glu_halves_the_dim():
    x = mg.randn(2, 6, 3, requires_grad=True)
    y = F.glu(x, dim=1)
    assert y.shape == (2, 3, 3)
    np.testing.assert_allclose(y.detach().numpy(), (x[:, :3] * mg.sigmoid(x[:, 3:])).detach().numpy(), rtol=1e-6)
    assert F.glu(mg.zeros(4, 0)).shape == (4, 0)
    assert nn.GLU(0)(mg.zeros(2, 5)).shape == (1, 5)
    with pytest.raises(ValueError, match=r"glu: the halved dim must have an even size, but dim 1 of shape \(2, 3\)"):
        F.glu(mg.zeros(2, 3))
    with pytest.raises(ValueError, match="glu: a 0-d tensor"):
        F.glu(mg.tensor(1.0))


def test_prelu_weight_shapes_and_errors():
    x = mg.randn(2, 3, 4)
    assert mg.prelu(x, mg.tensor([0.1, 0.2, 0.3])).shape == (2, 3, 4)
    assert mg.prelu(x, mg.tensor(0.1)).shape == (2, 3, 4)
    assert mg.prelu(mg.tensor(-2.0), mg.tensor([0.5])).item() == -1.0  # 0-d input: one channel
    assert x.prelu(mg.tensor([0.5])).shape == (2, 3, 4)  # the Tensor method
    with pytest.raises(ValueError, match=r"weight has 2 elements, but input of shape \(2, 3, 4\) has 3 channel"):
        mg.prelu(x, mg.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="1 channel"):
        mg.prelu(mg.randn(3), mg.tensor([0.1, 0.2, 0.3]))  # a 1-d input has no channel dim
    with pytest.raises(ValueError, match="0-d or 1-d"):
        mg.prelu(x, mg.ones(1, 3))
    with pytest.raises(TypeError, match="weight dtype float32 differs from input dtype float64"):
        mg.prelu(x.double(), mg.tensor([0.1]))


def test_prelu_gradient_per_channel():
    x = mg.tensor([[[-1.0, 2.0], [3.0, -4.0]]], dtype=mg.float64, requires_grad=True)  # (1, 2, 2)
    w = mg.tensor([0.5, 0.25], dtype=mg.float64, requires_grad=True)
    mg.prelu(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [-1.0, -4.0])  # Σ x where x ≤ 0, per channel
    np.testing.assert_allclose(x.grad.numpy(), [[[0.5, 1.0], [1.0, 0.25]]])


def test_softmin_is_softmax_of_the_negation():
    x = mg.randn(3, 4)
    np.testing.assert_allclose(F.softmin(x, dim=0).numpy(), F.softmax(-x, dim=0).numpy())
    np.testing.assert_allclose(F.softmin(x).numpy(), F.softmax(-x, dim=-1).numpy())  # default: the last dim


# -- modules -------------------------------------------------------------------------------------

def test_prelu_module_parameter():
    m = nn.PReLU(3, init=0.1)
    assert isinstance(m.weight, nn.Parameter) and m.weight.shape == (3,)
    np.testing.assert_allclose(m.weight.detach().numpy(), [0.1, 0.1, 0.1])
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    assert repr(m) == "PReLU(num_parameters=3)"
    x = mg.randn(4, 3, 2)
    m(x).sum().backward()
    assert m.weight.grad.shape == (3,)
    with mg.no_grad():
        m.weight.fill_(0.7)
    m.reset_parameters()
    np.testing.assert_allclose(m.weight.detach().numpy(), [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="num_parameters must be a positive int"):
        nn.PReLU(0)
    state = m.state_dict()
    assert list(state) == ["weight"]


@needs_torch
@pytest.mark.torch
def test_prelu_module_trains_like_pytorch():
    a = np.random.default_rng(0).standard_normal((5, 3, 2))
    ours, theirs = nn.PReLU(3).to(mg.float64), torch.nn.PReLU(3).double()
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ours(x) ** 2).sum().backward()
    (theirs(t) ** 2).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("module, text", [
    (nn.CELU(0.5), "CELU(alpha=0.5)"), (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Softshrink(), "Softshrink(lambd=0.5)"), (nn.Hardshrink(1.0), "Hardshrink(lambd=1.0)"),
    (nn.Threshold(0.1, 20.0), "Threshold(threshold=0.1, value=20.0)"), (nn.GLU(), "GLU(dim=-1)"),
    (nn.Softmin(1), "Softmin(dim=1)"), (nn.SELU(), "SELU()"), (nn.SiLU(), "SiLU()"),
])
def test_module_reprs(module, text):
    assert repr(module) == text


def test_modules_compute_their_functions():
    x = mg.randn(2, 4)
    pairs = [(nn.SELU(), mg.selu(x)), (nn.CELU(2.0), mg.celu(x, 2.0)), (nn.Hardtanh(-0.5, 0.5), F.hardtanh(x, -0.5, 0.5)),
             (nn.ReLU6(), F.relu6(x)), (nn.Hardsigmoid(), F.hardsigmoid(x)), (nn.Hardswish(), F.hardswish(x)),
             (nn.SiLU(), F.silu(x)), (nn.Mish(), F.mish(x)), (nn.Softsign(), F.softsign(x)),
             (nn.LogSigmoid(), F.logsigmoid(x)), (nn.Tanhshrink(), F.tanhshrink(x)),
             (nn.Softshrink(0.3), F.softshrink(x, 0.3)), (nn.Hardshrink(0.3), mg.hardshrink(x, 0.3)),
             (nn.Threshold(0.1, -1.0), mg.threshold(x, 0.1, -1.0)), (nn.GLU(1), F.glu(x, 1)),
             (nn.Softmin(0), F.softmin(x, 0))]
    for module, want in pairs:
        np.testing.assert_array_equal(module(x).detach().numpy(), want.detach().numpy(), err_msg=repr(module))


# -- where the names live ------------------------------------------------------------------------

def test_exports_follow_pytorch():
    for name in ("selu", "celu", "prelu", "hardshrink", "threshold"):  # torch.<name> exists
        assert callable(getattr(mg, name)), name
    for name in ("hardtanh", "relu6", "hardsigmoid", "hardswish", "silu", "mish", "softsign", "logsigmoid", "glu",
                 "softmin", "tanhshrink", "softshrink"):  # only torch.nn.functional.<name>
        assert not hasattr(mg, name), name
        assert callable(getattr(F, name)), name
    assert hasattr(mg.Tensor, "prelu") and hasattr(mg.Tensor, "hardshrink")
    assert mg.tensor([0.2, -2.0]).hardshrink().tolist() == [0.0, -2.0]
