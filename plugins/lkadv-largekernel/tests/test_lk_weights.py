"""Finding and fetching official files: local folders, caches, URLs with sha256, the Hub, clear failures."""

import dataclasses
import hashlib
from pathlib import Path

import pytest
import torch

from conftest import randomize, rel_err
from lkadv.errors import WeightsError
from lkadv_largekernel import WEIGHTS, build, find_weights, load_pretrained, obtain_weights
from lkadv_largekernel._catalog import Source
from lkadv_largekernel._weights import download_dir

UNI_A = WEIGHTS["unireplknet_a.in1k"]


def _save_uni_a(path: Path, seed: int = 0):
    torch.manual_seed(seed)
    model = randomize(build("unireplknet_a"), seed)
    torch.save({"model": model.state_dict()}, path)
    return model


def test_registry_entries_are_consistent():
    for name, entry in WEIGHTS.items():
        assert name == entry.name and name.startswith(entry.arch + ".")
        assert entry.sources and entry.filename and entry.input_size in (224, 320, 384)
        assert (entry.crop_mode, entry.crop_pct) in (("center", 0.875), ("squash", 1.0))
        assert entry.crop_mode == "squash" or entry.input_size < 384
        hf = [s for s in entry.sources if s.kind == "hf"]
        assert all(s.filename == entry.filename for s in hf)
    assert WEIGHTS["replknet_xl.megdata73m_ft_in1k_320"].mean == (0.5, 0.5, 0.5)
    assert WEIGHTS["replknet_31b.in1k"].mean == (0.485, 0.456, 0.406)


def test_lookup_order_weights_dir_then_cache_then_hub_cache(hermetic, monkeypatch):
    assert find_weights(UNI_A) is None
    # Hugging Face cache layout: models--ORG--REPO/snapshots/REV/FILE with refs/main naming REV.
    repo = hermetic / "hf" / "models--DingXiaoH--UniRepLKNet"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / UNI_A.filename).write_bytes(b"hub")
    assert find_weights(UNI_A) == snap / UNI_A.filename
    download_dir().mkdir(parents=True)
    (download_dir() / UNI_A.filename).write_bytes(b"cache")
    assert find_weights(UNI_A) == download_dir() / UNI_A.filename
    (hermetic / "weights" / "unireplknet_a.in1k.safetensors").write_bytes(b"own name")
    assert find_weights(UNI_A) == hermetic / "weights" / "unireplknet_a.in1k.safetensors"
    (hermetic / "weights" / UNI_A.filename).write_bytes(b"official name")
    assert find_weights(UNI_A) == hermetic / "weights" / UNI_A.filename


def test_missing_weights_fail_with_file_settings_and_sources(hermetic):
    with pytest.raises(WeightsError) as info:
        obtain_weights(WEIGHTS["replknet_31b.in22k_ft_in1k"])
    msg = str(info.value)
    for part in (
        "RepLKNet-31B_ImageNet-22K-to-1K_224.pth",
        "LKADV_WEIGHTS_DIR",
        str(hermetic / "weights"),
        "drive.google.com/file/d/1DslZ2voXZQR1QoFY9KnbsHAeF84hzS0s",
        "LKADV_OFFLINE",
        "lkadv doctor",
    ):
        assert part in msg, part


def _url_entry(url: str, sha256: str | None = None):
    return dataclasses.replace(UNI_A, sources=(Source("url", url),), sha256=sha256, filename="uni_a_test.pth")


def test_url_download_checks_sha256_and_caches(hermetic, tmp_path, monkeypatch):
    monkeypatch.delenv("LKADV_OFFLINE")
    src = tmp_path / "served.pth"
    _save_uni_a(src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    got = obtain_weights(_url_entry(src.as_uri(), digest))
    assert got == download_dir() / "uni_a_test.pth" and got.read_bytes() == src.read_bytes()
    src.unlink()  # a second lookup must not need the source
    assert obtain_weights(_url_entry("file:///nonexistent", digest)) == got
    got.unlink()
    bad = tmp_path / "other.pth"
    bad.write_bytes(b"not the file")
    with pytest.raises(WeightsError, match="does not match the expected"):
        obtain_weights(_url_entry(bad.as_uri(), digest))
    assert not (download_dir() / "uni_a_test.pth").exists()


def test_url_serving_html_is_reported(hermetic, tmp_path, monkeypatch):
    monkeypatch.delenv("LKADV_OFFLINE")
    page = tmp_path / "uc"
    page.write_text("<html><head><title>Google Drive - Virus scan warning</title>")
    with pytest.raises(WeightsError, match=r"(?s)returned an HTML page.*uni_a_test\.pth"):
        obtain_weights(_url_entry(page.as_uri()))


def test_hub_download_offline_fails_clearly(hermetic, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    calls = []

    def offline(repo_id, filename, **kwargs):
        calls.append((repo_id, filename))
        raise LocalEntryNotFoundError("Cannot find the requested files in the disk cache and outgoing traffic is off.")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    monkeypatch.delenv("LKADV_OFFLINE")
    with pytest.raises(WeightsError) as info:
        obtain_weights(UNI_A)
    assert calls == [("DingXiaoH/UniRepLKNet", UNI_A.filename)]
    msg = str(info.value)
    assert "Hugging Face Hub repo DingXiaoH/UniRepLKNet" in msg and "LocalEntryNotFoundError" in msg
    assert "LKADV_WEIGHTS_DIR" in msg and UNI_A.filename in msg


def test_hub_download_is_used_when_allowed(hermetic, tmp_path, monkeypatch):
    import huggingface_hub

    served = tmp_path / UNI_A.filename
    served.write_bytes(b"weights")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename, **kw: str(served))
    assert obtain_weights(UNI_A, download=True) == served


def test_load_pretrained_builds_the_official_network_from_the_weights_dir(hermetic, tmp_path):
    source = _save_uni_a(hermetic / "weights" / UNI_A.filename, seed=3)
    model = load_pretrained("unireplknet_a.in1k")
    assert not model.training
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert rel_err(source(x), model(x)) == 0.0
    other = _save_uni_a(tmp_path / "elsewhere.pth", seed=4)  # an explicit file wins over the lookup
    with torch.no_grad():
        assert rel_err(other(x), load_pretrained("unireplknet_a.in1k", file=str(tmp_path / "elsewhere.pth"))(x)) == 0
