"""Every op with a hand-written (fused or array-level) derivative against its reference, the
same function composed from differentiable primitives (``<op>_reference`` beside each op).

For random float64 inputs (shapes with size-1 and empty dims, values with ties and zeros where
the op has a kink) both must give the same value, the same first derivatives (once from a
backward pass that is not recorded, which takes the ops' fast paths, and once recorded with
``create_graph=True``) and the same second derivatives, on every device.
"""
from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import activation as A
from minigrad.ops import elementwise as E
from minigrad.ops import reduction as R
from minigrad.ops import scan as S
from minigrad.testing import strategies as mst

from _helpers import arrays, grid, host, leaf, nonzero, plain, with_device

N = importlib.import_module("minigrad.ops.norm")  # (the package's ``norm`` is the function)

#: Shapes of up to 3 dims with sides 0..3: size-1 and empty dims included, small enough for
#: the loops of the references (prod_reference and cumsum_reference).
SHAPES = mst.shapes(max_dims=3, min_side=0, max_side=3)
#: Multiples of 0.5 in [-2, 2]: zeros and ties are frequent.
TIES = grid(-4, 4, 0.5)

RTOL, ATOL = 1e-9, 1e-11


def _close(got, want, what: str) -> None:
    g, w = host(got), host(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != reference's {w.shape}"
    np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=what)


def _or_zeros(grads, like) -> list:
    """``mg.grad`` results with ``None`` (unused input) as zeros of the input's shape."""
    return [np.zeros(t.shape) if g is None else host(g) for g, t in zip(grads, like)]


def _grads(fn, inputs: list, w: mg.Tensor, create_graph: bool) -> tuple:
    y = fn(*inputs)
    return mg.grad((y * w).sum(), inputs, create_graph=create_graph, allow_unused=True)


def _second(grads: tuple, wrt: list, vs: list) -> list:
    """d/d(wrt) of Σᵢ ⟨gradᵢ, vᵢ⟩: Hessian-vector products (and, for the seed w, the
    derivative of the gradient with respect to it)."""
    total = None
    for g, v in zip(grads, vs):
        if g is not None and g.requires_grad:
            term = (g * v).sum()
            total = term if total is None else total + term
    if total is None:  # no gradient depends on anything: every second derivative is 0
        return [np.zeros(t.shape) for t in wrt]
    return _or_zeros(mg.grad(total, wrt, allow_unused=True), wrt)


def assert_agree(fused, reference, inputs: list, data, device: str) -> None:
    """``fused`` and ``reference`` agree in value, first and second derivatives at ``inputs``."""
    y, y_ref = fused(*inputs), reference(*inputs)
    _close(y, y_ref, "value")
    w = leaf(data.draw(arrays(y.shape, plain(-2, 2)), label="w"), device)
    vs = [leaf(data.draw(arrays(t.shape, plain(-2, 2)), label="v"), device, requires_grad=False) for t in inputs]

    plain_pass = _or_zeros(_grads(fused, inputs, w, create_graph=False), inputs)
    recorded = _grads(fused, inputs, w, create_graph=True)
    recorded_ref = _grads(reference, inputs, w, create_graph=True)
    for k, (a, b, c) in enumerate(zip(plain_pass, _or_zeros(recorded, inputs), _or_zeros(recorded_ref, inputs))):
        _close(a, c, f"gradient of input {k}")
        _close(b, c, f"gradient of input {k} (create_graph=True)")

    wrt = inputs + [w]
    for k, (a, b) in enumerate(zip(_second(recorded, wrt, vs), _second(recorded_ref, wrt, vs))):
        _close(a, b, f"second derivative, input {k}" if k < len(inputs) else "second derivative, seed")


def _tensor(data, device, shape=SHAPES, elements=None, label="x"):
    a = data.draw(arrays(shape, elements if elements is not None else plain(-3, 3)), label=label)
    return leaf(a, device)


def _dim(data, ndim: int):
    """One dim (negative too); a 0-d tensor takes 0 or -1."""
    n = max(ndim, 1)
    return data.draw(st.integers(-n, n - 1), label="dim")


def _reduced_count(shape: tuple, axis) -> int:
    if not shape:
        return 1
    axes = range(len(shape)) if axis is None else ([axis] if isinstance(axis, int) else axis)
    return math.prod(shape[a] for a in axes)


# -- activations --------------------------------------------------------------------------------

@with_device
@given(data=st.data())
def test_relu(device, data):
    assert_agree(mg.relu, A.relu_reference, [_tensor(data, device, elements=TIES)], data, device)


