"""``lkadv analyze``: bad input exits 2 and writes nothing; a small run writes figures and reruns for free."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main

BASE = ["-p", "no:largekernel", "analyze", "--run-dir", "out", "--limit", "8", "-q"]

CASES = [
    ("needs-kernels", ["-m", "fm-resnet", "-A", "kernel-attention"], "declares no large depthwise kernels"),
    (
        "lambda-zero",
        ["-m", "fm-vit", "-A", "occlusion", "--analysis-param", "occlusion.lambdas=0,0.5"],
        "outside (0, 1]",
    ),
    (
        "lambda-above-1",
        ["-m", "fm-vit", "-A", "occlusion", "--analysis-param", "occlusion.lambdas=1.5"],
        "outside (0, 1]",
    ),
    (
        "saliency-offline",
        ["-m", "fm-vit", "-A", "occlusion", "--analysis-param", "occlusion.saliency=timm:vit_small_patch16_224.dino"],
        "cannot be loaded here",
    ),
    (
        "saliency-not-a-vit",
        ["-m", "fm-vit", "-A", "occlusion", "--analysis-param", "occlusion.saliency=fm-resnet"],
        "no attention module",
    ),
    (
        "unknown-param",
        ["-m", "fm-vit", "-A", "occlusion", "--analysis-param", "occlusion.gird=7"],
        "has no parameter(s) ['gird']",
    ),
    ("param-not-selected", ["-m", "fm-vit", "-A", "erf", "--analysis-param", "lesion.draws=2"], "not selected"),
    ("unknown-analysis", ["-m", "fm-vit", "-A", "occlusoin"], "occlusoin"),
    (
        "bad-variant",
        ["-m", "fm-replknet", "-A", "kernel-attention", "--analysis-param", "kernel-attention.variant=x"],
        "must be one of",
    ),
]


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], words: str
) -> None:
    monkeypatch.chdir(tmp_path)
    # Offline at once, instead of retrying a network that is not there (the variable is read at import).
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    result = CliRunner().invoke(main, [*BASE, *args])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_a_small_run_writes_figures_and_the_rerun_computes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [*BASE, "-m", "fm-replknet,fm-vit", "-A", "kernel-attention,feature-variance"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "kernel-attention: skipped fm-vit: the model declares no large depthwise kernels" in first.output
    for name in ("kernel-attention", "feature-variance"):
        for suffix in (".svg", ".png", ".md", ".csv", ".json"):
            assert (tmp_path / "out" / "analyses" / f"{name}{suffix}").is_file()
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "0 computed" in again.output
