"""Pooling (max, average, adaptive), channel dropout and BatchNorm2d.

The fast pooling functions against their plain forms (``*_reference``, composed from recorded
ops): values, first derivatives by both backwards (arrays, and recorded under create_graph) and
second derivatives, in float64 over random shapes, kernels, strides, paddings, dilations and
modes (batch 1, empty batches, a kernel as large as the padded input, odd sizes).  Then
gradcheck/gradgradcheck, PyTorch's behaviour where torch is installed (ties, NaN, ceil_mode,
divisors, indices, integer inputs, unbatched inputs), the error messages, and the modules."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.nn.functional.pooling import (adaptive_avg_pool2d_reference, adaptive_max_pool2d_reference,
                                            avg_pool1d_reference, avg_pool2d_reference, max_pool1d_reference,
                                            max_pool2d_reference, pooled_size)

from nn_helpers import host, leaf, with_device

EXAMPLES = settings(with_device, max_examples=15, deadline=None)


def distinct(shape, seed):
    """Values in [-2, 2) that are all different (max pooling has no ties, so no kinks) and at
    least 4/size apart."""
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    return (rng.permutation(size) * (4.0 / max(size, 1)) - 2.0).reshape(shape)


def derivatives(f, x, seed=0):
    """f's value, d/dx of L = Σ c·f(x)² by the plain backward and by the recorded one, and the
    second derivative d/dx <dL/dx, u> (fixed random c, u), as NumPy arrays."""
    rng = np.random.default_rng(seed)
    y = f(x)
    c = mg.tensor(rng.uniform(0.5, 1.5, tuple(y.shape)), device=x.device)

    def loss():
        out = f(x)
        return (c * out * out).sum()

    (first,) = mg.grad(loss(), [x])
    (recorded,) = mg.grad(loss(), [x], create_graph=True)
    u = mg.tensor(rng.standard_normal(tuple(x.shape)), device=x.device)
    (second,) = mg.grad((recorded * u).sum(), [x])
    return [host(y), host(first), host(recorded), host(second)]


def assert_agree(fast, reference):
    for name, a, b in zip(("value", "gradient", "recorded gradient", "second derivative"), fast, reference):
        assert a.shape == b.shape, (name, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(fast[1], fast[2], rtol=1e-12, atol=1e-12, err_msg="the two backwards differ")


@st.composite
def window_cases(draw, nd=2, dilation=True):
    """(input shape, options) of a pooling over the last ``nd`` dims with at least one window."""
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, kv // 2)) for kv in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    # smallest size with one window: d(k-1)+1 - 2p (>= 1); up to 4 more
    spatial = tuple(max(1, dv * (kv - 1) + 1 - 2 * pv) + draw(st.integers(0, 4)) for kv, pv, dv in zip(k, p, d))
    lead = draw(st.sampled_from(((0, 2), (1, 1), (2, 3), (3,), (1,))))
    options = {"kernel_size": k if draw(st.booleans()) or nd == 1 else k[0] if len(set(k)) == 1 else k,
               "stride": draw(st.sampled_from((None, s))), "padding": p, "ceil_mode": draw(st.booleans())}
    if options["stride"] is None:
        s = k
    if dilation:
        options["dilation"] = d
    ceil = options["ceil_mode"]
    while not all(_windows_see_input(n, kv, sv, pv, dv, ceil) for n, kv, sv, pv, dv in zip(spatial, k, s, p, d)):
        spatial = tuple(n + 1 for n in spatial)
    return lead + spatial, options


def _windows_see_input(n, k, s, p, d, ceil_mode):
    """At least one window, and each covers an input element.  (A dilated window can fall
    entirely into the padding, e.g. positions -1 and 1 of a size-1 input: its value is -inf and
    PyTorch's index for it points past the plane, so the tests leave such inputs out.)"""
    out = pooled_size(n, k, s, p, d, ceil_mode)
    return out > 0 and all(any(0 <= t * s - p + i * d < n for i in range(k)) for t in range(out))


# -- fast == reference -------------------------------------------------------------------------

@EXAMPLES
@given(case=window_cases(2), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_its_reference(device, case, seed):
    shape, options = case
    x = leaf(distinct(shape, seed), device)
    assert_agree(derivatives(lambda t: F.max_pool2d(t, **options), x),
                 derivatives(lambda t: max_pool2d_reference(t, **options), x))


@EXAMPLES
@given(case=window_cases(1), seed=st.integers(0, 2**16))
def test_max_pool1d_matches_its_reference(device, case, seed):
    shape, options = case
    x = leaf(distinct(shape, seed), device)
    assert_agree(derivatives(lambda t: F.max_pool1d(t, **options), x),
                 derivatives(lambda t: max_pool1d_reference(t, **options), x))


@EXAMPLES
@given(case=window_cases(2, dilation=False), seed=st.integers(0, 2**16), include=st.booleans(),
       override=st.sampled_from((None, None, 3, -2)))
def test_avg_pool2d_matches_its_reference(device, case, seed, include, override):
    shape, options = case
    options = dict(options, count_include_pad=include, divisor_override=override)
    x = leaf(np.random.default_rng(seed).uniform(-2, 2, shape), device)
    assert_agree(derivatives(lambda t: F.avg_pool2d(t, **options), x),
                 derivatives(lambda t: avg_pool2d_reference(t, **options), x))


@EXAMPLES
@given(case=window_cases(1, dilation=False), seed=st.integers(0, 2**16), include=st.booleans())
def test_avg_pool1d_matches_its_reference(device, case, seed, include):
    shape, options = case
    options = dict(options, count_include_pad=include)
    x = leaf(np.random.default_rng(seed).uniform(-2, 2, shape), device)
    assert_agree(derivatives(lambda t: F.avg_pool1d(t, **options), x),
                 derivatives(lambda t: avg_pool1d_reference(t, **options), x))


ADAPTIVE_SIZES = st.one_of(st.integers(1, 4), st.tuples(st.one_of(st.none(), st.integers(1, 4)),
                                                        st.one_of(st.none(), st.integers(1, 4))))


@EXAMPLES
@given(lead=st.sampled_from(((0, 2), (1, 1), (2, 3), (3,))), h=st.integers(1, 7), w=st.integers(1, 7),
       size=ADAPTIVE_SIZES, seed=st.integers(0, 2**16))
def test_adaptive_pools_match_their_references(device, lead, h, w, size, seed):
    x = leaf(distinct(lead + (h, w), seed), device)
    assert_agree(derivatives(lambda t: F.adaptive_avg_pool2d(t, size), x),
                 derivatives(lambda t: adaptive_avg_pool2d_reference(t, size), x))
    assert_agree(derivatives(lambda t: F.adaptive_max_pool2d(t, size), x),
                 derivatives(lambda t: adaptive_max_pool2d_reference(t, size), x))


@settings(max_examples=10, deadline=None)
@given(case=window_cases(2), seed=st.integers(0, 2**16))
def test_gradcheck_and_gradgradcheck(case, seed):
    shape, options = case
    x = leaf(distinct(shape, seed))
    avg_options = {k: v for k, v in options.items() if k != "dilation"}
    for f in (lambda t: F.max_pool2d(t, **options), lambda t: F.avg_pool2d(t, **avg_options),
              lambda t: F.adaptive_avg_pool2d(t, (2, 3)), lambda t: F.adaptive_max_pool2d(t, (3, 2))):
        assert gradcheck(f, [x])
        assert gradgradcheck(f, [x])


def test_third_derivative_of_a_max_pool_through_the_recorded_backward():
    """The recorded backward is a scatter whose own backward is a gather (and back): any order."""
    x = leaf(distinct((1, 2, 4, 4), 3))
    y = F.max_pool2d(x, 2, stride=1)
    (g,) = mg.grad((y ** 3).sum(), [x], create_graph=True)
    (h,) = mg.grad((g * g).sum(), [x], create_graph=True)
    (k,) = mg.grad(h.sum(), [x])
    yr = max_pool2d_reference(x, 2, stride=1)
    (gr,) = mg.grad((yr ** 3).sum(), [x], create_graph=True)
    (hr,) = mg.grad((gr * gr).sum(), [x], create_graph=True)
    (kr,) = mg.grad(hr.sum(), [x])
    np.testing.assert_allclose(host(k), host(kr), rtol=1e-12)


def test_the_common_2x2_case_views_the_input_and_saves_only_offsets():
    x = leaf(distinct((2, 3, 8, 8), 0))
    y = F.max_pool2d(x, 2)
    (offsets,) = y.grad_fn.saved_tensors
    assert offsets._data.dtype == np.uint8 and offsets.shape == (2, 3, 4, 4)
    assert F.avg_pool2d(x, 2).grad_fn.saved_tensors == ()


# -- against PyTorch ---------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


@settings(max_examples=25, deadline=None)
@given(case=window_cases(2), seed=st.integers(0, 2**16), ties=st.booleans(), include=st.booleans())
def test_max_and_avg_pool2d_match_pytorch(case, seed, ties, include):
    torch = _torch()
    shape, options = case
    a = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64) if ties else distinct(shape, seed)
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    y, i = F.max_pool2d(x, return_indices=True, **options)
    ty, ti = torch.nn.functional.max_pool2d(t, return_indices=True, **options)
    np.testing.assert_array_equal(host(y), ty.detach().numpy())
    np.testing.assert_array_equal(host(i), ti.numpy())
    u = np.random.default_rng(seed + 1).standard_normal(tuple(y.shape))
    (gx,) = mg.grad(y, [x], mg.tensor(u))
    (tg,) = torch.autograd.grad(ty, [t], torch.tensor(u))
    np.testing.assert_allclose(host(gx), tg.numpy(), rtol=1e-12, atol=1e-14)

    avg_options = dict({k: v for k, v in options.items() if k != "dilation"}, count_include_pad=include)
    y = F.avg_pool2d(x, **avg_options)
    ty = torch.nn.functional.avg_pool2d(t, **avg_options)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    (gx,) = mg.grad(y, [x], mg.tensor(np.ones(tuple(y.shape))))
    (tg,) = torch.autograd.grad(ty, [t], torch.ones(ty.shape, dtype=torch.float64))
    np.testing.assert_allclose(host(gx), tg.numpy(), rtol=1e-12, atol=1e-14)


@settings(max_examples=20, deadline=None)
@given(case=window_cases(1), seed=st.integers(0, 2**16))
def test_1d_pools_match_pytorch(case, seed):
    torch = _torch()
    shape, options = case
    a = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)
    y, i = F.max_pool1d(mg.tensor(a), return_indices=True, **options)
    ty, ti = torch.nn.functional.max_pool1d(torch.tensor(a), return_indices=True, **options)
    np.testing.assert_array_equal(host(y), ty.numpy())
    np.testing.assert_array_equal(host(i), ti.numpy())
    avg_options = {k: v for k, v in options.items() if k != "dilation"}
    np.testing.assert_allclose(host(F.avg_pool1d(mg.tensor(a), **avg_options)),
                               torch.nn.functional.avg_pool1d(torch.tensor(a), **avg_options).numpy(), rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(lead=st.sampled_from(((0, 2), (1, 1), (2, 3), (3,))), h=st.integers(1, 7), w=st.integers(1, 7),
       size=ADAPTIVE_SIZES, seed=st.integers(0, 2**16))
def test_adaptive_pools_match_pytorch(lead, h, w, size, seed):
    torch = _torch()
    a = np.random.default_rng(seed).integers(-2, 3, lead + (h, w)).astype(np.float64)
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(x, size)),
                               torch.nn.functional.adaptive_avg_pool2d(t, size).detach().numpy(), rtol=1e-12,
                               atol=1e-15)
    y, i = F.adaptive_max_pool2d(x, size, return_indices=True)
    ty, ti = torch.nn.functional.adaptive_max_pool2d(t, size, return_indices=True)
    np.testing.assert_array_equal(host(y), ty.detach().numpy())
    np.testing.assert_array_equal(host(i), ti.numpy())
    (gx,) = mg.grad(y.sum(), [x])
    (tg,) = torch.autograd.grad(ty.sum(), [t])
    np.testing.assert_array_equal(host(gx), tg.numpy())
    if len(lead) == 2:
        a1 = a[..., 0, :]
        s1 = size if isinstance(size, int) else size[1] or 2  # (1-D: no None in PyTorch)
        np.testing.assert_allclose(host(F.adaptive_avg_pool1d(mg.tensor(a1), s1)),
                                   torch.nn.functional.adaptive_avg_pool1d(torch.tensor(a1), s1).numpy(), rtol=1e-12,
                                   atol=1e-15)
        y1, i1 = F.adaptive_max_pool1d(mg.tensor(a1), s1, return_indices=True)
        ty1, ti1 = torch.nn.functional.adaptive_max_pool1d(torch.tensor(a1), s1, return_indices=True)
        np.testing.assert_array_equal(host(y1), ty1.numpy())
        np.testing.assert_array_equal(host(i1), ti1.numpy())


