"""The Tensor object: properties, conversions, dtype rules, detach, repr, devices and casts."""
from __future__ import annotations

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst


# -- properties -------------------------------------------------------------------------------


def test_properties_of_a_leaf():
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert t.shape == (2, 3)
    assert t.ndim == 2 and t.dim() == 2
    assert t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3
    assert t.numel() == 6 and isinstance(t.numel(), int)
    assert t.dtype == mg.float32
    assert t.device == "cpu" and t.device == mg.device("cpu") and str(t.device) == "cpu"
    assert t.requires_grad is True
    assert t.grad is None
    assert t.is_leaf and t.grad_fn is None
    assert not t.is_cuda
    assert len(t) == 2


def test_properties_of_a_non_leaf():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    y = t * 2
    assert not y.is_leaf
    assert y.requires_grad
    assert y.grad_fn is not None and "Mul" in y.grad_fn.name()
    assert y.grad_fn.next_functions[0] is t  # the leaf itself is the link
    z = y.exp()
    assert z.grad_fn.next_functions[0] is y.grad_fn


def test_scalar_tensor():
    t = mg.tensor(3.5)
    assert t.shape == () and t.ndim == 0 and t.numel() == 1
    assert t.item() == 3.5
    assert float(t) == 3.5
    with pytest.raises(TypeError):
        len(t)
    with pytest.raises(TypeError):
        iter(t).__next__()


def test_requires_grad_off_only_on_leaves():
    t = mg.tensor([1.0], requires_grad=True)
    y = t * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    t.requires_grad = False
    assert not t.requires_grad
    assert (t * 2).grad_fn is None


def test_requires_grad_underscore_returns_self():
    t = mg.tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert t.requires_grad_(False) is t and not t.requires_grad


def test_grad_can_be_set_and_cleared():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    t.grad = mg.tensor([5.0, 6.0])
    (t * 1).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [6.0, 7.0])
    t.grad = None
    assert t.grad is None


# -- conversion to Python / NumPy ---------------------------------------------------------------


def test_numpy_shares_memory():
    t = mg.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 10.0
    assert t[0].item() == 10.0


def test_numpy_refuses_requires_grad():
    t = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0]


def test_item():
    assert mg.tensor([[2.5]]).item() == 2.5
    assert isinstance(mg.tensor([3]).item(), int)
    assert isinstance(mg.tensor(1.5).item(), float)
    assert mg.tensor(True).item() is True
    with pytest.raises(ValueError, match=r"\(2,\)"):
        mg.tensor([1.0, 2.0]).item()


def test_tolist():
    assert mg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert mg.tensor(2.0).tolist() == 2.0
    vals = mg.tensor([0.5, 1.5]).tolist()
    assert vals == [0.5, 1.5] and all(type(v) is float for v in vals)


def test_int_float_bool_index_protocols():
    assert int(mg.tensor([7])) == 7
    assert float(mg.tensor([7])) == 7.0
    assert bool(mg.tensor([0.0])) is False and bool(mg.tensor(2.0)) is True
    assert [10, 20, 30][mg.tensor(1)] == 20
    with pytest.raises(TypeError):
        [10, 20][mg.tensor(1.0)]


def test_iteration_yields_rows():
    rows = list(mg.tensor([[1, 2], [3, 4]]))
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]


# -- detach ---------------------------------------------------------------------------------------


def test_detach_shares_memory_and_version_counter():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    v0 = y._version
    d.add_(1.0)
    assert y._version == v0 + 1 == d._version
    np.testing.assert_allclose(y.detach().numpy(), [3.0, 5.0])


def test_detach_stops_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x.detach()).sum()  # d/dx treats the detached factor as a constant
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


def test_detach_in_place():
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad


def test_data_is_detached_view():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0  # not tracked, and not a leaf-in-place error
    assert x.detach()[0].item() == 5.0


# -- repr -------------------------------------------------------------------------------------------


