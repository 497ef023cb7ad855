"""The lkadv plugin: one ModelSpec per official weights file, the study preset, doctor rows.

Registering imports neither torch nor timm: specs are filled from the static
catalogue and their factories are ``module:attribute`` references.
"""

from __future__ import annotations

import os

from lkadv.plugins import DoctorCheck, hookimpl
from lkadv.registries import Registry
from lkadv.specs import ModelSpec
from lkadv_largekernel._catalog import ARCHITECTURES, REPARAM_RTOL, WEIGHTS, WeightsEntry

__all__ = ["LKROBUST", "lkadv_doctor_checks", "lkadv_register_models", "spec_for"]

# The models of the LKRobust study (Chen et al., ICML 2024) and their usual companions.
# timm names are resolved by lkadv's timm bridge; tests check each exists in the installed timm.
LKROBUST: tuple[str, ...] = (
    "replknet_31b.in1k",
    "replknet_31b.in22k_ft_in1k",
    "replknet_31l.in22k_ft_in1k_384",
    "timm:convnext_base.fb_in22k_ft_in1k",
    "timm:convnext_large.fb_in22k_ft_in1k",
    "timm:resnet50.a1_in1k",
    "timm:resnet50.tv_in1k",
    "timm:vit_base_patch16_384.orig_in21k_ft_in1k",
    "timm:vit_large_patch16_384.augreg_in21k_ft_in1k",
    "timm:resnetv2_101x3_bit.goog_in21k_ft_in1k",
    # companions
    "timm:deit_base_patch16_224.fb_in1k",
    "timm:swin_base_patch4_window7_224.ms_in22k_ft_in1k",
    "timm:inception_next_base.sail_in1k",
    "timm:convnext_tiny.fb_in1k",
    "slak_tiny.in1k",
)


def spec_for(entry: WeightsEntry) -> ModelSpec:
    """The ModelSpec of an official weights entry.

    Args:
        entry: The weights entry.

    Returns:
        A spec whose factory builds the unmerged network and loads the file.
    """
    arch = ARCHITECTURES[entry.arch]
    res = f"{entry.input_size}px" + (" (warped, no crop)" if entry.crop_mode == "squash" else "")
    return ModelSpec(
        name=entry.name,
        family=arch.family,
        factory="lkadv_largekernel._factory:load_pretrained",
        factory_kwargs={"weights": entry.name},
        label_space=entry.label_space,
        num_classes=entry.num_classes,
        input_size=(3, entry.input_size, entry.input_size),
        mean=entry.mean,
        std=entry.std,
        interpolation="bicubic",
        crop_pct=entry.crop_pct,
        crop_mode=entry.crop_mode,
        tags=frozenset({"cnn", "large-kernel", "reparam", arch.family}),
        kernel_sizes=arch.kernel_sizes,
        params=arch.params,
        weights_id=entry.weights_id,
        reparam_rtol=REPARAM_RTOL[arch.family],
        description=f"{arch.description}; {res}; published top-1 {entry.top1:g}%"
        + (f"; {entry.note}" if entry.note else ""),
        source=f"{entry.filename} from " + "; ".join(s.page for s in entry.sources),
        anatomy="lkadv_largekernel._anatomy:anatomy",
    )


@hookimpl
def lkadv_register_models(registry: Registry[ModelSpec]) -> None:
    """Register every official RepLKNet, SLaK and UniRepLKNet file, and ``preset:lkrobust``."""
    for entry in WEIGHTS.values():
        registry.register(spec_for(entry))
    registry.register_preset(
        "lkrobust",
        ",".join(LKROBUST),
        description="the LKRobust study's models (RepLKNet, ConvNeXt, ResNet-50, ViT, BiT) and companions",
    )


@hookimpl
def lkadv_doctor_checks() -> list[DoctorCheck]:
    """Which official weight files are present, where the plugin looks, and the optional fast kernel."""
    from lkadv_largekernel._dwconv import IGEMM_MODULE
    from lkadv_largekernel._weights import (
        OFFLINE_ENV,
        WEIGHTS_DIR_ENV,
        download_dir,
        downloads_allowed,
        find_weights,
        weights_dirs,
    )

    section = "large-kernel weights"
    dirs = weights_dirs()
    searched = [*(str(d) for d in dirs), str(download_dir()), "Hugging Face cache"]
    rows = [
        DoctorCheck(
            section,
            "search path",
            "ok" if dirs else "warn",
            " -> ".join(searched)
            + ("" if dirs else f" (set {WEIGHTS_DIR_ENV} to a folder holding the official files)")
            + ("; downloads on" if downloads_allowed() else f"; downloads off ({OFFLINE_ENV})"),
        )
    ]
    for entry in WEIGHTS.values():
        path = find_weights(entry)
        if path is not None:
            rows.append(DoctorCheck(section, entry.name, "ok", str(path)))
        else:
            pages = "; ".join(s.page for s in entry.sources if s.kind != "baidu")
            rows.append(DoctorCheck(section, entry.name, "missing", f"{entry.filename} from {pages}"))
    # The optional CUDA kernel: find the module without importing it (importing loads CUDA code).
    import importlib.util

    has_fast = importlib.util.find_spec(IGEMM_MODULE) is not None
    disabled = os.environ.get("LKADV_LK_IMPL", "").strip().lower() == "torch"
    rows.append(
        DoctorCheck(
            "large-kernel conv",
            IGEMM_MODULE,
            "ok" if has_fast and not disabled else "warn",
            ("installed" + (" but disabled by LKADV_LK_IMPL=torch" if disabled else "; used on CUDA"))
            if has_fast
            else "not installed (optional): large depthwise kernels use torch's conv2d",
        )
    )
    return rows
