"""PyTorch's module paths and small idioms on minigrad: mg.utils.data, mg.accelerator,
mg.is_tensor, mg.inference_mode, view_as / expand_as / contiguous / t, and the new_* methods."""
import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

REPO = Path(__file__).resolve().parents[1]


def test_utils_data_paths_resolve_to_minigrad_data():
    import minigrad.utils.data
    from minigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

    assert mg.utils.data is minigrad.utils.data is importlib.import_module("minigrad.utils.data")
    assert DataLoader is mg.data.DataLoader and Dataset is mg.data.Dataset and Subset is mg.data.Subset
    assert TensorDataset is mg.data.TensorDataset and random_split is mg.data.random_split
    assert default_collate is mg.data.default_collate
    for name in minigrad.utils.data.__all__:
        assert getattr(minigrad.utils.data, name) is getattr(mg.data, name)


def test_utils_data_names_exist_in_pytorch():
    torch = pytest.importorskip("torch")
    import torch.utils.data

    import minigrad.utils.data

    missing = [name for name in minigrad.utils.data.__all__ if not hasattr(torch.utils.data, name)]
    assert missing == []


def test_fresh_interpreter_imports_the_pytorch_paths():
    code = ("import minigrad.utils.data\nfrom minigrad.utils.data import DataLoader\nimport minigrad as torch\n"
            "print(torch.utils.data.DataLoader is DataLoader, torch.accelerator.is_available() in (True, False))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_accelerator():
    assert mg.accelerator.is_available() == mg.cuda.is_available()
    current = mg.accelerator.current_accelerator()
    assert mg.accelerator.device_count() == mg.cuda.device_count()
    if mg.cuda.is_available():
        assert current == mg.device("cuda") and current.type == "cuda"
        assert mg.accelerator.current_device_index() == 0
        mg.accelerator.synchronize()
    else:
        assert current is None and mg.accelerator.current_accelerator(check_available=True) is None
        with pytest.raises(RuntimeError, match="no accelerator is available"):
            mg.accelerator.current_device_index()
        with pytest.raises(RuntimeError, match="no accelerator is available"):
            mg.accelerator.synchronize()
    device = mg.accelerator.current_accelerator() or mg.device("cpu")
    assert mg.ones(2).to(device).device == device


def test_is_tensor():
    assert mg.is_tensor(mg.zeros(2)) and mg.is_tensor(mg.nn.Parameter(mg.zeros(2)))
    assert not mg.is_tensor(np.zeros(2)) and not mg.is_tensor([1.0]) and not mg.is_tensor(3.0)


def test_inference_mode_as_context_manager_and_decorator():
    w = mg.ones(3, requires_grad=True)
    with mg.inference_mode():
        y = w * 2
        assert not mg.is_grad_enabled() and mg.is_inference_mode_enabled()
        with mg.inference_mode(False):  # leaves inference mode: recording is on again
            assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()
            assert (w * 2).requires_grad
        assert mg.is_inference_mode_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()

    @mg.inference_mode()
    def called():
        return (w * 2).requires_grad, mg.is_inference_mode_enabled()

    @mg.inference_mode
    def bare():
        return (w * 2).requires_grad, mg.is_inference_mode_enabled()

    assert called() == (False, True) and bare() == (False, True)
    assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()
    with pytest.raises(KeyError):
        with mg.inference_mode():
            raise KeyError("inside")
    assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()  # restored after an exception
    with mg.no_grad():
        with mg.inference_mode(False):
            assert mg.is_grad_enabled()  # as in PyTorch
        assert not mg.is_grad_enabled()


def test_no_grad_and_enable_grad_work_as_bare_decorators():
    w = mg.ones(2, requires_grad=True)

    @mg.no_grad
    def frozen():
        return w * 2

    @mg.enable_grad
    def recorded():
        return w * 2

    assert not frozen().requires_grad and frozen.__name__ == "frozen"
    with mg.no_grad():
        assert recorded().requires_grad
    assert mg.is_grad_enabled()


def test_inference_mode_flags_match_pytorch():
    torch = pytest.importorskip("torch")

    def trace(lib):
        seen = []
        with lib.inference_mode():
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.no_grad():
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.no_grad():
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        return seen

    assert trace(mg) == trace(torch)


def test_view_as_and_expand_as_are_differentiable():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    target = mg.zeros(2, 3)
    v = x.view_as(target)
    assert v.shape == (2, 3)
    (v * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 4, 5, 6])
    b = mg.tensor([[1.0], [2.0]], requires_grad=True)
    e = b.expand_as(target)
    assert e.shape == (2, 3)
    e.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [[3.0], [3.0]])
    with pytest.raises(TypeError, match=r"view_as\(\) expects a Tensor, got tuple"):
        x.view_as((2, 3))
    with pytest.raises(ValueError, match="cannot view a tensor of shape"):
        x.view_as(mg.zeros(4))


def test_contiguous_returns_self_or_a_differentiable_copy():
    x = mg.randn(3, 4, requires_grad=True)
    assert x.is_contiguous() and x.contiguous() is x
    for view in (x.t(), x[:, ::2], x[:1].expand(3, 4), x.permute(1, 0)):
        assert not view.is_contiguous()
        c = view.contiguous()
        assert c is not view and c.is_contiguous() and c._data.flags.c_contiguous
        np.testing.assert_array_equal(c.detach().numpy(), view.detach().numpy())
        assert c.grad_fn is not None
    x.grad = None
    w = mg.randn(4, 3)
    (x.t().contiguous() * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w.numpy().T)
    strided = mg.from_numpy(np.arange(12.0).reshape(3, 4)[:, ::2])
    assert not strided.is_contiguous() and strided.contiguous().is_contiguous()


