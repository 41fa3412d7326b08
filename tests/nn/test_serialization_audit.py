"""mg.save / mg.load at their edges: failed writes, temporary files left by killed saves, deep
nesting, zip archives that are not .npz (PyTorch checkpoints), and unknown map_location devices."""
import errno
import io
import json
import os
import pickle
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.serialization import MAX_DEPTH, SerializationError

from nn_helpers import host

safetensors_numpy = pytest.importorskip("safetensors.numpy")

REPO = Path(__file__).resolve().parents[2]


def _python(code, *args):
    """Run ``code`` in a fresh interpreter that imports this checkout's minigrad."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120)


def _one_line(e):
    text = str(e)
    return "\n" not in text and e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)


# -- write errors ----------------------------------------------------------------------------
def test_disk_full_is_one_line_naming_the_path_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    mg.save({"w": mg.ones(3)}, path)
    good = path.read_bytes()

    def full(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x00" * 10)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safetensors_numpy, "save_file", full)
    with pytest.raises(SerializationError) as err:
        mg.save({"w": mg.zeros(3)}, path)
    assert _one_line(err.value)
    assert str(path) in str(err.value) and "No space left on device" in str(err.value)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["ck.safetensors"]


def test_a_failed_rename_is_a_serialization_error(tmp_path, monkeypatch):
    path = tmp_path / "r.safetensors"
    mg.save(mg.ones(2), path)
    good = path.read_bytes()

    def no_rename(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dst)

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(SerializationError, match="Permission denied") as err:
        mg.save(mg.zeros(2), path)
    assert _one_line(err.value) and str(path) in str(err.value)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["r.safetensors"]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(SerializationError, match="does not exist") as err:
        mg.save(mg.ones(2), tmp_path / "no" / "such" / "x.safetensors")
    assert _one_line(err.value) and str(tmp_path / "no" / "such") in str(err.value)


def test_write_error_on_a_file_object_names_it():
    class Full(io.BytesIO):
        name = "stream.safetensors"

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(SerializationError, match="stream.safetensors.*No space left") as err:
        mg.save(mg.ones(2), Full())
    assert _one_line(err.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE behaviour checked on Linux")
def test_a_real_write_error_from_safetensors(tmp_path):
    """The writer's own error type (not an OSError) is wrapped too: a file-size limit makes the
    write fail with EFBIG inside safetensors."""
    path = tmp_path / "big.safetensors"
    mg.save(mg.ones(4), path)
    good = path.read_bytes()
    code = (
        "import resource, signal, sys\n"
        "import minigrad as mg\n"
        "from minigrad.serialization import SerializationError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))\n"
        "try:\n"
        "    mg.save({'w': mg.zeros(1 << 16)}, sys.argv[1])\n"  # 256 KiB > the 64 KiB limit
        "except SerializationError as e:\n"
        "    print('ERROR', e)\n")
    out = _python(code, path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ERROR cannot save {path}") and "too large" in lines[0]
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["big.safetensors"]


# -- temporary files of killed saves -------------------------------------------------------------
def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def make_tensor(path, age=0.0):
    path.write_bytes(b"\x00" * 16)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


def test_a_killed_save_leaves_a_temp_file_that_the_next_save_sweeps(tmp_path):
    path = tmp_path / "ck.safetensors"
    code = (
        "import os, sys\n"
        "import safetensors.numpy as stn\n"
        "import minigrad as mg\n"
        "def dies(tensors, filename, metadata=None):\n"
        "    open(filename, 'wb').write(b'half a file')\n"
        "    os._exit(3)\n"  # killed mid-write: no clean-up runs
        "stn.save_file = dies\n"
        "print(os.getpid(), flush=True)\n"
        "mg.save({'w': mg.ones(3)}, sys.argv[1])\n")
    out = _python(code, path)
    assert out.returncode == 3, out.stderr
    pid = out.stdout.split()[0]
    left = os.listdir(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".ck.safetensors.{pid}.") and left[0].endswith(".tmp")
    mg.save({"w": mg.ones(3)}, path)  # the writer is dead, but its file changed a moment ago: kept
    assert sorted(os.listdir(tmp_path)) == sorted(left + ["ck.safetensors"])
    make_tensor(tmp_path / left[0], age=120)
    mg.save({"w": mg.full((3,), 2.0)}, path)
    assert os.listdir(tmp_path) == ["ck.safetensors"]
    np.testing.assert_array_equal(host(mg.load(path)["w"]), [2.0, 2.0, 2.0])


def test_only_stale_temp_files_of_the_same_target_are_swept(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    swept = [
        make_tensor(tmp_path / f".ck.safetensors.{dead}.abcd_123.tmp", age=120),  # dead writer, quiet for 2 minutes
        make_tensor(tmp_path / f".ck.safetensors.{alive}.zzzzzzzz.tmp", age=3 * 86400),  # three days old
    ]
    kept = [
        make_tensor(tmp_path / f".ck.safetensors.{dead}.abcdefgh.tmp"),  # dead writer, but just written
        make_tensor(tmp_path / f".ck.safetensors.{alive}.abcdefgh.tmp", age=120),  # a save in progress
        make_tensor(tmp_path / f".other.safetensors.{dead}.abcdefgh.tmp", age=3 * 86400),  # another target's
        make_tensor(tmp_path / f".ck.safetensors.1.{dead}.abcdefgh.tmp", age=3 * 86400),  # target "ck.safetensors.1"
        make_tensor(tmp_path / ".ck.safetensors.notes.tmp", age=3 * 86400),  # not a name save() makes
        make_tensor(tmp_path / f"ck.safetensors.{dead}.abcdefgh.tmp", age=3 * 86400),  # no leading dot
        make_tensor(tmp_path / "unrelated.txt", age=3 * 86400),
    ]
    (tmp_path / f".ck.safetensors.{dead}.dirdirdi.tmp").mkdir()  # not a regular file
    mg.save(mg.ones(1), tmp_path / "ck.safetensors")
    assert not any(p.exists() for p in swept)
    assert all(p.exists() for p in kept) and (tmp_path / f".ck.safetensors.{dead}.dirdirdi.tmp").is_dir()


# -- nesting depth -------------------------------------------------------------------------------
def _nest(depth, inner, kind="list"):
    obj = inner
    for i in range(depth):
        obj = [obj] if kind == "list" else {f"k{i}": obj}
    return obj


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_nesting_up_to_the_limit_round_trips(tmp_path, kind):
    obj = _nest(MAX_DEPTH, mg.ones(2), kind)
    mg.save(obj, tmp_path / "deep")
    back = mg.load(tmp_path / "deep")
    for _ in range(MAX_DEPTH):
        back = back[0] if kind == "list" else next(iter(back.values()))
    np.testing.assert_array_equal(host(back), [1.0, 1.0])


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_saving_deeper_nesting_names_the_limit(tmp_path, kind, depth):
    with pytest.raises(SerializationError, match=f"deeper than {MAX_DEPTH} levels") as err:
        mg.save(_nest(depth, 1.0, kind), tmp_path / "deep")
    assert _one_line(err.value)
    assert not os.listdir(tmp_path)


def test_saving_an_object_that_contains_itself(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="contain itself"):
        mg.save(loop, tmp_path / "loop")
    key = (1,)
    for _ in range(5000):
        key = (key,)
    with pytest.raises(SerializationError, match=f"deeper than {MAX_DEPTH} levels"):
        mg.save({key: 1}, tmp_path / "key")


def test_tuple_keys_count_toward_the_depth_the_same_way_both_ways(tmp_path):
    # the dict sits inside n lists; its key ((1,),) adds two more levels
    fits = _nest(MAX_DEPTH - 3, {((1,),): 5})
    mg.save(fits, tmp_path / "keys")
    back = mg.load(tmp_path / "keys")
    for _ in range(MAX_DEPTH - 3):
        back = back[0]
    assert back == {((1,),): 5}
    with pytest.raises(SerializationError, match=f"dict key .*deeper than {MAX_DEPTH} levels"):
        mg.save(_nest(MAX_DEPTH - 2, {((1,),): 5}), tmp_path / "keys")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_loading_deeper_nesting_names_the_limit(tmp_path, depth):
    structure = '{"k":"list","items":[' * depth + '{"k":"none"}' + "]}" * depth
    if depth < 1000:
        json.loads(structure)  # valid JSON: the limit is minigrad's
    path = tmp_path / "deep.safetensors"
    safetensors_numpy.save_file({"x": np.zeros(1, np.float32)}, str(path),
                                metadata={"minigrad_format": "1", "minigrad_structure": structure})
    with pytest.raises(SerializationError, match=f"deep.safetensors.*deeper than {MAX_DEPTH} levels") as err:
        mg.load(path)
    assert _one_line(err.value)


# -- zip archives that are not .npz --------------------------------------------------------------
def _torch_like_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", b"\x00" * 8)
        z.writestr("archive/version", "3\n")


def test_a_pytorch_zip_checkpoint_is_refused_with_a_recipe(tmp_path):
    path = tmp_path / "model.pt"
    _torch_like_zip(path)
    with pytest.raises(SerializationError, match=r"model\.pt is a PyTorch pickle checkpoint \(torch\.save\); "
                                                 r"minigrad never unpickles\. Convert it with: ") as err:
        mg.load(path)
    assert _one_line(err.value) and "safetensors.torch import save_file" in str(err.value)
    with pytest.raises(SerializationError, match="PyTorch pickle checkpoint"):
        mg.load(io.BytesIO(path.read_bytes()))


def test_a_zip_with_other_members_is_refused(tmp_path):
    path = tmp_path / "mixed.npz"
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.npy", buf.getvalue())
        z.writestr("notes.txt", "hello")
    with pytest.raises(SerializationError, match=r"mixed\.npz.*'notes\.txt'.*not a \.npy array") as err:
        mg.load(path)
    assert _one_line(err.value)
    np.savez(tmp_path / "fine.npz", a=np.arange(3))
    np.testing.assert_array_equal(host(mg.load(tmp_path / "fine.npz")["a"]), [0, 1, 2])


def test_a_real_torch_save_file_is_refused_and_the_recipe_works(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors.torch")
    path = tmp_path / "real.pt"
    torch.save({"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}, path)
    with pytest.raises(SerializationError, match="PyTorch pickle checkpoint") as err:
        mg.load(path)
    recipe = re.search(r'python -c "(.*?)"', str(err.value)).group(1)
    done = subprocess.run([sys.executable, "-c", recipe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    converted = mg.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(host(converted["weight"]), np.arange(6.0).reshape(2, 3))


# -- map_location ----------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["tpu", "cuda:x", {"cuda:0": "tpu"}, {"tpu": "cpu"}, 3])
def test_unknown_map_location_names_the_device_and_the_accepted_ones(tmp_path, where):
    mg.save({"w": mg.ones(2)}, tmp_path / "d")
    with pytest.raises(ValueError, match=r"mg\.load: unknown device .* in map_location; accepted: .*'cpu'") as err:
        mg.load(tmp_path / "d", map_location=where)
    assert _one_line(err.value) and "corrupt" not in str(err.value)
    np.savez(tmp_path / "a.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="unknown device"):
        mg.load(tmp_path / "a.npz", map_location=where)
