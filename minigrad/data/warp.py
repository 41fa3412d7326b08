"""Image warps for training-set expansion, on whole batches with ``xp`` ops (NumPy or CuPy).

Every function takes a batch ``x`` as a Tensor or array of shape (N, H*W) (square images, or
pass ``image_shape=(H, W)``), (N, H, W) or (N, C, H, W), and returns the same type and shape.
Pixels that come from outside the image are 0 (background).

* :func:`shift` / :func:`random_shift` — move each image by whole pixels (exact, no interpolation).
* :func:`rotate` / :func:`random_rotation` — rotate about the image centre, bilinear interpolation.
* :func:`elastic_distortion` — Simard, Steinkraus & Platt (2003): per image, two fields of
  U(-1, 1) displacements are smoothed with a Gaussian of std ``sigma`` (pixels) and scaled by
  ``alpha``; the output pixel (y, x) is the input sampled at (y + dy, x + dx), bilinearly.

Random draws come from ``generator`` (a numpy Generator or an int seed; default minigrad's global
CPU generator).  For CuPy batches the numbers are drawn on the GPU from a generator seeded by
that host generator, so a seeded call is reproducible on each device.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy

from .. import devices
from ..tensor import Tensor, make_tensor
from ._rng import array_generator, host_generator


# -- batches of images -----------------------------------------------------------------------------
def _as_images(x: Any, image_shape: "tuple | None") -> tuple:
    """(array as (N, C, H, W), function that turns a (N, C, H, W) result back into x's type/shape)."""
    is_tensor = isinstance(x, Tensor)
    arr = x._data if is_tensor else x
    if not (isinstance(arr, numpy.ndarray) or devices.is_cuda_array(arr)):
        arr = numpy.asarray(arr)
    shape = arr.shape
    if arr.ndim == 2:
        n, d = shape
        if image_shape is None:
            side = math.isqrt(d)
            if side * side != d:
                raise ValueError(f"cannot tell the image size of flat batches of shape {shape} ({d} is not a square); "
                                 "pass image_shape=(H, W)")
            image_shape = (side, side)
        h, w = image_shape
        if h * w != d:
            raise ValueError(f"image_shape {tuple(image_shape)} does not match {d} features per sample (shape {shape})")
        imgs = arr.reshape(n, 1, h, w)
    elif arr.ndim == 3:
        imgs = arr.reshape(shape[0], 1, shape[1], shape[2])
    elif arr.ndim == 4:
        imgs = arr
    else:
        raise ValueError(f"expected a batch of images of shape (N, H*W), (N, H, W) or (N, C, H, W), got {shape}")

    def back(out: Any) -> Any:
        out = out.reshape(shape)
        return make_tensor(out, False, None) if is_tensor else out

    return imgs, back


def _float(imgs: Any) -> Any:
    return imgs if imgs.dtype.kind == "f" else imgs.astype(numpy.float32)


def _uniform(gen: Any, size: tuple, low: float, high: float) -> Any:
    """U(low, high) float64 of ``size`` from a NumPy or CuPy generator (``random()`` exists on both)."""
    return low + (high - low) * gen.random(size)


def _sample(imgs: Any, sy: Any, sx: Any) -> Any:
    """Bilinear sampling: out[n, c, i, j] = imgs[n, c] at (sy[n, i, j], sx[n, i, j]); 0 outside."""
    xp = devices.array_module(imgs)
    n, c, h, w = imgs.shape
    dt = imgs.dtype
    y0, x0 = xp.floor(sy), xp.floor(sx)
    wy, wx = (sy - y0).astype(dt), (sx - x0).astype(dt)
    y0, x0 = y0.astype(numpy.int64), x0.astype(numpy.int64)
    flat = imgs.reshape(n, c, h * w)
    out = xp.zeros((n, c, h * w), dtype=dt)
    one = dt.type(1)
    for dy, dx, weight in ((0, 0, (one - wy) * (one - wx)), (0, 1, (one - wy) * wx),
                           (1, 0, wy * (one - wx)), (1, 1, wy * wx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        index = xp.where(inside, yy * w + xx, 0).reshape(n, 1, h * w)
        values = xp.take_along_axis(flat, xp.broadcast_to(index, (n, c, h * w)), axis=2)
        out += values * (weight * inside).reshape(n, 1, h * w)
    return out.reshape(n, c, h, w)


def _grid(xp: Any, h: int, w: int) -> tuple:
    ys = xp.arange(h, dtype=numpy.float64).reshape(1, h, 1)
    xs = xp.arange(w, dtype=numpy.float64).reshape(1, 1, w)
    return ys, xs


# -- shifts ------------------------------------------------------------------------------------------
def _shift_imgs(imgs: Any, dy: Any, dx: Any) -> Any:
    """Shift image n down by dy[n] and right by dx[n] whole pixels (ints, arrays of shape (N,))."""
    xp = devices.array_module(imgs)
    n, c, h, w = imgs.shape
    k = int(max(int(abs(dy).max()), int(abs(dx).max()))) if n else 0
    hp, wp = h + 2 * k, w + 2 * k
    padded = xp.pad(imgs, ((0, 0), (0, 0), (k, k), (k, k))).reshape(n, c, hp * wp)
    rows = (k - dy).reshape(n, 1, 1) + xp.arange(h).reshape(1, h, 1)   # output row i reads input row i - dy
    cols = (k - dx).reshape(n, 1, 1) + xp.arange(w).reshape(1, 1, w)
    index = (rows * wp + cols).reshape(n, 1, h * w)
    out = xp.take_along_axis(padded, xp.broadcast_to(index, (n, c, h * w)), axis=2)
    return out.reshape(n, c, h, w)


def shift(x: Any, dy: int, dx: int, image_shape: "tuple | None" = None) -> Any:
    """Every image moved ``dy`` pixels down and ``dx`` right (negative: up/left); vacated pixels are 0."""
    imgs, back = _as_images(x, image_shape)
    xp = devices.array_module(imgs)
    n = imgs.shape[0]
    return back(_shift_imgs(imgs, xp.full(n, int(dy), dtype=numpy.int64), xp.full(n, int(dx), dtype=numpy.int64)))


def random_shift(x: Any, max_shift: int = 2, generator: Any = None, image_shape: "tuple | None" = None) -> Any:
    """Each image moved by its own (dy, dx), each uniform on the integers -max_shift..max_shift."""
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}")
    imgs, back = _as_images(x, image_shape)
    xp = devices.array_module(imgs)
    gen = array_generator(host_generator(generator), xp)
    n = imgs.shape[0]
    span = 2 * int(max_shift) + 1
    draws = xp.minimum(xp.floor(gen.random((2, n)) * span), span - 1).astype(numpy.int64) - int(max_shift)
    return back(_shift_imgs(imgs, draws[0], draws[1]))


# -- rotations ---------------------------------------------------------------------------------------
def _rotate_imgs(imgs: Any, radians: Any) -> Any:
    """Rotate image n by radians[n] counter-clockwise (as displayed, rows running down) about its centre."""
    xp = devices.array_module(imgs)
    n, _c, h, w = imgs.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    ys, xs = _grid(xp, h, w)
    cos = xp.cos(radians).reshape(n, 1, 1)
    sin = xp.sin(radians).reshape(n, 1, 1)
    # Output pixel p reads the input at R(-theta) (p - c) + c, written in row/column coordinates.
    sx = cx + cos * (xs - cx) - sin * (ys - cy)
    sy = cy + sin * (xs - cx) + cos * (ys - cy)
    return _sample(_float(imgs), sy, sx)


def rotate(x: Any, degrees: float, image_shape: "tuple | None" = None) -> Any:
    """Every image rotated by ``degrees`` counter-clockwise about its centre (bilinear; outside = 0)."""
    imgs, back = _as_images(x, image_shape)
    xp = devices.array_module(imgs)
    return back(_rotate_imgs(imgs, xp.full(imgs.shape[0], math.radians(degrees))))


def random_rotation(x: Any, max_degrees: float = 10.0, generator: Any = None,
                    image_shape: "tuple | None" = None) -> Any:
    """Each image rotated by its own angle, uniform on [-max_degrees, max_degrees]."""
    if max_degrees < 0:
        raise ValueError(f"max_degrees must be >= 0, got {max_degrees}")
    imgs, back = _as_images(x, image_shape)
    xp = devices.array_module(imgs)
    gen = array_generator(host_generator(generator), xp)
    angles = _uniform(gen, (imgs.shape[0],), -max_degrees, max_degrees) * (math.pi / 180.0)
    return back(_rotate_imgs(imgs, angles))


# -- elastic distortion ---------------------------------------------------------------------------------
def gaussian_matrix(xp: Any, size: int, sigma: float) -> Any:
    """(size, size) matrix G with G @ v = v convolved with a Gaussian of std ``sigma`` (truncated at
    4 sigma, normalised to sum 1 over the full kernel, zeros beyond the edges); identity for sigma 0."""
    if sigma <= 0:
        return xp.eye(size)
    radius = int(math.ceil(4.0 * sigma))
    offsets = numpy.arange(-radius, radius + 1)
    total = float(numpy.exp(-offsets ** 2 / (2.0 * sigma ** 2)).sum())
    d = numpy.arange(size).reshape(-1, 1) - numpy.arange(size).reshape(1, -1)
    g = numpy.where(numpy.abs(d) <= radius, numpy.exp(-d.astype(numpy.float64) ** 2 / (2.0 * sigma ** 2)), 0.0)
    return xp.asarray(g / total)


def elastic_distortion(x: Any, alpha: float = 34.0, sigma: float = 4.0, generator: Any = None,
                       image_shape: "tuple | None" = None) -> Any:
    """Simard et al. (2003) elastic distortion: displacement = alpha * (G_sigma * U(-1, 1) field).

    The defaults (alpha=34, sigma=4) are the paper's values for 28x28 MNIST; scale both down for
    smaller images.  ``alpha=0`` is the identity.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    imgs, back = _as_images(x, image_shape)
    xp = devices.array_module(imgs)
    n, _c, h, w = imgs.shape
    gen = array_generator(host_generator(generator), xp)
    fields = _uniform(gen, (2, n, h, w), -1.0, 1.0)
    gh, gw = gaussian_matrix(xp, h, sigma), gaussian_matrix(xp, w, sigma)
    smooth = gh @ fields @ gw.T  # separable 2-D Gaussian blur of every field at once
    ys, xs = _grid(xp, h, w)
    return back(_sample(_float(imgs), ys + alpha * smooth[0], xs + alpha * smooth[1]))


# -- transform objects for DataLoader(transform=...) -------------------------------------------------------
class _RandomWarp:
    def __init__(self, fn: Callable, kwargs: dict, generator: Any, seed: "int | None",
                 image_shape: "tuple | None") -> None:
        self._fn = fn
        self._kwargs = kwargs
        self._gen = None if generator is None and seed is None else host_generator(generator, seed)
        self.image_shape = image_shape

    def __call__(self, x: Any) -> Any:
        return self._fn(x, generator=self._gen, image_shape=self.image_shape, **self._kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._kwargs.items())
        return f"{type(self).__name__}({args})"


class RandomShift(_RandomWarp):
    """``RandomShift(max_shift)(batch)`` = :func:`random_shift`; its own generator when given a seed."""

    def __init__(self, max_shift: int = 2, *, generator: Any = None, seed: "int | None" = None,
                 image_shape: "tuple | None" = None) -> None:
        super().__init__(random_shift, {"max_shift": max_shift}, generator, seed, image_shape)


class RandomRotation(_RandomWarp):
    """``RandomRotation(max_degrees)(batch)`` = :func:`random_rotation`."""

    def __init__(self, max_degrees: float = 10.0, *, generator: Any = None, seed: "int | None" = None,
                 image_shape: "tuple | None" = None) -> None:
        super().__init__(random_rotation, {"max_degrees": max_degrees}, generator, seed, image_shape)


class ElasticDistortion(_RandomWarp):
    """``ElasticDistortion(alpha, sigma)(batch)`` = :func:`elastic_distortion`."""

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0, *, generator: Any = None,
                 seed: "int | None" = None, image_shape: "tuple | None" = None) -> None:
        super().__init__(elastic_distortion, {"alpha": alpha, "sigma": sigma}, generator, seed, image_shape)
