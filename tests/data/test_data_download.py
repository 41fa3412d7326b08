"""download_file and MNIST(download=True) against a real HTTP server on 127.0.0.1 (never the internet)."""
import gzip
import hashlib
import socket
import sys

import numpy as np
import pytest

import minigrad.data as D
from minigrad.data.download import DownloadError, checksum_ok, download_file, sha256_of
from minigrad.data.mnist import IDXFile

from data_helpers import MNIST_NAMES, make_small_mnist

RAW = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()  # incompressible
PAYLOAD = gzip.compress(RAW, mtime=0)
RAW_SHA = hashlib.sha256(RAW).hexdigest()
GZ_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more: connection refused


def test_download_verifies_and_renames_atomically(server, tmp_path):
    server.files["f.gz"] = PAYLOAD
    dest = tmp_path / "sub" / "f.gz"
    assert download_file(server.url + "f.gz", dest, sha256=GZ_SHA, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "f.gz.part").exists()
    assert server.requests == [("f.gz", None)]


def test_decompressed_checksum_accepts_a_recompressed_copy(server, tmp_path):
    server.files["f.gz"] = gzip.compress(RAW, compresslevel=1, mtime=12345)
    assert hashlib.sha256(server.files["f.gz"]).hexdigest() != GZ_SHA  # only the content checksum can match
    dest = download_file(server.url + "f.gz", tmp_path / "f.gz", sha256=GZ_SHA, sha256_decompressed=RAW_SHA,
                         progress=False)
    assert gzip.decompress(dest.read_bytes()) == RAW


