"""Bad input gets a clear error that names the shapes / devices / dtypes involved, not a deep
NumPy traceback.

Cross-device errors need two devices.  Without a GPU they are exercised with a stand-in
"CUDA" array: an ndarray subclass that ``device_of`` (monkeypatched) reports as ``cuda:0``.
Op code tells devices apart by array class, so the device checks fire before any arithmetic.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import devices

needs_no_cuda = pytest.mark.skipif(mg.cuda.is_available(), reason="a CUDA GPU is present: nothing to refuse")
needs_cuda = pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA not available (needs CuPy and a CUDA GPU)")


# -- CUDA requested where it cannot work ----------------------------------------------------------

CREATORS = {
    "zeros": lambda d: mg.zeros(2, device=d),
    "ones": lambda d: mg.ones(2, device=d),
    "full": lambda d: mg.full((2,), 1.0, device=d),
    "empty": lambda d: mg.empty(2, device=d),
    "rand": lambda d: mg.rand(2, device=d),
    "randn": lambda d: mg.randn(2, device=d),
    "randint": lambda d: mg.randint(0, 3, (2,), device=d),
    "randperm": lambda d: mg.randperm(3, device=d),
    "arange": lambda d: mg.arange(3, device=d),
    "linspace": lambda d: mg.linspace(0, 1, 3, device=d),
    "eye": lambda d: mg.eye(2, device=d),
    "tensor": lambda d: mg.tensor([1.0], device=d),
    "zeros_like": lambda d: mg.zeros_like(mg.zeros(2), device=d),
    "to": lambda d: mg.zeros(2).to(d),
    "cuda()": lambda d: mg.zeros(2).cuda(),
}


@needs_no_cuda
@pytest.mark.parametrize("name", sorted(CREATORS))
def test_cuda_request_without_gpu_says_why(name):
    with pytest.raises(RuntimeError) as info:
        CREATORS[name]("cuda")
    msg = str(info.value)
    assert "CUDA" in msg and ("CuPy" in msg or "GPU" in msg), msg


class _FakeCupy:
    """Just enough of CuPy's surface for ``cupy_module`` to ask for the GPU count."""

    def __init__(self, count=None, exc=None):
        def get_count():
            if exc is not None:
                raise exc
            return count

        runtime = type("runtime", (), {"getDeviceCount": staticmethod(get_count)})
        self.cuda = type("cuda", (), {"runtime": runtime})


def test_cuda_error_without_cupy_says_cupy(monkeypatch):
    monkeypatch.setattr(devices, "_cupy", None)
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        mg.zeros(2, device="cuda")
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0


def test_cuda_error_with_cupy_but_no_driver_says_gpu(monkeypatch):
    monkeypatch.setattr(devices, "_cupy", _FakeCupy(exc=RuntimeError("cudaErrorNoDevice")))
    with pytest.raises(RuntimeError, match="no CUDA GPU") as info:
        devices.cupy_module()
    assert "cudaErrorNoDevice" in str(info.value)
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0


def test_cuda_error_with_cupy_and_zero_gpus(monkeypatch):
    monkeypatch.setattr(devices, "_cupy", _FakeCupy(count=0))
    with pytest.raises(RuntimeError, match="found no CUDA GPU"):
        devices.cupy_module()
    assert mg.cuda.is_available() is False


@needs_cuda
def test_cuda_index_out_of_range_names_device():
    n = mg.cuda.device_count()
    with pytest.raises(RuntimeError, match=f"cuda:{n}"):
        mg.zeros(2, device=f"cuda:{n}")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cpu:0", "CUDA", "", "cuda:-1"])
def test_invalid_device_string_names_it(spec):
    with pytest.raises(ValueError) as info:
        mg.zeros(2, device=spec)
    assert repr(spec) in str(info.value) and "cuda:N" in str(info.value)


def test_device_of_wrong_type():
    with pytest.raises(TypeError, match="int"):
        mg.device(0)


# -- tensors on different devices ---------------------------------------------------------------


class _FakeCudaArray(np.ndarray):
    """Host memory that ``device_of`` reports as cuda:0 (see the module docstring)."""


@pytest.fixture
def on_fake_cuda(monkeypatch):
    real = devices.device_of
    monkeypatch.setattr(devices, "device_of",
                        lambda a: devices.Device("cuda", 0) if isinstance(a, _FakeCudaArray) else real(a))

    def make(*shape):
        t = mg.ones(*shape)
        t._data = np.ones(shape, dtype=np.float32).view(_FakeCudaArray)  # make_tensor would strip the subclass
        return t

    return make


CROSS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": lambda a, b: a @ b,  # square operands: the fake array must not pass through another op first
    "maximum": lambda a, b: mg.maximum(a, b),
    "where": lambda a, b: mg.where(a > 0, a, b),
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
}


@pytest.mark.parametrize("op", sorted(CROSS))
def test_ops_on_different_devices_name_both(op, on_fake_cuda):
    shape = (3, 3) if op == "matmul" else (2, 3)
    cpu = mg.ones(*shape)
    gpu = on_fake_cuda(*shape)
    assert gpu.device == "cuda:0"
    for a, b in ((cpu, gpu), (gpu, cpu)):
        with pytest.raises(RuntimeError) as info:
            CROSS[op](a, b)
        msg = str(info.value)
        assert "cpu" in msg and "cuda:0" in msg, msg