def test_repr_is_readable():
    r = repr(mg.tensor([1.5, -2.0]))
    assert r.startswith("tensor(") and "1.5" in r and "-2." in r
    assert "requires_grad" not in r and "dtype" not in r  # defaults are not spelled out
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    y = x * 2
    ry = repr(y)
    assert "grad_fn=<MulBackward" in ry and "4." in ry
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    assert "dtype=int32" in repr(mg.tensor([1], dtype=mg.int32))
    assert "True" in repr(mg.tensor([True, False]))


def test_repr_of_large_tensor_is_summarized():
    r = repr(mg.zeros(100_000))
    assert "..." in r and len(r) < 2000


def test_str_does_not_fail_for_scalars_and_empties():
    assert "3" in repr(mg.tensor(3))
    assert "dtype" in repr(mg.zeros(0))


# -- dtype rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1.0], [2]], np.float32),
    (3, np.int64), ([1, 2], np.int64),
    (True, np.bool_), ([True, False], np.bool_),
])
def test_python_value_dtypes(data, dtype):
    assert mg.tensor(data).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int32,
                                   np.int64, np.bool_])
def test_ndarray_keeps_its_dtype(dtype):
    a = np.zeros(3, dtype=dtype)
    assert mg.tensor(a).dtype == dtype


def test_tensor_copies_ndarray():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    a[0] = 99.0
    assert t[0].item() == 1.0
    assert t.dtype == np.float64  # float64 stays float64, as PyTorch


def test_dtype_override():
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64
    assert mg.tensor(np.zeros(2), dtype=mg.float32).dtype == np.float32
    assert mg.tensor([1.7, -2.2], dtype=mg.int64).tolist() == [1, -2]
    assert mg.tensor([1.0], dtype="float16").dtype == np.float16
    assert mg.tensor([1.0], dtype=float).dtype == np.float32
    assert mg.tensor([1.0], dtype=int).dtype == np.int64


def test_tensor_from_tensor_copies():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor(a)
    assert not b.requires_grad and b.grad_fn is None
    b[0] = 5.0
    assert a.detach()[0].item() == 1.0


@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.uint8, mg.bool_])
def test_integer_and_bool_cannot_require_grad(dtype):
    with pytest.raises(RuntimeError, match=str(np.dtype(dtype))):
        mg.tensor([1, 0], dtype=dtype, requires_grad=True)
    t = mg.tensor([1, 0], dtype=dtype)
    with pytest.raises(RuntimeError, match=str(np.dtype(dtype))):
        t.requires_grad_()
    with pytest.raises(RuntimeError, match=str(np.dtype(dtype))):
        t.requires_grad = True
    assert not t.requires_grad


def test_float16_can_require_grad():
    t = mg.tensor([1.0], dtype=mg.float16, requires_grad=True)
    (t * 2).sum().backward()
    assert t.grad.dtype == np.float16


def test_results_of_int_ops_never_require_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad
    assert x.argmax().dtype.kind == "i" and not x.argmax().requires_grad


# -- devices ----------------------------------------------------------------------------------------


def test_to_cpu_is_identity_on_cpu():
    t = mg.tensor([1.0], requires_grad=True)
    assert t.to("cpu") is t and t.cpu() is t and t.to(mg.device("cpu")) is t


def test_to_parses_arguments():
    t = mg.tensor([1.0, 2.0])
    assert t.to(mg.float64).dtype == np.float64
    assert t.to("cpu", mg.float64).dtype == np.float64
    assert t.to(dtype=mg.float16).dtype == np.float16
    assert t.to(device="cpu", dtype="float64").dtype == np.float64
    assert t.to(mg.zeros(1, dtype=mg.int32)).dtype == np.int32
    assert t.to(mg.float32) is t  # nothing to do
    with pytest.raises(TypeError, match="unexpected"):
        t.to(bogus=1)


def test_to_device_roundtrip(device):
    x = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == device
    z = (y * y).sum().to("cpu")
    assert z.device == "cpu"
    z.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_device_object():
    d = mg.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and str(d) == "cuda:1"
    assert mg.device("cuda") == "cuda:0" and mg.device("cpu") == "cpu"
    assert mg.device("cpu") != "cuda"
    assert "index=1" in repr(d)
    assert hash(mg.device("cuda")) == hash(mg.device("cuda:0"))
    assert mg.device(mg.device("cpu")) is mg.device("cpu")


