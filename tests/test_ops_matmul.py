"""matmul / ``@`` / dot: 1-D, 2-D and batched operands with broadcast batch dims, against
``numpy.matmul``; gradients by gradcheck and gradgradcheck; clear shape errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import arrays, assert_close, check_grads, grad_settings, leaf, with_device

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@st.composite
def matmul_shapes(draw, min_side=1, max_side=3, max_batch_dims=2):
    """Shapes (x, y) valid for matmul: either may be 1-D; batch dims broadcast."""
    m, k, n = (draw(st.integers(min_side, max_side)) for _ in range(3))
    bx, by = draw(mst.broadcastable_shapes(2, max_dims=max_batch_dims, max_side=2))
    kind_x = draw(st.sampled_from(["vector", "matrix", "batch"]))
    kind_y = draw(st.sampled_from(["vector", "matrix", "batch"]))
    sx = (k,) if kind_x == "vector" else (m, k) if kind_x == "matrix" else bx + (m, k)
    sy = (k,) if kind_y == "vector" else (k, n) if kind_y == "matrix" else by + (k, n)
    return sx, sy


@with_device
@given(data=st.data(), shapes=matmul_shapes(min_side=0, max_side=4))
def test_matmul_forward(device, data, shapes):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    x, y = leaf(a, device), leaf(b, device)
    want = np.matmul(a, b)
    assert_close(mg.matmul(x, y), want, rtol=1e-12, atol=1e-12)
    assert_close(x @ y, want, rtol=1e-12, atol=1e-12)
    assert_close(x.matmul(y), want, rtol=1e-12, atol=1e-12)


@grad_settings
@given(data=st.data(), shapes=matmul_shapes())
def test_matmul_gradients(data, shapes):
    x, y = leaf(data.draw(arrays(shapes[0]))), leaf(data.draw(arrays(shapes[1])))
    check_grads(lambda u, v: u @ v, x, y)


@pytest.mark.parametrize("sx, sy", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                    ((2, 1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,))])
def test_matmul_gradient_shapes(sx, sy):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sx), rng.standard_normal(sy)
    x, y = leaf(a), leaf(b)
    out = x @ y
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    assert x.grad.shape == sx and y.grad.shape == sy
    # <g, x @ y> is bilinear: its gradient in x, dotted with x, gives the value back.
    value = float(np.sum(g * np.matmul(a, b)))
    assert np.isclose(np.sum(x.grad.numpy() * a), value) and np.isclose(np.sum(y.grad.numpy() * b), value)


@grad_settings
@given(data=st.data(), k=st.integers(1, 4))
def test_dot(data, k):
    a, b = data.draw(arrays((k,))), data.draw(arrays((k,)))
    x, y = leaf(a), leaf(b)
    assert_close(mg.dot(x, y), np.dot(a, b), rtol=1e-12, atol=1e-12)
    assert_close(x.dot(y), np.dot(a, b), rtol=1e-12, atol=1e-12)
    check_grads(mg.dot, x, y)


@grad_settings
@given(data=st.data(), shapes=matmul_shapes(max_batch_dims=1))
def test_matmul_with_numpy_operand(data, shapes):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    assert_close(a @ leaf(b), np.matmul(a, b), rtol=1e-12, atol=1e-12)  # ndarray @ Tensor: __rmatmul__
    assert_close(leaf(a) @ b, np.matmul(a, b), rtol=1e-12, atol=1e-12)
    check_grads(lambda v: a @ v, leaf(b))


def test_matmul_with_empty_inner_dim_is_zero():
    x, y = leaf(np.ones((2, 0))), leaf(np.ones((0, 3)))
    out = x @ y
    assert_close(out, np.zeros((2, 3)))
    out.sum().backward()
    assert x.grad.shape == (2, 0) and y.grad.shape == (0, 3)


def test_matmul_errors_name_shapes():
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3) @ mg.ones(4, 2)
    assert "(2, 3)" in str(info.value) and "(4, 2)" in str(info.value)
    with pytest.raises(ValueError) as info:
        mg.ones(2, 2, 3) @ mg.ones(3, 3, 2)
    assert "(2, 2, 3)" in str(info.value) and "(3, 3, 2)" in str(info.value)
    with pytest.raises(ValueError, match=r"\(\)"):
        mg.tensor(2.0) @ mg.ones(2)
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        mg.dot(mg.ones(2, 2), mg.ones(2))
