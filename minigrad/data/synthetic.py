"""Synthetic 2-D classification sets for quick demos and decision-boundary plots.

Both return a :class:`TensorDataset` ``(points float32 (n, 2), labels int64 (n,))``; the raw
arrays are ``ds.arrays``.  With a ``seed`` the same call gives the same points every time;
without one, minigrad's global generator is used (``mg.manual_seed`` makes it reproducible).
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from ._rng import host_generator
from .dataset import TensorDataset


def _class_sizes(n: int, classes: int) -> list:
    base, extra = divmod(n, classes)
    return [base + (1 if k < extra else 0) for k in range(classes)]


def spirals(n: int = 300, classes: int = 3, noise: float = 0.1, seed: int | None = None, *,
            turns: float = 1.0, generator: Any = None) -> TensorDataset:
    """``classes`` interleaved spiral arms, ``n`` points in all (split as evenly as possible).

    Arm k, point at parameter r in [0, 1]:  angle = 2*pi*(turns*r + k/classes),
    (x, y) = r * (cos angle, sin angle) + noise * N(0, I).  Points are ordered by class.
    """
    if n < classes or classes < 1:
        raise ValueError(f"spirals: need n >= classes >= 1, got n={n}, classes={classes}")
    if noise < 0:
        raise ValueError(f"spirals: noise must be >= 0, got {noise}")
    gen = host_generator(generator, seed)
    xs, ys = [], []
    for k, m in enumerate(_class_sizes(n, classes)):
        r = numpy.linspace(0.0, 1.0, m)
        angle = 2.0 * math.pi * (turns * r + k / classes)
        pts = numpy.stack([r * numpy.cos(angle), r * numpy.sin(angle)], axis=1)
        xs.append(pts + noise * gen.standard_normal((m, 2)))
        ys.append(numpy.full(m, k, dtype=numpy.int64))
    return TensorDataset(numpy.concatenate(xs).astype(numpy.float32), numpy.concatenate(ys))


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None, *, generator: Any = None) -> TensorDataset:
    """Two interleaving half circles, ``n`` points in all.

    Class 0: (cos t, sin t) for t in [0, pi]; class 1: (1 - cos t, 0.5 - sin t); plus
    noise * N(0, I).  Points are ordered by class.
    """
    if n < 2:
        raise ValueError(f"moons: need n >= 2, got {n}")
    if noise < 0:
        raise ValueError(f"moons: noise must be >= 0, got {noise}")
    gen = host_generator(generator, seed)
    m0, m1 = _class_sizes(n, 2)
    t0, t1 = numpy.linspace(0.0, math.pi, m0), numpy.linspace(0.0, math.pi, m1)
    upper = numpy.stack([numpy.cos(t0), numpy.sin(t0)], axis=1)
    lower = numpy.stack([1.0 - numpy.cos(t1), 0.5 - numpy.sin(t1)], axis=1)
    x = numpy.concatenate([upper, lower]) + noise * gen.standard_normal((n, 2))
    y = numpy.concatenate([numpy.zeros(m0, dtype=numpy.int64), numpy.ones(m1, dtype=numpy.int64)])
    return TensorDataset(x.astype(numpy.float32), y)
