"""Weight initializers: fill a tensor in place (under ``no_grad``) and return it.

Random draws come from minigrad's generator for the tensor's device
(``mg.random.generator(device)``), so ``mg.manual_seed(s)`` makes them reproducible.

For a weight of shape (out, in, k1, k2, ...) the receptive field is r = k1·k2·...,
``fan_in = in·r`` and ``fan_out = out·r``.

==================  =====================================================
initializer         distribution
==================  =====================================================
uniform_(a, b)      U(a, b)
normal_(m, s)       N(m, s²)
xavier_uniform_     U(-a, a),  a = gain·√(6 / (fan_in + fan_out))
xavier_normal_      N(0, s²),  s = gain·√(2 / (fan_in + fan_out))
kaiming_uniform_    U(-b, b),  b = gain·√(3 / fan)   (fan = fan_in or fan_out)
kaiming_normal_     N(0, s²),  s = gain / √fan
lecun_normal_       N(0, 1/fan_in)   (the "1/√n_in" rule)
large_normal_       N(0, 1)          (the "large" initializer, for comparisons)
orthogonal_         gain·Q, Q with orthonormal rows or columns
==================  =====================================================
"""
from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, make_tensor

_GAIN_ONE = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
             "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``.

    linear / conv / sigmoid: 1;  tanh: 5/3;  relu: √2;  selu: 3/4;
    leaky_relu with negative slope s (``param``, default 0.01): √(2 / (1 + s²)).
    """
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_GAIN_ONE + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _check(tensor: Any, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {tensor.dtype} (shape {tensor.shape})")
    return tensor


def calculate_fans(tensor: Tensor) -> tuple:
    """``(fan_in, fan_out)`` of a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tuple(tensor.shape)} "
                         "(biases have no fans; use uniform_/zeros_ for them)")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fans(tensor)
    return max(fan_in if mode == "fan_in" else fan_out, 1)  # a 0 fan means no elements: nothing to fill


def _draw(tensor: Tensor, kind: str) -> Any:
    """An array of the tensor's shape: U[0, 1) or N(0, 1) samples, on its device, in its dtype."""
    gen = _random.generator(tensor.device)
    dt = tensor.dtype
    draw_dt = dt if dt.itemsize >= 4 else "float32"  # generators draw float32/64 only
    shape = tuple(tensor.shape)
    arr = gen.random(shape, dtype=draw_dt) if kind == "uniform" else gen.standard_normal(shape, dtype=draw_dt)
    return arr


def _fill(tensor: Tensor, arr: Any) -> Tensor:
    with no_grad():
        tensor.copy_(make_tensor(arr.astype(tensor.dtype, copy=False), False, None))
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with U(a, b) samples."""
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: lower bound {a} is larger than upper bound {b}")
    return _fill(tensor, _draw(tensor, "uniform") * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with N(mean, std²) samples."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _draw(tensor, "normal") * std + mean)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"constant_: expected a Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: U(-a, a) with a = gain·√(6 / (fan_in + fan_out)), so Var = gain²·2 / (fan_in + fan_out)."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = calculate_fans(tensor)
    a = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: N(0, s²) with s = gain·√(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = calculate_fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He: U(-b, b) with b = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    (``a`` is the negative slope of a leaky ReLU; ``a=√5`` gives b = 1/√fan_in, PyTorch's
    default for Linear weights.)
    """
    _check(tensor, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He: N(0, s²) with s = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    _check(tensor, "kaiming_normal_")
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def lecun_normal_(tensor: Tensor) -> Tensor:
    """N(0, 1/fan_in): standard deviation 1/√n_in, so a unit's weighted input has variance ≈ 1
    for unit-variance inputs (the improved initializer of Nielsen's network2)."""
    _check(tensor, "lecun_normal_")
    return normal_(tensor, 0.0, 1.0 / math.sqrt(_fan(tensor, "fan_in")))


def large_normal_(tensor: Tensor) -> Tensor:
    """N(0, 1) regardless of the fan: the "large" initializer that saturates sigmoid units,
    kept for comparison experiments against :func:`lecun_normal_`."""
    _check(tensor, "large_normal_")
    return normal_(tensor, 0.0, 1.0)


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """gain·Q where Q (shape (rows, numel/rows)) has orthonormal rows or columns, whichever
    are fewer: the Q of a QR decomposition of a Gaussian matrix, signs fixed by diag(R) so
    Q is uniformly (Haar) distributed."""
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor with at least 2 dims, got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    gen = _random.generator(tensor.device)
    flat = gen.standard_normal((rows, cols), dtype="float64")
    xp = _xp(flat)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    d = xp.sign(xp.diagonal(r))
    d = xp.where(d == 0, 1.0, d)
    q = q * d
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tuple(tensor.shape)))


def _xp(arr: Any) -> Any:
    from ..devices import array_module

    return array_module(arr)


def by_name(name: str) -> Any:
    """The initializer called ``name`` (with or without the trailing underscore), e.g. ``"xavier_uniform"``."""
    key = name if name.endswith("_") else name + "_"
    fn = globals().get(key)
    if key.startswith("_") or fn is None or not callable(fn) or key in ("constant_",):
        known = sorted(k.rstrip("_") for k, v in globals().items()
                       if k.endswith("_") and not k.startswith("_") and callable(v) and k != "constant_")
        raise ValueError(f"unknown initializer {name!r}; expected one of {', '.join(known)}")
    return fn