def test_corrupted_file_is_rejected_by_the_checksum(server, tmp_path):
    bad = bytearray(PAYLOAD)
    bad[len(bad) // 2] ^= 0xFF
    server.files["f.gz"] = bytes(bad)
    dest = tmp_path / "f.gz"
    with pytest.raises(DownloadError, match="sha256 mismatch") as e:
        download_file(server.url + "f.gz", dest, sha256=GZ_SHA, sha256_decompressed=RAW_SHA, progress=False)
    assert not dest.exists() and not (tmp_path / "f.gz.part").exists()
    assert str(dest) in str(e.value)  # says where to put the file by hand


def test_next_mirror_after_a_failure(server, tmp_path):
    server.files["good/f.gz"] = PAYLOAD
    server.files["bad/f.gz"] = PAYLOAD[:-1] + bytes([PAYLOAD[-1] ^ 1])
    urls = [_closed_port_url() + "f.gz", server.url + "missing/f.gz", server.url + "bad/f.gz",
            server.url + "good/f.gz"]
    dest = download_file(urls, tmp_path / "f.gz", sha256=GZ_SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert [r[0] for r in server.requests] == ["missing/f.gz", "bad/f.gz", "good/f.gz"]


def test_resume_with_range_after_a_dropped_connection(server, tmp_path):
    server.files["f.gz"] = PAYLOAD
    server.truncate["f.gz"] = 1000  # first response: 1000 bytes, then the server hangs up
    dest = tmp_path / "f.gz"
    with pytest.raises(DownloadError, match="connection closed after 1000"):
        download_file(server.url + "f.gz", dest, sha256=GZ_SHA, progress=False)
    part = tmp_path / "f.gz.part"
    assert part.read_bytes() == PAYLOAD[:1000] and not dest.exists()
    download_file(server.url + "f.gz", dest, sha256=GZ_SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert server.requests == [("f.gz", None), ("f.gz", "bytes=1000-")]


def test_server_ignoring_range_sends_the_whole_file(server, tmp_path):
    server.httpd.honour_range = False
    server.files["f.gz"] = PAYLOAD
    (tmp_path / "f.gz.part").write_bytes(PAYLOAD[:500])
    download_file(server.url + "f.gz", tmp_path / "f.gz", sha256=GZ_SHA, progress=False)
    assert (tmp_path / "f.gz").read_bytes() == PAYLOAD


def test_bad_resumed_part_is_restarted_from_zero(server, tmp_path):
    server.files["f.gz"] = PAYLOAD
    (tmp_path / "f.gz.part").write_bytes(b"garbage!" * 10)  # a stale part from some other file
    download_file(server.url + "f.gz", tmp_path / "f.gz", sha256=GZ_SHA, progress=False)
    assert (tmp_path / "f.gz").read_bytes() == PAYLOAD
    assert server.requests == [("f.gz", "bytes=80-"), ("f.gz", None)]


def test_complete_part_gets_416_and_is_verified(server, tmp_path):
    server.files["f.gz"] = PAYLOAD
    (tmp_path / "f.gz.part").write_bytes(PAYLOAD)
    download_file(server.url + "f.gz", tmp_path / "f.gz", sha256=GZ_SHA, progress=False)
    assert (tmp_path / "f.gz").read_bytes() == PAYLOAD
    assert server.requests == [("f.gz", f"bytes={len(PAYLOAD)}-")]


def test_no_network_error_says_where_to_put_the_file(tmp_path):
    with pytest.raises(DownloadError) as e:
        download_file([_closed_port_url() + "x.gz"], tmp_path / "mnist" / "x.gz", sha256=GZ_SHA, progress=False,
                      timeout=5)
    msg = str(e.value)
    assert "x.gz" in msg and str(tmp_path / "mnist" / "x.gz") in msg and "MINIGRAD_DATA" in msg


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        download_file("https://example.invalid/x", tmp_path / "x")
    with pytest.raises(ValueError, match="only http"):
        download_file("ftp://example.invalid/x", tmp_path / "x", sha256=GZ_SHA)


def test_progress_bar_with_and_without_tqdm(server, tmp_path, monkeypatch, capsys):
    server.files["f.gz"] = PAYLOAD
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed: no bar, no error
    download_file(server.url + "f.gz", tmp_path / "a.gz", sha256=GZ_SHA, progress=True)
    assert (tmp_path / "a.gz").read_bytes() == PAYLOAD
    assert capsys.readouterr().err == ""
    monkeypatch.undo()
    pytest.importorskip("tqdm")
    download_file(server.url + "f.gz", tmp_path / "b.gz", sha256=GZ_SHA, progress=True)
    assert (tmp_path / "b.gz").read_bytes() == PAYLOAD
    assert "b.gz" in capsys.readouterr().err  # the bar's label


def test_checksum_ok_variants(tmp_path):
    p = tmp_path / "f.gz"
    p.write_bytes(PAYLOAD)
    assert checksum_ok(p, sha256=GZ_SHA) and checksum_ok(p, sha256_decompressed=RAW_SHA)
    assert not checksum_ok(p, sha256=RAW_SHA) and not checksum_ok(p, sha256_decompressed=GZ_SHA)
    p.write_bytes(PAYLOAD[:50])  # broken gzip: no match, no exception
    assert not checksum_ok(p, sha256_decompressed=RAW_SHA)
    assert sha256_of(tmp_path / "f.gz") == hashlib.sha256(PAYLOAD[:50]).hexdigest()


# -- MNIST(download=True) --------------------------------------------------------------------------------
class TinyMNIST(D.MNIST):
    """MNIST with the checksums of the small files a test serves (set per test)."""

    files: dict = {}


def _serve_small(server, tmp_path, folder="mirror"):
    arrays = make_small_mnist(tmp_path / "src")
    files = {}
    for name in MNIST_NAMES:
        blob = (tmp_path / "src" / (name + ".gz")).read_bytes()
        server.files[f"{folder}/{name}.gz"] = blob
        files[name] = IDXFile(name, hashlib.sha256(blob).hexdigest(), None)
    keys = ("train_images", "train_labels", "test_images", "test_labels")
    TinyMNIST.files = dict(zip(keys, (files[n] for n in MNIST_NAMES)))
    return arrays


def test_mnist_download_end_to_end(server, tmp_path):
    arrays = _serve_small(server, tmp_path)
    root = tmp_path / "cache"
    ds = TinyMNIST(root, split="test", download=True, mirrors=[_closed_port_url(), server.url + "mirror/"],
                   progress=False)
    np.testing.assert_array_equal(ds.arrays[1], arrays["t10k-labels-idx1-ubyte"])
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(n + ".gz" for n in MNIST_NAMES)
    n_requests = len(server.requests)
    TinyMNIST(root, split="train+val", download=True, mirrors=[server.url + "mirror/"])  # cached: no request
    assert len(server.requests) == n_requests


def test_mnist_mirrors_from_environment(server, tmp_path, monkeypatch):
    _serve_small(server, tmp_path, folder="envmirror")
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", f"{_closed_port_url()}, {server.url}envmirror")
    ds = TinyMNIST(tmp_path / "cache", split="train+val", download=True, progress=False)
    assert len(ds) == 30


def test_mnist_download_rejects_a_corrupted_mirror(server, tmp_path):
    _serve_small(server, tmp_path)
    name = "mirror/t10k-labels-idx1-ubyte.gz"
    blob = bytearray(server.files[name])
    blob[-12] ^= 0x01
    server.files[name] = bytes(blob)
    with pytest.raises(DownloadError, match=r"t10k-labels-idx1-ubyte\.gz.*\n.*sha256 mismatch"):
        TinyMNIST(tmp_path / "cache", split="test", download=True, mirrors=[server.url + "mirror/"], progress=False)
    assert not (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_real_mnist_download_from_local_mirror(server, tmp_path, real_mnist_root):
    """The real files, served over loopback, pass MNIST's own (decompressed) checksums."""
    for name in MNIST_NAMES:
        server.files[f"mnist/{name}.gz"] = (real_mnist_root / "mnist" / (name + ".gz")).read_bytes()
    ds = D.MNIST(tmp_path, split="test", download=True, mirrors=[server.url + "mnist/"], progress=False)
    assert len(ds) == 10_000
    for name in MNIST_NAMES:
        assert (tmp_path / "mnist" / (name + ".gz")).is_file()
