"""IDX reading/writing and its validation errors."""
import gzip

import numpy as np
import pytest

from minigrad.data import IDXError, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_roundtrip(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)


def test_header_layout_matches_the_format(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3])
    path = write_idx(tmp_path / "s", np.array([[258]], dtype=np.int16))
    assert path.read_bytes() == bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2])  # big-endian data


def test_bad_magic_names_the_file(tmp_path):
    p = tmp_path / "bogus-idx3-ubyte"
    p.write_bytes(b"\x12\x34\x08\x03" + bytes(20))
    with pytest.raises(IDXError, match=r"bogus-idx3-ubyte: not an IDX file \(magic number 0x12340803"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))  # unknown type code
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(p)


def test_truncated_and_oversized_files(tmp_path):
    good = write_idx(tmp_path / "x", np.zeros((4, 28, 28), dtype=np.uint8)).read_bytes()
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(good[:-100])
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: truncated: the header says shape \(4, 28, 28\)"):
        read_idx(p)
    p.write_bytes(good + b"xx")
    with pytest.raises(IDXError, match="trailing bytes"):
        read_idx(p)
    p.write_bytes(good[:10])
    with pytest.raises(IDXError, match="truncated header"):
        read_idx(p)
    p.write_bytes(b"\x00")
    with pytest.raises(IDXError, match="too short"):
        read_idx(p)


def test_truncated_gzip_names_the_file(tmp_path):
    blob = gzip.compress(write_idx(tmp_path / "x", np.arange(1000, dtype=np.int32)).read_bytes())
    p = tmp_path / "labels.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IDXError, match=r"labels\.gz: the gzip data is corrupt or truncated"):
        read_idx(p)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="int64 has no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
