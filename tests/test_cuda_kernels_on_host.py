"""The fused CUDA kernels of ops (ReLU), dropout and cross_entropy, checked without a GPU: their
bodies run as host C++ (tests/_host_kernels.py) on NumPy arrays and must reproduce the CPU
path and the plain composed forms (``dropout_reference``, ``cross_entropy_reference``): values,
gradients and second derivatives.  The same code runs on a GPU in test_cuda.py where one exists."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.functional._cuda_cross_entropy import CudaCrossEntropy
from minigrad.nn.functional.cross_entropy import cross_entropy_reference
from minigrad.nn.functional.dropout import dropout_reference
from minigrad.ops import cuda_kernels
from minigrad.testing import strategies as mst

from _host_kernels import CXX, kernels_on_host

pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels on the host")

ROWS = np.array([[0.5, -1.0, 3.0], [1e4, -1e4, 0.0], [-2.0, -2.0, -2.0], [0.1, 0.2, 0.3], [7.0, 1.0, -3.0]])
TARGETS = np.array([2, 0, -100, 1, 1])


def _record_every_kernel(host) -> None:
    cuda_kernels.relu_with_mask(np.zeros(2))
    cuda_kernels.dropout_mask(np.zeros(2), 0.5, np.float64)
    for reduction in ("mean", "none"):
        x = mg.tensor(ROWS, requires_grad=True)
        CudaCrossEntropy.apply(x, TARGETS, -100, reduction).sum().backward()


@pytest.fixture(scope="module")
def host_cupy(tmp_path_factory):
    with kernels_on_host(_record_every_kernel, tmp_path_factory.mktemp("kernels")) as host:
        yield host


def test_relu_kernel_matches_the_cpu_path(host_cupy, monkeypatch):
    a = np.array([-2.0, -0.0, 0.0, 1e-300, 3.5, np.inf, -np.inf, np.nan])

    def relu(on_device: bool):
        if on_device:
            monkeypatch.setattr("minigrad.ops.activation.HostArray", type(None))  # NumPy arrays take
            monkeypatch.setattr("minigrad.ops.activation.is_cuda_array", lambda arr: True)  # the CUDA branch
        x = mg.tensor(a, requires_grad=True)
        y = mg.relu(x)
        y.backward(mg.tensor(np.linspace(1.0, 2.0, a.size)))
        monkeypatch.undo()
        return y.detach().numpy(), x.grad.numpy()

    calls = []
    real = cuda_kernels.relu_with_mask
    monkeypatch.setattr(cuda_kernels, "relu_with_mask", lambda arr: calls.append(1) or real(arr))
    (y_cpu, g_cpu) = relu(False)
    monkeypatch.setattr(cuda_kernels, "relu_with_mask", lambda arr: calls.append(1) or real(arr))
    (y_k, g_k) = relu(True)
    assert calls == [1]  # the kernel ran, and only on the CUDA branch
    np.testing.assert_array_equal(y_k, y_cpu)
    np.testing.assert_array_equal(g_k, g_cpu)
    assert g_k[3] > 0  # a subnormal-free host: 1e-300 passes the gradient (a GPU flushes float32 subnormals)


@pytest.mark.parametrize("p", [0.3, 0.9])
def test_dropout_kernel_matches_the_cpu_path(host_cupy, monkeypatch, p):
    def dropout(on_device: bool):
        if on_device:  # the CUDA branch, with NumPy arrays and the same seeded draws
            monkeypatch.setattr(importlib.import_module("minigrad.nn.functional.dropout"), "is_cuda_array",
                                lambda arr: True)
        mg.manual_seed(3)
        x = mg.tensor(np.linspace(-1.0, 1.0, 40).reshape(5, 8), requires_grad=True)
        y = mg.nn.functional.dropout(x, p)
        y.backward(mg.tensor(np.full((5, 8), 2.0)))
        monkeypatch.undo()
        return y.detach().numpy(), x.grad.numpy()

    (y_cpu, g_cpu), (y_k, g_k) = dropout(False), dropout(True)
    np.testing.assert_array_equal(y_k, y_cpu)
    np.testing.assert_array_equal(g_k, g_cpu)
    kept = g_cpu != 0
    assert kept.any() and (~kept).any()
    np.testing.assert_allclose(g_cpu[kept], 2.0 / (1.0 - p))
    mg.manual_seed(3)  # the plain form, x·keep/(1-p), with the same draws
    x = mg.tensor(np.linspace(-1.0, 1.0, 40).reshape(5, 8), requires_grad=True)
    y = dropout_reference(x, p)
    y.backward(mg.tensor(np.full((5, 8), 2.0)))
    np.testing.assert_allclose(y_k, y.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(g_k, x.grad.numpy(), rtol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_kernels_match_the_cpu_path(host_cupy, reduction, ignore_index):
    def run(fused: bool):
        x = mg.tensor(ROWS, requires_grad=True)
        t = TARGETS if ignore_index == -100 else np.where(TARGETS == -100, 0, TARGETS)
        if fused:
            loss = CudaCrossEntropy.apply(x, t, ignore_index, reduction)
        else:
            loss = mg.nn.functional.cross_entropy(x, mg.tensor(t), ignore_index=ignore_index, reduction=reduction)
        seed = np.linspace(0.5, 1.5, len(t)) if reduction == "none" else np.asarray(1.7)
        loss.backward(mg.tensor(seed))
        return np.asarray(loss.detach().numpy()), x.grad.numpy()

    (v_cpu, g_cpu), (v_k, g_k) = run(False), run(True)
    np.testing.assert_allclose(v_k, v_cpu, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(g_k, g_cpu, rtol=1e-12, atol=1e-15)


def test_cross_entropy_kernel_out_of_range_rows_are_nan(host_cupy):
    x = mg.tensor(ROWS, requires_grad=True)
    loss = CudaCrossEntropy.apply(x, np.array([2, 3, -5, 1, 1]), -100, "none")
    v = loss.detach().numpy()
    assert np.isnan(v[[1, 2]]).all() and np.isfinite(v[[0, 3, 4]]).all()
    loss.sum().backward()
    g = x.grad.numpy()
    assert np.isnan(g[[1, 2]]).all() and np.isfinite(g[[0, 3, 4]]).all()


def test_cross_entropy_kernel_create_graph_matches_cpu(host_cupy):
    """Under create_graph the backward is built from recorded ops: Hessian-vector products
    through the fused loss equal the CPU path's."""
    v = mg.tensor(np.linspace(-1.0, 1.0, ROWS.size).reshape(ROWS.shape))

    def hvp(fused: bool):
        x = mg.tensor(ROWS * 0.01, requires_grad=True)
        loss = (CudaCrossEntropy.apply(x, TARGETS, -100, "mean") if fused
                else mg.nn.functional.cross_entropy(x, mg.tensor(TARGETS)))
        (g,) = mg.grad(loss, x, create_graph=True)
        (h,) = mg.grad((g * v).sum(), x)
        return g.detach().numpy(), h.numpy()

    (g_cpu, h_cpu), (g_k, h_k) = hvp(False), hvp(True)
    np.testing.assert_allclose(g_k, g_cpu, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h_k, h_cpu, rtol=1e-10, atol=1e-14)


