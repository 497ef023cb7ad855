import hashlib

import pytest

from lkadv.downloads import fetch, looks_like_html
from lkadv.errors import WeightsError


def test_fetch_file_url_checks_hash_and_caches(tmp_path):
    src = tmp_path / "w.bin"
    src.write_bytes(b"weights" * 100)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    out = fetch(src.as_uri(), sha256=digest, folder=cache)
    assert out.read_bytes() == src.read_bytes()
    src.write_bytes(b"changed")  # a cache hit does not read the source again
    assert fetch(src.as_uri(), sha256=digest, folder=cache) == out
    with pytest.raises(WeightsError, match="does not match"):
        fetch(src.as_uri(), sha256=digest, folder=tmp_path / "other")
    assert not any((tmp_path / "other").iterdir())  # nothing half-written


def test_fetch_rejects_html_and_bad_schemes(tmp_path):
    page = tmp_path / "uc"
    page.write_text("<!DOCTYPE html><html>Google Drive can't scan this file for viruses</html>")
    assert looks_like_html(page)
    with pytest.raises(WeightsError, match="HTML page"):
        fetch(page.as_uri(), folder=tmp_path / "c")
    with pytest.raises(WeightsError, match="unsupported URL scheme"):
        fetch("ftp://example.org/w.pth", folder=tmp_path / "c")


def test_stale_cache_is_replaced(tmp_path):
    src = tmp_path / "w.bin"
    src.write_bytes(b"good")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "w.bin").write_bytes(b"tampered")
    out = fetch(src.as_uri(), sha256=hashlib.sha256(b"good").hexdigest(), folder=cache)
    assert out.read_bytes() == b"good"
