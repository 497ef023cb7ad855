import gzip

import numpy as np
import pytest

from lkadv.datasets import read_idx
from lkadv.datasets._fashion_mnist import _SHA256, _shipped_dir, load_fashion_mnist
from lkadv.downloads import sha256_file
from lkadv.errors import DataError


def test_shipped_split_is_the_official_bytes():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert sha256_file(_shipped_dir() / name) == _SHA256[name]
    assert (_shipped_dir() / "LICENSE").read_text().count("MIT") >= 1


def test_test_split_shapes_and_balance():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10


def test_idx_errors(tmp_path):
    good = tmp_path / "x.idx"
    good.write_bytes(bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    assert read_idx(good).tolist() == [1, 2, 3]
    (tmp_path / "short.idx").write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + bytes([1, 2, 3]))
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "bad.idx")
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(good.read_bytes())[:10])
    with pytest.raises(DataError, match="cannot read"):
        read_idx(broken)
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "missing.idx")


def test_missing_train_split_names_the_settings(monkeypatch, tmp_path):
    monkeypatch.setattr("lkadv.datasets._fashion_mnist._DEBIAN", tmp_path / "nope")
    with pytest.raises(DataError, match=r"\[data\] fashion-mnist.*LKADV_DATA_FASHION_MNIST.*dataset-fashion-mnist"):
        load_fashion_mnist("train", root=tmp_path)
    with pytest.raises(DataError, match="unknown Fashion-MNIST split"):
        load_fashion_mnist("val")


def test_the_configured_root_is_honoured(tmp_path):
    """``[data] fashion-mnist = PATH`` reaches the loader: a run reads that folder's files, not the shipped ones."""
    import shutil

    from lkadv.config import load_options
    from lkadv.datasets._fashion_mnist import _shipped_dir
    from lkadv.errors import DataError as Missing
    from lkadv.plugins import PluginHost
    from lkadv.runner import run

    root = tmp_path / "fm"
    root.mkdir()
    cfg = tmp_path / "lkadv.toml"
    cfg.write_text(f'[data]\nfashion-mnist = "{root}"\n')
    opts = load_options({"models": "fm-resnet", "limit": 10, "run_dir": tmp_path / "r"}, env={}, config_file=cfg)
    with pytest.raises(Missing, match=str(root)):  # the configured, empty folder is read: no silent fallback
        run(opts, host=PluginHost(entry_points=False), progress=False)
    for f in _shipped_dir().glob("t10k-*"):
        shutil.copy(f, root / f.name)
    result = run(opts, host=PluginHost(entry_points=False), progress=False)
    assert result.plan.data_info["source"] == str(root)