def _derivatives(f, x, seed=0):
    """f(x), dL/dx by the kernel backward, dL/dx recorded (create_graph), and d/dx <dL/dx, u>,
    for L = Σ c ⊙ f(x)² (c, u fixed random)."""
    rng = np.random.default_rng(seed)
    value = f(x)
    c = mg.tensor(rng.uniform(0.5, 1.5, value.shape))

    def loss():
        y = f(x)
        return (c * y * y).sum()

    (first,) = mg.grad(loss(), x)
    (recorded,) = mg.grad(loss(), x, create_graph=True)
    (second,) = mg.grad((recorded * mg.tensor(rng.standard_normal(x.shape))).sum(), x)
    return [np.asarray(t.detach().numpy()) for t in (value, first, recorded, second)]


LOGITS = st.one_of(mst.floats(-20, 20), st.sampled_from([1e4, -1e4, 1e3, -1e3, 710.0, -745.0]))


@st.composite
def _kernel_cases(draw):
    c = draw(st.integers(1, 5))
    x = draw(mst.arrays((draw(st.integers(0, 5)), c), np.float64, LOGITS))
    ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
    t = draw(mst.arrays((len(x),), np.int64, st.sampled_from(list(range(c)) + [ignore_index])))
    return x, t, ignore_index, draw(st.sampled_from(["mean", "sum", "none"]))


@settings(max_examples=30, deadline=None)
@given(case=_kernel_cases())
def test_cross_entropy_kernels_match_the_reference(host_cupy, case):
    """Both kernels (forward; backward when it is not recorded) and the recorded backward of
    CudaCrossEntropy against cross_entropy_reference: batch 1 and empty batches, ignored rows,
    every reduction, logits whose exponentials overflow."""
    x, t, ignore_index, reduction = case
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty or all-ignored 'mean' is 0/0
        fused = _derivatives(lambda a: CudaCrossEntropy.apply(a, t, ignore_index, reduction),
                             mg.tensor(x, requires_grad=True))
        reference = _derivatives(lambda a: cross_entropy_reference(a, mg.tensor(t), ignore_index=ignore_index,
                                                                   reduction=reduction),
                                 mg.tensor(x, requires_grad=True))
    for name, got, want in zip(("value", "gradient", "recorded gradient", "second derivative"), fused, reference):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=name)
