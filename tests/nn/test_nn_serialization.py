"""mg.save / mg.load: round trips, the safetensors layout, PyTorch interop, never-pickle, atomic
writes, clear errors on bad files, devices, and resuming training bit for bit."""
import io
import json
import math
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.serialization import FORMAT_VERSION, SerializationError

from nn_helpers import host, try_torch

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _model():
    return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.3), nn.Linear(5, 3))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                                   "bool"])
def test_tensor_round_trip_all_dtypes(tmp_path, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4)) * 50).astype(dtype)
    path = tmp_path / "t.safetensors"
    mg.save(mg.tensor(a), path)
    back = mg.load(path)
    assert isinstance(back, mg.Tensor) and back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(host(back), a)


def test_scalar_empty_and_non_contiguous(tmp_path):
    obj = {"scalar": mg.tensor(3.5), "empty": mg.zeros(0, 4), "view": mg.arange(12.0).reshape(3, 4).T}
    mg.save(obj, tmp_path / "x")
    back = mg.load(tmp_path / "x")
    assert back["scalar"].shape == () and back["scalar"].item() == 3.5
    assert back["empty"].shape == (0, 4)
    np.testing.assert_array_equal(host(back["view"]), np.arange(12.0).reshape(3, 4).T)


def test_nested_structure_round_trip(tmp_path):
    shared = mg.randn(2, 2)
    p = nn.Parameter(mg.ones(3))
    obj = {
        "state": {0: {"momentum_buffer": shared, "step": 7}, 1: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": None}],
        "again": shared,
        "param": p,
        "floats": [float("nan"), float("inf"), -0.0, 1e-310, 0.1],
        "big": 2 ** 100,
        "text": "héllo",
        "array": np.arange(4, dtype=np.int32),
        "dtype": np.dtype("float32"),
        (1, "k"): "tuple key",
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
    }
    mg.save(obj, tmp_path / "ckpt.safetensors")
    back = mg.load(tmp_path / "ckpt.safetensors")
    assert back["state"][0]["step"] == 7 and back["state"][1] == {}
    assert back["param_groups"] == obj["param_groups"]
    assert back["again"] is back["state"][0]["momentum_buffer"]  # shared once, restored shared
    np.testing.assert_array_equal(host(back["again"]), host(shared))
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    f = back["floats"]
    assert math.isnan(f[0]) and f[1] == math.inf and math.copysign(1, f[2]) == -1 and f[3] == 1e-310 and f[4] == 0.1
    assert back["big"] == 2 ** 100 and back["text"] == "héllo"
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    assert back["dtype"] == np.float32 and back[(1, "k")] == "tuple key"
    assert isinstance(back["ordered"], OrderedDict) and list(back["ordered"]) == ["b", "a"]
    assert list(back) == list(obj)


def test_requires_grad_round_trips(tmp_path):
    mg.save([mg.ones(2, requires_grad=True), mg.ones(2)], tmp_path / "g")
    a, b = mg.load(tmp_path / "g")
    assert a.requires_grad and not b.requires_grad and a.is_leaf


def test_flat_state_dict_uses_plain_keys_and_metadata(tmp_path):
    model = _model()
    path = tmp_path / "model.safetensors"
    mg.save(model.state_dict(), path)
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        assert sorted(f.keys()) == sorted(model.state_dict())
        meta = f.metadata()
    assert meta["minigrad_format"] == str(FORMAT_VERSION)
    assert json.loads(meta["minigrad_structure"])["k"] == "dict"
    fresh = _model()
    fresh.load_state_dict(mg.load(path))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(host(fresh.state_dict()[k]), host(v))


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    mg.save({"w": mg.arange(3.0)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(host(mg.load(buf)["w"]), [0.0, 1.0, 2.0])


def test_unsupported_objects_are_refused_with_their_path(tmp_path):
    with pytest.raises(SerializationError, match=r"type object at obj\['a'\]\[1\].*never pickles"):
        mg.save({"a": [1, object()]}, tmp_path / "bad")
    with pytest.raises(SerializationError, match="dtype complex128"):
        mg.save({"c": np.ones(2, dtype=complex)}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# -- PyTorch interop -----------------------------------------------------------------------
def _torch_model(torch):
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                               torch.nn.Linear(5, 3))


def test_minigrad_state_dict_loads_in_pytorch(tmp_path):
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    from safetensors.torch import load_file

    model = _model()
    model(mg.randn(8, 6))  # move the running statistics away from their defaults
    path = tmp_path / "mg.safetensors"
    mg.save(model.state_dict(), path)
    ref = _torch_model(torch)
    ref.load_state_dict(load_file(str(path)))  # strict
    model.eval(), ref.eval()
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(host(model(mg.tensor(x))), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert ref[1].num_batches_tracked.item() == 1


def test_pytorch_state_dict_loads_in_minigrad(tmp_path):
    torch = try_torch()
    if torch is None:
        pytest.skip("torch not installed")
    from safetensors.torch import save_file

    ref = _torch_model(torch)
    ref(torch.randn(8, 6))
    path = tmp_path / "pt.safetensors"
    save_file(ref.state_dict(), str(path))
    model = _model()
    model.load_state_dict(mg.load(path))
    model.eval(), ref.eval()
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(host(model(mg.tensor(x))), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # PyTorch tensors can also be loaded directly
    model.load_state_dict(ref.state_dict())


# -- never pickle -----------------------------------------------------------------------------
class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_pickle_files_are_rejected_without_running_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = tmp_path / "evil.pt"
    payload.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(SerializationError, match="evil.pt is not a minigrad checkpoint"):
        mg.load(payload)
    np.save(tmp_path / "evil.npy", np.array([_Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(SerializationError, match="without pickle"):
        mg.load(tmp_path / "evil.npy")
    np.savez(tmp_path / "evil.npz", a=np.array([_Boom()], dtype=object))
    with pytest.raises(SerializationError, match="without pickle"):
        mg.load(tmp_path / "evil.npz")
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_npz_and_npy_are_read(tmp_path):
    np.savez(tmp_path / "w.npz", w=np.ones((2, 3), np.float32), b=np.arange(3))
    d = mg.load(tmp_path / "w.npz")
    assert set(d) == {"w", "b"} and d["w"].shape == (2, 3) and d["b"].dtype == np.int64
    np.save(tmp_path / "a.npy", np.eye(2))
    np.testing.assert_array_equal(host(mg.load(tmp_path / "a.npy")), np.eye(2))


def test_foreign_safetensors_without_metadata(tmp_path):
    safetensors_numpy.save_file({"x": np.ones(2, np.float32), "y": np.zeros(1, np.int64)}, str(tmp_path / "f"))
    d = mg.load(tmp_path / "f")
    assert sorted(d) == ["x", "y"] and d["x"].device == "cpu"


# -- atomic writes ------------------------------------------------------------------------------
def test_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    mg.save({"w": mg.ones(3)}, path)
    good = path.read_bytes()

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x00" * 10)  # half a file, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors_numpy, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": mg.zeros(3)}, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    monkeypatch.undo()

    def no_rename(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(SerializationError, match="disk full"):
        mg.save({"w": mg.zeros(3)}, path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_save_keeps_permissions_of_existing_file(tmp_path):
    path = tmp_path / "p.safetensors"
    mg.save(mg.ones(1), path)
    os.chmod(path, 0o640)
    mg.save(mg.ones(2), path)
    assert (os.stat(path).st_mode & 0o777) == 0o640


# -- bad files ---------------------------------------------------------------------------------
def test_truncated_files_name_the_file(tmp_path):
    path = tmp_path / "full.safetensors"
    mg.save({"w": mg.randn(50, 50), "meta": {"epoch": 3}}, path)
    data = path.read_bytes()
    for cut in [0, 4, 8, 20, len(data) // 2, len(data) - 1]:
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(SerializationError, match=f"cut{cut}.safetensors"):
            mg.load(bad)


def test_corrupt_and_foreign_files(tmp_path):
    cases = {
        "random.bin": np.random.default_rng(0).bytes(1000),
        "text.txt": b"hello, this is not a checkpoint at all",
        "badjson.st": struct.pack("<Q", 10) + b"{not json}" + b"\x00" * 8,
        "badentry.st": struct.pack("<Q", 30) + b'{"w": {"dtype": "F32"}}       ',
        "notmap.st": struct.pack("<Q", 2) + b"[]",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(SerializationError, match=name.replace(".", r"\.")):
            mg.load(tmp_path / name)
    safetensors_numpy.save_file({"w": np.ones(1, np.float32)}, str(tmp_path / "meta.st"),
                                metadata={"minigrad_format": "1", "minigrad_structure": "{broken"})
    with pytest.raises(SerializationError, match="meta.st: corrupt minigrad metadata"):
        mg.load(tmp_path / "meta.st")
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.safetensors")


def test_newer_format_version_says_so(tmp_path):
    safetensors_numpy.save_file({"w": np.ones(1, np.float32)}, str(tmp_path / "future.st"),
                                metadata={"minigrad_format": str(FORMAT_VERSION + 1), "minigrad_structure": "{}"})
    with pytest.raises(SerializationError, match=r"future.st was written by a newer minigrad.*upgrade"):
        mg.load(tmp_path / "future.st")


# -- devices ------------------------------------------------------------------------------------
def test_map_location(tmp_path, device):
    t = mg.randn(3, device=device)
    mg.save({"t": t}, tmp_path / "d")
    assert mg.load(tmp_path / "d")["t"].device == device  # back where it was saved from
    assert mg.load(tmp_path / "d", map_location="cpu")["t"].device == "cpu"
    assert mg.load(tmp_path / "d", map_location={str(t.device): "cpu"})["t"].device == "cpu"
    moved = mg.load(tmp_path / "d", map_location=device)["t"]
    assert moved.device == device
    np.testing.assert_array_equal(host(moved), host(t))


def test_cuda_saved_file_without_gpu_gives_clear_error(tmp_path):
    if mg.cuda.is_available():
        pytest.skip("a GPU is present")
    mg.save({"t": mg.ones(2)}, tmp_path / "c")
    with pytest.raises(SerializationError, match="map_location='cpu'"):
        mg.load(tmp_path / "c", map_location="cuda")


# -- resume training bit for bit ---------------------------------------------------------------
def _batch(step):
    rng = np.random.default_rng(1000 + step)
    return mg.tensor(rng.standard_normal((16, 6)).astype(np.float32)), mg.tensor(rng.integers(0, 3, 16))


def _train(model, momentum, start, steps, lr=0.05, mu=0.9):
    """SGD with momentum (buffers keyed by parameter index, like an optimizer state dict)."""
    params = list(model.parameters())
    for step in range(start, start + steps):
        x, t = _batch(step)
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(x), t) + 1e-3 * nn.l2_penalty(model)
        loss.backward()
        with mg.no_grad():
            for i, p in enumerate(params):
                buf = momentum.get(i)
                if buf is None:
                    buf = momentum[i] = p.grad.clone()
                else:
                    buf.mul_(mu).add_(p.grad)
                p.sub_(buf * lr)


def test_save_load_resume_equals_training_straight_through(tmp_path):
    n = 5
    mg.manual_seed(0)
    straight, mom = _model(), {}
    _train(straight, mom, 0, 2 * n)

    mg.manual_seed(0)
    first, mom1 = _model(), {}
    _train(first, mom1, 0, n)
    ckpt = {"model": first.state_dict(),
            "optimizer": {"state": {i: {"momentum_buffer": b} for i, b in mom1.items()},
                          "param_groups": [{"lr": 0.05, "momentum": 0.9, "params": list(mom1)}]},
            "rng": mg.random.get_rng_state(), "step": n}
    mg.save(ckpt, tmp_path / "resume.safetensors")
    del first, mom1

    mg.manual_seed(123)  # a different seed, and fresh objects: everything must come from the file
    back = mg.load(tmp_path / "resume.safetensors")
    resumed = _model()
    resumed.load_state_dict(back["model"])
    mom2 = {i: s["momentum_buffer"] for i, s in back["optimizer"]["state"].items()}
    mg.random.set_rng_state(back["rng"])
    _train(resumed, mom2, back["step"], n)

    for k, v in straight.state_dict().items():
        np.testing.assert_array_equal(host(resumed.state_dict()[k]), host(v), err_msg=k)
    for i in mom:
        np.testing.assert_array_equal(host(mom2[i]), host(mom[i]))
