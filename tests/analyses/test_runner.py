"""analyze(): exact clean baselines, resume, kill safety, keys that follow the parameters, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from lkadv.analyses import AnalysisStore, analyze
from lkadv.config import load_options
from lkadv.datasets import load_fashion_mnist
from lkadv.models import build_classifier
from lkadv.planner import balanced_subset
from lkadv.plugins import PluginHost

LIMIT = 40
PARAMS = {"occlusion": {"modes": "random", "steps": "3"}, "lesion": {"draws": "2"}}


def _options(run_dir: Path, models: str = "fm-resnet,fm-replknet") -> Any:
    return load_options(
        {"models": models, "limit": str(LIMIT), "run_dir": run_dir, "device": "cpu"}, env={}, config_file=None
    )


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost(entry_points=False)


def _clean_accuracy(host: PluginHost, name: str) -> float:
    images, labels = load_fashion_mnist("test")
    subset = balanced_subset([f"t10k/{i:05d}" for i in range(len(labels))], labels.tolist(), LIMIT, 0)
    pos = list(subset.positions)
    x = torch.from_numpy(images[pos]).float().div(255)[:, None]
    clf, _ = build_classifier(host.registries.models.get(name), channels_last=False)
    with torch.no_grad():
        return float((clf(x).argmax(1) == torch.from_numpy(labels[pos])).double().mean())


def test_zero_occlusion_and_zero_lesion_equal_clean_accuracy_exactly(tmp_path: Path, host: PluginHost) -> None:
    result = analyze(_options(tmp_path), "occlusion,lesion", PARAMS, host=host)
    for model in ("fm-resnet", "fm-replknet"):
        clean = _clean_accuracy(host, model)
        occ = next(r for r in result.tables["occlusion"] if r["model"] == model and r["level"] == 0.0)
        les = next(r for r in result.tables["lesion"] if r["model"] == model and r["blocks"] == 0)
        assert occ["accuracy"] == round(clean, 4) and les["accuracy"] == round(clean, 4)
        assert occ["dropped"] == 0.0


def test_rerun_computes_nothing_and_a_new_parameter_only_its_units(tmp_path: Path, host: PluginHost) -> None:
    first = analyze(_options(tmp_path), "occlusion,lesion", PARAMS, host=host)
    assert first.computed == len(first.units) > 0
    assert analyze(_options(tmp_path), "occlusion,lesion", PARAMS, host=host).computed == 0
    more = {**PARAMS, "lesion": {"draws": "3"}}
    third = analyze(_options(tmp_path), "occlusion,lesion", more, host=host)
    lesion_units = [u for u in third.units if u.analysis == "lesion"]
    assert third.computed == len(lesion_units)  # occlusion's keys did not move
    other_seed = load_options({"models": "fm-resnet", "limit": str(LIMIT), "run_dir": tmp_path, "seed": "1"}, env={})
    assert analyze(other_seed, "occlusion", {"occlusion": PARAMS["occlusion"]}, host=host).computed == 3


def test_a_kill_keeps_finished_units_and_the_rerun_does_the_rest(tmp_path: Path, host: PluginHost) -> None:
    done: list[str] = []

    def stop_after_three(unit: Any, _seconds: float) -> None:
        done.append(unit.key)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze(_options(tmp_path), "occlusion,lesion", PARAMS, host=host, progress=stop_after_three)
    with AnalysisStore(tmp_path) as store:
        assert store.done(done) == set(done)
    rest = analyze(_options(tmp_path), "occlusion,lesion", PARAMS, host=host)
    assert rest.computed == len(rest.units) - 3


def test_every_analysis_shows_large_small_kernel_and_vit_side_by_side(tmp_path: Path, host: PluginHost) -> None:
    params = {
        **PARAMS,
        "occlusion": {"steps": "2", "lambdas": "0.5"},
        "erf": {"images": "4"},
        "frequency": {"step": "0.5"},
    }
    result = analyze(_options(tmp_path, "fm-replknet,fm-replknet-k3,fm-vit"), "all", params, host=host)
    folder = tmp_path / "analyses"
    for name in ("occlusion", "kernel-attention", "frequency", "feature-variance", "lesion", "erf"):
        assert (folder / f"{name}.svg").stat().st_size > 1000 and (folder / f"{name}.png").stat().st_size > 1000
        table = json.loads((folder / f"{name}.json").read_text())
        shown = {r["model"] for r in table["rows"]} | {s["model"] for s in table["skipped"]}
        assert shown == {"fm-replknet", "fm-replknet-k3", "fm-vit"}, name
    skipped = {(s["model"], s["analysis"]) for s in result.skipped}
    assert ("fm-vit", "kernel-attention") in skipped
    assert {s["analysis"] for s in result.skipped} == {"kernel-attention", "shape-bias"}
    assert (folder / "shape-bias.md").read_text().count("skipped") == 3
