"""Activations (sigmoid tanh relu leaky_relu elu gelu softplus softmax log_softmax): forward against
NumPy/SciPy references, gradients by gradcheck, and gradgradcheck for the smooth ones."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import SMALL, arrays, assert_close, check_grads, grad_settings, grid, leaf, nonzero, plain, with_device
from _special import special


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))


# name -> (minigrad op, reference, inputs (away from kinks), smooth away from those kinks?  (relu and
# leaky_relu are linear there, so their second-order check covers the fused backward ops too))
ELEMENTWISE = {
    "sigmoid": (mg.sigmoid, special.expit, plain(-6, 6), True),
    "tanh": (mg.tanh, np.tanh, plain(), True),
    "relu": (mg.relu, lambda a: np.maximum(a, 0), nonzero(), True),
    "leaky_relu": (mg.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), nonzero(), True),
    "leaky_relu_0.3": (lambda t: mg.leaky_relu(t, negative_slope=0.3), lambda a: np.where(a > 0, a, 0.3 * a),
                       nonzero(), True),
    "elu": (mg.elu, lambda a: np.where(a > 0, a, np.expm1(a)), nonzero(), True),
    "elu_0.5": (lambda t: mg.elu(t, alpha=0.5), lambda a: np.where(a > 0, a, 0.5 * np.expm1(a)), nonzero(), True),
    "gelu": (mg.gelu, lambda a: a * 0.5 * (1 + special.erf(a / math.sqrt(2))), plain(), True),
    "gelu_tanh": (lambda t: mg.gelu(t, approximate="tanh"), _gelu_tanh, plain(), True),
    "softplus": (mg.softplus, lambda a: np.logaddexp(0, a), plain(-6, 6), True),
    "softplus_beta2": (lambda t: mg.softplus(t, beta=2.0), lambda a: np.logaddexp(0, 2 * a) / 2, plain(), True),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@with_device
@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3))
def test_activation_forward(device, name, data, shape):
    op, ref, elements, _ = ELEMENTWISE[name]
    a = data.draw(arrays(shape, elements))
    out = op(leaf(a, device))
    assert_close(out, ref(a), rtol=1e-12, atol=1e-15, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@grad_settings
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_activation_gradients(name, data, shape):
    op, _, elements, smooth = ELEMENTWISE[name]
    check_grads(op, leaf(data.draw(arrays(shape, elements))), second_order=smooth)


@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_activation_methods(data, shape):
    a = data.draw(arrays(shape))
    x = leaf(a)
    assert_close(x.sigmoid(), special.expit(a), rtol=1e-12)
    assert_close(x.tanh(), np.tanh(a), rtol=1e-12)
    assert_close(x.relu(), np.maximum(a, 0))


def test_elu_is_accurate_for_tiny_negative_inputs():
    """α(eˣ - 1) by expm1: no cancellation near 0."""
    a = np.array([-1e-10, -1e-300, -3e-8])
    x = leaf(a)
    assert_close(mg.elu(x, 0.5), 0.5 * np.expm1(a), rtol=1e-15, atol=0)
    mg.elu(x, 0.5).sum().backward()
    assert_close(x.grad, 0.5 * np.exp(a), rtol=1e-15)


def test_kink_conventions():
    """relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = α (the x ≤ 0 branch)."""
    for fn, want in [(mg.relu, [0.0, 0.0, 1.0]), (lambda t: mg.leaky_relu(t, 0.2), [0.2, 0.2, 1.0]),
                     (lambda t: mg.elu(t, 0.7), [0.7 * math.exp(-1), 0.7, 1.0])]:
        x = leaf([-1.0, 0.0, 1.0])
        fn(x).sum().backward()
        assert_close(x.grad, want, rtol=1e-12)


def test_relu_gradient_passes_at_nan_and_keeps_the_dtype():
    """PyTorch's rule: dx = 0 where the output is <= 0, else dy; the output at a NaN input is NaN,
    so the gradient passes there (checked against PyTorch itself in test_ops_torch_oracle)."""
    for dtype in (np.float16, np.float32, np.float64):
        x = mg.tensor(np.array([np.nan, -np.inf, -1.0, 0.0, 2.0, np.inf], dtype=dtype), requires_grad=True)
        y = mg.relu(x)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.detach().numpy(), np.array([np.nan, 0, 0, 0, 2, np.inf], dtype=dtype))
        y.backward(mg.tensor(np.full(6, 3.0, dtype=dtype)))
        assert x.grad.dtype == dtype
        np.testing.assert_array_equal(x.grad.numpy(), np.array([3, 0, 0, 0, 3, 3], dtype=dtype))


def test_typed_scalar_is_a_cached_read_only_0d_array_on_the_host():
    from minigrad.ops.helpers import typed_scalar

    for dtype in (np.float16, np.float32, np.float64, np.int32):
        a = np.ones(3, dtype=dtype)
        s = typed_scalar(0.5 if dtype != np.int32 else 2, a)
        assert s.shape == () and s.dtype == dtype and not s.flags.writeable
        assert typed_scalar(0.5 if dtype != np.int32 else 2, a) is s
        # the same result as NumPy's treatment of the Python number (cast to the array's dtype)
        np.testing.assert_array_equal(a * s, a * (0.5 if dtype != np.int32 else 2))
    assert typed_scalar(0.25, [1.0]) == 0.25  # anything but a host array gets the number back


@given(data=st.data(), shape=mst.shapes(min_side=0, max_dims=3), beta=st.sampled_from([0.5, 1.0, 3.0]),
       threshold=st.sampled_from([1.0, 5.0, 20.0]))
def test_softplus_threshold_switches_to_linear(data, shape, beta, threshold):
    a = data.draw(arrays(shape, plain(-10, 10)))
    z = beta * a
    want = np.where(z > threshold, a, np.logaddexp(0, z) / beta)
    x = leaf(a)
    out = mg.softplus(x, beta=beta, threshold=threshold)
    assert_close(out, want, rtol=1e-12, atol=1e-15)
    out.backward(mg.ones_like(out))
    assert_close(x.grad, np.where(z > threshold, 1.0, special.expit(z)), rtol=1e-12, atol=1e-15)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        mg.gelu(leaf([1.0]), approximate="fast")


def _reference(name, a, axis):
    """SciPy's softmax/log_softmax (which reject empty arrays: those map to an empty result)."""
    return a.copy() if a.size == 0 else getattr(special, name)(a, axis=axis)


