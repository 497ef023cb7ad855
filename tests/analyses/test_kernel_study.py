"""Kernel attention through analyze: the large branch read before merging, for declared and discovered models."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lkadv.analyses import analyze, combine_branches, kernel_scores
from lkadv.config import load_options
from lkadv.plugins import PluginHost, hookimpl
from lkadv.specs import ModelSpec


def _scores(tmp_path: Path, models: str, host: PluginHost, **params: str) -> dict[str, Any]:
    options = load_options({"models": models, "limit": "8", "run_dir": tmp_path}, env={}, config_file=None)
    analyze(options, "kernel-attention", {"kernel-attention": params} if params else {}, host=host)
    return json.loads((tmp_path / "analyses" / "kernel-attention.json").read_text())


def test_slak_large_branch_is_its_two_decomposed_kernels(tmp_path: Path) -> None:
    host = PluginHost(entry_points=False)
    rows = _scores(tmp_path, "fm-slak", host)["rows"]
    spec = host.registries.models.get("fm-slak")
    assert callable(spec.factory)
    net = spec.factory(**spec.factory_kwargs)
    lk = net.stages[0][0].large_kernel
    expected = kernel_scores(combine_branches([lk.LoRA1.conv.weight, lk.LoRA2.conv.weight]))
    assert rows[0]["size"] == 13
    assert rows[0]["mean"] == round(float(expected.mean()), 5)


class TwoBranch(nn.Module):
    """A parallel 9x9 and 3x3 depthwise pair that reparameterize() merges into one 9x9 conv."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Conv2d(1, 4, 1)
        self.big = nn.Conv2d(4, 4, 9, padding=4, groups=4, bias=False)
        self.small: nn.Conv2d | None = nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)
        self.head = nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        y = self.big(y) + (self.small(y) if self.small is not None else 0)
        return self.head(y.mean((2, 3)))

    def reparameterize(self) -> None:
        if self.small is not None:
            self.big.weight.data += nn.functional.pad(self.small.weight.data, (3, 3, 3, 3))
            self.small = None


def _host() -> PluginHost:
    @hookimpl
    def lkadv_register_models(registry: Any) -> None:
        registry.register(
            ModelSpec(
                name="two-branch",
                family="toy",
                factory=TwoBranch,
                label_space="fashion-mnist",
                num_classes=10,
                input_size=(1, 28, 28),
                mean=(0.5,),
                std=(0.5,),
            )
        )

    plugin = types.SimpleNamespace(lkadv_register_models=lkadv_register_models, __name__="two_branch")
    return PluginHost(entry_points=False, extra=[("two-branch", plugin)])


def test_discovered_kernels_before_and_after_merging(tmp_path: Path) -> None:
    net = TwoBranch()
    before = [kernel_scores(net.big.weight), kernel_scores(net.small.weight)]  # type: ignore[union-attr]
    large = _scores(tmp_path / "a", "two-branch", _host())["rows"]
    assert [r["size"] for r in large] == [9, 3]  # both depthwise convs, as they are before merging
    assert [r["mean"] for r in large] == [round(float(s.mean()), 5) for s in before]
    net.reparameterize()
    merged = _scores(tmp_path / "b", "two-branch", _host(), variant="merged")["rows"]
    assert [r["size"] for r in merged] == [9]
    assert merged[0]["mean"] == round(float(kernel_scores(net.big.weight).mean()), 5)
