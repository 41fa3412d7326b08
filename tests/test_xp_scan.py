"""Op code reaches arrays only through ``xp = array_module(arr)`` (so the CuPy path works):
no ``import numpy``, no ``numpy.<x>`` / ``np.<x>`` in minigrad/ops, minigrad/nn, minigrad/optim.

The scan reads the source with :mod:`ast` (so comments and docstrings do not count) and flags
* ``import numpy`` / ``import numpy.x`` / ``from numpy import ...`` (any alias),
* attribute access on a name ``np`` or ``numpy`` (even if it came in some other way),
* ``<anything>.numpy.<x>`` (numpy reached through another module, e.g. ``devices.numpy.zeros``),
* ``__import__("numpy")`` / ``importlib.import_module("numpy")``.
Imports under ``if TYPE_CHECKING:`` are allowed (annotations only, never run).
"""
from __future__ import annotations

import ast
import pathlib
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minigrad"
SCANNED = ("ops", "nn", "optim")

#: Deliberate exceptions: {"minigrad/<path>.py:<line text stripped>": "why"}.  Keep it short; every
#: entry needs a reason that says why the code cannot go through ``xp``.
ALLOWED: dict[str, str] = {}

NUMPY_NAMES = {"np", "numpy"}


def _is_numpy_module(name: str | None) -> bool:
    return name is not None and (name == "numpy" or name.startswith("numpy."))


def _type_checking_lines(tree: ast.AST) -> set:
    """Line numbers inside ``if TYPE_CHECKING:`` / ``if typing.TYPE_CHECKING:`` blocks."""
    lines: set = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def find_numpy_uses(source: str, filename: str = "<source>") -> list:
    """``(line, what)`` for every direct NumPy use in ``source``."""
    tree = ast.parse(source, filename=filename)
    skip = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_numpy_module(alias.name):
                    found.append((line, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _is_numpy_module(node.module):
                found.append((line, f"from {node.module} import ..."))
        elif isinstance(node, ast.Attribute):
            value = node.value
            if isinstance(value, ast.Name) and value.id in NUMPY_NAMES:
                found.append((line, f"{value.id}.{node.attr}"))
            elif isinstance(value, ast.Attribute) and value.attr == "numpy":
                found.append((line, f"....numpy.{node.attr}"))
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if fname in ("__import__", "import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _is_numpy_module(arg.value):
                    found.append((line, f"{fname}({arg.value!r})"))
    return sorted(set(found))


def scan_file(path: pathlib.Path) -> list:
    """Offences in one file as ``"path:line: what"`` strings, allow-list applied."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    out = []
    for line, what in find_numpy_uses(source, str(path)):
        key = f"{rel}:{lines[line - 1].strip()}"
        if key not in ALLOWED:
            out.append(f"{rel}:{line}: {what}    | {lines[line - 1].strip()}")
    return out


def _scanned_files() -> list:
    files = []
    for sub in SCANNED:
        d = PACKAGE / sub
        if d.is_dir():
            files.extend(sorted(d.rglob("*.py")))
    return files


def test_op_code_does_not_use_numpy_directly():
    files = _scanned_files()
    assert any(f.parent.name == "ops" for f in files), "minigrad/ops not found: the scan would check nothing"
    offences = [o for f in files for o in scan_file(f)]
    assert not offences, (
        "op code must reach arrays through `xp = array_module(arr)`, not NumPy directly "
        f"(or add an entry with a reason to ALLOWED in {pathlib.Path(__file__).name}):\n  " + "\n  ".join(offences))


def test_allow_list_entries_have_reasons_and_still_match():
    for key, reason in ALLOWED.items():
        assert len(reason.split()) >= 3, f"allow-list entry {key!r} needs a real reason"
        rel, _, text = key.partition(":")
        path = ROOT / rel
        assert path.is_file(), f"allow-list entry for a missing file: {key!r}"
        assert any(l.strip() == text for l in path.read_text(encoding="utf-8").splitlines()), \
            f"stale allow-list entry (line no longer exists): {key!r}"


# -- the scanner itself -------------------------------------------------------------------------------

PLANTED = textwrap.dedent('''\
    """Docstring mentioning numpy.zeros and np.ones must not count."""
    from typing import TYPE_CHECKING
    import numpy as np                      # 3
    import numpy                            # 4
    from numpy import linalg                # 5
    import numpy.random as npr              # 6
    from ..devices import array_module
    from .. import devices

    if TYPE_CHECKING:
        import numpy as _np_types           # allowed: annotations only

    def op(a: "numpy.ndarray"):             # a string annotation is not code
        xp = array_module(a)                # fine
        b = xp.exp(a)                       # fine
        c = np.exp(a)                       # 16
        d = numpy.float32                   # 17
        e = devices.numpy.zeros(3)          # 18
        f = __import__("numpy")             # 19
        t = a.numpy()                       # a Tensor method, fine
        # np.exp(a) in a comment is fine
        return b, c, d, e, f, t
    ''')


def test_scanner_catches_planted_offences():
    found = find_numpy_uses(PLANTED)
    lines = sorted({line for line, _ in found})
    assert lines == [3, 4, 5, 6, 16, 17, 18, 19], found


def test_scanner_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad_op.py"
    bad.write_text("from ..devices import array_module\n\ndef f(a):\n    import numpy as np\n    return np.sum(a)\n")
    offences = scan_file(bad)
    assert len(offences) == 2
    assert offences[0].startswith(f"{bad}:4: import numpy") and offences[1].startswith(f"{bad}:5: np.sum")


def test_scanner_accepts_clean_code(tmp_path):
    clean = tmp_path / "clean_op.py"
    clean.write_text(textwrap.dedent('''\
        from ..devices import array_module

        def f(x):
            xp = array_module(x._data)
            return xp.maximum(x._data, 0), x.numpy()
        '''))
    assert scan_file(clean) == []


@pytest.mark.parametrize("sub", SCANNED)
def test_scanned_dirs_parse(sub):
    d = PACKAGE / sub
    if not d.is_dir():
        pytest.skip(f"minigrad/{sub} does not exist yet")
    for f in d.rglob("*.py"):
        ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
