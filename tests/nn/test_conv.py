"""Convolution: F.conv2d against its plain form (unfold + matmul), its two array-level forms
against each other, gradcheck / gradgradcheck in float64 over random geometry (strides,
paddings, dilations, groups, 1x1 kernels, kernels as large as the padded input, batch 1 and
empty batches), PyTorch as the oracle, the modules, the errors, and what the tape keeps."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.nn.functional import conv as C
from minigrad.testing import strategies as mst

from nn_helpers import host, leaf, to_torch, try_torch, with_device
from test_functional_references import assert_agree, derivatives

EXAMPLES = settings(with_device, max_examples=30, deadline=None)
torch = try_torch()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (an optional oracle)")


@st.composite
def conv_cases(draw, max_stride=3):
    """(input shape, weight shape, stride, padding, dilation, groups) of a valid conv2d call."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    sh, sw = draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride))
    # the smallest input the dilated kernel fits (kernel as large as the padded input), or larger
    h = max(1, dh * (kh - 1) + 1 - 2 * ph) + draw(st.integers(0, 3))
    w = max(1, dw * (kw - 1) + 1 - 2 * pw) + draw(st.integers(0, 3))
    n = draw(st.sampled_from([0, 1, 2]))
    return (n, c_in, h, w), (c_out, c_in // groups, kh, kw), (sh, sw), (ph, pw), (dh, dw), groups


def _conv_inputs(data, case, device, bias):
    x_shape, w_shape = case[:2]
    values = mst.floats(-2, 2)
    inputs = [leaf(data.draw(mst.arrays(x_shape, np.float64, values)), device),
              leaf(data.draw(mst.arrays(w_shape, np.float64, values)), device)]
    if bias:
        inputs.append(leaf(data.draw(mst.arrays((w_shape[0],), np.float64, values)), device))
    return inputs


@EXAMPLES
@given(data=st.data(), case=conv_cases(), bias=st.booleans())
def test_conv2d_matches_its_reference(device, data, case, bias):
    """Value, both first-order backwards and the second derivative of the one-node conv2d equal
    those of unfold + matmul."""
    stride, padding, dilation, groups = case[2:]
    inputs = _conv_inputs(data, case, device, bias)

    def fast(x, w, b=None):
        return F.conv2d(x, w, b, stride, padding, dilation, groups)

    def plain(x, w, b=None):
        return F.conv2d_reference(x, w, b, stride, padding, dilation, groups)

    assert_agree(derivatives(fast, inputs), derivatives(plain, inputs), rtol=1e-9, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), case=conv_cases(max_stride=1))