@with_device
@given(data=st.data(), slope=st.sampled_from([0.01, 0.2, 1.5]))
def test_leaky_relu(device, data, slope):
    assert_agree(lambda x: mg.nn.functional.leaky_relu(x, slope), lambda x: A.leaky_relu_reference(x, slope),
                 [_tensor(data, device, elements=TIES)], data, device)


@with_device
@given(data=st.data())
def test_sigmoid(device, data):
    assert_agree(mg.sigmoid, A.sigmoid_reference, [_tensor(data, device, elements=plain(-6, 6))], data, device)


@with_device
@given(data=st.data())
def test_tanh(device, data):
    assert_agree(mg.tanh, A.tanh_reference, [_tensor(data, device, elements=plain(-4, 4))], data, device)


@with_device
@given(data=st.data(), beta=st.sampled_from([0.5, 1.0, 2.0]), threshold=st.sampled_from([1.0, 20.0]))
def test_softplus(device, data, beta, threshold):
    assert_agree(lambda x: mg.softplus(x, beta, threshold), lambda x: A.softplus_reference(x, beta, threshold),
                 [_tensor(data, device, elements=plain(-5, 5))], data, device)


@with_device
@given(data=st.data(), approximate=st.sampled_from(["none", "tanh"]))
def test_gelu(device, data, approximate):
    assert_agree(lambda x: mg.gelu(x, approximate), lambda x: A.gelu_reference(x, approximate),
                 [_tensor(data, device, elements=plain(-4, 4))], data, device)


