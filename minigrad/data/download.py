"""Downloading data files: mirrors tried in turn, sha256-checked, resumable and atomic.

``download_file(urls, dest, sha256=..., sha256_decompressed=...)``:

* bytes go to ``dest + '.part'``; an existing ``.part`` is resumed with an HTTP ``Range``
  request (a server that ignores Range sends the whole file, which then replaces the part);
* the finished part is checked against ``sha256`` (of the file as served) or
  ``sha256_decompressed`` (of its gunzipped content — robust to a mirror that recompressed
  the file); only a file that passes is renamed onto ``dest`` (``os.replace``, atomic), so
  ``dest`` is either absent or complete and verified;
* a checksum failure deletes the part (a resumed part is retried once from byte 0) and moves on
  to the next mirror; when every mirror fails, :class:`DownloadError` lists each failure and
  says where to put the file by hand;
* a tqdm progress bar is shown when tqdm is installed (silently none otherwise).

The cache folder is ``$MINIGRAD_DATA`` if set, else ``~/.cache/minigrad`` (:func:`default_root`).
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Iterable

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No mirror delivered a file whose checksum matched."""


class _Incomplete(OSError):
    """The connection ended before Content-Length bytes arrived (the part is kept for resuming)."""


def default_root() -> Path:
    """Where datasets live: ``$MINIGRAD_DATA`` if set, else ``~/.cache/minigrad``."""
    env = os.environ.get("MINIGRAD_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minigrad"


def mirrors_from_env(var: str, default: Iterable[str]) -> list:
    """Mirror base URLs from environment variable ``var`` (comma or whitespace separated), else ``default``."""
    raw = os.environ.get(var, "").replace(",", " ").split()
    return raw if raw else list(default)


def sha256_of(path: "str | Path", decompress: bool = False) -> str:
    """Hex sha256 of a file's bytes, or (``decompress=True``) of its gunzipped content."""
    h = hashlib.sha256()
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def checksum_ok(path: "str | Path", sha256: str | None = None, sha256_decompressed: str | None = None) -> bool:
    """Whether ``path`` matches ``sha256`` (its bytes) or ``sha256_decompressed`` (its content after
    gunzip; a file that is not gzip is hashed as is).  True when neither checksum is given."""
    path = Path(path)
    if sha256 is None and sha256_decompressed is None:
        return True
    if sha256 is not None and sha256_of(path) == sha256.lower():
        return True
    if sha256_decompressed is not None:
        try:
            return sha256_of(path, decompress=_is_gzip(path)) == sha256_decompressed.lower()
        except (OSError, EOFError, zlib.error):  # a corrupt gzip stream simply does not match
            return False
    return False


def _progress_bar(total: int | None, initial: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: no bar then
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _fetch(url: str, part: Path, timeout: float, progress: bool) -> bool:
    """Fetch ``url`` into ``part``, resuming from its current size.  Returns whether it resumed."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "minigrad-data/1", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the part is already whole; let the checksum decide
            return True
        raise
    with resp:
        resumed = bool(have) and resp.status == 206
        if resumed:
            content_range = resp.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {have}-"):
                raise OSError(f"server answered Range bytes={have}- with Content-Range {content_range!r}")
        else:
            have = 0  # a plain 200: the server sent the whole file
        length = resp.headers.get("Content-Length")
        expected = int(length) if length is not None and length.isdigit() else None
        bar = _progress_bar(None if expected is None else have + expected, have, part.name[:-5], progress)
        got = 0
        try:
            with open(part, "ab" if resumed else "wb") as f:
                for chunk in iter(lambda: resp.read(CHUNK), b""):
                    f.write(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                f.flush()
                os.fsync(f.fileno())
        finally:
            if bar is not None:
                bar.close()
    if expected is not None and got < expected:
        raise _Incomplete(f"connection closed after {have + got} of {have + expected} bytes (kept {part.name} "
                          "to resume)")
    return resumed


def download_file(urls: "str | Iterable[str]", dest: "str | Path", *, sha256: str | None = None,
                  sha256_decompressed: str | None = None, progress: bool = True, timeout: float = 30.0,
                  hint: str | None = None) -> Path:
    """Download ``dest`` from the first of ``urls`` that delivers a file passing the checksum.

    Args:
        urls: full URLs of the same file on different mirrors (``http`` or ``https``), tried in order.
        dest: the final path; its folder is created.
        sha256 / sha256_decompressed: accepted checksums (see :func:`checksum_ok`); give at least one.
        progress: show a tqdm bar if tqdm is installed.
        timeout: seconds per network operation.
        hint: extra text for the error (e.g. which other files to put where).

    Returns ``dest``.  Raises :class:`DownloadError` when no mirror succeeds.
    """
    if sha256 is None and sha256_decompressed is None:
        raise ValueError("download_file needs sha256 or sha256_decompressed: files are never used unchecked")
    urls = [urls] if isinstance(urls, str) else list(urls)
    dest = Path(dest)
    for url in urls:
        if not url.lower().startswith(("https://", "http://")):
            raise ValueError(f"download_file: only http(s) URLs are supported, got {url!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failures = []
    for url in urls:
        for attempt in (0, 1):  # attempt 1: a resumed part failed its checksum; start from byte 0
            try:
                resumed = _fetch(url, part, timeout, progress)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                reason = getattr(e, "reason", None) or e
                failures.append(f"{url}: {reason}")
                break
            if checksum_ok(part, sha256, sha256_decompressed):
                os.replace(part, dest)
                return dest
            part.unlink(missing_ok=True)
            if not resumed:
                failures.append(f"{url}: sha256 mismatch (the file is corrupt or not the expected one; deleted)")
                break
    where = dest.parent
    message = (f"could not download {dest.name} from any mirror:\n  " + "\n  ".join(failures or ["(no mirrors)"]) +
               f"\nWithout network access, put the file yourself at {dest} (gzipped or not)"
               f"{'; ' + hint if hint else ''}, or point MINIGRAD_DATA at a folder that holds {where.name}/.")
    raise DownloadError(message)