# -- casts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, dtype", [("float", np.float32), ("double", np.float64), ("half", np.float16),
                                           ("long", np.int64), ("int", np.int32), ("bool", np.bool_)])
def test_cast_methods(method, dtype):
    t = mg.tensor([0.0, 1.5, -2.0], dtype=mg.float64)
    c = getattr(t, method)()
    assert c.dtype == dtype
    np.testing.assert_array_equal(c.numpy(), t.numpy().astype(dtype))


def test_casts_are_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = x.double()
    assert y.dtype == np.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])

    x64 = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    h = x64.half().float()
    (h * 3).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_allclose(x64.grad.numpy(), [3.0, 3.0])


def test_cast_to_int_leaves_the_graph():
    x = mg.tensor([1.7, 2.2], requires_grad=True)
    i = x.long()
    assert i.dtype == np.int64 and not i.requires_grad and i.grad_fn is None
    assert i.tolist() == [1, 2]


def test_type_as():
    a = mg.tensor([1, 2])
    b = mg.tensor([1.0], dtype=mg.float64)
    assert a.type_as(b).dtype == np.float64


def test_clone_is_differentiable_and_owns_memory():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    (c * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_hash_is_identity():
    a, b = mg.tensor([1.0]), mg.tensor([1.0])
    assert len({a, b}) == 2
    d = {a: 1}
    assert d[a] == 1


# -- dtype promotion (PyTorch's rules: categories int < float; 0-d tensors and Python numbers do not
#    widen a dimensioned tensor of the same category) ----------------------------------------------------


def test_python_scalars_do_not_widen():
    x = mg.tensor([1.0, 2.0])
    assert (x * 2.5).dtype == np.float32 and (x + 1).dtype == np.float32 and (2 ** x).dtype == np.float32
    i = mg.tensor([1, 2])
    assert (i * 2).dtype == np.int64 and (i + True).dtype == np.int64


def test_int_tensor_with_python_float_gives_default_float():
    i = mg.tensor([1, 2])
    assert (i * 0.5).dtype == np.float32
    assert (i / 2).dtype == np.float32


def test_float32_plus_int_tensor_stays_float32():
    assert (mg.tensor([1.0, 2.0]) + mg.tensor([1, 2])).dtype == np.float32


def test_zero_dim_float64_does_not_widen_float32():
    assert (mg.tensor([1.0, 2.0]) * mg.tensor(2.0, dtype=mg.float64)).dtype == np.float32


def test_list_of_float64_numpy_values_keeps_float64():
    assert mg.tensor([np.float64(1.0), np.float64(2.0)]).dtype == np.float64


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shapes=mst.broadcastable_shapes(2, min_side=0, max_dims=3, max_side=3),
       dtype=st.sampled_from([np.float32, np.float16]))
def test_cast_gradients(data, shapes, dtype):
    """Cast float64 -> float32/float16 and back, times a weight: gradcheck with a step of 1/4 on
    values that are multiples of 1/8 (exact in both dtypes, so the differences are exact too);
    the gradient comes back in float64.  Broadcasting the weight covers size-1 and empty dims."""
    xs, ws = shapes
    x = mg.tensor(data.draw(mst.arrays(xs, np.float64, st.integers(-16, 16).map(lambda k: k / 8))), requires_grad=True)
    w = mg.tensor(data.draw(mst.arrays(ws, np.float64, st.integers(-8, 8).map(lambda k: k / 8))), requires_grad=True)

    def fn(x, w):
        return (x.to(dtype) * w.to(dtype)).to(mg.float64)

    assert gradcheck(fn, [x, w], eps=0.25, atol=1e-12, rtol=1e-12)
    v = data.draw(mst.arrays(np.broadcast_shapes(xs, ws), np.float64, st.integers(-8, 8).map(lambda k: k / 8)))
    assert gradgradcheck(fn, [x, w], grad_outputs=[mg.tensor(v)], eps=0.25, atol=1e-12, rtol=1e-12)
    out = fn(x, w)
    out.sum().backward()
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float64
