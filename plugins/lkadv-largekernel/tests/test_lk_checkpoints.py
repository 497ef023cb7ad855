"""Official key layouts, strict loading round trips, and clear errors for bad files."""

import argparse

import pytest
import torch
from safetensors.torch import save_file

from conftest import randomize
from lkadv.errors import WeightsError
from lkadv_largekernel import WEIGHTS, build, load_official

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _conv_bn(prefix):
    return {f"{prefix}.conv.weight"} | {f"{prefix}.bn.{k}" for k in BN}


def _replknet_31b_keys():
    """The layout of lkrobust.md / the official checkpoints, written out independently of the model code."""
    keys = set()
    for i in range(4):
        keys |= _conv_bn(f"stem.{i}")
    for s, depth in enumerate((2, 2, 18, 2)):
        for i in range(depth):
            b = f"stages.{s}.blocks.{2 * i}"
            keys |= {f"{b}.prelkb_bn.{k}" for k in BN}
            for part in ("pw1", "large_kernel.lkb_origin", "large_kernel.small_conv", "pw2"):
                keys |= _conv_bn(f"{b}.{part}")
            f = f"stages.{s}.blocks.{2 * i + 1}"
            keys |= {f"{f}.preffn_bn.{k}" for k in BN} | _conv_bn(f"{f}.pw1") | _conv_bn(f"{f}.pw2")
    for t in range(3):
        keys |= _conv_bn(f"transitions.{t}.0") | _conv_bn(f"transitions.{t}.1")
    return keys | {f"norm.{k}" for k in BN} | {"head.weight", "head.bias"}


def _slak_tiny_keys():
    keys = {"downsample_layers.0.0.weight", "downsample_layers.0.0.bias"}
    keys |= {"downsample_layers.0.1.weight", "downsample_layers.0.1.bias"}
    for i in (1, 2, 3):
        keys |= {f"downsample_layers.{i}.{j}.{k}" for j in (0, 1) for k in ("weight", "bias")}
    for s, depth in enumerate((3, 3, 9, 3)):
        for j in range(depth):
            b = f"stages.{s}.{j}"
            for part in ("LoRA1", "LoRA2", "small_conv"):
                keys |= _conv_bn(f"{b}.large_kernel.{part}")
            keys |= {f"{b}.{m}.{k}" for m in ("norm", "pwconv1", "pwconv2") for k in ("weight", "bias")}
            keys.add(f"{b}.gamma")
    return keys | {"norm.weight", "norm.bias", "head.weight", "head.bias"}


def _unireplknet_a_keys():
    keys = {f"downsample_layers.0.{j}.{k}" for j in (0, 1, 3, 4) for k in ("weight", "bias")}
    keys |= {f"downsample_layers.{i}.{j}.{k}" for i in (1, 2, 3) for j in (0, 1) for k in ("weight", "bias")}
    kernels = ((3, 3), (13, 13), (13,) * 6, (13, 13))
    branches = ((5, 1), (7, 2), (3, 3), (3, 4), (3, 5))  # the published 13x13 Dilated Reparam Block
    for s, stage in enumerate(kernels):
        for j, k in enumerate(stage):
            b = f"stages.{s}.{j}"
            if k == 13:
                keys |= {f"{b}.dwconv.lk_origin.weight"} | {f"{b}.dwconv.origin_bn.{x}" for x in BN}
                for kk, r in branches:
                    keys |= {f"{b}.dwconv.dil_conv_k{kk}_{r}.weight"} | {f"{b}.dwconv.dil_bn_k{kk}_{r}.{x}" for x in BN}
            else:
                keys.add(f"{b}.dwconv.weight")
            keys |= {f"{b}.norm.{x}" for x in BN} | {f"{b}.pwconv2.2.{x}" for x in BN}
            keys |= {f"{b}.se.{m}.{x}" for m in ("down", "up") for x in ("weight", "bias")}
            keys |= {f"{b}.pwconv1.1.weight", f"{b}.pwconv1.1.bias", f"{b}.pwconv2.0.weight"}
            keys |= {f"{b}.act.1.gamma", f"{b}.act.1.beta", f"{b}.gamma"}
    return keys | {"norm.weight", "norm.bias", "head.weight", "head.bias"}


