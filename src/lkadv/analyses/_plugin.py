"""Built-in plugin: the LKRobust study's analyses, plus ERF and shape bias from the model papers."""

from __future__ import annotations

from typing import Any

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import AnalysisSpec, Param

__all__ = ["lkadv_register_analyses", "lkadv_report_sections"]

_M = "lkadv.analyses"


def _input_specs() -> list[AnalysisSpec]:
    """Analyses that perturb the input: occlusion and band-limited noise."""
    return [
        AnalysisSpec(
            name="occlusion",
            run=f"{_M}._occlusion_study:Occlusion",
            params={
                "grid": Param(default=0, type="int", minimum=0, help="patches per side (0: 224 -> 14, 28 -> 7)"),
                "steps": Param(default=10, type="int", minimum=1, help="random-drop levels k = 0..steps-1"),
                "modes": Param(default="random,salient-drop,salient-keep", type="str", help="which occlusions"),
                "lambdas": Param(
                    default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
                    type="str",
                    help="shares of attention mass, each in (0, 1]",
                ),
                "saliency": Param(default="auto", type="str", help="saliency ViT (auto: DINO ViT-S/16; fm-vit)"),
                "head": Param(default=1, type="int", minimum=0, help="attention head of the saliency model"),
            },
            tags=frozenset({"lkrobust"}),
            description="top-1 with random or salient 16x16 patches (4x4 at 28 px) zeroed",
        ),
        AnalysisSpec(
            name="frequency",
            run=f"{_M}._frequency_study:Frequency",
            params={
                "rms": Param(default=0.1, type="float", minimum=0.0, help="noise rms per image, pixel units"),
                "step": Param(default=0.1, type="float", minimum=0.0, help="band centre spacing (x pi)"),
                "top": Param(default=1.0, type="float", minimum=0.0, help="highest band centre (x pi)"),
                "half_width": Param(default=0.05, type="float", minimum=0.0, help="band half width (x pi)"),
            },
            tags=frozenset({"lkrobust"}),
            description="top-1 drop under noise band-limited to f +- 0.05 pi",
        ),
    ]


def _model_specs() -> list[AnalysisSpec]:
    """Analyses that read or alter the model: kernels, features, lesions, ERF, shape bias."""
    return [
        AnalysisSpec(
            name="kernel-attention",
            run=f"{_M}._kernel_study:KernelAttention",
            params={
                "variant": Param(default="large", type="str", choices=("large", "merged"), help="kernel read"),
                "normalize": Param(default=False, type="bool", help="divide by sum |w|"),
            },
            needs=frozenset({"large_kernels"}),
            tags=frozenset({"lkrobust", "weights-only"}),
            description="per-channel sum |w| * distance of each large kernel, sorted per block",
        ),
        AnalysisSpec(
            name="feature-variance",
            run=f"{_M}._variance_study:FeatureVariance",
            params={"batch": Param(default=128, type="int", minimum=1, help="batch of the batch-mean definition")},
            needs=frozenset({"features"}),
            tags=frozenset({"lkrobust"}),
            description="variance over HxW of feature maps along depth, both definitions",
        ),
        AnalysisSpec(
            name="lesion",
            run=f"{_M}._lesion_study:Lesion",
            params={
                "draws": Param(default=10, type="int", minimum=1, help="seeded draws per n"),
                "max_blocks": Param(default=0, type="int", minimum=0, help="largest n (0: the whole pool)"),
                "stage": Param(default="most", type="str", help="most, all, or a stage number from 1"),
            },
            needs=frozenset({"blocks"}),
            tags=frozenset({"lkrobust"}),
            description="top-1 with n random blocks replaced by identity",
        ),
        AnalysisSpec(
            name="erf",
            run=f"{_M}._erf_study:ERF",
            params={
                "size": Param(default=0, type="int", minimum=0, help="input side (0: native; paper: 1024)"),
                "images": Param(default=50, type="int", minimum=1, help="images averaged"),
                "thresholds": Param(default="0.2,0.3,0.5,0.99", type="str", help="area-ratio thresholds"),
            },
            needs=frozenset({"features"}),
            tags=frozenset({"replknet"}),
            description="effective receptive field of the last feature map's centre, with area ratios",
        ),
        AnalysisSpec(
            name="shape-bias",
            run=f"{_M}._shape_study:ShapeBias",
            tags=frozenset({"own-data"}),
            description="shape / (shape + texture) decisions on cue-conflict images",
        ),
    ]


@hookimpl
def lkadv_register_analyses(registry: Registry[AnalysisSpec]) -> None:
    """Register the built-in analyses."""
    for spec in (*_input_specs(), *_model_specs()):
        registry.register(spec)
    registry.register_preset("lkrobust", "tag:lkrobust", description="the five analyses of the LKRobust study")


@hookimpl
def lkadv_report_sections(summary: Any, ledger: Any) -> list[Any] | None:
    """The analyses' tables, when ``lkadv analyze`` wrote them into this run directory."""
    from lkadv.analyses._report import analysis_sections

    return analysis_sections(ledger.run_dir) or None