def test_nan_and_infinity_as_pytorch():
    torch = _torch()
    nan, inf = float("nan"), float("inf")
    a = np.array([[[[1.0, nan, 3.0, nan], [-inf, -inf, 2.0, 0.0], [-inf, -inf, -inf, -inf]]]])
    for options in ({"kernel_size": (1, 4)}, {"kernel_size": 2, "stride": 1}, {"kernel_size": 3, "padding": 1},
                    {"kernel_size": (2, 2), "ceil_mode": True}):
        x, t = leaf(a), torch.tensor(a, requires_grad=True)
        y, i = F.max_pool2d(x, return_indices=True, **options)
        ty, ti = torch.nn.functional.max_pool2d(t, return_indices=True, **options)
        np.testing.assert_array_equal(host(y), ty.detach().numpy())
        np.testing.assert_array_equal(host(i), ti.numpy(), err_msg=str(options))
        (gx,) = mg.grad(y.sum(), [x])
        (tg,) = torch.autograd.grad(ty.sum(), [t])
        np.testing.assert_array_equal(host(gx), tg.numpy())
    y, i = F.adaptive_max_pool2d(leaf(a), (2, 3), return_indices=True)
    ty, ti = torch.nn.functional.adaptive_max_pool2d(torch.tensor(a), (2, 3), return_indices=True)
    np.testing.assert_array_equal(host(y), ty.numpy())
    np.testing.assert_array_equal(host(i), ti.numpy())


