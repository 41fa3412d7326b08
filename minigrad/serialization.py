"""``mg.save`` / ``mg.load``: tensors and nested containers of them, in the safetensors format.

No pickle anywhere: a file holds raw tensor bytes plus JSON, so loading an untrusted file
cannot run code.

File layout (a standard safetensors file):

* each tensor is stored under a name — for a flat ``{str: Tensor}`` dict (a model's
  ``state_dict``) the name is the key itself, so the file loads directly with
  ``safetensors.torch.load_file`` + PyTorch's ``load_state_dict``; nested objects name
  tensors by their path (``"state.0.momentum_buffer"``);
* the safetensors metadata (a str -> str map) holds ``minigrad_format`` (the format
  version) and ``minigrad_structure``: JSON describing the object — dicts (any order, with
  str/int/float/bool/None/tuple keys), lists, tuples, None, bools, ints, floats (exact, as
  ``repr``), strings, dtypes, NumPy arrays, and tensors (by name, with their device,
  ``requires_grad`` and whether they were Parameters).

Containers may nest at most :data:`MAX_DEPTH` (100) deep, both ways; deeper objects (or one
that contains itself) are refused with a :class:`SerializationError`.

Writes are atomic: the file is written under a temporary name in the destination folder,
``.<name>.<pid>.<random>.tmp`` (``pid`` the writing process), flushed to disk, then renamed
over the destination, so a crash never leaves a half-written file where a good one was.  A
failed write (disk full, no permission) raises one :class:`SerializationError` naming the
path and leaves the old file as it was.  A process killed mid-save leaves its temporary file
behind; the next save to the same destination deletes such files when they are stale: their
writer process no longer runs on this machine and the file has not changed for a minute, or
the file has not changed for a day.  Temporary files of other destinations, and those of
saves still running, are never touched.

CUDA tensors are stored as host arrays and put back on a device when loaded
(``map_location``).  ``mg.load`` also reads safetensors files written by other tools (as a
flat dict) and ``.npz``/``.npy`` files (always with ``allow_pickle=False``); a zip archive
holding anything but ``.npy`` members, such as a PyTorch ``torch.save`` checkpoint, is refused.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import tempfile
import time
from collections import OrderedDict
from typing import Any

import numpy

from . import devices
from .tensor import Tensor, make_tensor

FORMAT_VERSION = 1
_VERSION_KEY = "minigrad_format"
_STRUCTURE_KEY = "minigrad_structure"
_MAX_HEADER = 100 * 1024 * 1024  # a larger "header length" means the file is not safetensors
MAX_DEPTH = 100  # containers (dicts, lists, tuples) nested inside one another, at most
_STALE_AFTER = 60.0  # seconds without change after which a dead writer's temporary file is swept
_ABANDONED_AFTER = 86400.0  # seconds without change after which any of our temporary files is swept
_SAFETENSORS_DTYPES = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "BF16", "F32", "F64",
                       "F8_E4M3", "F8_E5M2", "C64"}


class SerializationError(RuntimeError):
    """A file could not be read as a minigrad / safetensors / npz checkpoint, or an object could not be saved."""


def _safetensors() -> Any:
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("mg.save / mg.load need the safetensors package: pip install 'minigrad[io]' "
                          "(or pip install safetensors)") from None
    return stn


# -- saving -------------------------------------------------------------------------------
class _Writer:
    """Walks an object, collecting tensors (each once) and building the structure JSON."""

    def __init__(self) -> None:
        self.arrays: "OrderedDict[str, numpy.ndarray]" = OrderedDict()
        self.names_by_id: dict = {}
        self.keep_alive: list = []

    def _name(self, path: list) -> str:
        base = ".".join(str(p) for p in path) or "tensor"
        if base == "__metadata__":
            base = "_" + base
        name, k = base, 1
        while name in self.arrays:
            k += 1
            name = f"{base}~{k}"
        return name

    def _store(self, array: Any, path: list, key: Any) -> str:
        name = self.names_by_id.get(id(key))
        if name is not None:
            return name
        host = array.get() if devices.is_cuda_array(array) else numpy.asarray(array)
        if host.dtype.kind not in "biuf":
            raise SerializationError(f"cannot save an array of dtype {host.dtype} at {_show(path)}; "
                                     "supported: bool, integer and floating point dtypes")
        if not host.flags.c_contiguous:
            host = host.copy(order="C")
        name = self._name(path)
        self.arrays[name] = host
        self.names_by_id[id(key)] = name
        self.keep_alive.append(key)
        return name

    def node(self, obj: Any, path: list) -> dict:
        if isinstance(obj, (list, tuple, dict)) and len(path) >= MAX_DEPTH:
            raise SerializationError(f"cannot save {_show(path)}: containers nested deeper than {MAX_DEPTH} levels "
                                     "(mg.save's limit; does the object contain itself?)")
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter

            return {"k": "tensor", "name": self._store(obj._data, path, obj), "device": str(obj.device),
                    "requires_grad": bool(obj._requires_grad), "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, numpy.ndarray):
            return {"k": "ndarray", "name": self._store(obj, path, obj)}
        if obj is None:
            return {"k": "none"}
        if isinstance(obj, (bool, numpy.bool_)):
            return {"k": "bool", "v": bool(obj)}
        if isinstance(obj, (int, numpy.integer)):
            return {"k": "int", "v": str(int(obj))}
        if isinstance(obj, (float, numpy.floating)):
            return {"k": "float", "v": repr(float(obj))}
        if isinstance(obj, str):
            return {"k": "str", "v": obj}
        if isinstance(obj, numpy.dtype):
            return {"k": "dtype", "v": obj.str}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {"k": kind, "items": [self.node(v, path + [i]) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for key, v in obj.items():
                items.append([self.key(key, path, len(path) + 1), self.node(v, path + [key])])
            out = {"k": "dict", "items": items}
            if isinstance(obj, OrderedDict):
                out["ordered"] = True
            return out
        raise SerializationError(
            f"cannot save an object of type {type(obj).__name__} at {_show(path)}: mg.save stores tensors, NumPy "
            "arrays, and dicts/lists/tuples of them with None, bool, int, float and str values (it never pickles)")

    def key(self, key: Any, path: list, depth: int) -> dict:
        """A key of the dict at ``path``; ``depth`` counts the containers around it (as for
        values: the dict's own depth plus one)."""
        if isinstance(key, Tensor) or isinstance(key, numpy.ndarray) or isinstance(key, (dict, list)):
            raise SerializationError(f"cannot save a dict key of type {type(key).__name__} at {_show(path)}")
        if isinstance(key, tuple):
            if depth >= MAX_DEPTH:
                raise SerializationError(f"cannot save a dict key at {_show(path)}: containers nested deeper than "
                                         f"{MAX_DEPTH} levels (mg.save's limit)")
            return {"k": "tuple", "items": [self.key(k, path, depth + 1) for k in key]}
        return self.node(key, path)


def _show(path: list) -> str:
    """``obj['model']['fc.weight']``: where in the saved object (long paths shortened)."""
    parts = [f"[{p!r}]" for p in path]
    if len(parts) > 8:
        parts = parts[:4] + ["..."] + parts[-3:]
    return "obj" + "".join(parts)


def save(obj: Any, f: Any) -> None:
    """Write ``obj`` (a tensor, or dicts/lists/tuples of tensors and plain values) to ``f``
    (a path, or a binary file object) in the safetensors format; see the module docstring."""
    stn = _safetensors()
    writer = _Writer()
    structure = writer.node(obj, [])
    metadata = {_VERSION_KEY: str(FORMAT_VERSION), _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    arrays = dict(writer.arrays)
    if hasattr(f, "write"):
        data = stn.save(arrays, metadata=metadata)
        try:
            f.write(data)
        except OSError as e:
            raise SerializationError(f"cannot save to {getattr(f, 'name', '<file object>')}: "
                                     f"{_reason(e)}") from None
        return
    path = os.fspath(f)
    _atomic_save(stn, arrays, metadata, path)


def _write_errors() -> tuple:
    """The exception types a failed write raises: OSError, and the safetensors writer's own."""
    try:
        from safetensors import SafetensorError
    except ImportError:
        return (OSError,)
    return (OSError, SafetensorError)


def _reason(e: BaseException) -> str:
    """One line saying why a write failed ("No space left on device")."""
    text = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
    return " ".join(text.split())


def _atomic_save(stn: Any, arrays: dict, metadata: dict, path: str) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(folder):
        raise SerializationError(f"cannot save {path}: the folder {folder} does not exist")
    _sweep_stale_temps(folder, base)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise SerializationError(f"cannot save {path}: cannot create a file in {folder}: {_reason(e)}") from None
    os.close(fd)
    try:
        stn.save_file(arrays, tmp, metadata=metadata)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_mode(path))
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, _write_errors()):
            raise SerializationError(f"cannot save {path}: {_reason(e)} (any previous file there is unchanged)"
                                     ) from None
        raise
    _fsync_folder(folder)


