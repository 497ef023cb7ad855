"""Shape bias on cue-conflict images: shape / (shape + texture) decisions."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["group_probabilities", "shape_bias"]


def group_probabilities(probs: torch.Tensor, groups: Sequence[Sequence[int]]) -> torch.Tensor:
    """Average the probabilities of each group's classes (1000 ImageNet classes -> 16 categories).

    Args:
        probs: ``[N, K]`` softmax outputs.
        groups: Class indices of each category.

    Returns:
        ``[N, len(groups)]``.
    """
    return torch.stack([probs[:, list(g)].mean(1) for g in groups], 1)


def shape_bias(decisions: Sequence[int], shapes: Sequence[int], textures: Sequence[int]) -> dict[str, float]:
    """Shape bias of category decisions on cue-conflict images.

    Images whose shape and texture categories agree are dropped; of the rest, a
    decision matching the shape counts as shape, one matching the texture as texture.

    Returns:
        ``shape``, ``texture`` and ``conflict`` counts, ``shape_bias`` (NaN
        without any cue decision) and ``shape_accuracy``/``texture_accuracy`` fractions.
    """
    shape_hits = texture_hits = conflict = 0
    for d, s, t in zip(decisions, shapes, textures, strict=True):
        if s == t:
            continue
        conflict += 1
        shape_hits += int(d == s)
        texture_hits += int(d == t)
    cue = shape_hits + texture_hits
    return {
        "shape": float(shape_hits),
        "texture": float(texture_hits),
        "conflict": float(conflict),
        "shape_bias": shape_hits / cue if cue else float("nan"),
        "shape_accuracy": shape_hits / conflict if conflict else float("nan"),
        "texture_accuracy": texture_hits / conflict if conflict else float("nan"),
    }
