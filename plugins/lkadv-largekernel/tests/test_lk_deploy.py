"""Deploy (re-parameterized) checkpoints in the official layouts load through every route.

The official deploy state dicts are produced here from an unmerged model's state dict by the
official merge rules, written out independently of the plugin's code (key names, which
tensors merge, and how): RepLKNet's ``structural_reparam()`` merges only the large kernel
with its small kernel into ``large_kernel.lkb_reparam`` and keeps every other BatchNorm;
SLaK's deploy form sums ``LoRA1``, ``LoRA2`` and ``small_conv`` into ``large_kernel.lkb_reparam``;
UniRepLKNet's ``reparameterize_unireplknet()`` merges the dilated branches into
``dwconv.lk_origin`` (now with a bias), folds the BatchNorm after the depthwise conv into it,
and folds GRN's bias, the FFN's BatchNorm and the layer scale into ``pwconv2.0`` (with a bias).
A model loaded from such a file must give the unmerged model's logits.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from conftest import randomize, rel_err
from lkadv.errors import WeightsError
from lkadv.models import build_classifier
from lkadv_largekernel import ARCHITECTURES, WEIGHTS, _factory, build, load_official, load_pretrained
from test_lk_checkpoints import _replknet_31b_keys

RTOL = 1e-5  # deploy-loaded vs unmerged logits, relative to the largest logit
EPS = 1e-5  # BatchNorm's eps in all three code bases

# Reduced layouts of the published variants (same block code), keyed by the weights entry they stand in for.
SMALL = {
    "replknet_31b.in1k": {"large_kernel_sizes": (13, 11, 9, 7), "layers": (1, 1, 2, 1), "channels": (8, 16, 24, 32)},
    "replknet_xl.megdata73m_ft_in1k_320": {
        "large_kernel_sizes": (9, 9, 9, 7),
        "layers": (1, 1, 1, 1),
        "channels": (8, 16, 24, 32),
    },
    "slak_tiny.in1k": {"depths": (1, 1, 2, 1), "dims": (8, 16, 24, 32), "kernel_sizes": (13, 11, 9, 7)},
    "unireplknet_a.in1k": {
        "depths": (2, 1, 3, 1),
        "dims": (8, 16, 24, 32),
        "kernel_sizes": ((3, 5), (13,), (13, 3, 11), (7,)),
    },
}


# ---- the official merge rules, on state dicts --------------------------------------------------


def _bn_affine(sd: dict[str, torch.Tensor], bn: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and shift of an eval-mode BatchNorm stored under the prefix ``bn``."""
    scale = sd[f"{bn}.weight"] / (sd[f"{bn}.running_var"] + EPS).sqrt()
    return scale, sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale


def _fuse(sd: dict[str, torch.Tensor], conv_weight: str, bn: str) -> tuple[torch.Tensor, torch.Tensor]:
    scale, shift = _bn_affine(sd, bn)
    return sd[conv_weight] * scale.reshape(-1, 1, 1, 1), shift


