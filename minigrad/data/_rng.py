"""Which random generator the data code draws from."""
from __future__ import annotations

from typing import Any

import numpy

from .. import devices
from .. import random as _random


def host_generator(generator: Any = None, seed: int | None = None) -> numpy.random.Generator:
    """A NumPy generator: ``generator`` if given (an int is taken as a seed), else a fresh one
    seeded with ``seed``, else minigrad's global CPU generator (looked up now, so a later
    ``mg.manual_seed`` takes effect)."""
    if generator is not None and seed is not None:
        raise ValueError("pass either generator= or seed=, not both")
    if seed is not None:
        return numpy.random.default_rng(int(seed))
    if generator is None:
        return _random.generator(devices.CPU)
    if isinstance(generator, (int, numpy.integer)):
        return numpy.random.default_rng(int(generator))
    if isinstance(generator, numpy.random.Generator):
        return generator
    if isinstance(generator, _random.Generator) and generator.device.type == "cpu":
        return generator.engine
    raise TypeError(f"generator must be a CPU minigrad.Generator, a numpy.random.Generator or an int seed, got "
                    f"{generator!r}")


def array_generator(host: numpy.random.Generator, xp: Any) -> Any:
    """A generator for arrays of module ``xp``: ``host`` itself for NumPy; for CuPy a device
    generator seeded from ``host`` (so big random fields are drawn on the GPU, yet a seeded
    host generator still makes the result reproducible)."""
    if xp is numpy:
        return host
    return xp.random.default_rng(int(host.integers(0, 2**63 - 1)))