@pytest.mark.parametrize(
    ("arch", "expected", "shapes"),
    [
        (
            "replknet_31b",
            _replknet_31b_keys,
            {
                "stages.0.blocks.0.large_kernel.lkb_origin.conv.weight": (128, 1, 31, 31),
                "stages.0.blocks.0.large_kernel.small_conv.conv.weight": (128, 1, 5, 5),
                "stages.2.blocks.35.pw1.conv.weight": (2048, 512, 1, 1),
                "stages.3.blocks.0.large_kernel.lkb_origin.conv.weight": (1024, 1, 13, 13),
                "transitions.0.1.conv.weight": (256, 1, 3, 3),
                "head.weight": (1000, 1024),
            },
        ),
        (
            "slak_tiny",
            _slak_tiny_keys,
            {
                "stages.0.0.large_kernel.LoRA1.conv.weight": (124, 1, 51, 5),
                "stages.0.0.large_kernel.LoRA2.conv.weight": (124, 1, 5, 51),
                "stages.2.8.large_kernel.LoRA1.conv.weight": (499, 1, 47, 5),
                "stages.3.0.large_kernel.small_conv.conv.weight": (998, 1, 5, 5),
                "downsample_layers.0.0.weight": (124, 3, 4, 4),
                "head.weight": (1000, 998),
            },
        ),
        (
            "unireplknet_a",
            _unireplknet_a_keys,
            {
                "stages.1.0.dwconv.lk_origin.weight": (80, 1, 13, 13),
                "stages.1.0.dwconv.dil_conv_k7_2.weight": (80, 1, 7, 7),
                "stages.0.0.dwconv.weight": (40, 1, 3, 3),
                "stages.0.0.act.1.gamma": (1, 1, 1, 160),
                "downsample_layers.0.0.weight": (20, 3, 3, 3),
                "head.weight": (1000, 320),
            },
        ),
    ],
)
def test_state_dict_keys_follow_the_official_layout(arch, expected, shapes):
    with torch.device("meta"):
        state = build(arch).state_dict()
    assert set(state) == expected()
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key


def _small_uni(seed=0):
    torch.manual_seed(seed)
    return randomize(build("unireplknet_a"), seed)


@pytest.mark.parametrize("fmt", ["pth-wrapped", "pth-plain", "safetensors"])
def test_unmerged_checkpoint_round_trips_strictly(tmp_path, fmt):
    source = _small_uni(0)
    state = source.state_dict()
    if fmt == "safetensors":
        path = tmp_path / "w.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        path = tmp_path / "w.pth"
        payload = {"model": state, "epoch": 299, "args": argparse.Namespace(model="unireplknet_a")}
        torch.save(payload if fmt == "pth-wrapped" else state, path)
    fresh = load_official(build("unireplknet_a"), path, WEIGHTS["unireplknet_a.in1k"])
    for k, v in fresh.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), source(x))


def test_checkpoints_without_num_batches_tracked_load(tmp_path):
    state = {k: v for k, v in _small_uni().state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save({"model": state}, tmp_path / "w.pth")
    load_official(build("unireplknet_a"), tmp_path / "w.pth")


def test_html_page_is_refused_with_the_file_and_expectation(tmp_path):
    path = tmp_path / "RepLKNet-31B_ImageNet-1K_224.pth"
    path.write_text("<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head>")
    with pytest.raises(
        WeightsError, match=r"(?s)RepLKNet-31B_ImageNet-1K_224\.pth is an HTML page.*expected the official"
    ):
        load_official(build("unireplknet_a"), path, WEIGHTS["replknet_31b.in1k"])


def test_truncated_file_is_refused(tmp_path):
    full = tmp_path / "full.pth"
    torch.save({"model": _small_uni().state_dict()}, full)
    cut = tmp_path / "unireplknet_a_in1k_224_acc77.03.pth"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    with pytest.raises(
        WeightsError, match=r"(?s)unireplknet_a_in1k_224_acc77\.03\.pth is truncated or corrupt.*unireplknet_a\.in1k"
    ):
        load_official(build("unireplknet_a"), cut, WEIGHTS["unireplknet_a.in1k"])


def test_renamed_keys_are_listed(tmp_path):
    state = _small_uni().state_dict()
    state["stages.1.0.dwconv.large_kernel.weight"] = state.pop("stages.1.0.dwconv.lk_origin.weight")
    torch.save({"model": state}, tmp_path / "w.pth")
    with pytest.raises(
        WeightsError,
        match=r"(?s)1 missing key.*stages\.1\.0\.dwconv\.lk_origin\.weight.*1 unexpected key.*large_kernel\.weight"
        r".*expected the official unireplknet_a_in1k_224_acc77\.03\.pth of unireplknet_a\.in1k",
    ):
        load_official(build("unireplknet_a"), tmp_path / "w.pth", WEIGHTS["unireplknet_a.in1k"])


def test_wrong_variant_files_are_explained_and_merged_files_load(tmp_path):
    torch.save(build("unireplknet_f").state_dict(), tmp_path / "f.pth")
    with pytest.raises(WeightsError, match="shape mismatch"):
        load_official(build("unireplknet_a"), tmp_path / "f.pth")
    merged = _small_uni()
    merged.reparameterize()
    torch.save(merged.state_dict(), tmp_path / "deploy.pth")
    # Deploy files load into the merged layout (test_lk_deploy covers every family and route).
    loaded = load_official(build("unireplknet_a"), tmp_path / "deploy.pth")
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(x), merged(x))
