"""Preprocessing per model, the no-resize rule for images stored at 224, and real timm models end to end."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lkadv import ModelSpec
from lkadv.datasets._files import FileImageSet, FileSamples
from lkadv.errors import ConfigError
from lkadv.planner import preprocessing_for
from lkadv.specs import Preprocessing
from tests.datasets.imagenet.helpers import options, run_oracle


def _model(size: int, crop: float = 0.875) -> ModelSpec:
    return ModelSpec(
        name=f"m{size}",
        family="x",
        factory="x:y",
        label_space="imagenet-1k",
        num_classes=1000,
        input_size=(3, size, size),
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        interpolation="bicubic",
        crop_pct=crop,
    )


@pytest.mark.parametrize("dataset", ["imagenet-c", "imagenet-9", "imagenet-p"])
def test_stored_at_224_are_not_resized_for_224_models(host, dataset, tmp_path):
    spec = host.registries.datasets.get(dataset)
    pre = preprocessing_for(spec, _model(224))
    assert pre.key() == "3x224x224-bicubic-crop1-center"  # recorded in every cell key
    assert preprocessing_for(spec, _model(384, 1.0)).key() == "3x384x384-bicubic-crop1-center"
    assert preprocessing_for(host.registries.datasets.get("imagenet"), _model(224)).key().endswith("crop0.875-center")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "x.png")
    samples = FileSamples.of_images(tmp_path, ["x.png"], [0])
    loaded = FileImageSet(samples, pre, dataset=dataset, version="1").load_uint8([0])
    assert np.array_equal(loaded[0].numpy().transpose(1, 2, 0), pixels)  # fed exactly as stored
    resized = FileImageSet(samples, Preprocessing((3, 224, 224), "bicubic", 0.875), dataset=dataset, version="1")
    assert not np.array_equal(resized.load_uint8([0])[0].numpy().transpose(1, 2, 0), pixels)


def test_subset_and_limit_do_not_mix(data_root, oracle_host, tmp_path):
    from lkadv.runner import plan_run

    opts = options("imagenet-a", {"imagenet-a": data_root / "imagenet-a"}, tmp_path, subset="fixed-20", limit=5)
    with pytest.raises(ConfigError, match="either --subset or --limit"):
        plan_run(opts, oracle_host)


def test_fixed_subset_ids_are_recorded(data_root, oracle_host, tmp_path):
    result = run_oracle(
        "imagenet", {"imagenet": data_root / "imagenet"}, tmp_path, oracle_host, subset="fixed-200", limit=None
    )
    assert len(result.plan.subset) == 200 and result.plan.subset.rule == "fixed(n=200)"
    from lkadv.store import Ledger

    with Ledger(result.run_dir) as ledger:
        assert ledger.subset_ids(result.plan.subset.digest) == list(result.plan.subset.ids)


def test_timm_models_run_on_a_benchmark(data_root, oracle_host, tmp_path):
    result = run_oracle(
        "imagenet-r",
        {"imagenet-r": data_root / "imagenet-r"},
        tmp_path,
        oracle_host,
        models="timm:test_vit[pretrained=false],timm:test_resnet[pretrained=false]",
        limit=20,
    )
    pres = {c.preprocessing.key() for c in result.plan.cells}
    assert len(pres) == 2  # each model's own pretrained_cfg transform
    assert {k.split("-")[0] for k in result.plan.data_info["prepared"]} == {p.split("-")[0] for p in pres}
    assert all(c.status == "done" for c in result.summary.cells)


def test_attacks_see_the_mapped_logits(data_root, oracle_host, tmp_path):
    result = run_oracle(
        "imagenet-9",
        {"imagenet-9": data_root / "imagenet-9"},
        tmp_path,
        oracle_host,
        models="timm:test_resnet[pretrained=false]",
        attacks="fgsm",
        eps="1/255",
    )
    assert [c.label for c in result.summary.cells] == ["clean", "fgsm@1/255"]
    assert all(c.status == "done" for c in result.summary.cells)
