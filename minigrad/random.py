"""Random number generators, one per device; ``manual_seed`` resets them all."""
from __future__ import annotations

from typing import Any

import numpy

from . import devices

_seed: int | None = None
_cuda_seed: int | None = None  # set by mg.cuda.manual_seed: the CUDA streams' own seed
_generators: dict = {}


def manual_seed(seed: int) -> "Generator":
    """Seed every generator (CPU and CUDA) so runs are reproducible; returns the default CPU
    :class:`Generator`, as PyTorch does."""
    global _seed, _cuda_seed
    _seed = int(seed)
    _cuda_seed = None
    _generators.clear()
    return default_generator


def manual_seed_cuda(seed: int) -> None:
    """Seed only the CUDA generators (``mg.cuda.manual_seed`` / ``manual_seed_all``)."""
    global _cuda_seed
    _cuda_seed = int(seed)
    for key in [k for k in _generators if k.startswith("cuda")]:
        del _generators[key]


def initial_seed() -> int | None:
    return _seed


def generator(dev: "devices.Device") -> Any:
    """The generator of ``dev``: a ``numpy.random.Generator`` or CuPy's equivalent (seen through
    the wrapper of :func:`set_draw_wrapper` while one is set)."""
    key = str(dev)
    gen = _generators.get(key)
    if gen is None:
        if dev.type == "cpu":
            gen = numpy.random.default_rng(_seed)
        else:
            with devices.cuda_device(dev):
                gen = devices.cupy_module().random.default_rng(_seed if _cuda_seed is None else _cuda_seed)
        _generators[key] = gen
    return gen if _draw_wrapper is None else _draw_wrapper(gen)


_draw_wrapper: Any = None


def set_draw_wrapper(wrapper: Any) -> Any:
    """Make :func:`generator` return ``wrapper(gen)`` instead of ``gen`` (``None``: stop); returns
    the previous wrapper.  A step being captured by ``mg.jit`` sees its random draws this way, so
    that a replay draws afresh from the same generator instead of reusing the captured numbers."""
    global _draw_wrapper
    previous, _draw_wrapper = _draw_wrapper, wrapper
    return previous


def get_rng_state() -> dict:
    """A copy of every generator's state (for checkpoints)."""
    return {"seed": _seed, "cpu": generator(devices.CPU).bit_generator.state}


def set_rng_state(state: dict) -> None:
    manual_seed(state["seed"]) if state.get("seed") is not None else _generators.clear()
    generator(devices.CPU).bit_generator.state = state["cpu"]


class Generator:
    """A random stream of its own, as ``torch.Generator``: seed it and pass it as ``generator=``
    to ``mg.rand``/``randn``/``randint``/``randperm``, ``random_split`` or a ``DataLoader``, so
    that one part of a program draws reproducibly whatever the rest draws.

    ``Generator(device="cpu")``; ``manual_seed(seed)`` (returns the generator), ``seed()`` (a
    fresh seed from the operating system, returned), ``initial_seed()``, ``get_state()`` /
    ``set_state(state)``.  ``engine`` is the NumPy (or CuPy) generator that draws."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = devices.device(device)
        self._seed: int | None = None
        self._engine: Any = None

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._engine = None
        return self

    def seed(self) -> int:
        self.manual_seed(int(numpy.random.SeedSequence().entropy % 2 ** 63))
        return self._seed  # type: ignore[return-value]

    def initial_seed(self) -> int | None:
        return self._seed

    @property
    def engine(self) -> Any:
        if self._engine is None:
            if self.device.type == "cpu":
                self._engine = numpy.random.default_rng(self._seed)
            else:
                with devices.cuda_device(self.device):
                    self._engine = devices.cupy_module().random.default_rng(self._seed)
        return self._engine

    def get_state(self) -> dict:
        return {"seed": self._seed, "state": self.engine.bit_generator.state}

    def set_state(self, state: dict) -> "Generator":
        self.manual_seed(state["seed"]) if state.get("seed") is not None else None
        self.engine.bit_generator.state = state["state"]
        return self

    def __repr__(self) -> str:
        return f"Generator(device='{self.device}', initial_seed={self._seed})"


class _DefaultGenerator(Generator):
    """The global CPU stream (what ``mg.manual_seed`` seeds) seen as a :class:`Generator`."""

    def manual_seed(self, seed: int) -> "Generator":
        manual_seed(seed)
        return self

    def initial_seed(self) -> int | None:
        return _seed

    @property
    def engine(self) -> Any:
        return generator(devices.CPU)


#: The global CPU stream as a :class:`Generator` (``torch.default_generator``).
default_generator: Generator = _DefaultGenerator()


def engine_of(gen: "Generator | None", dev: "devices.Device") -> Any:
    """What draws for ``generator=gen`` on ``dev``: the generator's engine (on its device, checked),
    or the device's global generator when ``gen`` is None."""
    if gen is None:
        return generator(dev)
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got {type(gen).__name__}")
    if gen.device != dev:
        raise RuntimeError(f"a generator on {gen.device} cannot draw numbers for a tensor on {dev}")
    return gen.engine if _draw_wrapper is None else _draw_wrapper(gen.engine)
