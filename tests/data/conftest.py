"""Fixtures for the mg.data tests (helpers live in data_helpers.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from data_helpers import LocalServer, make_small_mnist, shared_data_dir


@pytest.fixture
def real_mnist_root() -> Path:
    root = shared_data_dir()
    if root is None:
        pytest.skip("the real MNIST IDX files are not here (set MINIGRAD_DATA to a folder holding mnist/, "
                    "or place them in ../shared/data/mnist)")
    return root


@pytest.fixture
def small_mnist(tmp_path: Path) -> tuple:
    """(root, arrays): small gzipped IDX files in root/mnist/."""
    return tmp_path, make_small_mnist(tmp_path / "mnist")


@pytest.fixture
def server():
    """A loopback HTTP server (see data_helpers.LocalServer), shut down after the test."""
    srv = LocalServer()
    yield srv
    srv.close()
