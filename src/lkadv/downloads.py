"""Downloading files into a content-checked cache.

Used for training data and for checkpoints. A download is written to a temporary
file in the cache folder, checked (HTML pages that hosts serve instead of the
file, size, sha256) and only then renamed into place, so a crash or a bad
download never leaves a file that a later call would trust.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from lkadv.config import download_cache
from lkadv.errors import WeightsError

__all__ = ["cache_dir", "fetch", "looks_like_html", "sha256_file"]

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The download cache: ``$LKADV_CACHE`` or ``~/.cache/lkadv`` (see :func:`lkadv.config.download_cache`)."""
    return download_cache()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def looks_like_html(path: Path) -> bool:
    """Whether a file starts like an HTML page (a login or quota page saved as weights)."""
    with path.open("rb") as fh:
        head = fh.read(512).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))


def fetch(url: str, *, sha256: str | None = None, filename: str | None = None, folder: Path | None = None) -> Path:
    """Return a local copy of ``url``, downloading it once into the cache.

    ``file://`` URLs and plain paths are copied like any other source, which is
    how the tests exercise this code offline.

    Args:
        url: Source address (``https://``, ``http://`` or ``file://``) or a local path.
        sha256: Expected hex digest; checked on download and on every cache hit.
        filename: Name in the cache (default: last part of the URL).
        folder: Cache folder (default: :func:`cache_dir` / ``downloads``).

    Returns:
        Path of the verified file in the cache.

    Raises:
        WeightsError: If the download fails, is an HTML page, or has the wrong hash.
    """
    folder = folder or cache_dir() / "downloads"
    name = filename or url.rstrip("/").rsplit("/", 1)[-1]
    target = folder / name
    if target.is_file():
        if sha256 is None or sha256_file(target) == sha256:
            return target
        target.unlink()  # a stale or tampered copy: fetch it again
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if "://" not in url:
                with Path(url).open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
            else:
                if not url.startswith(("https://", "http://", "file://")):
                    raise WeightsError(f"unsupported URL scheme in {url!r}; use https://, http:// or file://")
                request = urllib.request.Request(url, headers={"User-Agent": "lkadv"})  # noqa: S310 - checked above
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - scheme checked above
                    shutil.copyfileobj(response, out, _CHUNK)
        if looks_like_html(tmp):
            raise WeightsError(
                f"{url} returned an HTML page, not the file (a Google Drive confirmation or quota page?). "
                f"Download it in a browser and pass the local path instead."
            )
        if sha256 is not None:
            got = sha256_file(tmp)
            if got != sha256:
                raise WeightsError(f"{url}: sha256 {got} does not match the expected {sha256}")
        os.replace(tmp, target)
    except OSError as exc:
        raise WeightsError(f"cannot download {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target
