"""The shipped mini zoo: weights, manifest, measured accuracy, and the training code itself."""

import json

import numpy as np
import pytest
import torch

from lkadv.datasets._fashion_mnist import load_fashion_mnist
from lkadv.downloads import sha256_file
from lkadv.models import build_classifier
from lkadv.zoo import ZOO
from lkadv.zoo._plugin import weights_dir
from lkadv.zoo._train import evaluate, train_entry, train_zoo

MANIFEST = json.loads((weights_dir() / "manifest.json").read_text())


def test_every_architecture_family_is_shipped():
    families = {e.family for e in ZOO}
    assert {"resnet", "convnext", "replknet", "slak", "vit", "gauss"} <= families
    assert set(MANIFEST) == {e.name for e in ZOO}


def test_weights_fit_the_budget_and_match_the_manifest():
    files = [weights_dir() / m["file"] for m in MANIFEST.values()]
    assert sum(f.stat().st_size for f in files) <= 5 * 1024 * 1024
    for meta, path in zip(MANIFEST.values(), files, strict=True):
        assert sha256_file(path) == meta["sha256"]


@pytest.fixture(scope="module")
def test_split():
    return load_fashion_mnist("test")


@pytest.mark.parametrize("name", [e.name for e in ZOO])
def test_recorded_accuracy_is_measured_and_at_least_88(host, test_split, name):
    spec = host.registries.models.get(name)
    assert spec.clean_accuracy is not None and spec.clean_accuracy >= 0.88
    clf, report = build_classifier(spec)  # merged where possible, through the core's check
    images, labels = test_split
    correct = 0
    with torch.inference_mode():
        for i in range(0, 10000, 2000):
            x = torch.from_numpy(images[i : i + 2000]).float().div(255)[:, None]
            correct += int((clf(x).argmax(1) == torch.from_numpy(labels[i : i + 2000])).sum())
    assert correct / 10000 == pytest.approx(spec.clean_accuracy, abs=0.0006)  # the manifest rounds to 4 places
    if "reparam" in spec.tags:
        assert report.merged and report.reparam_rel_err < 1e-5


def test_training_code_learns(tmp_path, test_split):
    images, labels = test_split
    entry = next(e for e in ZOO if e.name == "fm-resnet")
    model = train_entry(entry, (images[:2048], labels[:2048]), epochs=2, batch=64, log=False)
    acc = evaluate(model, images[5000:6000], labels[5000:6000])
    assert acc > 0.5  # chance is 0.1


def test_train_zoo_writes_weights_and_manifest(tmp_path, monkeypatch):
    images, labels = load_fashion_mnist("test")
    subset = (images[:256], labels[:256])
    monkeypatch.setattr("lkadv.zoo._train.load_fashion_mnist", lambda split, root=None, download=False: subset)
    monkeypatch.setattr("lkadv.zoo._train.ZOO", [e for e in ZOO if e.name == "fm-vit"])
    monkeypatch.setattr(
        "lkadv.zoo._train.train_entry",
        lambda entry, train, seed=0: train_entry(entry, train, epochs=0.5, batch=64, log=False),
    )
    manifest = train_zoo(tmp_path)
    meta = manifest["fm-vit"]
    assert (tmp_path / "fm-vit.safetensors").is_file()
    assert meta["sha256"] == sha256_file(tmp_path / "fm-vit.safetensors")
    assert 0 <= meta["clean_accuracy"] <= 1 and np.isfinite(meta["clean_accuracy"])
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest


def test_shipped_files_are_world_readable():
    for path in weights_dir().iterdir():
        assert path.stat().st_mode & 0o044 == 0o044, path
