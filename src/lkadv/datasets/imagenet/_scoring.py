"""Each benchmark's score step: heads into its label space, per-sample extras, headline figures."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np
import torch

from lkadv.datasets.imagenet._labels import in9_of_imagenet, subset_indices
from lkadv.datasets.imagenet._metrics import corruption_errors, flip_probability, ood_aupr, top5_distance
from lkadv.datasets.imagenet._names import IN9_VARIANTS, P_PERTURBATIONS, p_folder_parts
from lkadv.specs import Preprocessing
from lkadv.types import Outcomes

__all__ = [
    "STORED_AT",
    "benchmark_c",
    "benchmark_in9",
    "benchmark_o",
    "benchmark_p",
    "benchmark_top1",
    "benchmark_top1_masked",
    "extras_msp",
    "extras_top5",
    "head_a",
    "head_in9",
    "head_r",
    "no_resize_at_224",
    "p_details",
]

STORED_AT = 224  # ImageNet-C, ImageNet-P and ImageNet-9 images are stored at 224 x 224


@functools.cache
def _index(which: str, device: str) -> torch.Tensor:
    # Made outside inference mode even when first asked for there: attacks later backpropagate through it.
    with torch.inference_mode(False):
        return torch.tensor(subset_indices(which), dtype=torch.long, device=device)


def head_a(logits: torch.Tensor) -> torch.Tensor:
    """The 200 ImageNet-A classes of 1000-class logits (timm's imagenet_a_indices)."""
    return logits.index_select(1, _index("a", str(logits.device)))


def head_r(logits: torch.Tensor) -> torch.Tensor:
    """The 200 ImageNet-R classes of 1000-class logits (timm's imagenet_r_indices)."""
    return logits.index_select(1, _index("r", str(logits.device)))


@functools.cache
def _in9_groups(device: str) -> torch.Tensor:
    with torch.inference_mode(False):  # see _index
        groups = torch.tensor(in9_of_imagenet(), dtype=torch.long, device=device)
        return torch.where(groups < 0, torch.full_like(groups, 9), groups)


def head_in9(logits: torch.Tensor) -> torch.Tensor:
    """1000 logits -> 10: the best logit of each ImageNet-9 class, then of all other classes.

    The argmax of the result is the ImageNet-9 class of the 1000-way argmax, or
    column 9 ("none of the nine") which never equals a label, so such
    predictions count as wrong, as in the backgrounds challenge's evaluation.
    """
    groups = _in9_groups(str(logits.device)).expand(logits.shape[0], -1)
    out = torch.full((logits.shape[0], 10), float("-inf"), dtype=logits.dtype, device=logits.device)
    return out.scatter_reduce(1, groups, logits, reduce="amax", include_self=True)


def extras_msp(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """Max softmax over the (200 masked) logits: ImageNet-O's in-distribution confidence."""
    return {"msp": torch.softmax(logits.float(), dim=1).amax(1)}


def extras_top5(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """Top-5 classes, best first; ties go to the lower index (as an ordinal ranking does)."""
    order = torch.sort(logits.float(), dim=1, descending=True, stable=True).indices
    return {"top5": order[:, :5]}


def no_resize_at_224(pre: Preprocessing) -> Preprocessing:
    """Images stored at 224 are fed as they are to 224 models (no resize, no crop).

    For other input sizes the model's own transform applies. The adjusted
    transform is part of every cell key (``crop1``).
    """
    if pre.input_size[1:] == (STORED_AT, STORED_AT):
        return dataclasses.replace(pre, crop_pct=1.0, crop_mode="center")
    return pre


def _acc(correct: np.ndarray) -> float:
    return float(100.0 * correct.mean()) if len(correct) else float("nan")


def benchmark_top1(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """Top-1 accuracy (%)."""
    return {"top-1 %": _acc(outcomes.correct)}


def benchmark_top1_masked(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """Top-1 accuracy (%) over the 200-class mask."""
    return {"top-1 (200-class) %": _acc(outcomes.correct)}


def benchmark_o(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """ImageNet-O: AUPR (%) with ImageNet-O images positive, scored by -max softmax over 200 classes."""
    if "msp" not in outcomes.extras:
        return {"AUPR %": float("nan")}
    is_ood = np.asarray([i.startswith("imagenet-o/") for i in ids])
    return {"AUPR %": 100.0 * ood_aupr(is_ood, outcomes.extras["msp"])}


def c_details(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """ImageNet-C per-corruption errors and CEs, mCE and the unnormalized mean error (fractions)."""
    by: dict[str, dict[int, list[bool]]] = {}
    for sid, ok in zip(ids, outcomes.correct, strict=True):
        corruption, sev, _ = sid.split("/", 2)
        by.setdefault(corruption, {}).setdefault(int(sev), []).append(bool(ok))
    errors = {c: {s: 1.0 - float(np.mean(v)) for s, v in sevs.items()} for c, sevs in by.items()}
    return corruption_errors(errors)


def benchmark_c(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """ImageNet-C: mCE (%, AlexNet-normalized, needs all 15) and the unnormalized mean error (%)."""
    d = c_details(ids, outcomes)
    return {"mCE %": 100.0 * d.get("mCE", float("nan")), "mean error %": 100.0 * d.get("mean error", float("nan"))}


def benchmark_in9(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """ImageNet-9: Original, Mixed-Same, Mixed-Rand accuracies and BG-Gap (all %)."""
    acc = {}
    for variant in IN9_VARIANTS:
        sel = np.asarray([i.startswith(f"{variant}/") for i in ids])
        acc[variant] = _acc(outcomes.correct[sel])
    return {
        "Original %": acc["original"],
        "Mixed-Same %": acc["mixed_same"],
        "Mixed-Rand %": acc["mixed_rand"],
        "BG-Gap %": acc["mixed_same"] - acc["mixed_rand"],
    }


def p_details(ids: Sequence[str], outcomes: Outcomes, difficulty: int = 1) -> dict[str, float]:
    """ImageNet-P flip probability ``FP:<folder>`` and top-5 distance ``T5D:<folder>`` per folder."""
    videos: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for row, sid in enumerate(ids):
        video, frame = sid.rsplit("#", 1)
        folder = video.split("/", 1)[0]
        videos.setdefault(folder, {}).setdefault(video, []).append((int(frame), row))
    out: dict[str, float] = {}
    top5 = outcomes.extras.get("top5")
    for folder, vids in sorted(videos.items()):
        noise = "noise" in p_folder_parts(folder)[0]
        preds, tops = [], []
        for frames in vids.values():
            rows = [r for _, r in sorted(frames)]
            preds.append(outcomes.pred[rows])
            if top5 is not None:
                tops.append(top5[rows])
        out[f"FP:{folder}"] = flip_probability(preds, noise=noise, difficulty=difficulty)
        if top5 is not None:
            out[f"T5D:{folder}"] = top5_distance(tops, noise=noise, difficulty=difficulty)
    return out


def benchmark_p(ids: Sequence[str], outcomes: Outcomes) -> dict[str, float]:
    """ImageNet-P: mean flip probability (%) and mean top-5 distance over the 10 mFR perturbations present.

    Unnormalized: the AlexNet flip probabilities that mFR/mT5D divide by are not
    shipped (no checkable published table); per-perturbation values are in the
    run's report section.
    """
    d = p_details(ids, outcomes)
    fps = [v for k, v in d.items() if k.startswith("FP:") and k[3:] in P_PERTURBATIONS[:10]]
    t5 = [v for k, v in d.items() if k.startswith("T5D:") and k[4:] in P_PERTURBATIONS[:10]]
    return {
        "mFP %": 100.0 * float(np.mean(fps)) if fps else float("nan"),
        "mT5D": float(np.mean(t5)) if t5 else float("nan"),
    }
