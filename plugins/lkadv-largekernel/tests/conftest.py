"""Fixtures for the plugin's tests: hermetic settings, a plugin host, BatchNorm randomization.

Runnable from the repository root (``pytest plugins/lkadv-largekernel/tests``), with the plugin
installed or not: its ``src`` folder is put on the path when it is not importable.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

SRC = Path(__file__).resolve().parents[1] / "src"
if importlib.util.find_spec("lkadv_largekernel") is None:
    sys.path.insert(0, str(SRC))


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory, monkeypatch):
    """No network, no user caches: weights dir, lkadv cache and Hugging Face cache are empty temp folders."""
    import huggingface_hub.constants as hf_constants

    root = tmp_path_factory.mktemp("lkenv")
    for name in ("weights", "cache", "hf"):
        (root / name).mkdir()
    monkeypatch.setenv("LKADV_WEIGHTS_DIR", str(root / "weights"))
    monkeypatch.setenv("LKADV_CACHE", str(root / "cache"))
    monkeypatch.setenv("LKADV_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(root / "hf"))
    monkeypatch.delenv("LKADV_LK_IMPL", raising=False)
    return root


@pytest.fixture(scope="session")
def lk_host():
    """Built-in plugins plus this plugin, loaded as lkadv loads any plugin (not from metadata)."""
    from lkadv.plugins import PluginHost
    from lkadv_largekernel import _plugin

    host = PluginHost(entry_points=False, extra=[("largekernel", _plugin)])
    assert host.plugins["largekernel"].status == "ok", host.plugins["largekernel"].errors
    return host


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial statistics and affine terms, and GRN/layer scale real values.

    Trained networks have running means far from 0, variances far from 1 and sizeable layer
    scales; with the defaults (0, 1, 1e-6) a wrong merge could hide behind identity maps.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 1.5 + 0.3)
                m.weight.copy_(torch.randn(m.num_features, generator=gen) * 0.3 + 1)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.2)
        for name, p in model.named_parameters():
            if name.split(".")[-1] in ("gamma", "beta"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return model.eval()


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """``max|a - b| / max|a|``: the core's measure of a merge."""
    return float((a - b).abs().max() / a.abs().max())
