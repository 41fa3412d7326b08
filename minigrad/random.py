"""Random number generators, one per device; ``manual_seed`` resets them all."""
from __future__ import annotations

from typing import Any

import numpy

from . import _device

_seed: int | None = None
_generators: dict = {}


def manual_seed(seed: int) -> None:
    """Seed every generator (CPU and CUDA) so runs are reproducible."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def initial_seed() -> int | None:
    return _seed


def generator(dev: "_device.Device") -> Any:
    """The generator of ``dev``: a ``numpy.random.Generator`` or CuPy's equivalent."""
    key = str(dev)
    gen = _generators.get(key)
    if gen is None:
        if dev.type == "cpu":
            gen = numpy.random.default_rng(_seed)
        else:
            with _device.cuda_device(dev):
                gen = _device.cupy_module().random.default_rng(_seed)
        _generators[key] = gen
    return gen


def get_rng_state() -> dict:
    """A copy of every generator's state (for checkpoints)."""
    return {"seed": _seed, "cpu": generator(_device.CPU).bit_generator.state}


def set_rng_state(state: dict) -> None:
    manual_seed(state["seed"]) if state.get("seed") is not None else _generators.clear()
    generator(_device.CPU).bit_generator.state = state["cpu"]
