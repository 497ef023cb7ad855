"""Shape bias end to end: a fake cue-conflict tree (root from the usual setting) and an oracle model."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from lkadv.analyses import analyze
from lkadv.config import load_options
from lkadv.errors import DataError
from lkadv.plugins import PluginHost, hookimpl
from lkadv.specs import ModelSpec

CATEGORIES = ("bear", "cat", "dog", "elephant")
STEP = 60  # channel value per category index


def _decides_shape(s: int, t: int) -> bool:
    return (s + t) % 3 == 0


def _tree(root: Path) -> float:
    """16 images (4 agreeing); returns the shape bias the oracle must show."""
    shape_hits = conflicts = 0
    for s, shape in enumerate(CATEGORIES):
        (root / shape).mkdir(parents=True)
        for t, texture in enumerate(CATEGORIES):
            pixel = np.zeros((8, 8, 3), np.uint8)
            pixel[..., 0], pixel[..., 1] = s * STEP, t * STEP
            pixel[..., 2] = 255 if _decides_shape(s, t) else 0
            Image.fromarray(pixel).save(root / shape / f"{shape}{s + 1}-{texture}{t + 1}.png")
            if s != t:
                conflicts += 1
                shape_hits += _decides_shape(s, t)
    # Two classes per category: the oracle puts its mass on the first, the averaging must still pick it.
    table = {c: [2 * i, 2 * i + 1] for i, c in enumerate(CATEGORIES)}
    (root / "categories.json").write_text(json.dumps({"toy-8": table}))
    return shape_hits / conflicts


class Oracle(nn.Module):
    """Answers the shape category where the blue channel says so, else the texture category."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = torch.round(x[:, 0].mean((1, 2)) * 255 / STEP).long()
        texture = torch.round(x[:, 1].mean((1, 2)) * 255 / STEP).long()
        chosen = torch.where(x[:, 2].mean((1, 2)) > 0.5, shape, texture)
        logits = torch.zeros(len(x), 8)
        logits[torch.arange(len(x)), 2 * chosen] = 8.0
        return logits


def _plugin() -> object:
    @hookimpl
    def lkadv_register_models(registry: object) -> None:
        registry.register(  # type: ignore[attr-defined]
            ModelSpec(
                name="shape-oracle",
                family="oracle",
                factory=Oracle,
                label_space="toy-8",
                num_classes=8,
                input_size=(3, 8, 8),
                mean=(0.0, 0.0, 0.0),
                std=(1.0, 1.0, 1.0),
                interpolation="nearest",
            )
        )

    return types.SimpleNamespace(lkadv_register_models=lkadv_register_models, __name__="shape_oracle")


@pytest.mark.parametrize("setting", ["config", "environment"])
def test_oracle_on_a_fake_tree_gives_its_known_shape_bias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    expected = _tree(tmp_path / "cue")
    host = PluginHost(entry_points=False, extra=[("shape-oracle", _plugin())])
    flags: dict[str, object] = {"models": "shape-oracle", "run_dir": tmp_path / "run", "device": "cpu"}
    if setting == "config":
        flags["data_roots"] = {"cue-conflict": str(tmp_path / "cue")}  # what [data] cue-conflict = "..." gives
    else:
        monkeypatch.setenv("LKADV_DATA_CUE_CONFLICT", str(tmp_path / "cue"))
    result = analyze(load_options(flags, env={}, config_file=None), "shape-bias", host=host)
    (row,) = result.tables["shape-bias"]
    assert row["conflict"] == 12 and row["shape"] + row["texture"] == 12
    assert row["shape_bias"] == round(expected, 4)
    assert 0 < expected < 1


def test_a_missing_root_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LKADV_DATA_CUE_CONFLICT", raising=False)
    monkeypatch.delenv("LKADV_DATA_ROOT", raising=False)
    host = PluginHost(entry_points=False, extra=[("shape-oracle", _plugin())])
    options = load_options({"models": "shape-oracle", "run_dir": tmp_path / "run"}, env={}, config_file=None)
    with pytest.raises(DataError, match="LKADV_DATA_CUE_CONFLICT"):
        analyze(options, "shape-bias", host=host)
    assert not (tmp_path / "run").exists()
