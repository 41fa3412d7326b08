"""The layers of minigrad, checked on every module's imports (parsed, not run).

    core (tensor, autograd, ops, device helpers)  →  nn, optim, data  →  jit, viz, serialization  →  train  →  cli

(``jit`` captures whole training steps, so it sits above nn and optim; ``train`` may run its steps
through it.)

A layer imports only from layers to its left (and from itself), and no module imports a private
(``_underscore``) module or name from another package: what the packages need from the core is its
public, documented internal API (docs/autograd.md, "The internal API").  Imports inside functions
count too: an upward import hidden in a function is still an upward import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "minigrad"

#: package -> the packages it must not import.  Top-level modules (tensor.py, creation.py,
#: backend.py, dtypes.py, random.py...) form the core together with autograd and ops.
CORE = {"", "autograd", "ops"}
FORBIDDEN = {
    **{p: {"nn", "optim", "data", "train", "viz", "cli", "serialization", "utils", "jit"} for p in CORE},
    "nn": {"optim", "data", "train", "viz", "cli", "serialization", "utils", "jit"},
    "optim": {"nn", "data", "train", "viz", "cli", "serialization", "utils", "jit"},
    "data": {"nn", "optim", "train", "viz", "cli", "serialization", "jit"},
    "viz": {"data", "train", "cli", "utils", "jit"},
    "jit": {"train", "cli", "data", "serialization", "utils"},
    "train": {"cli", "viz"},
    "serialization": {"train", "viz", "cli", "data", "jit"},
    "utils": {"train", "viz", "cli", "jit"},
}
#: Modules at the top of the package that belong to a higher layer than the core.
TOP_LEVEL_LAYERS = {"serialization": "serialization", "cli": "cli", "__main__": "cli"}
#: The package's own __init__ gathers every layer for ``import minigrad``: it is exempt.
EXEMPT = {"minigrad", "minigrad.__main__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """'minigrad.ops.shape' -> 'ops'; 'minigrad.tensor' -> '' (the core's top level);
    'minigrad.serialization' -> 'serialization'."""
    parts = module.split(".")
    if len(parts) == 1:
        return ""
    if len(parts) == 2 and not (ROOT / parts[1]).is_dir():
        return TOP_LEVEL_LAYERS.get(parts[1], "")
    return parts[1]


def _imports(path: Path) -> list:
    """(imported module, imported name or None, line) for every import of minigrad's own code."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "minigrad"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "minigrad":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                is_module = (ROOT.parent / sub.replace(".", "/")).is_dir() or \
                    (ROOT.parent / (sub.replace(".", "/") + ".py")).exists()
                found.append((sub, None, node.lineno) if is_module else (target, alias.name, node.lineno))
    return found


MODULES = sorted(p for p in ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_respect_the_layers(path):
    module = _module_name(path)
    if module in EXEMPT:
        return
    own = _package(module)
    problems = []
    for target, name, line in _imports(path):
        theirs = _package(target)
        if theirs in FORBIDDEN.get(own, set()) and theirs != own:
            problems.append(f"line {line}: {own or 'core'} imports {target} ({theirs}, a higher layer)")
        if theirs != own or (own == "" and target != module and target.count(".") > 1):
            private_module = any(part.startswith("_") and part != "__init__" for part in target.split(".")[1:])
            if private_module and _package(target) != own:
                problems.append(f"line {line}: imports the private module {target}")
            if name is not None and name.startswith("_") and _package(target) != own:
                problems.append(f"line {line}: imports the private name {target}.{name}")
    assert not problems, f"{module}:\n" + "\n".join(problems)


def test_the_rules_catch_an_upward_and_a_private_import(tmp_path, monkeypatch):
    """The checker itself: a core module importing nn, and an nn module importing a private core name."""
    fake = tmp_path / "minigrad"
    (fake / "ops").mkdir(parents=True)
    (fake / "nn").mkdir()
    (fake / "ops" / "bad.py").write_text("from ..nn import Linear\n")
    (fake / "nn" / "worse.py").write_text("from ..tensor import _secret\n")
    (fake / "tensor.py").write_text("_secret = 1\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", fake)
    with pytest.raises(AssertionError, match="a higher layer"):
        test_imports_respect_the_layers(fake / "ops" / "bad.py")
    with pytest.raises(AssertionError, match="private name minigrad.tensor._secret"):
        test_imports_respect_the_layers(fake / "nn" / "worse.py")