@with_device
@given(data=st.data(), op=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_and_log_softmax(device, data, op):
    x = _tensor(data, device, elements=plain(-5, 5))
    dim = _dim(data, x.ndim)
    assume(x.ndim == 0 or x.shape[dim] > 0)  # (empty rows: log Σ over nothing in the reference)
    fused, reference = getattr(mg, op), getattr(A, op + "_reference")
    assert_agree(lambda t: fused(t, dim=dim), lambda t: reference(t, dim=dim), [x], data, device)


# -- element-wise ops with a kink -----------------------------------------------------------------

@with_device
@given(data=st.data())
def test_abs(device, data):
    assert_agree(mg.abs, E.abs_reference, [_tensor(data, device, elements=TIES)], data, device)


@with_device
@given(data=st.data(), which=st.sampled_from(["maximum", "minimum"]))
def test_maximum_and_minimum(device, data, which):
    sx, sy = data.draw(mst.broadcastable_shapes(2, max_dims=3, min_side=0, max_side=3), label="shapes")
    x, y = _tensor(data, device, sx, TIES), _tensor(data, device, sy, TIES, label="y")
    assert_agree(getattr(mg, which), getattr(E, which + "_reference"), [x, y], data, device)


@with_device
@given(data=st.data(), bounds=st.sampled_from(["min", "max", "both", "tensors"]))
def test_clamp(device, data, bounds):
    x = _tensor(data, device, elements=TIES)
    if bounds == "tensors":
        lo = data.draw(arrays(x.shape, TIES), label="lo")
        hi = data.draw(arrays(x.shape, TIES), label="hi")
        hi = np.where(hi == lo, hi + 0.25, hi)  # lo = hi: PyTorch's rule sends dy to neither bound
        inputs = [x, leaf(lo, device), leaf(hi, device)]
        assert_agree(lambda t, l, h: mg.clamp(t, l, h), lambda t, l, h: E.clamp_reference(t, l, h), inputs, data,
                     device)
        return
    lo, hi = data.draw(TIES, label="lo"), data.draw(TIES, label="hi")  # lo > hi included: y = hi
    lo, hi = (lo, None) if bounds == "min" else (None, hi) if bounds == "max" else (lo, hi)
    assert_agree(lambda t: mg.clamp(t, lo, hi), lambda t: E.clamp_reference(t, lo, hi), [x], data, device)


# -- reductions -----------------------------------------------------------------------------------

@with_device
@given(data=st.data(), keepdims=st.booleans())
def test_prod(device, data, keepdims):
    zeros_often = st.one_of(st.just(0.0), TIES)  # one zero and several zeros in a slice
    x = _tensor(data, device, elements=zeros_often)
    axis = data.draw(mst.axes(x.ndim), label="axis")
    assert_agree(lambda t: mg.prod(t, axis, keepdims), lambda t: R.prod_reference(t, axis, keepdims), [x], data,
                 device)


@with_device
@given(data=st.data(), keepdims=st.booleans(), largest=st.booleans())
def test_amax_and_amin(device, data, keepdims, largest):
    x = _tensor(data, device, mst.shapes(max_dims=3, max_side=3), TIES)  # ties share the gradient
    axis = data.draw(mst.axes(x.ndim), label="axis")
    fused = mg.amax if largest else mg.amin
    assert_agree(lambda t: fused(t, axis, keepdims), lambda t: R.amax_reference(t, axis, keepdims, largest), [x],
                 data, device)


@with_device
@given(data=st.data(), keepdim=st.booleans(), largest=st.booleans())
def test_max_and_min_along_a_dim(device, data, keepdim, largest):
    x = _tensor(data, device, mst.shapes(max_dims=3, max_side=3), TIES)  # only argmax's element of a tie
    dim = _dim(data, x.ndim)
    fused = mg.max if largest else mg.min
    assert_agree(lambda t: fused(t, dim, keepdim).values, lambda t: R.max_reference(t, dim, keepdim, largest), [x],
                 data, device)


@with_device
@given(data=st.data(), keepdims=st.booleans())
def test_logsumexp(device, data, keepdims):
    x = _tensor(data, device, elements=plain(-5, 5))
    axis = data.draw(mst.axes(x.ndim), label="axis")
    assume(_reduced_count(x.shape, axis) > 0)  # log Σ over nothing is log 0
    assert_agree(lambda t: mg.logsumexp(t, axis, keepdims), lambda t: R.logsumexp_reference(t, axis, keepdims),
                 [x], data, device)


@with_device
@given(data=st.data(), keepdims=st.booleans(), correction=st.sampled_from([0, 1]), op=st.sampled_from(["var", "std"]))
def test_var_and_std(device, data, keepdims, correction, op):
    # For std: distinct values on a grid, so no slice of two or more is constant (√ at 0 has no
    # derivative; std takes 0 there); slices of one element are left out below.
    shape = data.draw(mst.shapes(max_dims=3, max_side=3), label="shape")
    x = leaf(data.draw(arrays(shape, grid(-24, 24, 0.125), unique=True), label="x"), device)
    axis = data.draw(mst.axes(x.ndim), label="axis")
    n = _reduced_count(x.shape, axis)
    assume(n - correction > 0 and (op == "var" or n > 1))
    fused, reference = getattr(mg, op), getattr(R, op + "_reference")
    assert_agree(lambda t: fused(t, axis, keepdims=keepdims, correction=correction),
                 lambda t: reference(t, axis, correction, keepdims), [x], data, device)


@with_device
@given(data=st.data(), p=st.sampled_from([1, 2, 3, 0.5, 1.5, math.inf]), keepdim=st.booleans())
def test_norm(device, data, p, keepdim):
    # Zeros where the formula has a derivative there: p = 1 (|x|) and inf (ties share, max|x|).
    elements = TIES if p in (1, math.inf) else nonzero(0.25, 3)
    x = _tensor(data, device, mst.shapes(max_dims=3, max_side=3), elements)
    dim = data.draw(mst.axes(x.ndim), label="dim")
    assert_agree(lambda t: mg.norm(t, p, dim, keepdim), lambda t: N.norm_reference(t, p, dim, keepdim), [x], data,
                 device)


# -- scans ----------------------------------------------------------------------------------------

@with_device
@given(data=st.data())
def test_cumsum(device, data):
    x = _tensor(data, device)
    dim = _dim(data, x.ndim)
    assert_agree(lambda t: mg.cumsum(t, dim), lambda t: S.cumsum_reference(t, dim), [x], data, device)


@with_device
@given(data=st.data())
def test_exclusive_cumprod_forms_agree(device, data):
    """The fast array form gives the recorded form's values, zeros included."""
    a = data.draw(arrays(mst.shapes(min_dims=1, max_dims=3, max_side=5), st.one_of(st.just(0.0), TIES)))
    x = leaf(a, device, requires_grad=False)
    want = np.concatenate([np.ones(a.shape[:-1] + (1,)), np.cumprod(a, axis=-1)[..., :-1]], axis=-1)
    _close(S.exclusive_cumprod_recorded(x), want, "recorded")
    _close(S.exclusive_cumprod_arrays(x._data), want, "arrays")
    with mg.no_grad():
        _close(S.exclusive_cumprod(x), want, "chosen without recording")
    _close(S.exclusive_cumprod(x), want, "chosen while recording")


def test_every_reference_is_listed_in_its_module_docstring():
    import inspect

    for module in (A, E, N, R, S):
        names = [n for n, f in vars(module).items() if n.endswith("_reference") and inspect.isfunction(f)
                 and f.__module__ == module.__name__]
        assert names, module.__name__
        for name in names:
            assert f":func:`{name}`" in module.__doc__, f"{module.__name__} does not list {name}"
            assert getattr(module, name).__doc__, f"{name} has no docstring"
