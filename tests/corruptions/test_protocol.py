"""The corruption protocol: released-file emulation against the reference pipeline (uint8, then JPEG q85)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lkadv.config import load_options
from lkadv.corruptions import apply_protocol, describe_protocol, protocol_config
from lkadv.reporters import render_markdown
from lkadv.runner import run


def _reference_release(x: np.ndarray) -> np.ndarray:
    """The ImageNet-C release pipeline, written from its description: np.uint8 of 0..255 floats, JPEG q85."""
    out = []
    for image in x:  # n, h, w, c floats in [0, 1]
        u8 = np.uint8(np.clip(image, 0, 1) * 255)
        pil = Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8)
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=85)
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
        out.append(decoded.reshape(u8.shape))
    return np.stack(out)


def _off_grid(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    # Levels plus a fraction away from the integer: truncation is unambiguous in float32 too.
    gen = torch.Generator().manual_seed(seed)
    levels = torch.randint(0, 255, shape, generator=gen).float()
    return (levels + 0.05 + 0.9 * torch.rand(shape, generator=gen)) / 255


@pytest.mark.parametrize(("channels", "size"), [(3, (32, 48)), (1, (28, 28)), (3, (224, 224))])
def test_released_protocol_equals_the_reference_pipeline(channels: int, size: tuple[int, int]) -> None:
    x = _off_grid((3, channels, *size), seed=channels)
    ours = apply_protocol(x, "released")
    ref = _reference_release(x.permute(0, 2, 3, 1).numpy())
    assert torch.equal((ours * 255).round().to(torch.uint8), torch.from_numpy(ref).permute(0, 3, 1, 2))
    assert ours.dtype == x.dtype and ours.shape == x.shape


def test_uint8_protocol_truncates_like_np_uint8() -> None:
    x = _off_grid((2, 3, 16, 16), seed=5)
    ref = np.uint8(x.numpy() * 255).astype(np.float32) / 255
    assert torch.equal(apply_protocol(x, "uint8"), torch.from_numpy(ref))
    assert apply_protocol(x, "float") is x


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=64))
def test_an_untouched_8_bit_level_stays_itself(levels: list[int]) -> None:
    # k / 255 in float32 times 255 can land just below k: the truncation must not drop a level.
    x = torch.tensor(levels, dtype=torch.float32).div(255).reshape(1, 1, 1, -1)
    assert torch.equal(apply_protocol(x, "uint8") * 255, torch.tensor(levels, dtype=torch.float32).reshape(x.shape))


def test_protocol_is_part_of_the_identity_and_named_in_the_report(tmp_path) -> None:
    assert protocol_config("released")["jpeg"].startswith("q85,Pillow-")
    assert protocol_config("float") == {"protocol": "float"}
    keys, reports = {}, {}
    for protocol in ("released", "float"):
        opts = load_options(
            {
                "models": "fm-resnet",
                "corruptions": "gaussian_noise",
                "severities": "5",
                "limit": "20",
                "corruption_protocol": protocol,
                "run_dir": tmp_path,
            },
            env={},
            config_file=None,
        )
        result = run(opts)
        assert result.computed_units > 0  # one protocol's cells never stand for the other's
        keys[protocol] = {c.key for c in result.plan.cells if c.threat.kind == "corruption"}
        reports[protocol] = render_markdown(result.summary)
    assert keys["released"].isdisjoint(keys["float"])
    assert f"corruption protocol: released ({describe_protocol('released')})" in reports["released"]
    assert "corruption protocol: float (unquantized" in reports["float"]


def test_the_catalog_implements_exactly_the_imagenet_c_corruptions_of_the_metrics():
    from lkadv.corruptions import CATALOG
    from lkadv.metrics import ALEXNET_ERRORS, EXTRA_CORRUPTIONS, STANDARD_CORRUPTIONS

    # Two declaration tables (implementations; published AlexNet errors), one list of names.
    assert tuple(e.name for e in CATALOG) == STANDARD_CORRUPTIONS + EXTRA_CORRUPTIONS
    assert tuple(ALEXNET_ERRORS) == STANDARD_CORRUPTIONS and len(STANDARD_CORRUPTIONS) == 15
    assert [e.name for e in CATALOG if e.standard] == list(STANDARD_CORRUPTIONS)
    assert {e.category for e in CATALOG if not e.standard} == {"extra"}
