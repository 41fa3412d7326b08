"""NumPy and DLPack interop: zero-copy where promised (checked by mutating one side and
reading the other), and PyTorch through DLPack when it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


# -- NumPy ----------------------------------------------------------------------------------------


def test_np_asarray_shares_memory():
    t = mg.tensor([1.0, 2.0, 3.0])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.shape == (3,)
    a[1] = 20.0
    assert t.tolist() == [1.0, 20.0, 3.0]


def test_np_array_dtype_and_copy():
    t = mg.tensor([1.0, 2.0])
    a = np.array(t, dtype=np.float64)
    assert a.dtype == np.float64
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    c = np.array(t)  # np.array copies by default
    c[0] = 7.0
    assert t.tolist() == [1.0, 2.0]


def test_numpy_functions_accept_tensors():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.sum(np.asarray(t)) == 10.0
    np.testing.assert_allclose(np.linalg.inv(np.asarray(t)) @ np.asarray(t), np.eye(2), atol=1e-6)


def test_ndarray_op_tensor_gives_tensor():
    # __array_ufunc__ = None makes NumPy defer to the Tensor's reflected operators.
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([10.0, 20.0], dtype=np.float32) * t
    assert isinstance(out, mg.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [10.0, 20.0])


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(4.0)
    t = mg.from_numpy(a)
    assert t.dtype == np.float64 and t.shape == (4,)
    a[0] = 100.0
    assert t[0].item() == 100.0
    t[1] = -1.0
    assert a[1] == -1.0


def test_from_numpy_keeps_layout_and_dtype():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]
    t = mg.from_numpy(a)
    assert t.dtype == np.int32 and t.shape == (3, 2)
    assert t.tolist() == a.tolist()


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError, match="list"):
        mg.from_numpy([1.0, 2.0])


def test_as_tensor_shares_numpy_memory():
    a = np.zeros(3)
    t = mg.as_tensor(a)
    a[2] = 5.0
    assert t.tolist() == [0.0, 0.0, 5.0]
    assert mg.as_tensor(t) is t


def test_tensor_copies_but_from_numpy_does_not():
    a = np.ones(2)
    copied, shared = mg.tensor(a), mg.from_numpy(a)
    a[0] = 3.0
    assert copied.tolist() == [1.0, 1.0] and shared.tolist() == [3.0, 1.0]


# -- DLPack with NumPy ---------------------------------------------------------------------------


def test_from_dlpack_numpy_zero_copy():
    a = np.arange(6.0).reshape(2, 3)
    t = mg.from_dlpack(a)
    assert t.shape == (2, 3) and t.dtype == np.float64 and t.device == "cpu"
    a[1, 2] = -5.0
    assert t[1, 2].item() == -5.0


def test_np_from_dlpack_zero_copy():
    t = mg.tensor([1.0, 2.0, 3.0])
    a = np.from_dlpack(t)
    assert a.dtype == np.float32
    a[0] = 42.0
    assert t[0].item() == 42.0
    t[2] = 7.0
    assert a[2] == 7.0


def test_dlpack_device_is_cpu():
    dev_type, dev_id = mg.tensor([1.0]).__dlpack_device__()
    assert int(dev_type) == 1 and dev_id == 0  # kDLCPU


def test_dlpack_roundtrip_int_and_bool():
    for a in (np.array([1, 2, 3], dtype=np.int64), np.array([True, False])):
        t = mg.from_dlpack(a)
        assert t.dtype == a.dtype
        np.testing.assert_array_equal(np.from_dlpack(t), a)


def test_dlpack_non_contiguous():
    a = np.arange(12.0).reshape(3, 4).T
    t = mg.from_dlpack(a)
    assert t.shape == (4, 3)
    a[0, 1] = 99.0
    assert t[0, 1].item() == 99.0


# -- PyTorch -------------------------------------------------------------------------------------


def test_torch_from_dlpack_shares_memory():
    torch = pytest.importorskip("torch")
    t = mg.tensor([1.0, 2.0, 3.0])
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32 and tuple(tt.shape) == (3,)
    tt[1] = 100.0
    assert t[1].item() == 100.0
    t[0] = -1.0
    assert tt[0].item() == -1.0


def test_mg_from_dlpack_torch_shares_memory():
    torch = pytest.importorskip("torch")
    tt = torch.arange(4, dtype=torch.float64)
    t = mg.from_dlpack(tt)
    assert t.dtype == np.float64 and t.shape == (4,)
    tt[0] = 42.0
    assert t[0].item() == 42.0
    t[3] = -3.0
    assert tt[3].item() == -3.0


def test_mg_tensor_from_torch_copies():
    torch = pytest.importorskip("torch")
    tt = torch.ones(2, dtype=torch.float32)
    t = mg.tensor(tt)
    tt[0] = 5.0
    assert t.tolist() == [1.0, 1.0] and t.dtype == np.float32


def test_torch_values_roundtrip_after_minigrad_ops():
    torch = pytest.importorskip("torch")
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64)
    y = (x @ x).exp().detach()
    ty = torch.from_dlpack(y)
    np.testing.assert_allclose(ty.numpy(), np.exp(np.asarray(x) @ np.asarray(x)))
