"""CLS attention against timm's own attention probabilities, and salient occlusion at the extremes."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch

from lkadv.analyses import analyze, cls_attention
from lkadv.config import load_options
from lkadv.plugins import PluginHost


@pytest.mark.parametrize("head", [0, 1])
def test_cls_attention_matches_timms_unfused_attention(head: int) -> None:
    torch.manual_seed(0)
    vit = timm.create_model("test_vit", pretrained=False).eval()
    attn = vit.blocks[-1].attn
    attn.fused_attn = False  # timm's explicit path: softmax probabilities pass through attn_drop
    seen: dict[str, torch.Tensor] = {}
    attn.attn_drop.register_forward_hook(lambda _m, _a, out: seen.__setitem__("p", out))
    x = torch.rand(3, 3, *vit.patch_embed.img_size)
    ours = cls_attention(vit, vit, x, head)
    prefix = vit.num_prefix_tokens
    side = ours.shape[-1]
    assert torch.allclose(ours, seen["p"][:, head, 0, prefix:].reshape(3, side, side), atol=1e-6)


def test_salient_keep_at_lambda_one_is_clean_and_drop_at_one_blanks(tmp_path: Path) -> None:
    options = load_options({"models": "fm-resnet", "limit": "40", "run_dir": tmp_path}, env={}, config_file=None)
    params = {"occlusion": {"modes": "random,salient-drop,salient-keep", "steps": "1", "lambdas": "1.0"}}
    rows = analyze(options, "occlusion", params, host=PluginHost(entry_points=False)).tables["occlusion"]
    by_mode = {r["mode"]: r for r in rows}
    # Softmax attention is positive everywhere: at lambda 1 every patch is foreground.
    assert by_mode["salient-keep"]["accuracy"] == by_mode["random"]["accuracy"]
    assert by_mode["salient-keep"]["dropped"] == 0.0 and by_mode["salient-drop"]["dropped"] == 1.0
