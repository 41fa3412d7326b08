"""Transforms: input normalisation, one-hot targets, composition, and the image warps of
:mod:`minigrad.data.warp` (random shifts, rotations, elastic distortion).

Normalisation must be *fitted on the training split only* and then applied unchanged to the
validation and test splits (otherwise statistics of the evaluation data leak into training)::

    norm = Normalize().fit(train_ds)          # mean/std of the training features
    train_ds, test_ds = norm.apply(train_ds), norm.apply(test_ds)
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy

from .. import devices
from ..tensor import Tensor, make_tensor
from .warp import (ElasticDistortion, RandomRotation, RandomShift, elastic_distortion, random_rotation,  # noqa: F401
                   random_shift, rotate, shift)

__all__ = ["Normalize", "one_hot", "Compose", "RandomShift", "RandomRotation", "ElasticDistortion", "shift",
           "random_shift", "rotate", "random_rotation", "elastic_distortion"]


def _features(data: Any) -> Any:
    """The feature array of a dataset (first field), a Tensor or an array."""
    if isinstance(data, Tensor):
        return data._data
    view = getattr(data, "_array_view", lambda: None)() if not hasattr(data, "shape") else None
    if view is not None:
        arrays, idx = view
        return arrays[0] if idx is None else arrays[0][devices.array_module(arrays[0]).asarray(idx)]
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not hasattr(data, "shape") \
            and not isinstance(data, (list, tuple)):
        raise TypeError(f"Normalize.fit needs a TensorDataset (or a Subset of one), a Tensor or an array; got "
                        f"{type(data).__name__}")
    return data if hasattr(data, "dtype") else numpy.asarray(data, dtype=numpy.float64)


def _host(a: Any) -> numpy.ndarray:
    return a.get() if devices.is_cuda_array(a) else numpy.asarray(a)


class Normalize:
    """``x -> (x - mean) / std``, with mean and std fitted on training data.

    Args:
        mean, std: fixed statistics (scalars or per-feature arrays); leave None and call :meth:`fit`.
        per_feature: fit one mean/std per feature (column; for images, per pixel) — ``True`` — or a
            single global mean/std over all values — ``False``.
        eps: a fitted std below ``eps`` (a constant feature, e.g. an always-blank border pixel) is
            replaced by 1, so that feature is only centred, never divided by ~0.

    Statistics are computed in float64 over axis 0 (``per_feature``) or over everything, with the
    population std (divide by N).  Calling on a Tensor returns a Tensor, on an array an array,
    in the input's float dtype and on its device.
    """

    def __init__(self, mean: Any = None, std: Any = None, per_feature: bool = True, eps: float = 1e-8) -> None:
        self.per_feature = bool(per_feature)
        self.eps = float(eps)
        self.mean = None if mean is None else numpy.asarray(mean, dtype=numpy.float64)
        self.std = None if std is None else numpy.asarray(std, dtype=numpy.float64)
        if (self.mean is None) != (self.std is None):
            raise ValueError("Normalize: give both mean and std, or neither (then call fit)")
        if self.std is not None and numpy.any(self.std <= 0):
            raise ValueError("Normalize: std must be positive")
        self._cache: dict = {}

    def fit(self, data: Any) -> "Normalize":
        """Compute mean/std from ``data`` (the training split: a TensorDataset's features, a Tensor, an array)."""
        x = _host(_features(data)).astype(numpy.float64, copy=False)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"Normalize.fit needs at least one sample, got shape {x.shape}")
        if self.per_feature:
            mean, std = x.mean(axis=0), x.std(axis=0)
        else:
            mean, std = numpy.asarray(x.mean()), numpy.asarray(x.std())
        self.mean, self.std = mean, numpy.where(std < self.eps, 1.0, std)
        self._cache.clear()
        return self

    def _stats(self, arr: Any) -> tuple:
        if self.mean is None:
            raise RuntimeError("Normalize is not fitted: call .fit(training_data) first (or pass mean and std)")
        dt = arr.dtype if arr.dtype.kind == "f" else numpy.dtype(numpy.float32)
        key = (str(devices.device_of(arr)), dt.str)
        if key not in self._cache:
            dev = devices.device_of(arr)
            self._cache[key] = tuple(devices.from_host(v.astype(dt), dev) for v in (self.mean, self.std))
        mean, std = self._cache[key]
        if self.per_feature and mean.shape != arr.shape[1:]:
            raise ValueError(f"Normalize was fitted on features of shape {tuple(mean.shape)} but got a batch of shape "
                             f"{tuple(arr.shape)}")
        return mean, std, dt

    def __call__(self, x: Any) -> Any:
        is_tensor = isinstance(x, Tensor)
        arr = x._data if is_tensor else (x if hasattr(x, "dtype") else numpy.asarray(x, dtype=numpy.float32))
        mean, std, dt = self._stats(arr)
        out = (arr.astype(dt, copy=False) - mean) / std
        return make_tensor(out, False, None) if is_tensor else out

    def apply(self, dataset: Any) -> Any:
        """A new TensorDataset with the first field (features) normalised and the others unchanged."""
        from .dataset import TensorDataset

        view = getattr(dataset, "_array_view", lambda: None)()
        if view is None:
            raise TypeError(f"Normalize.apply needs a TensorDataset or a Subset of one, got {type(dataset).__name__}")
        arrays, idx = view
        if idx is not None:
            arrays = tuple(a[devices.array_module(a).asarray(idx)] for a in arrays)
        out = TensorDataset(self(arrays[0]), *arrays[1:])
        for attr in ("classes", "split"):
            if hasattr(dataset, attr):
                setattr(out, attr, getattr(dataset, attr))
        return out

    def state_dict(self) -> dict:
        """Mean/std as NumPy arrays (to save next to a model checkpoint)."""
        return {"mean": self.mean, "std": self.std, "per_feature": self.per_feature, "eps": self.eps}

    def load_state_dict(self, state: dict) -> None:
        self.mean = None if state["mean"] is None else numpy.asarray(state["mean"], dtype=numpy.float64)
        self.std = None if state["std"] is None else numpy.asarray(state["std"], dtype=numpy.float64)
        self.per_feature = bool(state.get("per_feature", self.per_feature))
        self.eps = float(state.get("eps", self.eps))
        self._cache.clear()

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean is None else f"fitted, mean shape {self.mean.shape}"
        return f"Normalize(per_feature={self.per_feature}, {fitted})"


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = numpy.float32) -> Any:
    """Integer labels of shape (N,) (or any shape S) -> one-hot rows of shape (*S, num_classes).

    ``num_classes`` defaults to max(label) + 1.  float32 by default (ready as an MSE target; for
    int64 use ``mg.nn.functional.one_hot``).  A Tensor gives a Tensor, an array an array, on the
    same device.
    """
    is_tensor = isinstance(labels, Tensor)
    arr = labels._data if is_tensor else (labels if hasattr(labels, "dtype") else numpy.asarray(labels))
    if arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer labels, got dtype {arr.dtype} (shape {tuple(arr.shape)})")
    xp = devices.array_module(arr)
    if num_classes is None:
        num_classes = int(arr.max()) + 1 if arr.size else 0
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= num_classes):
        raise ValueError(f"one_hot: labels range over [{int(arr.min())}, {int(arr.max())}], outside "
                         f"0..{num_classes - 1}")
    out = (arr[..., None] == xp.arange(num_classes)).astype(dtype)
    return make_tensor(out, False, None) if is_tensor else out


class Compose:
    """Apply transforms one after another: ``Compose([RandomShift(2), RandomRotation(10)])(batch)``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"