def _centre(kernel: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad a ``kh x kw`` kernel to ``size x size`` around its centre."""
    kh, kw = kernel.shape[-2:]
    return F.pad(kernel, [(size - kw) // 2, (size - kw) // 2, (size - kh) // 2, (size - kh) // 2])


def _without(sd: dict[str, torch.Tensor], prefixes: list[str]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in sd.items() if not any(k.startswith(p) for p in prefixes)}


def official_replknet_deploy(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """RepLKNet's ``structural_reparam()``: ``lkb_origin`` (+ ``small_conv``) -> ``lkb_reparam``; all else kept."""
    tail = ".lkb_origin.conv.weight"
    units = [k[: -len(tail)] for k in sd if k.endswith(tail)]
    out = _without(sd, [f"{u}.lkb_origin." for u in units] + [f"{u}.small_conv." for u in units])
    for u in units:
        weight, bias = _fuse(sd, f"{u}.lkb_origin.conv.weight", f"{u}.lkb_origin.bn")
        if f"{u}.small_conv.conv.weight" in sd:
            w_small, b_small = _fuse(sd, f"{u}.small_conv.conv.weight", f"{u}.small_conv.bn")
            weight, bias = weight + _centre(w_small, weight.shape[-1]), bias + b_small
        out[f"{u}.lkb_reparam.weight"], out[f"{u}.lkb_reparam.bias"] = weight, bias
    return out


def official_slak_deploy(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """SLaK's deploy form: ``LoRA1`` (K x k) + ``LoRA2`` (k x K) + ``small_conv`` (k x k) -> ``lkb_reparam``."""
    tail = ".LoRA1.conv.weight"
    units = [k[: -len(tail)] for k in sd if k.endswith(tail)]
    out = _without(sd, [f"{u}.{b}." for u in units for b in ("LoRA1", "LoRA2", "small_conv")])
    for u in units:
        size = sd[f"{u}.LoRA1.conv.weight"].shape[-2]
        weight = bias = torch.zeros(())
        for branch in ("LoRA1", "LoRA2", "small_conv"):
            w, b = _fuse(sd, f"{u}.{branch}.conv.weight", f"{u}.{branch}.bn")
            weight, bias = weight + _centre(w, size), bias + b
        out[f"{u}.lkb_reparam.weight"], out[f"{u}.lkb_reparam.bias"] = weight, bias
    return out


def official_unireplknet_deploy(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """UniRepLKNet's ``reparameterize_unireplknet()``, block by block."""
    tail = ".se.down.weight"
    blocks = [k[: -len(tail)] for k in sd if k.endswith(tail)]
    dropped = [
        p for b in blocks for p in (f"{b}.dwconv.", f"{b}.norm.", f"{b}.pwconv2.", f"{b}.gamma", f"{b}.act.1.beta")
    ]
    out = _without(sd, dropped)
    branch_key = re.compile(r"\.dwconv\.dil_conv_k(\d+)_(\d+)\.weight$")
    for b in blocks:
        # Depthwise conv: all dilated branches into the large kernel, then the BatchNorm after it.
        if f"{b}.dwconv.lk_origin.weight" in sd:
            weight, bias = _fuse(sd, f"{b}.dwconv.lk_origin.weight", f"{b}.dwconv.origin_bn")
            size = weight.shape[-1]
            for key in sd:
                match = branch_key.search(key)
                if key.startswith(f"{b}.dwconv.") and match:
                    k, r = int(match[1]), int(match[2])
                    w, bb = _fuse(sd, key, f"{b}.dwconv.dil_bn_k{k}_{r}")
                    dense = w.new_zeros((*w.shape[:2], r * (k - 1) + 1, r * (k - 1) + 1))
                    dense[:, :, ::r, ::r] = w
                    weight, bias = weight + _centre(dense, size), bias + bb
            name = f"{b}.dwconv.lk_origin"
        else:
            weight, bias = sd[f"{b}.dwconv.weight"], torch.zeros(sd[f"{b}.dwconv.weight"].shape[0])
            name = f"{b}.dwconv"
        scale, shift = _bn_affine(sd, f"{b}.norm")
        out[f"{name}.weight"], out[f"{name}.bias"] = weight * scale.reshape(-1, 1, 1, 1), bias * scale + shift
        # FFN output: Linear (no bias) after GRN (bias beta), then BatchNorm, then layer scale gamma.
        linear = sd[f"{b}.pwconv2.0.weight"]
        scale, shift = _bn_affine(sd, f"{b}.pwconv2.2")
        gamma = sd[f"{b}.gamma"]
        projected_beta = linear @ sd[f"{b}.act.1.beta"].reshape(-1)
        out[f"{b}.pwconv2.0.weight"] = linear * (scale * gamma).reshape(-1, 1)
        out[f"{b}.pwconv2.0.bias"] = (projected_beta * scale + shift) * gamma
    return out


OFFICIAL_DEPLOY = {"replknet": official_replknet_deploy, "slak": official_slak_deploy}
OFFICIAL_DEPLOY["unireplknet"] = official_unireplknet_deploy


# ---- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def small_archs(monkeypatch):
    """Every route builds the reduced layouts under the real architecture names."""
    patched = dict(ARCHITECTURES)
    for weights, layout in SMALL.items():
        arch = WEIGHTS[weights].arch
        patched[arch] = dataclasses.replace(ARCHITECTURES[arch], kwargs={**ARCHITECTURES[arch].kwargs, **layout})
    monkeypatch.setattr(_factory, "ARCHITECTURES", patched)


def _source_and_deploy(weights: str, seed: int = 0) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """A randomized unmerged model and the official deploy state dict of its weights."""
    entry = WEIGHTS[weights]
    torch.manual_seed(seed)
    source = randomize(build(entry.arch), seed)
    deploy = OFFICIAL_DEPLOY[ARCHITECTURES[entry.arch].family](source.state_dict())
    return source, deploy


def _logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(x)


# ---- tests ---------------------------------------------------------------------------------------


def test_the_real_replknet_31b_takes_the_official_deploy_layout():
    # The official merge keeps every BatchNorm; only the two kernel branches become lkb_reparam.
    expected = {k for k in _replknet_31b_keys() if ".lkb_origin." not in k and ".small_conv." not in k}
    blocks = [f"stages.{s}.blocks.{2 * i}" for s, depth in enumerate((2, 2, 18, 2)) for i in range(depth)]
    expected |= {f"{b}.large_kernel.lkb_reparam.{p}" for b in blocks for p in ("weight", "bias")}
    with torch.device("meta"):
        model = build("replknet_31b")
        model.to_official_deploy()
    assert set(model.state_dict()) == expected
    assert tuple(model.state_dict()["stages.0.blocks.0.large_kernel.lkb_reparam.weight"].shape) == (128, 1, 31, 31)


@pytest.mark.parametrize("weights", list(SMALL))
def test_official_deploy_checkpoints_load_through_every_route(weights, small_archs, hermetic, lk_host):
    import timm

    entry = WEIGHTS[weights]
    source, deploy = _source_and_deploy(weights)
    x = torch.randn(2, 3, 64, 64)
    expected = _logits(source, x)
    path = hermetic / "deploy.pth"
    torch.save({"model": deploy, "epoch": 299}, path)
    # The official name in $LKADV_WEIGHTS_DIR: what load_pretrained, pretrained=True and lkadv specs find.
    torch.save({"model": deploy}, hermetic / "weights" / entry.filename)

    routes = {
        "load_official": lambda: load_official(build(entry.arch), path, entry),
        "load_pretrained(file=)": lambda: load_pretrained(weights, file=str(path)),
        "load_pretrained": lambda: load_pretrained(weights),
        "timm file=": lambda: timm.create_model(
            entry.arch, pretrained=True, pretrained_cfg_overlay={"file": str(path)}
        ),
        "timm tag": lambda: timm.create_model(weights, pretrained=True),
    }
    for route, load in routes.items():
        model = load()
        err = rel_err(expected, _logits(model, x))
        assert err < RTOL, (route, err)
        # The model computes the same function as the unmerged one and merges the rest on request.
        model.reparameterize()
        assert rel_err(expected, _logits(model, x)) < 1e-4, route

    # lkadv: the spec builds, its merge check passes, and the classifier gives the unmerged logits.
    # The registered spec, probed at 64px (the merge check's probe batch is input-sized).
    spec = dataclasses.replace(lk_host.registries.models.get(weights), input_size=(3, 64, 64))
    clf, report = build_classifier(spec, channels_last=False)
    assert report.merged and report.reparam_rel_err is not None and report.reparam_rel_err < spec.reparam_rtol
    image = torch.rand(2, 3, 64, 64)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    with torch.no_grad():
        assert rel_err(_logits(source, (image - mean) / std), clf(image)) < 1e-4


@pytest.mark.parametrize("weights", ["replknet_31b.in1k", "unireplknet_a.in1k"])
def test_deploy_checkpoints_load_from_safetensors_and_fully_merged_files(weights, small_archs, tmp_path):
    entry = WEIGHTS[weights]
    source, deploy = _source_and_deploy(weights, seed=1)
    x = torch.randn(2, 3, 48, 48)
    expected = _logits(source, x)
    save_file({k: v.contiguous() for k, v in deploy.items()}, str(tmp_path / "deploy.safetensors"))
    model = load_official(build(entry.arch), tmp_path / "deploy.safetensors")
    assert rel_err(expected, _logits(model, x)) < RTOL
    # lkadv's own merge (RepLKNet: every BatchNorm folded as well) saved and loaded back.
    source.reparameterize()
    torch.save(source.state_dict(), tmp_path / "merged.pth")
    model = load_official(build(entry.arch), tmp_path / "merged.pth")
    assert rel_err(expected, _logits(model, x)) < 1e-4


def test_a_deploy_file_of_another_variant_is_explained(small_archs, tmp_path):
    _, deploy = _source_and_deploy("unireplknet_a.in1k")
    torch.save(deploy, tmp_path / "deploy.pth")
    with pytest.raises(
        WeightsError, match=r"(?s)re-parameterized \(deploy\) weights that do not fit UniRepLKNet.*shape mismatch"
    ):
        load_official(build("unireplknet_a", dims=(16, 32, 48, 64)), tmp_path / "deploy.pth")