def _softmax_case(data, shape, elements=None):
    a = data.draw(arrays(shape, elements))
    axis = data.draw(mst.axes(len(shape), allow_none=False, allow_tuple=False))
    return a, axis


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@with_device
@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, min_side=0))
def test_softmax_forward(device, name, data, shape):
    a, axis = _softmax_case(data, shape, plain(-20, 20))
    ref = _reference(name, a, axis)
    x = leaf(a, device)
    fn = getattr(mg, name)
    assert_close(fn(x, axis), ref, rtol=1e-10, atol=1e-12)
    assert_close(fn(x, dim=axis), ref, rtol=1e-10, atol=1e-12)
    assert_close(getattr(x, name)(axis), ref, rtol=1e-10, atol=1e-12)
    if name == "softmax" and a.size:
        assert_close(fn(x, axis).sum(axis), np.ones(np.delete(shape, axis % len(shape))), rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data(), shape=mst.shapes(**SMALL))
def test_softmax_default_axis_is_last(name, data, shape):
    a = data.draw(arrays(shape))
    ref = getattr(special, name)(a, axis=-1) if a.ndim else getattr(special, name)(a)
    assert_close(getattr(mg, name)(leaf(a)), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@grad_settings
@given(data=st.data(), shape=mst.shapes(min_dims=1, **SMALL))
def test_softmax_gradients(name, data, shape):
    a, axis = _softmax_case(data, shape)
    check_grads(lambda t: getattr(mg, name)(t, axis), leaf(a))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_axis_out_of_range_names_axis_and_ndim(name):
    with pytest.raises(IndexError) as info:
        getattr(mg, name)(leaf(np.zeros((2, 3))), 2)
    assert "2" in str(info.value) and "dimension" in str(info.value)


@given(data=st.data(), shape=mst.shapes(min_dims=1, max_dims=3, max_side=3))
def test_log_softmax_equals_log_of_softmax_and_is_shift_invariant(data, shape):
    a = data.draw(arrays(shape, grid(-16, 16)))
    x = leaf(a)
    assert_close(mg.log_softmax(x, -1), np.log(special.softmax(a, axis=-1)), rtol=1e-10, atol=1e-12)
    assert_close(mg.softmax(x + 100.0, -1), special.softmax(a, axis=-1), rtol=1e-10, atol=1e-12)


def test_erf_fallback_without_scipy_is_double_precision():
    """GELU's erf when SciPy is missing: Chebyshev series good to a few ulps (not the 1.5e-7 of a
    textbook approximation), with erf(-0) = -0, erf(±inf) = ±1, NaN kept, dtype kept."""
    import math

    from minigrad.ops import _erf

    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 7, 2000), -np.geomspace(1e-300, 7, 500),
                        [1.9999999999999998, 2.0, 25.5, 1e300]])
    got = _erf.erf(np, x)
    want = np.array([math.erf(v) for v in x])
    assert np.all(np.abs(got - want) <= 4e-15 * np.maximum(np.abs(want), 1e-300))
    special = _erf.erf(np, np.array([-0.0, np.inf, -np.inf, np.nan]))
    assert np.signbit(special[0]) and special[0] == 0 and special[1] == 1 and special[2] == -1 and np.isnan(special[3])
    assert _erf.erf(np, np.ones(3, dtype=np.float32)).dtype == np.float32


def test_gelu_without_scipy_matches_gelu_with_it(monkeypatch):
    import builtins

    x = np.linspace(-6, 6, 101)
    with_scipy = mg.nn.functional.gelu(mg.tensor(x, dtype=mg.float64)).numpy()
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("no scipy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    monkeypatch.setattr("minigrad.ops.activation._ERF", {})  # forget the erf found with SciPy
    without = mg.nn.functional.gelu(mg.tensor(x, dtype=mg.float64)).numpy()
    np.testing.assert_allclose(without, with_scipy, rtol=1e-14, atol=1e-15)