def test_row_and_column_forms_agree(data, case):
    """At stride 1 the row layout and the plain im2col product give the same output and gradients."""
    x_shape, w_shape, stride, padding, dilation, groups = case
    a = np.asarray(data.draw(mst.arrays(x_shape, np.float64, mst.floats(-2, 2))))
    wa = np.asarray(data.draw(mst.arrays(w_shape, np.float64, mst.floats(-2, 2))))
    win = C._Windows(w_shape[2:], dilation, padding, stride)
    rows, cols = C.conv2d_rows_forward(a, wa, win, groups), C.conv2d_columns_forward(a, wa, win, groups)
    np.testing.assert_allclose(rows, cols, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(rows.shape)
    for got, want in zip(C.conv2d_rows_backward(g, a, wa, win, groups, True, True),
                         C.conv2d_columns_backward(g, a, wa, win, groups, True, True)):
        assert got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(with_device, max_examples=15, deadline=None)
@given(data=st.data(), case=conv_cases(max_stride=2), bias=st.booleans())
def test_conv2d_gradcheck_and_gradgradcheck(device, data, case, bias):
    stride, padding, dilation, groups = case[2:]
    inputs = _conv_inputs(data, case, device, bias)

    def f(*args):
        return F.conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


@settings(with_device, max_examples=15, deadline=None)
@given(data=st.data(), case=conv_cases(max_stride=2), bias=st.booleans(), extra=st.integers(0, 1))
def test_conv_transpose2d_gradcheck_and_gradgradcheck(device, data, case, bias, extra):
    (n, c_in, h, w), (c_out, _, kh, kw), stride, padding, dilation, groups = case
    # conv_transpose2d's weight is (C_in, C_out/g, kh, kw); output_padding < max(stride, dilation)
    extra = tuple(min(extra, max(s, d) - 1) for s, d in zip(stride, dilation))
    values = mst.floats(-2, 2)
    inputs = [leaf(data.draw(mst.arrays((n, c_in, h, w), np.float64, values)), device),
              leaf(data.draw(mst.arrays((c_in, c_out // groups, kh, kw), np.float64, values)), device)]
    if bias:
        inputs.append(leaf(data.draw(mst.arrays((c_out,), np.float64, values)), device))
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + extra[0] + 1
    out_w = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + extra[1] + 1
    if out_h < 1 or out_w < 1:
        with pytest.raises(mg.errors.ShapeError, match="empty output"):
            F.conv_transpose2d(*inputs, stride=stride, padding=padding, output_padding=extra, groups=groups,
                               dilation=dilation)
        return

    def f(*args):
        return F.conv_transpose2d(*args, stride=stride, padding=padding, output_padding=extra, groups=groups,
                                  dilation=dilation)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


@settings(with_device, max_examples=15, deadline=None)
@given(data=st.data(), case=conv_cases(max_stride=2))
def test_unfold_and_fold_are_adjoint_and_differentiable(device, data, case):
    """<unfold(x), y> = <x, fold(y)>, and both pass gradcheck / gradgradcheck."""
    (n, c, h, w), (_, _, kh, kw), stride, padding, dilation, _ = case
    x = leaf(data.draw(mst.arrays((n, c, h, w), np.float64, mst.floats(-2, 2))), device)
    cols = F.unfold(x, (kh, kw), dilation, padding, stride)
    y = leaf(data.draw(mst.arrays(tuple(cols.shape), np.float64, mst.floats(-2, 2))), device)
    folded = F.fold(y, (h, w), (kh, kw), dilation, padding, stride)
    assert folded.shape == x.shape
    np.testing.assert_allclose(float((cols * y).sum()), float((x * folded).sum()), rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda t: F.unfold(t, (kh, kw), dilation, padding, stride), [x])
    assert gradgradcheck(lambda t: F.fold(t, (h, w), (kh, kw), dilation, padding, stride), [y])


def test_conv1d_and_conv_transpose1d_gradcheck():
    rng = np.random.default_rng(0)
    x, w = leaf(rng.standard_normal((2, 4, 7))), leaf(rng.standard_normal((6, 2, 3)))
    b = leaf(rng.standard_normal(6))
    assert gradgradcheck(lambda *a: F.conv1d(*a, stride=2, padding=1, dilation=2, groups=2), [x, w, b])
    wt = leaf(rng.standard_normal((4, 3, 3)))
    assert gradgradcheck(lambda *a: F.conv_transpose1d(*a, stride=2, padding=1, output_padding=1), [x, wt])


def test_conv2d_keeps_the_input_not_the_columns():
    """The node saves the input and the weight only: the im2col columns (kh·kw times the input)
    are rebuilt in the backward."""
    x = leaf(np.ones((2, 3, 8, 8)))
    w = leaf(np.ones((4, 3, 5, 5)))
    out = F.conv2d(x, w, padding=2)
    saved = out.grad_fn.saved_tensors
    assert len(saved) == 2 and saved[0] is x and saved[1] is w


def test_hessian_vector_product_through_a_cnn():
    """mg.grad with create_graph works through conv, pooling-free ReLU nets: the Hessian-vector
    product of the fused conv equals the reference's, and a finite difference of gradients."""
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((2, 2, 6, 6)))
    w1, w2 = leaf(rng.standard_normal((3, 2, 3, 3)) * 0.5), leaf(rng.standard_normal((2, 3, 3, 3)) * 0.5)
    v1, v2 = rng.standard_normal(w1.shape), rng.standard_normal(w2.shape)

    def loss(conv, a, b):
        return (conv(mg.tanh(conv(x, a, None, 1, 1)), b, None, 2, 1) ** 2).sum()

    def hvp(conv):
        g1, g2 = mg.grad(loss(conv, w1, w2), [w1, w2], create_graph=True)
        dot = (g1 * mg.tensor(v1)).sum() + (g2 * mg.tensor(v2)).sum()
        return [host(h) for h in mg.grad(dot, [w1, w2])]

    fast, plain = hvp(F.conv2d), hvp(F.conv2d_reference)
    eps = 1e-6

    def grads_at(shift):
        a, b = leaf(host(w1) + shift * v1), leaf(host(w2) + shift * v2)
        return [host(g) for g in mg.grad(loss(F.conv2d, a, b), [a, b])]

    numeric = [(p - m) / (2 * eps) for p, m in zip(grads_at(eps), grads_at(-eps))]
    for f, p, n in zip(fast, plain, numeric):
        np.testing.assert_allclose(f, p, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(f, n, rtol=1e-5, atol=1e-6)


# -- PyTorch as the oracle -------------------------------------------------------------------
@needs_torch
@settings(max_examples=40, deadline=None)
@given(data=st.data(), case=conv_cases(), bias=st.booleans())
def test_conv2d_against_torch(data, case, bias):
    stride, padding, dilation, groups = case[2:]
    inputs = _conv_inputs(data, case, "cpu", bias)
    out = F.conv2d(*inputs, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ours = mg.grad((out * out).sum(), inputs)
    tin = [to_torch(t, requires_grad=True) for t in inputs]
    tout = torch.nn.functional.conv2d(*tin, stride=stride, padding=padding, dilation=dilation, groups=groups)
    theirs = torch.autograd.grad((tout * tout).sum(), tin)
    np.testing.assert_allclose(host(out), tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(host(a), b.numpy(), rtol=1e-9, atol=1e-9)


@needs_torch
@settings(max_examples=30, deadline=None)
@given(data=st.data(), case=conv_cases(max_stride=2), extra=st.integers(0, 1))
def test_conv_transpose2d_against_torch(data, case, extra):
    (n, c_in, h, w), (c_out, _, kh, kw), stride, padding, dilation, groups = case
    extra = tuple(min(extra, max(s, d) - 1) for s, d in zip(stride, dilation))
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + extra[0] + 1
    out_w = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + extra[1] + 1
    if out_h < 1 or out_w < 1:
        return
    rng = np.random.default_rng(0)
    x, wt = leaf(rng.standard_normal((n, c_in, h, w))), leaf(rng.standard_normal((c_in, c_out // groups, kh, kw)))
    out = F.conv_transpose2d(x, wt, None, stride, padding, extra, groups, dilation)
    ours = mg.grad((out * out).sum(), [x, wt])
    tx, tw = to_torch(x, True), to_torch(wt, True)
    tout = torch.nn.functional.conv_transpose2d(tx, tw, None, stride, padding, extra, groups, dilation)
    theirs = torch.autograd.grad((tout * tout).sum(), [tx, tw])
    np.testing.assert_allclose(host(out), tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(host(a), b.numpy(), rtol=1e-9, atol=1e-9)


@needs_torch
@settings(max_examples=30, deadline=None)
@given(data=st.data(), case=conv_cases())
def test_unfold_and_fold_against_torch(data, case):
    (n, c, h, w), (_, _, kh, kw), stride, padding, dilation, _ = case
    x = np.asarray(data.draw(mst.arrays((n, c, h, w), np.float64, mst.floats(-2, 2))))
    cols = F.unfold(mg.tensor(x), (kh, kw), dilation, padding, stride)
    tcols = torch.nn.functional.unfold(torch.from_numpy(x), (kh, kw), dilation, padding, stride)
    np.testing.assert_array_equal(host(cols), tcols.numpy())
    back = F.fold(cols, (h, w), (kh, kw), dilation, padding, stride)
    np.testing.assert_allclose(host(back), torch.nn.functional.fold(tcols, (h, w), (kh, kw), dilation, padding,
                                                                     stride).numpy(), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("cls, args, kwargs, shape, call", [
    ("Conv2d", (4, 6, 3), dict(padding=1), (2, 4, 9, 8), {}),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2), (2, 4, 9, 8), {}),
    ("Conv2d", (4, 6, 4), dict(padding="same", padding_mode="reflect"), (2, 4, 9, 8), {}),
    ("Conv2d", (4, 2, 3), dict(padding=2, padding_mode="circular", bias=False), (2, 4, 9, 8), {}),
    ("Conv2d", (4, 2, 3), dict(padding="same", padding_mode="replicate"), (4, 9, 8), {}),
    ("Conv2d", (4, 2, 5), dict(padding="valid"), (1, 4, 5, 5), {}),
    ("ConvTranspose2d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5, 6), {}),
    ("ConvTranspose2d", (4, 3, 3), dict(stride=2, padding=1), (2, 4, 5, 6), dict(output_size=(10, 12))),
    ("ConvTranspose2d", (4, 2, 3), dict(groups=2, dilation=2, bias=False), (4, 5, 6), {}),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1), (2, 4, 11), {}),
    ("Conv1d", (4, 6, 4), dict(padding="same", padding_mode="replicate"), (2, 4, 11), {}),
    ("Conv1d", (4, 6, 3), dict(groups=2), (4, 11), {}),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2), (2, 4, 11), {}),
])
def test_modules_against_torch(cls, args, kwargs, shape, call):
    """Same parameter names, shapes, repr and outputs as PyTorch's layers, given the same weights."""
    ours, theirs = getattr(mg.nn, cls)(*args, **kwargs).double(), getattr(torch.nn, cls)(*args, **kwargs).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert tuple(p.shape) == tuple(q.shape)
            q.copy_(to_torch(p))
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_allclose(host(ours(mg.tensor(x), **call)), theirs(torch.from_numpy(x), **call).detach().numpy(),
                               rtol=1e-10, atol=1e-10)


def test_default_initialization_bounds():
    """W, b ~ U(±1/√fan_in), fan_in = in_channels/groups · kh · kw (PyTorch's default)."""
    layer = mg.nn.Conv2d(6, 8, 3, groups=2)
    bound = 1 / np.sqrt(3 * 9)
    for p in (layer.weight, layer.bias):
        a = host(p)
        assert np.abs(a).max() <= bound and np.abs(a).max() > bound / 2


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv2d(mg.randn(2, 4, 6, 6), mg.randn(4, 3, 3, 3)), mg.errors.ShapeError,
     r"expected input with 3 channels .* got 4 channels"),
    (lambda: F.conv2d(mg.randn(2, 3, 2, 2), mg.randn(4, 3, 3, 3)), mg.errors.ShapeError,
     r"kernel \(3x3, dilation 1x1\) is larger than the padded input \(2x2"),
    (lambda: F.conv2d(mg.randn(2, 3, 6, 6), mg.randn(4, 1, 3, 3), groups=3), ValueError,
     r"groups=3 must divide out_channels=4"),
    (lambda: F.conv2d(mg.randn(6, 6), mg.randn(4, 3, 3, 3)), mg.errors.ShapeError,
     r"expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(6, 6\)"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3)), mg.errors.ShapeError, r"expected a 4-D weight"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3, 3, dtype=mg.float64)), TypeError,
     r"dtypes differ: input float32, weight float64"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3, 3), mg.randn(3)), mg.errors.ShapeError,
     r"bias must have shape \(4,\), got \(3,\)"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3, 3), stride=2, padding="same"), ValueError,
     r"padding='same' needs stride 1"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3, 3), stride=0), ValueError, r"stride must be positive"),
    (lambda: F.conv2d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3, 3), padding="full"), ValueError,
     r"padding must be 'same', 'valid'"),
    (lambda: F.conv2d(mg.tensor(np.ones((1, 3, 6, 6), np.int64)), mg.randn(4, 3, 3, 3)), TypeError,
     r"input must be a floating-point tensor, got int64"),
    (lambda: F.conv_transpose2d(mg.randn(1, 3, 4, 4), mg.randn(3, 2, 3, 3), stride=2, output_padding=2), ValueError,
     r"output_padding must be smaller than stride or dilation"),
    (lambda: F.conv_transpose2d(mg.randn(1, 4, 4, 4), mg.randn(3, 2, 3, 3)), mg.errors.ShapeError,
     r"expected input with 3 channels"),
    (lambda: F.fold(mg.randn(1, 9, 5), (4, 4), 3), mg.errors.ShapeError, r"does not fit output_size \(4, 4\)"),
    (lambda: F.unfold(mg.randn(4, 4), 3), mg.errors.ShapeError, r"expected a 3-D \(C, H, W\) or 4-D"),
    (lambda: F.conv1d(mg.randn(1, 3, 6, 6), mg.randn(4, 3, 3)), mg.errors.ShapeError,
     r"expected a 2-D \(C, L\) or 3-D \(N, C, L\) input"),
    (lambda: mg.nn.Conv2d(4, 6, 3, groups=4), ValueError, r"groups=4 must divide in_channels=4 and out_channels=6"),
    (lambda: mg.nn.Conv2d(4, 6, 3, padding_mode="mirror"), ValueError, r"padding_mode must be one of"),
    (lambda: mg.nn.ConvTranspose2d(4, 6, 3, stride=2)(mg.randn(1, 4, 3, 3), output_size=(9, 9)), ValueError,
     r"output_size \(9, 9\) is not reachable"),
])
def test_bad_input_gets_one_clear_line(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_unbatched_input():
    w = mg.randn(4, 3, 3, 3, dtype=mg.float64)
    x = mg.randn(3, 7, 6, dtype=mg.float64)
    np.testing.assert_allclose(host(F.conv2d(x, w, padding=1)), host(F.conv2d(x.unsqueeze(0), w, padding=1))[0])
    assert F.unfold(x, 3).shape == (27, 20)
    assert F.fold(F.unfold(x, 3), (7, 6), 3).shape == (3, 7, 6)


def test_float32_stays_float32_and_matches_float64():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 3, 10, 10)), rng.standard_normal((5, 3, 3, 3))
    out32 = F.conv2d(mg.tensor(x.astype(np.float32)), mg.tensor(w.astype(np.float32)), padding=1)
    assert out32.dtype == mg.float32
    np.testing.assert_allclose(host(out32), host(F.conv2d(mg.tensor(x), mg.tensor(w), padding=1)), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("x_shape, w_shape, padding", [((1, 1, 1, 1), (1, 1, 1, 1), 0), ((2, 3, 6, 5), (4, 3, 3, 3), 1),
                                                       ((1, 1, 4, 4), (1, 1, 4, 4), 0)])
def test_results_do_not_share_the_work_buffers(x_shape, w_shape, padding):
    """The stride-1 path reuses work buffers between calls; its outputs and gradients are fresh
    arrays that a later call leaves alone."""
    rng = np.random.default_rng(0)
    w = leaf(rng.standard_normal(w_shape))
    first_x = leaf(rng.standard_normal(x_shape))
    first = F.conv2d(first_x, w, padding=padding)
    first.backward(mg.ones_like(first))
    kept = [host(first).copy(), host(first_x.grad).copy(), host(w.grad).copy()]
    second_x = leaf(rng.standard_normal(x_shape))
    second = F.conv2d(second_x, w, padding=padding)
    second.backward(mg.ones_like(second) * 3.0)
    for before, now in zip(kept, [host(first), host(first_x.grad)]):
        np.testing.assert_array_equal(before, now)