def test_divisors_as_pytorch():
    torch = _torch()
    a = np.arange(1.0, 36.0).reshape(1, 1, 5, 7)
    for options in ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                    {"kernel_size": (2, 3), "stride": (3, 2), "ceil_mode": True},
                    {"kernel_size": 2, "padding": 1, "divisor_override": 3},
                    {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}):
        np.testing.assert_allclose(host(F.avg_pool2d(mg.tensor(a), **options)),
                                   torch.nn.functional.avg_pool2d(torch.tensor(a), **options).numpy(),
                                   rtol=1e-12, err_msg=str(options))


def test_integer_inputs_as_pytorch():
    torch = _torch()
    a = np.random.default_rng(0).integers(-9, 10, (2, 3, 5, 6))
    for dtype in (np.int64, np.int32):
        x, t = mg.tensor(a.astype(dtype)), torch.tensor(a.astype(dtype))
        y, i = F.max_pool2d(x, 2, padding=1, return_indices=True)
        ty, ti = torch.nn.functional.max_pool2d(t, 2, padding=1, return_indices=True)
        assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(y), ty.numpy())
        np.testing.assert_array_equal(host(i), ti.numpy())
        for options in ({"kernel_size": 2}, {"kernel_size": 3, "padding": 1, "count_include_pad": False}):
            if dtype == np.int32:  # PyTorch averages int64 but not int32
                with pytest.raises(TypeError, match="int32"):
                    F.avg_pool2d(x, **options)
                continue
            y, ty = F.avg_pool2d(x, **options), torch.nn.functional.avg_pool2d(t, **options)
            assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
            np.testing.assert_array_equal(host(y), ty.numpy())


