"""``gradcheck`` / ``gradgradcheck`` themselves: they pass on correct ops, they catch wrong first
and second derivatives with a message that says where, and the hypothesis strategies in
``minigrad.testing`` produce what they claim."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from minigrad.testing import arrays, axes, broadcastable_shapes, floats, shapes, tensors


def leaf(values) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- custom Functions: one right, one wrong, one right-but-not-twice-differentiable ----------------


class Cube(Function):
    """y = x³,  dx = 3x² dy  (correct, written with Tensor ops: twice differentiable)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x._data ** 3

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * 3 * x * x,)


class WrongCube(Function):
    """y = x³ with a wrong derivative (2x² instead of 3x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x._data ** 3

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * 2 * x * x,)


class CubeArrayBackward(Function):
    """y = x³ with the right first derivative, but 3x² is computed at array level (a constant
    to the tape), so the second derivative w.r.t. x comes out as 0 instead of 6x·dy."""

    def forward(self, x):
        self.save_for_backward(x)
        return x._data ** 3

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * mg.Tensor(3 * x._data * x._data),)


class WrongSecondInput(Function):
    """z = x·y with dy wrong (returns dz·x·2)."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x._data * y._data

    def backward(self, g):
        x, y = self.saved_tensors
        return g * y, g * x * 2


def test_gradcheck_passes_on_correct_ops():
    x = leaf([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]])
    y = leaf([[1.5], [-0.5]])
    assert gradcheck(lambda a, b: (a * b).exp().sum(axis=1), [x, y])
    assert gradcheck(lambda a: Cube.apply(a), [x])
    assert gradcheck(lambda a, b: a.T @ b, [x, y])


def test_gradcheck_single_tensor_and_constants():
    x = leaf([0.5, 1.5])
    assert gradcheck(lambda a: a.sin(), x)
    c = mg.tensor([2.0, 3.0], dtype=mg.float64)  # does not require grad: not checked
    assert gradcheck(lambda a, k: a * k, [x, c])


def test_gradcheck_multiple_outputs():
    x = leaf([0.2, 0.9])
    assert gradcheck(lambda a: (a.exp(), (a * a).sum()), [x])


def test_gradcheck_fails_naming_input_element_and_values():
    x = leaf([[0.5, 1.0], [1.5, 2.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: WrongCube.apply(a), [x])
    msg = str(info.value)
    assert "input 0" in msg and "(2, 2)" in msg
    m = re.search(r"element \((\d+), (\d+)\)", msg)
    assert m, msg
    i, j = int(m.group(1)), int(m.group(2))
    m2 = re.search(r"analytic (\S+) vs numeric (\S+)", msg)
    assert m2, msg
    analytic, numeric = float(m2.group(1)), float(m2.group(2))
    v = x.detach().numpy()[i, j]
    assert analytic == pytest.approx(2 * v * v) and numeric == pytest.approx(3 * v * v, rel=1e-6)


def test_gradcheck_names_the_right_input():
    x = leaf([0.5, -1.0])
    y = leaf([2.0, 3.0])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongSecondInput.apply(a, b), [x, y])


def test_gradcheck_raise_exception_false_returns_false():
    x = leaf([1.0])
    assert gradcheck(lambda a: WrongCube.apply(a), [x], raise_exception=False) is False
    assert gradcheck(lambda a: Cube.apply(a), [x], raise_exception=False) is True


def test_gradcheck_requires_float64():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(ValueError) as info:
        gradcheck(lambda a: a * 2, [x])
    assert "float64" in str(info.value) and "float32" in str(info.value) and "input 0" in str(info.value)
    with pytest.raises(ValueError, match="float64"):
        gradgradcheck(lambda a: a * 2, [x])


def test_gradcheck_leaves_inputs_unchanged():
    vals = np.array([0.25, -0.75, 1.5])
    x = leaf(vals)
    gradcheck(lambda a: a.tanh(), [x])
    np.testing.assert_array_equal(x.detach().numpy(), vals)
    assert x.grad is None


def test_gradcheck_non_contiguous_inputs():
    base = np.arange(24, dtype=np.float64).reshape(4, 6) / 10 - 1
    strided = mg.from_numpy(base[:, ::2]).requires_grad_()  # non-contiguous view
    transposed = mg.from_numpy(np.asfortranarray(base[:3, :3])).requires_grad_()
    assert not strided._data.flags.c_contiguous and not transposed._data.flags.c_contiguous
    assert gradcheck(lambda a: (a * a).sin(), [strided])
    assert gradcheck(lambda a, b: a[:3, :3] @ b, [strided, transposed])
    assert gradgradcheck(lambda a: (a * a).sin(), [strided])
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: WrongCube.apply(a), [strided])


