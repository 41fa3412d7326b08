"""The fused CUDA kernels of ops (ReLU), dropout and cross_entropy, checked without a GPU: their
bodies run as host C++ (tests/_host_kernels.py) on NumPy arrays and must reproduce the CPU
path, values and gradients.  The same code runs on a GPU in test_cuda.py where one exists."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.functional._cuda_cross_entropy import CudaCrossEntropy
from minigrad.ops import _cuda_kernels

from _host_kernels import CXX, kernels_on_host

pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels on the host")

ROWS = np.array([[0.5, -1.0, 3.0], [1e4, -1e4, 0.0], [-2.0, -2.0, -2.0], [0.1, 0.2, 0.3], [7.0, 1.0, -3.0]])
TARGETS = np.array([2, 0, -100, 1, 1])


def _record_every_kernel(host) -> None:
    _cuda_kernels.relu_with_mask(np.zeros(2))
    _cuda_kernels.dropout_mask(np.zeros(2), 0.5, np.float64)
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
    real = _cuda_kernels.relu_with_mask
    monkeypatch.setattr(_cuda_kernels, "relu_with_mask", lambda arr: calls.append(1) or real(arr))
    (y_cpu, g_cpu) = relu(False)
    monkeypatch.setattr(_cuda_kernels, "relu_with_mask", lambda arr: calls.append(1) or real(arr))
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
