"""Shared fixtures: a plugin host, tiny models, and fake plugin distributions."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from lkadv.plugins import PluginHost


def pytest_configure(config: pytest.Config) -> None:
    # The kit's fixtures come from the pytest11 entry point; an editable install made
    # before that entry point existed lacks it, so register the module by hand then.
    if not config.pluginmanager.has_plugin("lkadv"):
        from lkadv.testing import _pytest_plugin

        config.pluginmanager.register(_pytest_plugin, "lkadv")


@pytest.fixture(scope="session")
def host() -> PluginHost:
    """The built-in plugins only (no third-party entry points)."""
    return PluginHost(entry_points=False)


class TinyNet(nn.Module):
    """A small CNN on 1x8x8 inputs, random but fixed weights."""

    def __init__(self, classes: int = 4, seed: int = 0, channels: int = 1) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(channels, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 16, classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            self.bn.running_mean.copy_(torch.randn(6, generator=g) * 0.1)
            self.bn.running_var.copy_(torch.rand(6, generator=g) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(nn.functional.avg_pool2d(x, 2).flatten(1))


@pytest.fixture
def tiny_classifier():
    """A Classifier around TinyNet (mean 0.5, std 0.25)."""
    from lkadv.models import Classifier

    return Classifier(TinyNet(), mean=(0.5,), std=(0.25,), num_classes=4, name="tiny")


def make_distribution(
    root: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Write an installed-looking distribution (dist-info + modules) under ``root``."""
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[lkadv]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


BROKEN_IMPORT = """
raise RuntimeError("this plugin is broken on purpose")
"""

BROKEN_HOOK = """
from lkadv import hookimpl

@hookimpl
def lkadv_register_models(registry):
    raise ValueError("hook exploded")
"""

GOOD_PLUGIN = """
from lkadv import hookimpl, AttackSpec

def _factory(norm="linf"):
    def attack(classifier, x, y, eps, generator):
        return x.clone()
    return attack

@hookimpl
def lkadv_register_attacks(registry):
    registry.register(
        AttackSpec(name="noop", norms=("linf",), factory=_factory, description="does nothing", backend="tests")
    )
"""


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Three installed plugins: one raising on import, one whose hook raises, one good."""
    make_distribution(
        tmp_path,
        "lkadv-broken-import",
        "1.0",
        {"broken_import": "lkadv_fake_broken_import"},
        {"lkadv_fake_broken_import": BROKEN_IMPORT},
    )
    make_distribution(
        tmp_path,
        "lkadv-broken-hook",
        "2.0",
        {"broken_hook": "lkadv_fake_broken_hook"},
        {"lkadv_fake_broken_hook": BROKEN_HOOK},
    )
    make_distribution(tmp_path, "lkadv-good", "3.0", {"good": "lkadv_fake_good"}, {"lkadv_fake_good": GOOD_PLUGIN})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    yield tmp_path
    for name in ("lkadv_fake_broken_import", "lkadv_fake_broken_hook", "lkadv_fake_good"):
        sys.modules.pop(name, None)