def test_gradgradcheck_passes_on_correct_ops():
    x = leaf([0.3, -0.8, 1.1])
    assert gradgradcheck(lambda a: Cube.apply(a), [x])
    assert gradgradcheck(lambda a: (a.sin() * a).sum(), [x])
    y = leaf([[0.5, -0.2, 0.1]])
    assert gradgradcheck(lambda a, b: (a * b).tanh(), [x, y])


def test_gradgradcheck_catches_non_differentiable_backward():
    x = leaf([0.5, 1.5])
    assert gradcheck(lambda a: CubeArrayBackward.apply(a), [x])  # the first derivative is right
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda a: CubeArrayBackward.apply(a), [x])
    msg = str(info.value)
    assert "input 0" in msg and "analytic" in msg and "numeric" in msg


def test_gradgradcheck_with_given_grad_outputs():
    x = leaf([0.5, 1.5])
    v = mg.tensor([1.0, -2.0], dtype=mg.float64)
    assert gradgradcheck(lambda a: Cube.apply(a), [x], grad_outputs=[v])


def test_custom_function_basics():
    x = leaf([2.0])
    y = Cube.apply(x)
    assert y.grad_fn is not None and y.grad_fn.name() == "CubeBackward"
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0])
    with mg.no_grad():
        assert Cube.apply(x).grad_fn is None


# -- strategies ----------------------------------------------------------------------------------------


@given(shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
def test_shapes_strategy_respects_bounds(shape):
    assert isinstance(shape, tuple) and 1 <= len(shape) <= 3
    assert all(isinstance(s, int) and 0 <= s <= 5 for s in shape)


@given(broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4))
def test_broadcastable_shapes_broadcast(shape_tuple):
    assert len(shape_tuple) == 3
    out = np.broadcast_shapes(*shape_tuple)
    xs = [mg.zeros(*s) for s in shape_tuple]
    assert (xs[0] + xs[1] + xs[2]).shape == out


@given(st.data())
def test_axes_strategy_gives_valid_axes(data):
    ndim = data.draw(st.integers(0, 4))
    ax = data.draw(axes(ndim))
    shape = tuple(range(2, 2 + ndim))
    a = np.zeros(shape)
    np.sum(a, axis=ax)  # raises for an invalid axis
    if isinstance(ax, tuple):
        assert len({a_ % ndim for a_ in ax}) == len(ax)  # distinct after normalisation
    assert mg.zeros(*shape).sum(axis=ax).shape == np.sum(a, axis=ax).shape


@given(st.data())
def test_axes_strategy_flags(data):
    ndim = data.draw(st.integers(1, 4))
    ax = data.draw(axes(ndim, allow_none=False, allow_tuple=False, allow_negative=False))
    assert isinstance(ax, int) and 0 <= ax < ndim


@given(tensors(shape=shapes(max_dims=3, max_side=3)))
def test_tensors_strategy_default_is_gradcheck_ready(t):
    assert isinstance(t, mg.Tensor)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert np.all(np.isfinite(t.detach().numpy()))
    assert np.all(np.abs(t.detach().numpy()) <= 5.0)


@given(tensors(shape=(2, 3), dtype=np.int64, elements=st.integers(-3, 3)))
def test_tensors_strategy_int_never_requires_grad(t):
    assert t.shape == (2, 3) and t.dtype == np.int64 and not t.requires_grad


@given(arrays((3,), elements=floats(-1.0, 1.0), unique=True))
def test_arrays_strategy(a):
    assert isinstance(a, np.ndarray) and a.shape == (3,) and a.dtype == np.float64
    assert len(set(a.tolist())) == 3 and np.all(np.abs(a) <= 1.0)


@given(tensors(shape=shapes(max_dims=2, max_side=3), elements=floats(-2.0, 2.0)))
def test_strategies_drive_gradcheck(x):
    assert gradcheck(lambda a: (a * a).sin(), [x])