def test_contiguity_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    ops = [lambda t: t, lambda t: t.permute(2, 0, 1), lambda t: t[:, :, ::2], lambda t: t[:, 1],
           lambda t: t[0], lambda t: t[:1].expand(5, 3, 4), lambda t: t.reshape(6, 4).t(), lambda t: t[..., :1]]
    for op in ops:
        ours, theirs = op(mg.tensor(a)), op(torch.tensor(a))
        assert ours.is_contiguous() == theirs.is_contiguous()
        assert ours.contiguous().is_contiguous() and (ours.contiguous() is ours) == ours.is_contiguous()


def test_t_transposes_at_most_two_dims():
    m = mg.tensor([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(m.t().numpy(), [[1, 4], [2, 5], [3, 6]])
    v, s = mg.tensor([1.0, 2.0]), mg.tensor(3.0)
    assert v.t() is v and s.t() is s
    with pytest.raises(ValueError, match=r"t\(\) expects a tensor with <= 2 dimensions, but this one has shape"):
        mg.zeros(2, 3, 4).t()
    x = mg.randn(2, 3, requires_grad=True)
    (x.t() * mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 3, 5], [2, 4, 6]])


def test_new_tensor_methods_keep_dtype_and_device(device):
    x = mg.ones(2, dtype=mg.float64, device=device)
    for t in (x.new_zeros(2, 3), x.new_zeros((2, 3)), x.new_ones([2, 3]), x.new_empty(2, 3),
              x.new_full((2, 3), 7)):
        assert t.shape == (2, 3) and t.dtype == np.float64 and t.device == device and not t.requires_grad
    np.testing.assert_array_equal(x.new_full((2,), 7).cpu().numpy(), [7.0, 7.0])
    assert x.new_zeros(()).shape == () and x.new_ones([]).shape == ()
    made = x.new_tensor([1, 2, 3])
    assert made.dtype == np.float64 and made.device == device and made.is_leaf
    source = mg.tensor([1.5, 2.5], requires_grad=True)
    copy = x.new_tensor(source)
    assert not copy.requires_grad and copy.grad_fn is None
    copy.fill_(0.0)
    np.testing.assert_array_equal(source.detach().numpy(), [1.5, 2.5])  # a copy, not a view
    assert x.new_zeros(2, dtype=mg.int64).dtype == np.int64
    assert x.new_ones(2, device="cpu").device == "cpu"
    g = x.new_zeros(3, requires_grad=True)
    assert g.requires_grad and g.is_leaf
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        mg.tensor([1, 2]).new_zeros(2, requires_grad=True)


def test_new_tensor_methods_match_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64"):
        ours, theirs = mg.zeros(2, dtype=dtype), torch.zeros(2, dtype=getattr(torch, dtype))
        pairs = [(ours.new_zeros(2, 3), theirs.new_zeros(2, 3)), (ours.new_ones((3,)), theirs.new_ones((3,))),
                 (ours.new_full((2,), 5), theirs.new_full((2,), 5)),
                 (ours.new_tensor([1, 2]), theirs.new_tensor([1, 2])),
                 (ours.new_tensor([[0.5]]), theirs.new_tensor([[0.5]])),
                 (ours.new_empty(4), theirs.new_empty(4))]
        for a, b in pairs:
            assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", "")
            if b.numel() and a is not pairs[-1][0]:
                np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_generator_streams_are_seedable_and_independent_of_the_global_one():
    g = mg.Generator().manual_seed(3)
    a = mg.randn(4, generator=g)
    mg.manual_seed(123)
    mg.rand(10)  # the global stream moves; g's does not care
    b = mg.randn(4, generator=g.manual_seed(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert g.initial_seed() == 3
    state = g.get_state()
    first = mg.rand(3, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(mg.rand(3, generator=g).numpy(), first)
    assert mg.randint(0, 5, (6,), generator=g).dtype == np.int64
    assert sorted(mg.randperm(5, generator=g).tolist()) == [0, 1, 2, 3, 4]
    assert isinstance(g.seed(), int) and g.initial_seed() is not None
    with pytest.raises(TypeError, match="generator must be a minigrad.Generator"):
        mg.rand(2, generator=np.random.default_rng(0))


def test_manual_seed_returns_the_default_generator_and_data_takes_generators():
    gen = mg.manual_seed(5)
    assert gen is mg.default_generator and gen.initial_seed() == 5
    x = mg.rand(3)
    mg.default_generator.manual_seed(5)
    np.testing.assert_array_equal(mg.rand(3).numpy(), x.numpy())
    split = [s.indices for s in mg.utils.data.random_split(range(10), [6, 4],
                                                            generator=mg.Generator().manual_seed(42))]
    again = [s.indices for s in mg.utils.data.random_split(range(10), [6, 4],
                                                            generator=mg.Generator().manual_seed(42))]
    assert [list(a) for a in split] == [list(b) for b in again]
    loader = mg.utils.data.DataLoader(list(range(8)), batch_size=4, shuffle=True,
                                      generator=mg.Generator().manual_seed(1))
    assert sorted(int(v) for b in loader for v in b.tolist()) == list(range(8))


def test_pytorch_switches_and_seeds_exist(tmp_path):
    mg.backends.cudnn.benchmark = True
    mg.backends.cudnn.deterministic = True
    mg.backends.cuda.matmul.allow_tf32 = False
    assert mg.backends.cudnn.benchmark is True
    mg.cuda.manual_seed(1)
    mg.cuda.manual_seed_all(1)
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    mg.save({"w": mg.ones(2)}, path)
    assert mg.load(path, weights_only=True)["w"].tolist() == [1.0, 1.0]
    assert mg.load(path, map_location="cpu", weights_only=False, mmap=True)["w"].shape == (2,)