def test_float32_and_unbatched_inputs():
    torch = _torch()
    a = np.random.default_rng(1).standard_normal((3, 6, 5)).astype(np.float32)
    y = F.max_pool2d(mg.tensor(a), 2, ceil_mode=True)
    assert y.dtype == mg.float32 and y.shape == (3, 3, 3)
    np.testing.assert_array_equal(host(y), torch.nn.functional.max_pool2d(torch.tensor(a), 2, ceil_mode=True).numpy())
    np.testing.assert_allclose(host(F.avg_pool2d(mg.tensor(a), 3, 2, 1)),
                               torch.nn.functional.avg_pool2d(torch.tensor(a), 3, 2, 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(mg.tensor(a), (4, None))),
                               torch.nn.functional.adaptive_avg_pool2d(torch.tensor(a), (4, None)).numpy(), rtol=1e-6)


def test_empty_outputs_and_batches():
    x = leaf(np.zeros((0, 2, 4, 4)))
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 3), F.adaptive_max_pool2d(x, 3)):
        assert y.shape == (0, 2, 2, 2) or y.shape == (0, 2, 3, 3)
        (g,) = mg.grad(y.sum(), [x])
        assert g.shape == x.shape
    assert F.adaptive_avg_pool2d(leaf(np.ones((1, 2, 4, 4))), 0).shape == (1, 2, 0, 0)


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x, 3, padding=2), "at most half"),
    (lambda x: F.max_pool2d(x, 5), "too small"),
    (lambda x: F.max_pool2d(x, 2, stride=0), "stride must be positive"),
    (lambda x: F.max_pool2d(x, 0), "kernel_size must be positive"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), "non-negative"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), "dilation must be positive"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), "tuple of 2 ints"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor_override"),
    (lambda x: F.max_pool2d(x[0, 0], 2), r"got shape \(4, 4\)"),
    (lambda x: F.max_pool2d(x[:, :0], 2), r"got shape \(1, 0, 4, 4\)"),
    (lambda x: F.max_pool1d(x, 2), r"got shape \(1, 1, 4, 4\)"),
    (lambda x: F.avg_pool1d(x[0, 0, 0], 2), r"got shape \(4,\)"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), "output_size"),
    (lambda x: F.adaptive_avg_pool2d(x.to(mg.int64), 2), "floating-point"),
    (lambda x: F.max_pool2d(x > 0, 2), "bool"),
    (lambda x: F.max_pool2d(x.numpy(), 2), "expected a Tensor"),
])
def test_bad_arguments_raise_one_clear_error(call, message):
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message):
        call(x)


