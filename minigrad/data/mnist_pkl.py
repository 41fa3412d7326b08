"""Reading the classic ``mnist.pkl.gz`` (the 50k/10k/10k file of deeplearning.net and
*Neural Networks and Deep Learning*).

That file is a Python 2 pickle of ``((x_train, y_train), (x_val, y_val), (x_test, y_test))``
with float32 images (N, 784) in [0, 1] and int64 labels.  There is no way to read it without
running the pickle machine, and unpickling an untrusted file can execute arbitrary code.  So:

* it is read only when the caller passes ``allow_pickle=True`` (default False, as in
  ``numpy.load``), stating that they trust the file; and
* even then a restricted unpickler is used that resolves only the handful of NumPy names needed
  to rebuild arrays (``_reconstruct``, ``ndarray``, ``dtype``, ``scalar``, ``_frombuffer``) and
  ``_codecs.encode`` (how Python 3 pickles bytes at protocol 2); any other global — ``os.system``,
  ``builtins.eval``, ... — is refused with :class:`pickle.UnpicklingError`.

The IDX files are the preferred format: they need no pickle at all.
"""
from __future__ import annotations

import codecs
import gzip
import pickle
from pathlib import Path
from typing import Any

import numpy

try:  # NumPy >= 2
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy", "ndarray"): numpy.ndarray,
    ("numpy", "dtype"): numpy.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this reader only rebuilds NumPy arrays (the file is not a "
                "plain MNIST pickle, or it is malicious)") from None


def load_mnist_pkl(path: "str | Path", allow_pickle: bool = False) -> dict:
    """``{'train': (x, y), 'val': (x, y), 'test': (x, y)}`` from a classic ``mnist.pkl.gz``.

    ``x`` float32 (N, 784) in [0, 1], ``y`` int64 (N,); sizes 50,000 / 10,000 / 10,000 in the
    original file.  Requires ``allow_pickle=True`` (see the module docstring for why).
    """
    path = Path(path)
    if not allow_pickle:
        raise ValueError(
            f"{path} is a Python pickle, and reading a pickle can run arbitrary code. Pass allow_pickle=True if "
            "you trust this file (minigrad then reads it with an unpickler limited to NumPy arrays), or use the "
            "four IDX files instead, which need no pickle.")
    with open(path, "rb") as f:
        opener = gzip.open if f.read(2) == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            obj = _ArrayOnlyUnpickler(f, encoding="latin1").load()
    except (EOFError, OSError) as e:
        raise ValueError(f"{path}: truncated or corrupt ({e})") from None
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3 and all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in obj)):
        raise ValueError(f"{path}: expected ((x_train, y_train), (x_val, y_val), (x_test, y_test)), got "
                         f"{type(obj).__name__}")
    out = {}
    for name, (x, y) in zip(("train", "val", "test"), obj):
        x, y = numpy.asarray(x), numpy.asarray(y)
        if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{path}: the {name} part has images {x.shape} and labels {y.shape}; expected (N, D) "
                             "and (N,)")
        out[name] = (x.astype(numpy.float32, copy=False), y.astype(numpy.int64, copy=False))
    return out