def _sweep_stale_temps(folder: str, base: str) -> None:
    """Delete the temporary files that killed saves to ``folder/base`` left behind.

    Only names :func:`_atomic_save` makes for this destination are considered,
    ``.<base>.<pid>.<random>.tmp``, and only regular files that are stale: unchanged for
    ``_STALE_AFTER`` seconds with no process ``pid`` running on this machine, or unchanged for
    ``_ABANDONED_AFTER`` seconds (a reused pid).  A save in progress keeps changing its file.
    """
    pattern = re.compile(re.escape(f".{base}.") + r"(\d+)\.[A-Za-z0-9_]+\.tmp")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(folder, name)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        age = now - info.st_mtime
        if age > _ABANDONED_AFTER or (age > _STALE_AFTER and not _process_running(int(match.group(1)))):
            try:
                os.unlink(full)
            except OSError:  # another save swept it first, or no permission: leave it
                pass


def _process_running(pid: int) -> bool:
    """Does process ``pid`` exist on this machine?  (True when that cannot be told.)"""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # e.g. another user's process: it exists
        return True
    return True


def _default_mode(path: str) -> int:
    """Keep an existing file's permissions; otherwise 0o666 minus the umask (what open() would give)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- loading ------------------------------------------------------------------------------
def load(f: Any, map_location: Any = None, *, weights_only: bool = True, mmap: Any = None) -> Any:
    """Read what :func:`save` wrote (or a foreign safetensors / ``.npz`` / ``.npy`` file).

    ``weights_only`` and ``mmap`` are accepted for PyTorch's signature and change nothing:
    loading never runs code (there is no pickle to restrict), and the whole file is read.

    ``map_location``: None puts each tensor back on the device it was saved from (CPU for
    foreign files); a device (``"cpu"``, ``"cuda:0"``) puts every tensor there; a dict such as
    ``{"cuda:0": "cpu"}`` maps saved devices to new ones.
    Raises :class:`SerializationError` naming the file if it is corrupt, truncated, of an
    unknown kind (a PyTorch ``torch.save`` file included: it is a pickle), nested deeper than
    :data:`MAX_DEPTH`, or written by a newer format version; ValueError for an unknown device
    in ``map_location``.
    """
    _check_map_location(map_location)
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", "<file object>")
        return _load_bytes(data, str(name), map_location)
    path = os.fspath(f)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _load_numpy(path, path, map_location, npz=True)
    if head.startswith(b"\x93NUMPY"):
        return _load_numpy(path, path, map_location, npz=False)
    header, metadata = _read_header(path, os.path.getsize(path), head, lambda n: _read_at(path, 8, n))
    _safetensors()  # a clear ImportError if the package is missing
    try:
        from safetensors import safe_open

        arrays = {}
        with safe_open(path, framework="np") as sf:
            for key in header:
                arrays[key] = sf.get_tensor(key)
    except Exception as e:  # the library's own error types vary between versions
        raise SerializationError(f"{path}: corrupt safetensors data: {e}") from None
    return _rebuild(arrays, header, metadata, path, map_location)


_ACCEPTED_DEVICES = ("None, 'cpu', 'cuda', 'cuda:N', a minigrad device, or a dict from saved devices to new ones "
                     "such as {'cuda:0': 'cpu'}")


def _check_map_location(map_location: Any) -> None:
    specs = [map_location] if not isinstance(map_location, dict) else [*map_location, *map_location.values()]
    for spec in specs:
        try:
            devices.device(spec)
        except (TypeError, ValueError):
            raise ValueError(f"mg.load: unknown device {spec!r} in map_location; accepted: {_ACCEPTED_DEVICES}"
                             ) from None


def _load_bytes(data: bytes, name: str, map_location: Any) -> Any:
    head = data[:8]
    if head.startswith(b"PK") or head.startswith(b"\x93NUMPY"):
        return _load_numpy(io.BytesIO(data), name, map_location, npz=head.startswith(b"PK"))
    header, metadata = _read_header(name, len(data), head, lambda n: data[8:8 + n])
    stn = _safetensors()
    try:
        loaded = stn.load(data)
    except Exception as e:
        raise SerializationError(f"{name}: corrupt safetensors data: {e}") from None
    return _rebuild({k: loaded[k] for k in header}, header, metadata, name, map_location)


def _read_at(path: str, offset: int, n: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(n)


def _read_header(name: str, size: int, head: bytes, read: Any) -> tuple:
    """Validate the safetensors header; returns (tensor entries in file order, metadata)."""
    what = ("is not a minigrad checkpoint: expected a safetensors, .npz or .npy file")
    if len(head) < 8:
        raise SerializationError(f"{name} {what} (only {size} bytes)")
    (n,) = struct.unpack("<Q", head)
    if n == 0 or n > _MAX_HEADER:
        raise SerializationError(f"{name} {what}")
    raw = read(n)
    if len(raw) < n:
        raise SerializationError(f"{name} is truncated: its safetensors header needs {n} bytes but the file has "
                                 f"{size - 8}")
    if not raw.lstrip().startswith(b"{"):
        raise SerializationError(f"{name} {what}")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=OrderedDict)
    except (UnicodeDecodeError, ValueError) as e:
        raise SerializationError(f"{name} {what} (its header is not valid JSON: {e})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{name} {what}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SerializationError(f"{name}: corrupt safetensors header (metadata is not a map)")
    end = 0
    for key, entry in header.items():
        try:
            begin, stop = entry["data_offsets"]
            ok = entry["dtype"] in _SAFETENSORS_DTYPES and isinstance(entry["shape"], list) and 0 <= begin <= stop
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise SerializationError(f"{name}: corrupt safetensors header (bad entry for tensor {key!r})")
        end = max(end, stop)
    if 8 + n + end > size:
        raise SerializationError(f"{name} is truncated: the tensors need {8 + n + end} bytes but the file has {size}")
    version = metadata.get(_VERSION_KEY)
    if version is not None:
        try:
            v = int(version)
        except ValueError:
            raise SerializationError(f"{name}: corrupt minigrad metadata (format version {version!r})") from None
        if v > FORMAT_VERSION:
            raise SerializationError(f"{name} was written by a newer minigrad (checkpoint format version {v}); this "
                                     f"minigrad reads format versions up to {FORMAT_VERSION}: upgrade minigrad")
    return header, metadata


_TORCH_RECIPE = ("python -c \"import torch; from safetensors.torch import save_file; "
                 "save_file(torch.load({path!r}, weights_only=True), 'model.safetensors')\" "
                 "(for a state_dict; from a full checkpoint save its state_dict entry)")


def _check_npz_members(members: list, name: str) -> None:
    """An .npz archive holds only ``.npy`` members; refuse any other zip (NumPy would hand
    other members back as raw bytes)."""
    if any(m == "data.pkl" or m.endswith("/data.pkl") for m in members):
        raise SerializationError(f"{name} is a PyTorch pickle checkpoint (torch.save); minigrad never unpickles. "
                                 f"Convert it with: {_TORCH_RECIPE.format(path=name)}")
    for m in members:
        if not m.endswith(".npy"):
            raise SerializationError(f"{name}: the zip archive holds {m!r}, which is not a .npy array; mg.load "
                                     "reads .npz archives of .npy arrays, safetensors and .npy files")


def _load_numpy(source: Any, name: str, map_location: Any, npz: bool) -> Any:
    try:
        loaded = numpy.load(source, allow_pickle=False)
        if not npz:
            return _to_tensor(loaded, "cpu", map_location, name)
        with loaded:
            _check_npz_members(loaded.zip.namelist(), name)
            arrays = {k: loaded[k] for k in loaded.files}
    except SerializationError:
        raise
    except ValueError as e:
        raise SerializationError(f"{name}: cannot read this NumPy file without pickle (object arrays are refused "
                                 f"for safety): {e}") from None
    except Exception as e:
        raise SerializationError(f"{name}: corrupt or truncated NumPy file: {e}") from None
    return {k: _to_tensor(a, "cpu", map_location, name) for k, a in arrays.items()}


def _target_device(saved: str, map_location: Any) -> Any:
    if map_location is None:
        return devices.device(saved)
    if isinstance(map_location, dict):
        for src, dst in map_location.items():
            if devices.device(src) == devices.device(saved):
                return devices.device(dst)
        return devices.device(saved)
    return devices.device(map_location)


def _to_tensor(array: Any, saved_device: str, map_location: Any, name: str, requires_grad: bool = False,
               parameter: bool = False) -> Tensor:
    dev = _target_device(saved_device, map_location)
    try:
        arr = devices.from_host(array, dev)
    except RuntimeError as e:
        raise SerializationError(f"{name}: cannot put a tensor saved on {saved_device} onto {dev}: {e}; pass "
                                 "map_location='cpu' to load onto the CPU") from None
    if parameter:
        from .nn.parameter import Parameter

        return Parameter(arr, requires_grad=requires_grad)
    t = make_tensor(arr, False, None)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild(arrays: dict, header: dict, metadata: dict, name: str, map_location: Any) -> Any:
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:  # a foreign safetensors file: a flat dict, CPU unless mapped
        return {k: _to_tensor(a, "cpu", map_location, name) for k, a in arrays.items()}
    too_deep = f"{name}: its structure nests containers deeper than {MAX_DEPTH} levels (mg.load's limit)"
    try:
        tree = json.loads(structure)
    except RecursionError:
        raise SerializationError(too_deep) from None
    except ValueError as e:
        raise SerializationError(f"{name}: corrupt minigrad metadata (structure is not valid JSON: {e})") from None
    made: dict = {}

    def build(node: Any, depth: int = 0) -> Any:
        kind = node["k"]
        if kind in ("list", "tuple", "dict"):
            if depth >= MAX_DEPTH:
                raise SerializationError(too_deep)
            depth += 1
        if kind == "tensor":
            key = node["name"]
            if key not in made:
                made[key] = _to_tensor(arrays[key], node.get("device", "cpu"), map_location, name,
                                       node.get("requires_grad", False), node.get("parameter", False))
            return made[key]
        if kind == "ndarray":
            return arrays[node["name"]]
        if kind == "none":
            return None
        if kind == "bool":
            return bool(node["v"])
        if kind == "int":
            return int(node["v"])
        if kind == "float":
            return float(node["v"])
        if kind == "str":
            return str(node["v"])
        if kind == "dtype":
            return numpy.dtype(node["v"])
        if kind == "list":
            return [build(v, depth) for v in node["items"]]
        if kind == "tuple":
            return tuple(build(v, depth) for v in node["items"])
        if kind == "dict":
            out = OrderedDict() if node.get("ordered") else {}
            for k, v in node["items"]:
                out[build(k, depth)] = build(v, depth)
            return out
        raise ValueError(f"unknown node kind {kind!r}")

    try:
        return build(tree)
    except (KeyError, TypeError, ValueError) as e:
        raise SerializationError(f"{name}: corrupt minigrad metadata ({type(e).__name__}: {e})") from None
