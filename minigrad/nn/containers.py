"""Containers: ``Sequential`` (a pipeline) and ``ModuleList`` (a list that registers its items).

Children are registered under the names ``"0"``, ``"1"``, ... so their state-dict
keys are ``"0.weight"``, ``"2.bias"`` and so on, as in PyTorch.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator

from .module import Module


def _check_module(m: Any, where: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{where}: expected a Module, got {type(m).__name__}")
    return m


class _IndexedModules(Module):
    """Shared list behaviour: integer indexing (negative too), slicing, len, iteration."""

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not isinstance(idx, int):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, got {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a {type(self).__name__} of length {n}")
        return idx % n

    def _renumber(self, modules: list) -> None:
        for name in list(self._modules):
            self._forget(name)
        for i, m in enumerate(modules):
            self.register_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._index(idx)]
        setattr(self, key, _check_module(module, f"{type(self).__name__}[{idx}] = ..."))

    def __delitem__(self, idx: Any) -> None:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[self._index(idx)]
        self._renumber(items)

    def append(self, module: Module) -> "_IndexedModules":
        self.register_module(str(len(self._modules)), _check_module(module, f"{type(self).__name__}.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> "_IndexedModules":
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, _check_module(module, f"{type(self).__name__}.insert"))
        self._renumber(items)


class Sequential(_IndexedModules):
    """Run modules one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    ``Sequential(OrderedDict([("fc", Linear(...)), ("act", ReLU())]))`` names the children.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self.register_module(name, _check_module(m, f"Sequential item {name!r}"))
        else:
            for i, m in enumerate(modules):
                self.register_module(str(i), _check_module(m, f"Sequential argument {i}"))

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_IndexedModules):
    """A Python list of modules whose items are registered (their parameters are found,
    moved by ``to()``, saved in ``state_dict``).  It has no ``forward`` of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)
