"""Device tests.  Each test runs once per entry of the ``device`` fixture (conftest.py): on
``cpu``, and on ``cuda`` where CuPy and a GPU exist (elsewhere the CUDA cases skip with the
reason shown).  Results on the device are compared with the same computation on the CPU in
float64, so the CPU case is a plain correctness check and the CUDA case checks the CuPy path.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck

needs_cuda = pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA not available (needs CuPy and a CUDA GPU)")


def host(t) -> np.ndarray:
    a = t.detach()._data if isinstance(t, mg.Tensor) else t
    return a.get() if hasattr(a, "get") else np.asarray(a)


# -- availability (never raises) ------------------------------------------------------------------


def test_is_available_and_device_count_never_raise():
    avail = mg.cuda.is_available()
    count = mg.cuda.device_count()
    assert isinstance(avail, bool) and isinstance(count, int)
    assert (count > 0) == avail
    mg.cuda.synchronize()  # a no-op without CUDA


def test_is_available_matches_cupy():
    try:
        import cupy  # noqa: F401
    except Exception:
        assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    else:
        try:
            n = cupy.cuda.runtime.getDeviceCount()
        except Exception:
            n = 0
        assert mg.cuda.is_available() == (n > 0)


# -- creation and movement --------------------------------------------------------------------------


def test_creation_on_device(device):
    for t in (mg.zeros(2, 3, device=device), mg.ones(2, device=device), mg.rand(3, device=device),
              mg.randn(3, device=device), mg.arange(4, device=device), mg.eye(2, device=device),
              mg.tensor([1.0, 2.0], device=device), mg.full((2,), 3.0, device=device),
              mg.randint(0, 5, (3,), device=device), mg.linspace(0, 1, 3, device=device)):
        assert t.device == device and t.is_cuda == (device != "cpu")
    np.testing.assert_array_equal(host(mg.eye(3, device=device)), np.eye(3))
    np.testing.assert_array_equal(host(mg.arange(4, device=device)), [0, 1, 2, 3])


def test_seeded_random_on_device_reproducible(device):
    mg.manual_seed(11)
    a = host(mg.randn(100, device=device))
    mg.manual_seed(11)
    b = host(mg.randn(100, device=device))
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.6  # 6 standard errors of the mean of 100 N(0,1)


def test_roundtrip_and_gradient_across_devices(device):
    x = mg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=mg.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == device and y.requires_grad
    z = (y * y).exp().sum()
    back = z.to("cpu")
    assert back.device == "cpu"
    back.backward()
    assert x.grad.device == "cpu"
    xv = host(x)
    np.testing.assert_allclose(host(x.grad), 2 * xv * np.exp(xv * xv), rtol=1e-12)


def test_from_host_array_keeps_dtype(device):
    t = mg.tensor(np.arange(3, dtype=np.int32), device=device)
    assert t.dtype == np.int32 and t.device == device


# -- ops forward and backward, device vs CPU ------------------------------------------------------------

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
P = RNG.uniform(0.5, 2.0, (3, 4))
M = RNG.standard_normal((4, 2))

OPS = {
    "add": (lambda a, b: a + b, (A, B)),
    "sub_broadcast": (lambda a, b: a - b, (A, B[:1])),
    "mul": (lambda a, b: a * b, (A, B)),
    "div": (lambda a, b: a / b, (A, P)),
    "pow": (lambda a, b: a ** b, (P, B)),
    "scalar_pow": (lambda a: a ** 3, (A,)),
    "exp_log": (lambda a: a.exp() + a.log(), (P,)),
    "sqrt_abs": (lambda a: a.abs().sqrt(), (A,)),
    "sin_cos": (lambda a: a.sin() * a.cos(), (A,)),
    "tanh_sigmoid": (lambda a: a.tanh() + a.sigmoid(), (A,)),
    "relu": (lambda a: a.relu(), (A,)),
    "softmax": (lambda a: a.softmax(-1), (A,)),
    "log_softmax": (lambda a: a.log_softmax(1), (A,)),
    "gelu_softplus": (lambda a: mg.gelu(a) + mg.softplus(a), (A,)),
    "matmul": (lambda a, m: a @ m, (A, M)),
    "sum_mean": (lambda a: a.sum(axis=0) + a.mean(axis=0), (A,)),
    "var_std": (lambda a: a.var(axis=1) + a.std(axis=1), (A,)),
    "max_min": (lambda a: a.max(axis=1).values - a.min(axis=0).values.sum(), (A,)),
    "logsumexp": (lambda a: a.logsumexp(axis=1), (A,)),
    "shape": (lambda a: a.reshape(4, 3).T.unsqueeze(0).flatten(), (A,)),
    "index": (lambda a: a[1:, ::2] * a[mg.tensor([0, 0, 2])][:2, 1:3], (A,)),
    "where_clamp": (lambda a, b: mg.where(a > b, a, b).clamp(-0.5, 0.5), (A, B)),
    "maximum": (lambda a, b: mg.maximum(a, b), (A, B)),
}


def _cat_stack(a, b):
    s = mg.stack([a, b]).sum(0)
    return mg.cat([a, b], 1) * mg.cat([s, s], 1)


OPS["cat_stack"] = (_cat_stack, (A, B))


def _run(fn, arrays, device):
    xs = [mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True) for a in arrays]
    out = fn(*xs)
    seed = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
    out.backward(mg.tensor(seed, dtype=mg.float64, device=device))
    return out, xs


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_backward_matches_cpu(name, device):
    fn, arrays = OPS[name]
    out, xs = _run(fn, arrays, device)
    ref, refs = _run(fn, arrays, "cpu")
    assert out.device == device and out.dtype == np.float64
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-10, atol=1e-12)
    for x, r in zip(xs, refs):
        assert x.grad.device == device
        np.testing.assert_allclose(host(x.grad), host(r.grad), rtol=1e-10, atol=1e-12)


def test_float32_on_device_close_to_float64_cpu(device):
    x = mg.tensor(A.tolist(), device=device, requires_grad=True)  # Python floats: float32
    assert x.dtype == np.float32
    y = ((x @ mg.tensor(M.tolist(), device=device)).tanh() ** 2).mean()
    y.backward()
    x64 = mg.tensor(A, dtype=mg.float64, requires_grad=True)
    y64 = ((x64 @ mg.tensor(M, dtype=mg.float64)).tanh() ** 2).mean()
    y64.backward()
    np.testing.assert_allclose(host(y), host(y64), rtol=1e-5)
    np.testing.assert_allclose(host(x.grad), host(x64.grad), rtol=1e-4, atol=1e-6)


def test_gradcheck_on_device(device):
    x = mg.tensor(A[:2, :3], dtype=mg.float64, device=device, requires_grad=True)
    y = mg.tensor(P[:2, :3], dtype=mg.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a, b: (a * b).tanh() / b, [x, y])
    assert gradgradcheck(lambda a: (a * a).sin(), [x])


def test_hessian_vector_product_on_device(device):
    x = mg.tensor([0.3, -0.4, 0.9], dtype=mg.float64, device=device, requires_grad=True)
    v = mg.tensor([1.0, 2.0, -1.0], dtype=mg.float64, device=device)
    (g,) = mg.grad((x**3).sum(), x, create_graph=True)
    (hv,) = mg.grad(g, x, grad_outputs=v)
    assert hv.device == device
    np.testing.assert_allclose(host(hv), 6 * host(x) * host(v), rtol=1e-12)


def test_in_place_and_sgd_step_on_device(device):
    w = mg.tensor([1.0, -1.0], dtype=mg.float64, device=device, requires_grad=True)
    (w * w).sum().backward()
    with mg.no_grad():
        w.add_(w.grad, alpha=-0.25)
        w.grad.zero_()
    np.testing.assert_allclose(host(w), [0.5, -0.5])
    np.testing.assert_allclose(host(w.grad), [0.0, 0.0])
    t = mg.zeros(3, device=device)
    t[1] = 2.0
    t.clamp_(max=1.0)
    np.testing.assert_allclose(host(t), [0.0, 1.0, 0.0])


def test_training_loop_on_device(device):
    mg.manual_seed(0)
    x = mg.randn(32, 3, dtype=mg.float64, device=device)
    true_w = mg.tensor([[1.0], [-2.0], [0.5]], dtype=mg.float64, device=device)
    y = x @ true_w
    w = mg.zeros(3, 1, dtype=mg.float64, device=device, requires_grad=True)
    for _ in range(200):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        with mg.no_grad():
            w.sub_(w.grad * 0.1)
        w.grad = None
    assert w.device == device
    np.testing.assert_allclose(host(w), host(true_w), atol=1e-4)


# -- CUDA only ------------------------------------------------------------------------------------


@needs_cuda
def test_cuda_tensor_numpy_needs_cpu():
    t = mg.ones(2, device="cuda")
    with pytest.raises(TypeError, match="cpu"):
        t.numpy()
    with pytest.raises(TypeError, match="cpu"):
        np.asarray(t)
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 1.0])


@needs_cuda
def test_cuda_repr_names_device():
    assert "device='cuda:0'" in repr(mg.ones(2, device="cuda"))


@needs_cuda
def test_cuda_dlpack_to_cupy_zero_copy():
    import cupy

    t = mg.zeros(3, device="cuda")
    c = cupy.from_dlpack(t)
    c[0] = 5.0
    assert t[0].item() == 5.0
    back = mg.from_dlpack(c)
    assert back.device == "cuda:0"


@needs_cuda
def test_cuda_torch_dlpack_if_torch_has_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this PyTorch build has no CUDA")
    t = mg.zeros(3, device="cuda")
    tt = torch.from_dlpack(t)
    tt[1] = 2.0
    assert t[1].item() == 2.0


_SPIN_SOURCE = r"""
extern "C" __global__ void minigrad_test_spin(long long cycles) {
    long long start = clock64();
    while (clock64() - start < cycles) { }
}
"""


@needs_cuda
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_cuda_training_step_never_waits_for_the_gpu(optimizer):
    """No host round-trip in the hot loop: a whole training step (forward, cross-entropy,
    backward, optimizer step, zero_grad) only queues GPU work.  A one-thread kernel keeps the GPU
    busy for about a second; if any part of the steps read a value back (a device sync), the
    steps could only return after that kernel ended, so the event recorded behind it would be
    done.  The assertion is about ordering, not time."""
    import cupy

    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(20, 16), mg.nn.ReLU(), mg.nn.Linear(16, 3)).to("cuda")
    extra = {"momentum": 0.9, "weight_decay": 1e-4} if optimizer == "SGD" else {"weight_decay": 1e-4}
    opt = getattr(mg.optim, optimizer)(model.parameters(), lr=0.01, **extra)
    x, y = mg.randn(8, 20, device="cuda"), mg.randint(0, 3, (8,), device="cuda")

    def step():
        opt.zero_grad()
        loss = mg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()
    mg.cuda.synchronize()  # kernels compiled and optimizer state made before the busy kernel
    spin = cupy.RawKernel(_SPIN_SOURCE, "minigrad_test_spin")
    spin((1,), (1,), (np.int64(2_000_000_000),))  # ~1 s at 2 GHz
    busy = cupy.cuda.Event()
    busy.record()
    for _ in range(3):
        loss = step()
    still_busy = not busy.done
    mg.cuda.synchronize()
    assert still_busy, "a training step waited for earlier GPU work: something in it reads a value back to the host"
    assert busy.done and np.isfinite(loss.item())


# -- cross_entropy's fused CUDA kernels against a NumPy reference ------------------------------


def _ce_reference(x, t, ignore_index, reduction):
    """Per-row -log softmax(x)[t] in float64; ignored rows 0; 'mean' over the rows that count."""
    x = x.astype(np.float64)
    lse = x.max(1) + np.log(np.exp(x - x.max(1, keepdims=True)).sum(1))
    counts = t != ignore_index
    rows = np.where(counts, lse - x[np.arange(len(t)), np.where(counts, t, 0)], 0.0)
    p = np.exp(x - lse[:, None])
    onehot = np.eye(x.shape[1])[np.where(counts, t, 0)] * counts[:, None]
    dx = (p - onehot) * counts[:, None]  # d(Σ rows)/dx
    if reduction == "none":
        return rows, dx
    if reduction == "sum":
        return rows.sum(), dx
    return rows.sum() / counts.sum(), dx / counts.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_reference_on_device(device, reduction, dtype, ignore):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((37, 11)) * 4).astype(dtype)
    x[0, 3] = 80.0  # a confident row: log-sum-exp must not overflow
    t = rng.integers(0, 11, 37)
    if ignore:
        t[[1, 5, 6]] = -100
    xt = mg.tensor(x, device=device, requires_grad=True)
    loss = mg.nn.functional.cross_entropy(xt, mg.tensor(t, device=device), reduction=reduction)
    want, dx = _ce_reference(x, t, -100, reduction)
    assert loss.device == device and loss.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(loss), want, **tol)
    seed = np.linspace(0.5, 1.5, len(t)).astype(dtype) if reduction == "none" else np.asarray(2.0, dtype)
    loss.backward(mg.tensor(seed, device=device))
    want_dx = dx * (seed[:, None] if reduction == "none" else seed)
    np.testing.assert_allclose(host(xt.grad), want_dx, **tol)


def test_cross_entropy_ignore_index_inside_range_and_spatial_on_device(device):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 2, 2))
    t = rng.integers(0, 5, (3, 2, 2))
    t[0, 0, 1] = 2
    xt = mg.tensor(x, device=device, requires_grad=True)
    loss = mg.nn.functional.cross_entropy(xt, mg.tensor(t, device=device), ignore_index=2)
    rows_x, rows_t = x.transpose(0, 2, 3, 1).reshape(-1, 5), t.reshape(-1)
    want, dx = _ce_reference(rows_x, rows_t, 2, "mean")
    np.testing.assert_allclose(host(loss), want, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(host(xt.grad), dx.reshape(3, 2, 2, 5).transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-14)


def test_cross_entropy_all_ignored_is_nan_like_torch(device):
    x = mg.zeros(4, 3, dtype=mg.float64, device=device, requires_grad=True)
    loss = mg.nn.functional.cross_entropy(x, mg.tensor([-100] * 4, device=device))
    assert np.isnan(host(loss))
    total = mg.nn.functional.cross_entropy(x, mg.tensor([-100] * 4, device=device), reduction="sum")
    assert host(total) == 0.0


def test_cross_entropy_gradcheck_and_second_derivatives_on_device(device):
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((4, 3)), dtype=mg.float64, device=device, requires_grad=True)
    t = mg.tensor([0, 2, -100, 1], device=device)
    for reduction in ("mean", "sum", "none"):
        fn = lambda a: mg.nn.functional.cross_entropy(a, t, reduction=reduction)  # noqa: E731
        assert gradcheck(fn, [x])
        assert gradgradcheck(fn, [x])


@needs_cuda
def test_cuda_cross_entropy_out_of_range_target_gives_nan_rows():
    """On the GPU a bad target cannot raise without a host round trip: its row is NaN instead."""
    x = mg.zeros(3, 4, device="cuda", requires_grad=True)
    loss = mg.nn.functional.cross_entropy(x, mg.tensor([0, 7, 1], device="cuda"), reduction="none")
    got = host(loss)
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()
    loss.sum().backward()
    g = host(x.grad)
    assert np.isnan(g[1]).all() and np.isfinite(g[[0, 2]]).all()