# -- modules -----------------------------------------------------------------------------------

def test_modules_call_their_functions_and_print_as_pytorch():
    x = mg.tensor(distinct((2, 3, 6, 6), 5))
    x1 = x[:, :, 0]
    cases = [(nn.MaxPool2d(2), F.max_pool2d(x, 2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                                   "ceil_mode=False)"),
             (nn.MaxPool1d(3, 1, 1), F.max_pool1d(x1, 3, 1, 1), "MaxPool1d(kernel_size=3, stride=1, padding=1, "
                                                                "dilation=1, ceil_mode=False)"),
             (nn.AvgPool2d(3, 2, 1), F.avg_pool2d(x, 3, 2, 1), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
             (nn.AvgPool1d(2), F.avg_pool1d(x1, 2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
             (nn.AdaptiveAvgPool2d((None, 3)), F.adaptive_avg_pool2d(x, (None, 3)),
              "AdaptiveAvgPool2d(output_size=(None, 3))"),
             (nn.AdaptiveAvgPool1d(4), F.adaptive_avg_pool1d(x1, 4), "AdaptiveAvgPool1d(output_size=4)"),
             (nn.AdaptiveMaxPool2d(4), F.adaptive_max_pool2d(x, 4), "AdaptiveMaxPool2d(output_size=4)"),
             (nn.AdaptiveMaxPool1d(4), F.adaptive_max_pool1d(x1, 4), "AdaptiveMaxPool1d(output_size=4)")]
    for module, expected, text in cases:
        assert repr(module) == text
        np.testing.assert_array_equal(host(module(x1 if "1d" in text else x)), host(expected))
    y, i = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(host(i), host(F.max_pool2d(x, 2, return_indices=True)[1]))
    assert len(nn.AdaptiveMaxPool2d(2, return_indices=True)(x)) == 2
    torch = pytest.importorskip("torch")
    assert repr(nn.MaxPool2d((2, 3), 1, 1, 2, ceil_mode=True)) == repr(
        torch.nn.MaxPool2d((2, 3), 1, 1, 2, ceil_mode=True))


# -- channel dropout -----------------------------------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    mg.manual_seed(0)
    x = leaf(np.ones((8, 16, 3, 3)))
    y = F.dropout2d(x, 0.25)
    per_channel = host(y).reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1))
    assert 0.1 < (per_channel[:, :, 0] == 0).mean() < 0.4
    (g,) = mg.grad(y.sum(), [x])
    np.testing.assert_array_equal(host(g), host(y))
    assert F.dropout2d(x, 0.5, training=False) is x and nn.Dropout2d(0.5).eval()(x) is x
    assert not host(F.dropout2d(x, 1.0)).any()
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3)"


def test_dropout2d_on_other_ranks_follows_pytorch():
    """3-D input: read as (N, C, L), one draw per (n, c), with a warning (as torch 2.13); 2-D:
    one draw per element; 1-D: an error."""
    mg.manual_seed(1)
    with pytest.warns(UserWarning, match="3-D"):
        y = host(F.dropout2d(mg.ones(6, 8, 5), 0.5))
    assert np.all((y == 0).all(-1) | (y == 2).all(-1)) and (y == 0).any()
    with pytest.warns(UserWarning):
        assert F.dropout2d(mg.ones(50, 40), 0.5).shape == (50, 40)
    with pytest.raises(ValueError, match="at least 2 dims"), pytest.warns(UserWarning):
        F.dropout2d(mg.ones(4), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(mg.ones(2, 2, 2, 2), 1.5)


def test_dropout1d():
    mg.manual_seed(2)
    for shape in ((6, 8, 5), (8, 5)):
        y = host(F.dropout1d(mg.ones(*shape), 0.5))
        assert np.all((y == 0).all(-1) | (y == 2).all(-1)) and (y == 0).any()
        assert host(nn.Dropout1d(0.5)(mg.ones(*shape))).shape == shape
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 4, 5\)"):
        F.dropout1d(mg.ones(2, 3, 4, 5))


# -- BatchNorm2d ---------------------------------------------------------------------------------

def test_batchnorm2d_matches_pytorch_in_training_and_evaluation():
    torch = _torch()
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm2d(3).to(mg.float64), torch.nn.BatchNorm2d(3).double()
    for step in range(3):
        a = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        x, t = leaf(a), torch.tensor(a, requires_grad=True)
        y, ty = ours(x), theirs(t)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        (g,) = mg.grad((y * y * y).sum(), [x])
        (tg,) = torch.autograd.grad((ty ** 3).sum(), [t])
        np.testing.assert_allclose(host(g), tg.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(host(ours.running_mean), theirs.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(ours.running_var), theirs.running_var.numpy(), rtol=1e-10)
    assert int(host(ours.num_batches_tracked)) == 3
    ours.eval(), theirs.eval()
    a = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(host(ours(mg.tensor(a))), theirs(torch.tensor(a)).detach().numpy(), rtol=1e-10)


def test_batchnorm2d_refuses_other_layouts_and_batchnorm1d_still_works():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\), got \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(mg.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\), got \(2, 4, 4, 4\)"):
        nn.BatchNorm2d(3)(mg.ones(2, 4, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input of shape \(N, 3\) or \(N, 3, L\)"):
        nn.BatchNorm1d(3)(mg.ones(2, 3, 4, 4))
    assert nn.BatchNorm1d(3)(mg.ones(2, 3)).shape == (2, 3)
    assert repr(nn.BatchNorm2d(3)) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert sorted(name for name, _ in nn.BatchNorm2d(3).named_buffers()) == [
        "num_batches_tracked", "running_mean", "running_var"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.BatchNorm2d(2, affine=False, track_running_stats=False)(mg.ones(2, 2, 1, 1))
