"""The IDX file format (MNIST's): read and write, gzipped or not, with the header checked.

Layout: two zero bytes, a type byte, a byte giving the number of dimensions d, then d
big-endian uint32 sizes, then the data in C order, big-endian.  Type bytes: 0x08 uint8,
0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.  So the "magic number" of
MNIST's images is 0x00000803 (uint8, 3-d) and of its labels 0x00000801 (uint8, 1-d).
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy

IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {numpy.dtype(v).newbyteorder("=") if v[0] == ">" else numpy.dtype(v): k for k, v in IDX_TYPES.items()}


class IDXError(ValueError):
    """An IDX file is not valid (bad magic number, truncated, wrong size); names the file."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":  # not gzip: IDX data as is
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:  # truncated or corrupt gzip stream
        raise IDXError(f"{path}: the gzip data is corrupt or truncated ({e}); delete the file and fetch it "
                       "again") from None


def read_idx(path: "str | Path") -> numpy.ndarray:
    """Read an IDX file (optionally gzipped: detected from its first bytes) into a NumPy array in
    native byte order.  Raises :class:`IDXError`, naming the file, for a bad magic number, a
    header that does not fit, or a data size that disagrees with the header."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: only {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        magic = int.from_bytes(raw[:4], "big")
        raise IDXError(f"{path}: not an IDX file (magic number 0x{magic:08X}; expected 0x000008dd-style "
                       "with 2 zero bytes, a type byte 08/09/0B/0C/0D/0E and a non-zero dimension count)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, {ndim} dimensions need {header})")
    dims = tuple(int(d) for d in numpy.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = numpy.dtype(IDX_TYPES[raw[2]])
    need = math.prod(dims) * dtype.itemsize
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "has trailing bytes"
        raise IDXError(f"{path}: {what}: the header says shape {dims} of {dtype.name} ({need} bytes of data) but "
                       f"the file holds {have}; delete it and fetch it again")
    arr = numpy.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else arr


def write_idx(path: "str | Path", array: numpy.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``compress`` or when the name ends in ``.gz``)."""
    path = Path(path)
    arr = numpy.asarray(array)
    code = _CODES.get(arr.dtype if arr.dtype.isnative else arr.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {arr.dtype} has no IDX type code (use uint8, int8, int16, int32, "
                        "float32 or float64)")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got shape {arr.shape}")
    body = bytes([0, 0, code, arr.ndim]) + numpy.asarray(arr.shape, dtype=">u4").tobytes()
    big_endian = arr.dtype.newbyteorder(">") if arr.dtype.itemsize > 1 else arr.dtype
    body += numpy.ascontiguousarray(arr, dtype=big_endian).tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        body = gzip.compress(body, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path
