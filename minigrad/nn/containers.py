"""Containers: ``Sequential`` (a pipeline), ``ModuleList`` / ``ModuleDict`` (a list / dict that
registers its modules) and ``ParameterList`` / ``ParameterDict`` (that register their parameters).

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


class ModuleDict(Module):
    """A dict of modules whose items are registered under their keys (state-dict keys
    ``"<key>.weight"``...); insertion ordered.  It has no ``forward`` of its own."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(key)
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.register_module(key, _check_module(module, f"ModuleDict[{key!r}] = ..."))

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        self._forget(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: Any) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()

    def clear(self) -> None:
        for key in list(self._modules):
            self._forget(key)

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules: Any) -> None:
        """Add (or replace) items from a mapping or an iterable of (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for j, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element {j} should be a (key, module) pair, got {pair!r}")
            self[pair[0]] = pair[1]


def _check_parameter(p: Any, where: str) -> Any:
    """A Parameter as is; a plain Tensor wrapped as a Parameter (as PyTorch); anything else refused."""
    from ..tensor import Tensor
    from .parameter import Parameter

    if p is None or isinstance(p, Parameter):
        return p
    if isinstance(p, Tensor):
        return Parameter(p)
    raise TypeError(f"{where}: expected a Parameter or Tensor, got {type(p).__name__}")


class ParameterList(Module):
    """A list of parameters registered under ``"0"``, ``"1"``, ... (found by ``parameters()``,
    saved in ``state_dict``, moved by ``to()``).  Plain tensors are wrapped as Parameters."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> int:
        n = len(self._parameters)
        if not isinstance(idx, int):
            raise TypeError(f"ParameterList indices must be integers or slices, got {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ParameterList of length {n}")
        return idx % n

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[str(self._index(idx))]

    def __setitem__(self, idx: int, value: Any) -> None:
        key = str(self._index(idx))
        self._parameters[key] = _check_parameter(value, f"ParameterList[{idx}] = ...")
        self.__dict__[key] = self._parameters[key]

    def append(self, value: Any) -> "ParameterList":
        self.register_parameter(str(len(self._parameters)), _check_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values: Iterable[Any]) -> "ParameterList":
        return self.extend(values)

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter of shape {tuple(p.shape)}" for k, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of parameters registered under their keys; insertion ordered.  Plain tensors are
    wrapped as Parameters."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._parameters:
            raise KeyError(key)
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _check_parameter(value, f"ParameterDict[{key!r}] = ..."))

    def __delitem__(self, key: str) -> None:
        if key not in self._parameters:
            raise KeyError(key)
        self._forget(key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: Any) -> bool:
        return key in self._parameters

    def keys(self) -> Any:
        return self._parameters.keys()

    def values(self) -> Any:
        return self._parameters.values()

    def items(self) -> Any:
        return self._parameters.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._parameters):
            self._forget(key)

    def update(self, parameters: Any) -> None:
        """Add (or replace) items from a mapping or an iterable of (key, parameter) pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for j, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ParameterDict.update: element {j} should be a (key, parameter) pair, got {pair!r}")
            self[pair[0]] = pair[1]

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter of shape {tuple(p.shape)}" for k, p in self._parameters.items())
