"""Helpers for the mg.data tests: small IDX files, where the real MNIST files are, and a local HTTP
server on 127.0.0.1 that honours Range requests (never the internet)."""
from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from minigrad.data import write_idx

REPO = Path(__file__).resolve().parents[2]
MNIST_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def shared_data_dir() -> "Path | None":
    """The folder holding the real ``mnist/`` IDX files: $MINIGRAD_DATA, else ../shared/data."""
    candidates = []
    if os.environ.get("MINIGRAD_DATA"):
        candidates.append(Path(os.environ["MINIGRAD_DATA"]))
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if all((c / "mnist" / (n + ".gz")).is_file() or (c / "mnist" / n).is_file() for n in MNIST_NAMES):
            return c
    return None


def make_small_mnist(folder: Path, n_train: int = 30, n_test: int = 12, gz: bool = True, seed: int = 0,
                     side: int = 28) -> dict:
    """Write four small MNIST-format IDX files; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return arrays


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        srv = self.server
        name = self.path.lstrip("/")
        rng = self.headers.get("Range")
        srv.requests.append((name, rng))
        data = srv.files.get(name)
        if data is None:
            self.send_error(404, "no such file")
            return
        start = 0
        if rng and srv.honour_range:
            assert rng.startswith("bytes=") and rng.endswith("-"), rng
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        cut = srv.truncate.pop(name, None)  # first request only: send `cut` bytes, then hang up
        if cut is not None:
            self.wfile.write(body[:cut])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


class LocalServer:
    """A loopback HTTP server: ``files`` maps URL paths to bytes; ``truncate[name] = n`` makes the
    next response for ``name`` stop after n bytes; ``honour_range`` toggles Range support;
    ``requests`` records (name, Range header)."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.files = {}
        self.httpd.truncate = {}
        self.httpd.honour_range = True
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __getattr__(self, name: str) -> object:
        return getattr(self.httpd, name)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