@pytest.mark.parametrize("fn", [mg.cat, mg.stack])
def test_joining_different_devices_names_both(fn, on_fake_cuda):
    with pytest.raises(RuntimeError) as info:
        fn([mg.ones(2, 3), on_fake_cuda(2, 3)])
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)


def test_in_place_on_different_devices_names_both(on_fake_cuda):
    t = mg.zeros(3)
    with pytest.raises(RuntimeError) as info:
        t.add_(on_fake_cuda(3))
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)
    with pytest.raises(RuntimeError) as info:
        t[0:3] = on_fake_cuda(3)
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)


def test_backward_gradient_on_other_device_names_both(on_fake_cuda):
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * 2).backward(on_fake_cuda(2, 3))
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)


@needs_cuda
def test_real_cross_device_op_names_both():
    with pytest.raises(RuntimeError) as info:
        mg.ones(2) + mg.ones(2, device="cuda")
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)


# -- shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_broadcast_mismatch_names_both_shapes(op):
    f = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "div": lambda a, b: a / b, "maximum": mg.maximum, "minimum": mg.minimum, "pow": lambda a, b: a ** b}[op]
    with pytest.raises(ValueError) as info:
        f(mg.ones(2, 3), mg.ones(4, 5))
    msg = str(info.value)
    assert "(2, 3)" in msg and "(4, 5)" in msg, msg


def test_where_mismatch_names_shapes():
    with pytest.raises(ValueError) as info:
        mg.where(mg.ones(2) > 0, mg.ones(2, 3), mg.ones(4, 5))
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)


@pytest.mark.parametrize("a, b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (5, 4, 2)), ((3,), (2, 4))])
def test_matmul_mismatch_names_shapes(a, b):
    with pytest.raises(ValueError) as info:
        mg.ones(*a) @ mg.ones(*b)
    msg = str(info.value)
    assert str(a) in msg and str(b) in msg, msg


def test_reshape_mismatch_names_shapes():
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3).reshape(4, 2)
    msg = str(info.value)
    assert "(2, 3)" in msg and "(4, 2)" in msg
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        mg.ones(2, 3).view(7)


def test_cat_and_stack_mismatch_name_shapes():
    with pytest.raises(ValueError) as info:
        mg.cat([mg.ones(2, 3), mg.ones(4, 5)])
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)
    with pytest.raises(ValueError) as info:
        mg.stack([mg.ones(2, 3), mg.ones(3, 2)])
    assert "(2, 3)" in str(info.value) and "(3, 2)" in str(info.value)


def test_in_place_shape_mismatch_names_shapes():
    with pytest.raises(RuntimeError) as info:
        mg.zeros(2).mul_(mg.ones(3))
    assert "(3,)" in str(info.value) and "(2,)" in str(info.value)


# -- dtypes and grad rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_requires_grad_on_non_float_names_dtype(dtype):
    with pytest.raises(RuntimeError) as info:
        mg.zeros(2, dtype=dtype).requires_grad_()
    assert dtype in str(info.value) and "floating" in str(info.value)
    with pytest.raises(RuntimeError, match=dtype):
        mg.zeros(2, dtype=dtype, requires_grad=True)


def test_randint_cannot_require_grad():
    with pytest.raises(RuntimeError, match="int64"):
        mg.randint(0, 3, (2,)).requires_grad_()


def test_unsupported_data_names_type():
    with pytest.raises(TypeError) as info:
        mg.tensor(["a", "b"])
    assert "dtype" in str(info.value)
    with pytest.raises(TypeError, match="not a dtype"):
        mg.zeros(2, dtype="notadtype")


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError) as info:
        mg.ones(2, 3).sum().backward()
    assert "does not require grad" in str(info.value)
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_non_scalar_backward_names_shape():
    with pytest.raises(RuntimeError) as info:
        (mg.ones(4, 5, requires_grad=True) * 2).backward()
    assert "(4, 5)" in str(info.value)


def test_item_on_many_elements_names_shape():
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        mg.ones(2, 2).item()


def test_bool_on_many_elements_names_size():
    with pytest.raises(RuntimeError) as info:
        bool(mg.ones(3))
    assert "(3,)" in str(info.value) and "ambiguous" in str(info.value)
    with pytest.raises(RuntimeError):
        if mg.ones(2, 2) > 0:
            pass


def test_leaf_in_place_outside_no_grad_names_op_and_shape():
    w = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        w.mul_(2.0)
    msg = str(info.value)
    assert "mul_" in msg and "leaf" in msg and "(2, 3)" in msg and "no_grad" in msg


def test_numpy_on_grad_tensor_says_detach():
    with pytest.raises(RuntimeError, match="detach"):
        mg.ones(2, requires_grad=True).numpy()


def test_gradcheck_float32_names_dtype():
    from minigrad.autograd import gradcheck

    x = mg.ones(2, requires_grad=True)
    with pytest.raises(ValueError) as info:
        gradcheck(lambda t: t * 2, [x])
    assert "float32" in str(info.value) and "float64" in str(info.value)


def test_second_backward_error_says_retain_graph():
    x = mg.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_reduction_axis_out_of_range_names_ndim():
    with pytest.raises(IndexError) as info:
        mg.ones(2, 3).sum(axis=2)
    assert "2" in str(info.value) and "dimension" in str(info.value)
